//! Print every flow the engine tracks in a capture, one line each, in the engine's output order:
//!
//!     cargo run --release -p ids-pipeline --example flows -- CAPTURE [WORKERS]
//!
//! A debugging aid for the flow stage (orientation, splits, end reasons).

use ids_flow::{Direction, EndReason, Flow, FlowInfo};
use ids_pipeline::{
    ChecksumMode, Emitter, EngineConfig, EventKey, FlowContext, Input, Inspector, Output, PacketContext,
};
use ids_reassembly::tcp::Chunk;

struct Flows;

impl Inspector for Flows {
    type FlowState = [u64; 2];
    type Event = String;

    fn packet(
        &mut self,
        _: &PacketContext<'_, '_>,
        _: Option<FlowContext<'_, [u64; 2]>>,
        _: &mut Emitter<String>,
    ) {
    }

    fn stream(
        &mut self,
        _: &FlowInfo,
        s: &mut [u64; 2],
        dir: Direction,
        chunk: Chunk<'_>,
        _: &mut Emitter<String>,
    ) {
        if let Chunk::Data { bytes, .. } = chunk {
            s[dir.index()] += bytes.len() as u64;
        }
    }

    fn flow_end(&mut self, flow: Flow<[u64; 2]>, reason: EndReason, out: &mut Emitter<String>) {
        let i = &flow.info;
        let state = flow.tcp.as_ref().map_or("-", |t| t.state.name());
        out.emit(format!(
            "proto {} vlan {} {}:{} -> {}:{} start {} pkts {}/{} bytes {}/{} stream {}/{} state {} end {}",
            i.proto,
            i.vlan,
            i.client.0,
            i.client.1,
            i.server.0,
            i.server.1,
            i.start,
            i.packets[0],
            i.packets[1],
            i.bytes[0],
            i.bytes[1],
            flow.state[0],
            flow.state[1],
            state,
            reason.name()
        ));
    }
}

struct Print;

impl Output<String> for Print {
    fn event(&mut self, key: &EventKey, line: String) {
        let at = if key.packet == u64::MAX { "end".to_string() } else { key.packet.to_string() };
        println!("[{at}] {line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: flows CAPTURE [WORKERS]");
        std::process::exit(2);
    };
    let workers = args.get(2).and_then(|w| w.parse().ok()).unwrap_or(1);
    let config = EngineConfig { workers, checksums: ChecksumMode::NONE, ..Default::default() };
    let summary = ids_pipeline::run(vec![Input::Path(path.into())], &config, |_| Flows, Print, None);
    eprint!("{summary}");
}
