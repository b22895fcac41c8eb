//! TCP session tracking: the connection state of a flow and its two reassembled byte streams.
//!
//! The tracker follows what each endpoint saw, not what a host stack would accept: it starts
//! a stream at the SYN when it sees one and picks the stream up midstream otherwise, it hands
//! data to inspection when the receiver acknowledges it (IDS mode, so that the overlap policy
//! has decided before anything is inspected), and it recognises a new connection reusing the
//! ports of a closed one.

use ids_reassembly::tcp::{Chunk, StreamConfig, StreamPolicy, StreamReassembler};

use crate::key::Direction;

/// TCP header bits.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// The fields of one TCP segment that tracking needs.
#[derive(Clone, Copy, Debug)]
pub struct TcpHeader<'a> {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub payload: &'a [u8],
}

impl TcpHeader<'_> {
    fn has(&self, bits: u8) -> bool {
        self.flags & bits == bits
    }
}

/// Connection state, coarse: enough to know when a handshake completed and when a connection is
/// over, which is what inspection and flow timeouts depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    /// Nothing seen yet.
    New,
    /// The client's SYN was seen.
    SynSent,
    /// The server's SYN+ACK was seen.
    SynReceived,
    /// Handshake completed, or the connection was picked up midstream.
    Established,
    /// One side sent a FIN.
    Closing,
    /// Both sides sent a FIN, or either side reset.
    Closed,
}

impl TcpState {
    pub fn name(self) -> &'static str {
        match self {
            TcpState::New => "new",
            TcpState::SynSent => "syn_sent",
            TcpState::SynReceived => "syn_recv",
            TcpState::Established => "established",
            TcpState::Closing => "closing",
            TcpState::Closed => "closed",
        }
    }
}

/// How TCP streams are reassembled.
#[derive(Clone, Debug)]
pub struct TcpConfig {
    pub policy: StreamPolicy,
    pub stream: StreamConfig,
}

/// Tracking outcome for one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOutcome {
    /// The segment belongs to this session.
    Tracked,
    /// A SYN with a new initial sequence number on a closed session: a new connection reusing
    /// the ports. The caller ends this flow and starts a new one with this packet.
    PortReuse,
}

/// Counters of TCP tracking events, summed over a flow table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpStats {
    pub sessions: u64,
    pub handshakes_completed: u64,
    pub midstream_pickups: u64,
    pub resets: u64,
    pub fins: u64,
    pub port_reuses: u64,
    pub syn_retransmits: u64,
}

impl TcpStats {
    pub fn add(&mut self, o: &TcpStats) {
        self.sessions += o.sessions;
        self.handshakes_completed += o.handshakes_completed;
        self.midstream_pickups += o.midstream_pickups;
        self.resets += o.resets;
        self.fins += o.fins;
        self.port_reuses += o.port_reuses;
        self.syn_retransmits += o.syn_retransmits;
    }
}

/// A TCP connection's tracking state: its state machine and the reassembler of each direction.
///
/// A direction's reassembler is allocated only when it has something to hold or report (a
/// payload, a FIN, or an acknowledgement past its start, which reveals missing data); until
/// then only its starting sequence number is kept. A flood of handshakes that never carry data
/// (a SYN flood) therefore costs a small fixed amount per flow.
pub struct TcpSession {
    pub state: TcpState,
    /// True when the connection was picked up without seeing its handshake.
    pub midstream: bool,
    /// Data sent in each direction, indexed by [`Direction::index`].
    streams: [Option<Box<StreamReassembler>>; 2],
    /// Sequence number of the first data byte of each direction, once known.
    start: [Option<u32>; 2],
    isn: [Option<u32>; 2],
    fin_seen: [bool; 2],
    reset: bool,
}

impl Default for TcpSession {
    fn default() -> Self {
        TcpSession::new()
    }
}

impl TcpSession {
    pub fn new() -> TcpSession {
        TcpSession {
            state: TcpState::New,
            midstream: false,
            streams: [None, None],
            start: [None, None],
            isn: [None, None],
            fin_seen: [false; 2],
            reset: false,
        }
    }

    /// Bytes held in the reassembly queues of both directions.
    pub fn bytes_queued(&self) -> usize {
        self.streams.iter().flatten().map(|s| s.bytes_queued()).sum()
    }

    /// Heap memory the session holds: its reassemblers and their queues.
    pub fn heap_bytes(&self) -> usize {
        self.streams
            .iter()
            .flatten()
            .map(|s| std::mem::size_of::<StreamReassembler>() + s.bytes_queued())
            .sum()
    }

    /// The reassembler of the data sent in `dir`, once that direction has started.
    pub fn stream(&self, dir: Direction) -> Option<&StreamReassembler> {
        self.streams[dir.index()].as_deref()
    }

    /// Whether the session has finished: both FINs, or a reset.
    pub fn is_closed(&self) -> bool {
        self.state == TcpState::Closed
    }

