//! The per-worker flow table.
//!
//! Flows live in a slab (a `Vec` of slots reused through a free list) and are found through a
//! hash map from [`FlowKey`] to slot. The slots are also threaded on a doubly linked list in
//! least-recently-seen order, which gives O(1) touch, O(1) eviction of the stalest flow when a
//! cap is hit, and timeout sweeps that stop at the first flow too fresh to have expired.
//!
//! Memory held on behalf of the network is capped: the table counts a fixed cost per flow plus
//! the bytes queued in its TCP reassemblers, and evicts the least recently seen flows (flushing
//! their streams first, so no data is lost silently) when the cap is exceeded. Every eviction is
//! counted.
//!
//! Time is capture time: flows expire relative to packet timestamps, so an offline run gives the
//! same flows whatever the replay speed or the number of worker threads.

use std::collections::HashMap;
use std::net::IpAddr;

use ids_capture::Timestamp;
use ids_reassembly::tcp::Chunk;

use crate::key::{Direction, FlowKey, PacketTuple};
use crate::tcp::{flags, TcpConfig, TcpHeader, TcpOutcome, TcpSession, TcpState, TcpStats};

/// Coarse protocol classes for per-protocol timeouts and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoClass {
    Tcp = 0,
    Udp = 1,
    Icmp = 2,
    Other = 3,
}

impl ProtoClass {
    pub const ALL: [ProtoClass; 4] = [ProtoClass::Tcp, ProtoClass::Udp, ProtoClass::Icmp, ProtoClass::Other];

    pub fn of(proto: u8) -> ProtoClass {
        match proto {
            6 => ProtoClass::Tcp,
            17 => ProtoClass::Udp,
            1 | 58 => ProtoClass::Icmp,
            _ => ProtoClass::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ProtoClass::Tcp => "tcp",
            ProtoClass::Udp => "udp",
            ProtoClass::Icmp => "icmp",
            ProtoClass::Other => "other",
        }
    }
}

/// Idle timeouts in seconds of capture time. The defaults are Suricata's `flow-timeouts`,
/// which security teams already tune: a flow is "new" until both sides have spoken.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub tcp_new: i64,
    pub tcp_established: i64,
    pub tcp_closed: i64,
    pub udp_new: i64,
    pub udp_established: i64,
    pub icmp_new: i64,
    pub icmp_established: i64,
    pub other_new: i64,
    pub other_established: i64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp_new: 60,
            tcp_established: 600,
            tcp_closed: 60,
            udp_new: 30,
            udp_established: 300,
            icmp_new: 30,
            icmp_established: 300,
            other_new: 30,
            other_established: 300,
        }
    }
}

impl Timeouts {
    fn shortest(&self) -> i64 {
        [
            self.tcp_new,
            self.tcp_established,
            self.tcp_closed,
            self.udp_new,
            self.udp_established,
            self.icmp_new,
            self.icmp_established,
            self.other_new,
            self.other_established,
        ]
        .into_iter()
        .min()
        .unwrap_or(0)
    }
}

#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Most flows held at once.
    pub max_flows: usize,
    /// Most bytes held for flows and their reassembly queues.
    pub memcap: usize,
    pub timeouts: Timeouts,
    pub tcp: TcpConfig,
}

/// Why a flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Idle longer than its timeout.
    Timeout,
    /// Evicted to stay under the flow count or memory cap.
    Evicted,
    /// A new TCP connection reused its ports.
    PortReuse,
    /// The input ended (or the table was drained).
    Shutdown,
}

impl EndReason {
    pub const ALL: [EndReason; 4] =
        [EndReason::Timeout, EndReason::Evicted, EndReason::PortReuse, EndReason::Shutdown];

