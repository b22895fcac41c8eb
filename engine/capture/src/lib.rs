//! Packet sources for `ids` (under construction: see DESIGN.md).

mod types;

pub use types::{LinkType, Timestamp};