    /// Track one segment sent in `dir`. Reassembled data that becomes ready is passed to `sink`
    /// with the direction it was sent in. `peer_seen` says whether any packet came the other way
    /// yet: without a peer there are no ACKs to drive delivery, so in-order data is delivered as
    /// soon as it is contiguous.
    pub fn track(
        &mut self,
        config: &TcpConfig,
        dir: Direction,
        seg: &TcpHeader<'_>,
        peer_seen: bool,
        stats: &mut TcpStats,
        sink: &mut dyn FnMut(Direction, Chunk<'_>),
    ) -> TcpOutcome {
        let d = dir.index();
        let syn = seg.has(flags::SYN);
        let ack = seg.has(flags::ACK);

        if syn && !ack && self.isn[d].is_some_and(|isn| isn != seg.seq) && self.reusable() {
            stats.port_reuses += 1;
            return TcpOutcome::PortReuse;
        }

        if self.state == TcpState::New {
            stats.sessions += 1;
        }

        if syn {
            match self.isn[d] {
                Some(isn) if isn == seg.seq => stats.syn_retransmits += 1,
                Some(_) => {}
                None => {
                    self.isn[d] = Some(seg.seq);
                    if self.start[d].is_none() {
                        self.start[d] = Some(seg.seq.wrapping_add(1));
                    }
                    self.state = match (self.state, ack) {
                        (TcpState::New, false) => TcpState::SynSent,
                        (TcpState::New | TcpState::SynSent, true) => TcpState::SynReceived,
                        (s, _) => s,
                    };
                }
            }
        } else {
            if self.start[d].is_none() {
                // No SYN from this side: pick the stream up at this segment.
                self.start[d] = Some(seg.seq);
                if self.isn[d].is_none() && !self.midstream && self.state != TcpState::SynReceived {
                    self.midstream = true;
                    stats.midstream_pickups += 1;
                }
            }
            match self.state {
                TcpState::New => self.state = TcpState::Established,
                TcpState::SynSent | TcpState::SynReceived if ack => {
                    self.state = TcpState::Established;
                    stats.handshakes_completed += 1;
                }
                _ => {}
            }
        }

        let fin = seg.has(flags::FIN) && !syn;
        if !seg.payload.is_empty() || fin {
            self.materialize(d, config);
        }
        if let Some(stream) = self.streams[d].as_mut() {
            if !seg.payload.is_empty() {
                // Data on a SYN starts after the SYN's own sequence number.
                let data_seq = if syn { seg.seq.wrapping_add(1) } else { seg.seq };
                let outcome = stream.insert(data_seq, seg.payload);
                if outcome.flush_required {
                    // Over the queue cap: the oldest data goes to inspection now, unacknowledged,
                    // rather than being dropped.
                    stream.flush_forced(&mut |c| sink(dir, c));
                }
            }
            // A FIN on a SYN is not a close: many stacks ignore it, so honouring it would let an
            // attacker end inspection of a stream the receiver keeps reading (the decoder
            // reports the combination as `tcp_syn_fin`).
            if fin {
                let fin_seq = seg.seq.wrapping_add(u32::from(syn)).wrapping_add(seg.payload.len() as u32);
                stream.set_fin(fin_seq);
            }
        }

        if seg.has(flags::FIN) && !syn && !self.fin_seen[d] {
            self.fin_seen[d] = true;
            stats.fins += 1;
        }
        if seg.has(flags::RST) && !self.reset {
            self.reset = true;
            stats.resets += 1;
        }
        if self.reset || (self.fin_seen[0] && self.fin_seen[1]) {
            self.state = TcpState::Closed;
        } else if self.fin_seen[0] || self.fin_seen[1] {
            self.state = TcpState::Closing;
        }

        // The peer's acknowledgement says what it accepted of the data sent towards it.
        let other = dir.reverse();
        if ack {
            // An acknowledgement past the start of data never seen reveals a gap to report.
            if self.start[other.index()].is_some_and(|start| start != seg.ack) {
                self.materialize(other.index(), config);
            }
            if let Some(stream) = self.streams[other.index()].as_mut() {
                stream.flush_to(seg.ack, &mut |c| sink(other, c));
            }
        }
        if !peer_seen {
            if let Some(stream) = self.streams[d].as_mut() {
                stream.flush_contiguous(&mut |c| sink(dir, c));
            }
        }
        TcpOutcome::Tracked
    }

    /// Deliver everything still queued, gaps included: the session is ending.
    pub fn flush_all(&mut self, sink: &mut dyn FnMut(Direction, Chunk<'_>)) {
        for dir in [Direction::ToServer, Direction::ToClient] {
            if let Some(stream) = self.streams[dir.index()].as_mut() {
                stream.flush_all(&mut |c| sink(dir, c));
            }
        }
    }

    /// A closed session, or one whose SYN was never answered, may be replaced by a new
    /// connection on the same ports.
    fn reusable(&self) -> bool {
        matches!(self.state, TcpState::Closed | TcpState::Closing | TcpState::SynSent)
    }

    /// Allocate direction `d`'s reassembler, starting at its known first sequence number.
    fn materialize(&mut self, d: usize, config: &TcpConfig) {
        if let (None, Some(start)) = (&self.streams[d], self.start[d]) {
            self.streams[d] = Some(Box::new(StreamReassembler::new(start, config.policy, config.stream)));
        }
    }
}
