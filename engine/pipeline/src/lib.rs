//! The `ids` runtime: reads captures, spreads packets over worker threads, runs the stage chain
//! (decode → defragment → flow → reassemble → inspect) in each worker, and merges what the
//! workers report back into one deterministic order.
//!
//! Guarantees:
//! - Every counter and every event is the same whatever the number of workers, as long as no
//!   memory cap is reached (caps are split between workers, so what a cap evicts depends on the
//!   split). Peaks (`peak_flows`, `peak_memory`) are summed over workers.
//! - Events reach the [`Output`] ordered by [`EventKey`]: by packet number, then timeouts before
//!   the packet that revealed them, then by flow.
//! - Time is capture time: timeouts are measured between packet timestamps.
//!
//! Later stages plug in as an [`Inspector`]; live capture will plug in as another packet source
//! feeding the same reader loop.

mod config;
mod counters;
mod inspect;
mod run;
mod summary;
mod worker;

pub use config::{ChecksumMode, EngineConfig};
pub use counters::{ChecksumCounts, WorkerStats};
pub use inspect::{
    Emitter, EventKey, FlowContext, Inspector, NullInspector, NullOutput, Output, PacketContext,
};
pub use run::{run, Input, InputReport, Progress, RunSummary};
