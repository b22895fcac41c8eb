//! One worker thread: decode → defragment → track the flow → reassemble → inspect, for the
//! packets dispatched to it. A worker owns its flow table and defragmenter outright.

use ids_capture::{LinkType, Timestamp};
use ids_decode::{decode, decode_ip, Packet, Transport};
use ids_flow::{
    Direction, EndReason, Flow, FlowInfo, FlowObserver, FlowTable, PacketTuple, TcpHeader, TcpState,
};
use ids_reassembly::tcp::Chunk;

use crate::config::{ChecksumMode, EngineConfig};
use crate::counters::WorkerStats;
use crate::inspect::{Emitter, FlowContext, Inspector, PacketContext};

/// A packet as the reader hands it over: where its bytes are in the batch buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PacketMeta {
    pub number: u64,
    /// Position of this entry within the packet's processing (see `EventKey::part`).
    pub part: u8,
    pub ts: Timestamp,
    pub link_type: LinkType,
    pub start: usize,
    pub len: usize,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Entry {
    /// A captured packet (a fragment is inspected as a packet but joins no flow).
    Packet(PacketMeta),
    /// An IP datagram the reader rebuilt from fragments; `meta` points at the datagram's bytes,
    /// `number` is that of the fragment that completed it.
    Reassembled { meta: PacketMeta, outer: OuterContext },
    /// One tunnel level of a packet whose innermost flow belongs to another worker (or to this
    /// one): account the outer flow.
    TunnelHop { number: u64, part: u8, ts: Timestamp, tuple: PacketTuple, len: usize },
    /// Capture time passed a tick boundary before packet `number`: sweep timeouts.
    Tick { number: u64, ts: Timestamp },
    /// Which checksums to verify from now on (sent once, before any packet, when the reader
    /// decided it from a sample of the capture).
    Checksums(ChecksumMode),
}

/// What a reassembled datagram keeps of the packet that completed it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct OuterContext {
    pub vlan: [u16; 2],
    pub vlan_count: u8,
    pub tunnel_depth: u8,
}

impl OuterContext {
    pub fn of(pkt: &Packet<'_>) -> OuterContext {
        OuterContext { vlan: pkt.vlan, vlan_count: pkt.vlan_count, tunnel_depth: pkt.tunnel_depth }
    }
}

/// Packets for one worker, with their bytes in one buffer.
#[derive(Default)]
pub(crate) struct Batch {
    pub data: Vec<u8>,
    pub entries: Vec<Entry>,
    /// No entry sent to this worker after this batch has a number at or below `seal`.
    pub seal: u64,
}

impl Batch {
    pub fn clear(&mut self) {
        self.data.clear();
        self.entries.clear();
        self.seal = 0;
    }
}

pub(crate) struct Worker<I: Inspector> {
    flows: FlowTable<I::FlowState>,
    inspector: I,
    emitter: Emitter<I::Event>,
    checksums: ChecksumMode,
    track_vlan: bool,
    pub stats: WorkerStats,
}

/// Forwards what the flow table reports to the inspector, with event keys that order the
/// events the same way whatever worker produced them.
struct Relay<'w, I: Inspector> {
    inspector: &'w mut I,
    emitter: &'w mut Emitter<I::Event>,
    stats: &'w mut WorkerStats,
    /// For events outside a packet (timeouts at a tick, end of run): the packet number to key
    /// them with; each flow's events are then keyed by its last-seen time and id.
    sweep: Option<u64>,
    current: Option<u64>,
}

impl<I: Inspector> Relay<'_, I> {
    fn key_for(&mut self, info: &FlowInfo) {
        if let Some(number) = self.sweep {
            if self.current != Some(info.id) {
                self.current = Some(info.id);
                self.emitter.set_key(number, 0, 0, info.last_seen, info.id);
            }
        }
    }
}

impl<I: Inspector> FlowObserver<I::FlowState> for Relay<'_, I> {
    fn stream_data(&mut self, info: &FlowInfo, state: &mut I::FlowState, dir: Direction, chunk: Chunk<'_>) {
        self.key_for(info);
        self.stats.count_chunk(&chunk);
        self.inspector.stream(info, state, dir, chunk, self.emitter);
    }

    fn flow_end(&mut self, flow: Flow<I::FlowState>, reason: EndReason) {
        self.key_for(&flow.info);
        self.stats.count_flow_end(&flow);
        self.inspector.flow_end(flow, reason, self.emitter);
    }
}