    pub fn name(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Evicted => "evicted",
            EndReason::PortReuse => "port_reuse",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// What is known about a flow apart from per-stage state.
#[derive(Clone, Debug)]
pub struct FlowInfo {
    /// Stable id (same key and start time give the same id in every run), as EVE's `flow_id`.
    pub id: u64,
    pub key: FlowKey,
    /// The initiator's address and port.
    pub client: (IpAddr, u16),
    /// The responder's address and port.
    pub server: (IpAddr, u16),
    pub proto: u8,
    pub vlan: u16,
    pub start: Timestamp,
    pub last_seen: Timestamp,
    /// Packets and bytes per direction, indexed by [`Direction::index`]. Bytes are IP bytes as
    /// captured.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
}

impl FlowInfo {
    pub fn proto_class(&self) -> ProtoClass {
        ProtoClass::of(self.proto)
    }
}

/// A flow: what the flow stage knows, its TCP session, and the state later stages keep on it
/// (`S`, owned by the pipeline).
pub struct Flow<S> {
    pub info: FlowInfo,
    pub tcp: Option<Box<TcpSession>>,
    pub state: S,
    /// Bytes this flow is charged against the memory cap.
    charged: usize,
}

/// Where a flow sits in the table; valid until the flow is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowHandle(u32);

/// What the table did with one packet.
#[derive(Clone, Copy, Debug)]
pub struct PacketVerdict {
    pub flow: FlowHandle,
    pub direction: Direction,
    /// The packet started this flow.
    pub created: bool,
}

/// Receives what the table produces besides verdicts: reassembled stream data and ended flows.
pub trait FlowObserver<S> {
    /// In-order reassembled TCP data (or a gap) sent in `dir`.
    fn stream_data(&mut self, info: &FlowInfo, state: &mut S, dir: Direction, chunk: Chunk<'_>);
    /// A flow has ended; its streams were flushed just before.
    fn flow_end(&mut self, flow: Flow<S>, reason: EndReason);
}

/// Counters of the flow table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Flows created, by [`ProtoClass`].
    pub created: [u64; 4],
    /// Flows ended, by [`EndReason`] in the order of `EndReason::ALL`.
    pub ended: [u64; 4],
    /// Evictions caused by the flow count cap.
    pub evicted_max_flows: u64,
    /// Evictions caused by the memory cap.
    pub evicted_memcap: u64,
    /// Most flows held at once.
    pub peak_flows: u64,
    /// Most bytes held at once.
    pub peak_memory: u64,
    pub tcp: TcpStats,
}

impl FlowStats {
    pub fn add(&mut self, o: &FlowStats) {
        for i in 0..4 {
            self.created[i] += o.created[i];
            self.ended[i] += o.ended[i];
        }
        self.evicted_max_flows += o.evicted_max_flows;
        self.evicted_memcap += o.evicted_memcap;
        // Peaks of separate tables add up: they bound what the workers held together.
        self.peak_flows += o.peak_flows;
        self.peak_memory += o.peak_memory;
        self.tcp.add(&o.tcp);
    }

    pub fn total_created(&self) -> u64 {
        self.created.iter().sum()
    }
}

const NIL: u32 = u32::MAX;

struct Slot<S> {
    flow: Option<Flow<S>>,
    prev: u32,
    next: u32,
}

/// A flow table owned by one worker thread.
pub struct FlowTable<S> {
    config: FlowConfig,
    index: HashMap<FlowKey, u32, foldhash::fast::RandomState>,
    slots: Vec<Slot<S>>,
    free: Vec<u32>,
    /// Least recently seen flow.
    head: u32,
    /// Most recently seen flow.
    tail: u32,
    memory: usize,
    stats: FlowStats,
}

/// Fixed cost charged per flow: its slot and index entry.
fn flow_overhead<S>() -> usize {
    std::mem::size_of::<Slot<S>>() + std::mem::size_of::<(FlowKey, u32)>() * 2
}

impl<S: Default> FlowTable<S> {
    pub fn new(config: FlowConfig) -> FlowTable<S> {
        FlowTable {
            config,
            index: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            memory: 0,
            stats: FlowStats::default(),
        }
    }

    pub fn stats(&self) -> &FlowStats {
        &self.stats
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Bytes charged against the memory cap right now.
    pub fn memory_used(&self) -> usize {
        self.memory
    }

    pub fn get(&self, h: FlowHandle) -> Option<&Flow<S>> {
        self.slots.get(h.0 as usize).and_then(|s| s.flow.as_ref())
    }

    pub fn get_mut(&mut self, h: FlowHandle) -> Option<&mut Flow<S>> {
        self.slots.get_mut(h.0 as usize).and_then(|s| s.flow.as_mut())
    }

    /// Account one packet to its flow, creating the flow if needed, and track TCP. `ip_len` is
    /// the packet's IP length as captured, for byte counters. `tcp` is the segment of a TCP
    /// packet (None for other protocols and for TCP packets too short to carry a header).
    pub fn process(
        &mut self,
        tuple: &PacketTuple,
        ip_len: usize,
        tcp: Option<&TcpHeader<'_>>,
        now: Timestamp,
        observer: &mut dyn FlowObserver<S>,
    ) -> PacketVerdict {
        let key = FlowKey::from_tuple(tuple);
        let (idx, created) = match self.index.get(&key) {
            Some(&idx) if self.is_expired(idx, now) => {
                self.remove(idx, EndReason::Timeout, observer);
                (self.create(key, tuple, tcp, now, observer), true)
            }
            Some(&idx) => (idx, false),
            None => (self.create(key, tuple, tcp, now, observer), true),
        };
        let (idx, created, direction) = match self.track(idx, tuple, ip_len, tcp, now, observer) {
            Some(direction) => (idx, created, direction),
            None => {
                // Port reuse: the old connection ends, the packet starts a new one.
                self.remove(idx, EndReason::PortReuse, observer);
                let idx = self.create(key, tuple, tcp, now, observer);
                let direction =
                    self.track(idx, tuple, ip_len, tcp, now, observer).unwrap_or(Direction::ToServer);
                (idx, true, direction)
            }
        };
        self.touch(idx);
        self.recharge(idx);
        self.enforce_memcap(idx, observer);
        PacketVerdict { flow: FlowHandle(idx), direction, created }
    }

    /// End flows idle past their timeout. Looks at no more than `budget` flows that are not yet
    /// expired, so a sweep has a bounded cost; call it regularly (e.g. once per second of
    /// capture time).
    pub fn expire(&mut self, now: Timestamp, budget: usize, observer: &mut dyn FlowObserver<S>) {
        let shortest = self.config.timeouts.shortest().saturating_mul(1_000_000_000);
        let mut idx = self.head;
        let mut looked = 0;
        while idx != NIL && looked < budget {
            let slot = &self.slots[idx as usize];
            let next = slot.next;
            let Some(flow) = slot.flow.as_ref() else { break };
            // The list is in last-seen order: past this point nothing can have expired.
            if now.nanos_since(flow.info.last_seen) <= shortest {
                break;
            }
            if self.is_expired(idx, now) {
                self.remove(idx, EndReason::Timeout, observer);
            } else {
                looked += 1;
            }
            idx = next;
        }
    }

    /// End every flow (end of input), in least-recently-seen order.
    pub fn drain(&mut self, observer: &mut dyn FlowObserver<S>) {
        while self.head != NIL {
            self.remove(self.head, EndReason::Shutdown, observer);
        }
    }

    fn timeout_secs(&self, flow: &Flow<S>) -> i64 {
        let t = &self.config.timeouts;
        let both_sides = flow.info.packets[0] > 0 && flow.info.packets[1] > 0;
        match flow.info.proto_class() {
            ProtoClass::Tcp => match flow.tcp.as_ref().map(|s| s.state) {
                Some(TcpState::Closed) => t.tcp_closed,
                Some(TcpState::Established | TcpState::Closing) => t.tcp_established,
                _ => t.tcp_new,
            },
            ProtoClass::Udp if both_sides => t.udp_established,
            ProtoClass::Udp => t.udp_new,
            ProtoClass::Icmp if both_sides => t.icmp_established,
            ProtoClass::Icmp => t.icmp_new,
            ProtoClass::Other if both_sides => t.other_established,
            ProtoClass::Other => t.other_new,
        }
    }

    fn is_expired(&self, idx: u32, now: Timestamp) -> bool {
        match self.slots[idx as usize].flow.as_ref() {
            Some(flow) => {
                now.nanos_since(flow.info.last_seen) > self.timeout_secs(flow).saturating_mul(1_000_000_000)
            }
            None => false,
        }
    }

    fn create(
        &mut self,
        key: FlowKey,
        tuple: &PacketTuple,
        tcp: Option<&TcpHeader<'_>>,
        now: Timestamp,
        observer: &mut dyn FlowObserver<S>,
    ) -> u32 {
        while self.index.len() >= self.config.max_flows.max(1) && self.head != NIL {
            self.stats.evicted_max_flows += 1;
            self.remove(self.head, EndReason::Evicted, observer);
        }
        // A SYN+ACK comes from the server; any other first packet from the client.
        let from_server = tcp.is_some_and(|h| h.flags & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK);
        let (client, server) = if from_server {
            ((tuple.dst, tuple.dst_port), (tuple.src, tuple.src_port))
        } else {
            ((tuple.src, tuple.src_port), (tuple.dst, tuple.dst_port))
        };
        let info = FlowInfo {
            id: key.stable_hash() ^ (now.as_nanos() as u64).rotate_left(17),
            key,
            client,
            server,
            proto: tuple.proto,
            vlan: tuple.vlan,
            start: now,
            last_seen: now,
            packets: [0; 2],
            bytes: [0; 2],
        };
        let tcp_session = (tuple.proto == 6).then(|| Box::new(TcpSession::new()));
        let flow = Flow { info, tcp: tcp_session, state: S::default(), charged: 0 };
        let slot = Slot { flow: Some(flow), prev: NIL, next: NIL };
        let idx = match self.free.pop() {
            Some(idx) => {
                self.slots[idx as usize] = slot;
                idx
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(key, idx);
        self.link_tail(idx);
        self.stats.created[ProtoClass::of(tuple.proto) as usize] += 1;
        self.stats.peak_flows = self.stats.peak_flows.max(self.index.len() as u64);
        idx
    }

    /// Count the packet and track TCP. None means the packet starts a new connection on the
    /// ports of this one.
    fn track(
        &mut self,
        idx: u32,
        tuple: &PacketTuple,
        ip_len: usize,
        tcp: Option<&TcpHeader<'_>>,
        now: Timestamp,
        observer: &mut dyn FlowObserver<S>,
    ) -> Option<Direction> {
        let stats = &mut self.stats;
        let tcp_config = &self.config.tcp;
        let flow = self.slots[idx as usize].flow.as_mut()?;
        let direction = if (tuple.src, tuple.src_port) == flow.info.client
            && (tuple.dst, tuple.dst_port) == flow.info.server
        {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let peer_seen = flow.info.packets[direction.reverse().index()] > 0;
        if let (Some(session), Some(seg)) = (flow.tcp.as_mut(), tcp) {
            let Flow { info, state, .. } = flow;
            let outcome =
                session.track(tcp_config, direction, seg, peer_seen, &mut stats.tcp, &mut |dir, chunk| {
                    observer.stream_data(info, state, dir, chunk)
                });
            if outcome == TcpOutcome::PortReuse {
                return None;
            }
        }
        let d = direction.index();
        flow.info.packets[d] += 1;
        flow.info.bytes[d] += ip_len as u64;
        if now > flow.info.last_seen {
            flow.info.last_seen = now;
        }
        Some(direction)
    }

    fn remove(&mut self, idx: u32, reason: EndReason, observer: &mut dyn FlowObserver<S>) {
        self.unlink(idx);
        let Some(mut flow) = self.slots[idx as usize].flow.take() else { return };
        self.index.remove(&flow.info.key);
        self.free.push(idx);
        self.memory = self.memory.saturating_sub(flow.charged);
        let Flow { info, state, tcp, .. } = &mut flow;
        if let Some(session) = tcp.as_mut() {
            session.flush_all(&mut |dir, chunk| observer.stream_data(info, state, dir, chunk));
        }
        let slot = match reason {
            EndReason::Timeout => 0,
            EndReason::Evicted => 1,
            EndReason::PortReuse => 2,
            EndReason::Shutdown => 3,
        };
        self.stats.ended[slot] += 1;
        observer.flow_end(flow, reason);
    }

    /// Bring the flow's charge up to date with what it holds now.
    fn recharge(&mut self, idx: u32) {
        let Some(flow) = self.slots[idx as usize].flow.as_mut() else { return };
        let now = flow_overhead::<S>()
            + flow.tcp.as_ref().map_or(0, |s| std::mem::size_of::<TcpSession>() + s.heap_bytes());
        self.memory = self.memory.saturating_sub(flow.charged) + now;
        flow.charged = now;
        self.stats.peak_memory = self.stats.peak_memory.max(self.memory as u64);
    }

    /// Evict the least recently seen flows, never `keep` (the flow of the current packet),
    /// until the table is under its memory cap.
    fn enforce_memcap(&mut self, keep: u32, observer: &mut dyn FlowObserver<S>) {
        while self.memory > self.config.memcap && self.head != NIL && self.head != keep {
            self.stats.evicted_memcap += 1;
            self.remove(self.head, EndReason::Evicted, observer);
        }
    }

    fn link_tail(&mut self, idx: u32) {
        self.slots[idx as usize].prev = self.tail;
        self.slots[idx as usize].next = NIL;
        if self.tail != NIL {
            self.slots[self.tail as usize].next = idx;
        } else {
            self.head = idx;
        }
        self.tail = idx;
    }

    fn unlink(&mut self, idx: u32) {
        let (prev, next) = {
            let s = &self.slots[idx as usize];
            (s.prev, s.next)
        };
        if prev != NIL {
            self.slots[prev as usize].next = next;
        } else if self.head == idx {
            self.head = next;
        }
        if next != NIL {
            self.slots[next as usize].prev = prev;
        } else if self.tail == idx {
            self.tail = prev;
        }
        self.slots[idx as usize].prev = NIL;
        self.slots[idx as usize].next = NIL;
    }

    /// Move a flow to the most-recently-seen end.
    fn touch(&mut self, idx: u32) {
        if self.tail != idx {
            self.unlink(idx);
            self.link_tail(idx);
        }
    }
}
