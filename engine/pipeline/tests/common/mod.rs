//! Shared helpers for the suites that run the engine over real captures and compare with the
//! figures tshark gives (`pcaps/fixtures/`, made by `scripts/make-tshark-fixtures.py`).

#![allow(dead_code, unused_imports)]

use std::net::IpAddr;
use std::path::PathBuf;

use ids_flow::{Direction, EndReason, Flow, FlowInfo};
use ids_pipeline::{
    ChecksumMode, Emitter, EngineConfig, EventKey, FlowContext, Inspector, Output, PacketContext, RunSummary,
};
use ids_reassembly::tcp::Chunk;
pub use ids_testkit::{capture_files, fixtures, read_tsv, shared_pcaps, unlisted_differences, Differences};

/// An engine configuration for comparisons with tshark, which checks no checksums.
pub fn config(workers: usize) -> EngineConfig {
    EngineConfig { workers, checksums: ChecksumMode::NONE, ..Default::default() }
}

/// Timeouts longer than any capture: tshark never ends a conversation for idleness.
pub const NEVER: ids_flow::Timeouts = {
    const T: i64 = i64::MAX / 4_000_000_000;
    ids_flow::Timeouts {
        tcp_new: T,
        tcp_established: T,
        tcp_closed: T,
        udp_new: T,
        udp_established: T,
        icmp_new: T,
        icmp_established: T,
        other_new: T,
        other_established: T,
    }
};

/// The engine with tshark's notion of a conversation: VLAN ids left out of flow keys, no idle
/// timeouts. Two deliberate differences of the engine are checked rather than listed: when a
/// capture agrees with tshark under this configuration, that was the cause.
pub fn tshark_semantics() -> EngineConfig {
    EngineConfig { track_vlan: false, timeouts: NEVER, ..config(1) }
}

/// One ended flow, as the collector saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRecord {
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    pub proto: u8,
    pub vlan: u16,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub start_ns: i64,
    /// Reassembled TCP payload per direction (data chunks only).
    pub streams: [Vec<u8>; 2],
    /// Gap bytes per direction.
    pub gaps: [u64; 2],
    pub reason: &'static str,
}

/// Per-flow state of the collector.
#[derive(Default)]
pub struct Streams {
    data: [Vec<u8>; 2],
    gaps: [u64; 2],
}

/// An inspector that records every flow with its reassembled streams.
#[derive(Default)]
pub struct FlowCollector {
    pub keep_streams: bool,
}

impl Inspector for FlowCollector {
    type FlowState = Streams;
    type Event = FlowRecord;

    fn packet(
        &mut self,
        _: &PacketContext<'_, '_>,
        _: Option<FlowContext<'_, Streams>>,
        _: &mut Emitter<FlowRecord>,
    ) {
    }

    fn stream(
        &mut self,
        _: &FlowInfo,
        s: &mut Streams,
        dir: Direction,
        chunk: Chunk<'_>,
        _: &mut Emitter<FlowRecord>,
    ) {
        match chunk {
            Chunk::Data { bytes, .. } => {
                if self.keep_streams {
                    s.data[dir.index()].extend_from_slice(bytes)
                }
            }
            Chunk::Gap { len, .. } => s.gaps[dir.index()] += len,
        }
    }

    fn flow_end(&mut self, flow: Flow<Streams>, reason: EndReason, out: &mut Emitter<FlowRecord>) {
        let Flow { info, state, .. } = flow;
        out.emit(FlowRecord {
            client: info.client,
            server: info.server,
            proto: info.proto,
            vlan: info.vlan,
            packets: info.packets,
            bytes: info.bytes,
            start_ns: info.start.as_nanos(),
            streams: state.data,
            gaps: state.gaps,
            reason: reason.name(),
        });
    }
}

/// Collects events with their keys.
pub struct Collect<'a>(pub &'a mut Vec<(EventKey, FlowRecord)>);

impl Output<FlowRecord> for Collect<'_> {
    fn event(&mut self, key: &EventKey, event: FlowRecord) {
        self.0.push((*key, event));
    }
}

/// Run the engine over some inputs and return its summary and ended flows, in output order.
pub fn run_flows(
    inputs: &[PathBuf],
    config: &EngineConfig,
    keep_streams: bool,
) -> (RunSummary, Vec<FlowRecord>) {
    let mut events = Vec::new();
    let summary = ids_pipeline::run(
        ids_pipeline::Input::paths(inputs),
        config,
        |_| FlowCollector { keep_streams },
        Collect(&mut events),
        None,
    );
    for pair in events.windows(2) {
        assert!(pair[0].0 <= pair[1].0, "events out of order: {:?} then {:?}", pair[0].0, pair[1].0);
    }
    (summary, events.into_iter().map(|(_, r)| r).collect())
}

/// `ip:port`, IPv6 in brackets, as the fixtures write endpoints.
pub fn endpoint((ip, port): (IpAddr, u16)) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}
