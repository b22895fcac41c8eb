//! Flow tracking: which packets belong together, and what state each conversation is in.
//!
//! - [`key`]: bidirectional flow keys and packet directions.
//! - [`table`]: the per-worker [`FlowTable`], with per-protocol timeouts, a flow count cap and
//!   a memory cap, and least-recently-seen eviction.
//! - [`tcp`]: TCP session tracking (handshake, midstream pickup, FIN/RST teardown, port reuse)
//!   driving one [`ids_reassembly::tcp::StreamReassembler`] per direction.
//!
//! The flow stage knows nothing of decoding or inspection: it takes a [`PacketTuple`] and, for
//! TCP, a [`TcpHeader`], and reports reassembled data and ended flows to a [`FlowObserver`].
//! Later stages keep their own per-flow state in the table as the type parameter `S`.
//!
//! A table belongs to one worker thread. Workers never share flows: the dispatcher sends every
//! packet of a flow to the same worker.

pub mod key;
pub mod table;
pub mod tcp;

pub use key::{Direction, FlowKey, PacketTuple};
pub use table::{
    EndReason, Flow, FlowConfig, FlowHandle, FlowInfo, FlowObserver, FlowStats, FlowTable, PacketVerdict,
    ProtoClass, Timeouts,
};
pub use tcp::{TcpConfig, TcpHeader, TcpSession, TcpState, TcpStats};

#[cfg(test)]
mod tests;
