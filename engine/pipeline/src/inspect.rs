//! The interface between the packet engine and the stages that inspect its output
//! (application-layer parsing, application identification, detection, flow logging).
//!
//! A worker thread owns one [`Inspector`] and calls it for every decoded packet, every piece of
//! reassembled stream data and every ended flow. What the inspector finds it emits as events;
//! the pipeline puts the events of all workers back into packet order before the [`Output`]
//! sees them, so output does not depend on the number of workers.

use ids_capture::Timestamp;
use ids_decode::Packet;
use ids_flow::{Direction, EndReason, Flow, FlowInfo, TcpState};
use ids_reassembly::tcp::Chunk;

/// Where an event sits in the run's deterministic order.
///
/// Events are ordered by the packet that caused them, then by phase (flow timeouts found when
/// capture time passed a tick come before the packet that carried the tick), then by a
/// tie-breaker that is the same whatever worker found the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    /// 1-based number of the packet in the run (`pcap_cnt`); `u64::MAX` for end-of-run events.
    pub packet: u64,
    /// 0: timeouts found at a tick before the packet, 1: the packet itself.
    pub phase: u8,
    /// Which part of the packet's processing: its tunnel levels (outermost first), the packet,
    /// then a datagram it completed. The parts may run in different workers.
    pub part: u8,
    /// For timeouts and end-of-run: the flow's last-seen time, then its id.
    pub time: Timestamp,
    pub flow_id: u64,
    /// Order of emission within the above.
    pub seq: u32,
}

/// Collects the events an inspector emits for one packet or flow.
pub struct Emitter<E> {
    key: EventKey,
    events: Vec<(EventKey, E)>,
}

impl<E> Emitter<E> {
    pub(crate) fn new() -> Emitter<E> {
        Emitter {
            key: EventKey { packet: 0, phase: 1, part: 0, time: Timestamp::ZERO, flow_id: 0, seq: 0 },
            events: Vec::new(),
        }
    }

    pub(crate) fn set_key(&mut self, packet: u64, phase: u8, part: u8, time: Timestamp, flow_id: u64) {
        self.key = EventKey { packet, phase, part, time, flow_id, seq: 0 };
    }

    pub fn emit(&mut self, event: E) {
        self.events.push((self.key, event));
        self.key.seq = self.key.seq.wrapping_add(1);
    }

    pub(crate) fn take(&mut self) -> Vec<(EventKey, E)> {
        std::mem::take(&mut self.events)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// A decoded packet as inspectors see it.
pub struct PacketContext<'p, 'a> {
    /// 1-based number of the packet in the run.
    pub number: u64,
    pub ts: Timestamp,
    /// The packet; for a reassembled IP datagram, the datagram decoded from its IP header.
    pub packet: &'p Packet<'a>,
    /// True for a datagram rebuilt from fragments (its number is that of the last fragment).
    pub reassembled: bool,
}

/// The flow a packet belongs to, with the state inspectors keep on it.
pub struct FlowContext<'f, S> {
    pub info: &'f FlowInfo,
    pub direction: Direction,
    /// Snort's `flow:established`: a TCP connection whose handshake completed or that was
    /// picked up midstream (and not yet closed by a reset); for other protocols, a flow that
    /// has carried packets both ways.
    pub established: bool,
    /// The TCP connection state, for TCP flows.
    pub tcp_state: Option<TcpState>,
    pub state: &'f mut S,
}

/// A stage that looks at what the packet engine produces. One instance per worker thread.
pub trait Inspector: Send + 'static {
    /// Per-flow state the inspector keeps (application-layer parser state, appid, flowbits).
    type FlowState: Default + Send;
    /// What the inspector reports (alerts, records).
    type Event: Send + 'static;

    /// Every decoded packet, after flow tracking and before its stream data (if any) is handed on.
    fn packet(
        &mut self,
        pkt: &PacketContext<'_, '_>,
        flow: Option<FlowContext<'_, Self::FlowState>>,
        out: &mut Emitter<Self::Event>,
    );

    /// Reassembled TCP data sent in `dir`, in order, as the receiver accepted it.
    fn stream(
        &mut self,
        info: &FlowInfo,
        state: &mut Self::FlowState,
        dir: Direction,
        chunk: Chunk<'_>,
        out: &mut Emitter<Self::Event>,
    );

    /// A flow ended; its streams were flushed to [`Inspector::stream`] just before.
    fn flow_end(&mut self, flow: Flow<Self::FlowState>, reason: EndReason, out: &mut Emitter<Self::Event>);
}

/// Receives the events of all workers, in the run's deterministic order.
pub trait Output<E>: Send {
    fn event(&mut self, key: &EventKey, event: E);
    fn finish(&mut self) {}
}

/// An inspector that looks at nothing: the packet engine alone.
#[derive(Default)]
pub struct NullInspector;

impl Inspector for NullInspector {
    type FlowState = ();
    type Event = ();

    fn packet(&mut self, _: &PacketContext<'_, '_>, _: Option<FlowContext<'_, ()>>, _: &mut Emitter<()>) {}
    fn stream(&mut self, _: &FlowInfo, _: &mut (), _: Direction, _: Chunk<'_>, _: &mut Emitter<()>) {}
    fn flow_end(&mut self, _: Flow<()>, _: EndReason, _: &mut Emitter<()>) {}
}

/// An output that discards events.
pub struct NullOutput;

impl<E> Output<E> for NullOutput {
    fn event(&mut self, _: &EventKey, _: E) {}
}