impl<I: Inspector> Worker<I> {
    pub fn new(config: &EngineConfig, inspector: I) -> Worker<I> {
        Worker {
            flows: FlowTable::new(config.flow_config()),
            inspector,
            emitter: Emitter::new(),
            checksums: config.checksums,
            track_vlan: config.track_vlan,
            stats: WorkerStats::default(),
        }
    }

    /// Process a batch; returns the events it produced.
    pub fn run_batch(&mut self, batch: &Batch) -> Vec<(crate::inspect::EventKey, I::Event)> {
        for entry in &batch.entries {
            match *entry {
                Entry::Packet(meta) => {
                    let data = batch.data.get(meta.start..meta.start + meta.len).unwrap_or_default();
                    self.packet(meta, data);
                }
                Entry::Reassembled { meta, outer } => {
                    let data = batch.data.get(meta.start..meta.start + meta.len).unwrap_or_default();
                    self.reassembled(meta, outer, data);
                }
                Entry::TunnelHop { number, part, ts, tuple, len } => {
                    self.tunnel_hop(number, part, ts, &tuple, len)
                }
                Entry::Tick { number, ts } => self.tick(number, ts),
                Entry::Checksums(mode) => self.checksums = mode,
            }
        }
        self.emitter.take()
    }

    /// End of input: end every flow, in an order that does not depend on the worker count.
    pub fn finish(&mut self) -> Vec<(crate::inspect::EventKey, I::Event)> {
        let Worker { flows, inspector, emitter, stats, .. } = self;
        let mut relay = Relay { inspector, emitter, stats, sweep: Some(u64::MAX), current: None };
        flows.drain(&mut relay);
        self.stats.flow = *self.flows.stats();
        self.emitter.take()
    }

    pub fn has_pending_events(&self) -> bool {
        !self.emitter.is_empty()
    }

    fn tick(&mut self, number: u64, ts: Timestamp) {
        let Worker { flows, inspector, emitter, stats, .. } = self;
        let mut relay = Relay { inspector, emitter, stats, sweep: Some(number), current: None };
        flows.expire(ts, usize::MAX, &mut relay);
    }

    fn packet(&mut self, meta: PacketMeta, data: &[u8]) {
        let pkt = decode(meta.link_type, data);
        self.stats.count_packet(&pkt, data.len());
        if pkt.is_fragment() {
            // The reader defragments; the fragment itself is inspected as a packet (rules on
            // fragment bits see it) but belongs to no flow until its datagram is whole.
            self.inspect_without_flow(&pkt, meta, false);
        } else {
            self.inspect(&pkt, meta, false);
        }
    }

    fn reassembled(&mut self, meta: PacketMeta, outer: OuterContext, data: &[u8]) {
        let mut context = Packet::new(LinkType::RAW, &[]);
        context.vlan = outer.vlan;
        context.vlan_count = outer.vlan_count;
        context.tunnel_depth = outer.tunnel_depth;
        let whole = decode_ip(data, &context);
        self.stats.count_reassembled(&whole);
        self.inspect(&whole, meta, true);
    }

    /// Each tunnel level around a packet's innermost header is a flow of its own (the VXLAN or
    /// GTP-U flow between two tunnel endpoints, a GRE flow), tracked for its counters and flow
    /// records by the worker that owns that outer address pair; inspection sees the packet
    /// once, with its innermost flow.
    fn tunnel_hop(&mut self, number: u64, part: u8, ts: Timestamp, tuple: &PacketTuple, len: usize) {
        self.emitter.set_key(number, 1, part, Timestamp::ZERO, 0);
        let Worker { flows, inspector, emitter, stats, .. } = self;
        let mut relay = Relay { inspector, emitter, stats, sweep: None, current: None };
        flows.process(tuple, len, None, ts, &mut relay);
    }

    /// Track the packet's flow, then hand it to the inspector.
    fn inspect(&mut self, pkt: &Packet<'_>, meta: PacketMeta, reassembled: bool) {
        if !self.checksums_ok(pkt) {
            self.inspect_without_flow(pkt, meta, reassembled);
            return;
        }
        let Some(mut tuple) = flow_tuple(pkt) else {
            self.inspect_without_flow(pkt, meta, reassembled);
            return;
        };
        if !self.track_vlan {
            tuple.vlan = 0;
        }
        let ip_len = pkt.ip.as_ref().map_or(0, |ip| ip.header.len() + ip.payload.len());
        let tcp = match &pkt.transport {
            Transport::Tcp(seg) => Some(TcpHeader {
                seq: seg.seq,
                ack: seg.ack,
                flags: seg.flags.0,
                window: seg.window,
                payload: seg.payload,
            }),
            _ => None,
        };
        self.emitter.set_key(meta.number, 1, meta.part, Timestamp::ZERO, 0);
        let Worker { flows, inspector, emitter, stats, .. } = self;
        let mut relay = Relay { inspector, emitter, stats, sweep: None, current: None };
        let verdict = flows.process(&tuple, ip_len, tcp.as_ref(), meta.ts, &mut relay);
        let ctx = PacketContext { number: meta.number, ts: meta.ts, packet: pkt, reassembled };
        let flow = self.flows.get_mut(verdict.flow).map(|f| {
            let tcp_state = f.tcp.as_ref().map(|t| t.state);
            let established = match tcp_state {
                Some(state) => matches!(state, TcpState::Established | TcpState::Closing | TcpState::Closed),
                None => f.info.packets[0] > 0 && f.info.packets[1] > 0,
            };
            FlowContext {
                info: &f.info,
                direction: verdict.direction,
                established,
                tcp_state,
                state: &mut f.state,
            }
        });
        self.inspector.packet(&ctx, flow, &mut self.emitter);
    }

    fn inspect_without_flow(&mut self, pkt: &Packet<'_>, meta: PacketMeta, reassembled: bool) {
        self.emitter.set_key(meta.number, 1, meta.part, Timestamp::ZERO, 0);
        let ctx = PacketContext { number: meta.number, ts: meta.ts, packet: pkt, reassembled };
        self.inspector.packet(&ctx, None, &mut self.emitter);
    }

    fn checksums_ok(&mut self, pkt: &Packet<'_>) -> bool {
        let mode = self.checksums;
        if !mode.any() {
            return true;
        }
        if mode.ip && pkt.ipv4_checksum_ok() == Some(false) {
            self.stats.bad_checksum.ip += 1;
            return false;
        }
        let check_l4 = match pkt.transport {
            Transport::Tcp(_) => mode.tcp,
            Transport::Udp(_) => mode.udp,
            Transport::Icmp(_) | Transport::Icmpv6(_) => mode.icmp,
            _ => false,
        };
        if check_l4 && pkt.l4_checksum_ok() == Some(false) {
            match pkt.transport {
                Transport::Tcp(_) => self.stats.bad_checksum.tcp += 1,
                Transport::Udp(_) => self.stats.bad_checksum.udp += 1,
                _ => self.stats.bad_checksum.icmp += 1,
            }
            return false;
        }
        true
    }
}

pub(crate) fn innermost_vlan(pkt: &Packet<'_>) -> u16 {
    match pkt.vlan_count {
        0 => 0,
        1 => pkt.vlan[0],
        _ => pkt.vlan[1],
    }
}

/// The flow addressing of a packet: innermost IP addresses, transport ports (none for ICMP and
/// other protocols, whose flows are per address pair and protocol, as in Snort).
pub(crate) fn flow_tuple(pkt: &Packet<'_>) -> Option<PacketTuple> {
    let ip = pkt.ip.as_ref()?;
    let (src_port, dst_port) = match &pkt.transport {
        Transport::Tcp(t) => (t.src_port, t.dst_port),
        Transport::Udp(u) => (u.src_port, u.dst_port),
        // A TCP or UDP packet too short for its header has no ports: it is not tracked.
        Transport::None if matches!(ip.proto, 6 | 17) => return None,
        _ => (0, 0),
    };
    Some(PacketTuple {
        src: ip.src,
        dst: ip.dst,
        src_port,
        dst_port,
        proto: ip.proto,
        vlan: innermost_vlan(pkt),
    })
}
