//! Target-based reassembly for `ids`: IPv4/IPv6 defragmentation ([`defrag`]) and one direction of
//! a TCP byte stream ([`tcp`]).
//!
//! Both are pure data structures: callers hand in the decoded fields (addresses, offsets, sequence
//! numbers, payload slices) and get whole datagrams or in-order stream chunks back. Neither decodes
//! packets nor keeps a flow table. Overlapping data is resolved the way a chosen target operating
//! system would (Novak & Sturges; Snort 3's `stream_ip` and `stream_tcp` policies), so an attacker
//! cannot show the IDS one byte stream and the target another (Ptacek & Newsham 1998).
//!
//! Nothing here panics on any input, and all memory held on behalf of the network is capped, with
//! every cap event and anomaly counted in the modules' stats.

pub mod defrag;
pub mod tcp;

pub use defrag::{
    DefragConfig, DefragOutcome, DefragStats, Defragmenter, DropReason, FragKey, FragPolicy, FragmentIn,
};
pub use tcp::{
    Chunk, InsertOutcome, StreamConfig, StreamPolicy, StreamReassembler, StreamStats, UnknownPolicy,
};

/// Counters that add up across workers and print by name in the run summary.
macro_rules! counters {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl $ty {
            /// Add another set of counters (e.g. another worker's) to these.
            pub fn add(&mut self, other: &$ty) {
                $(self.$field += other.$field;)*
            }

            /// Every counter with its name, in declaration order.
            pub fn counters(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($field), self.$field)),*]
            }
        }
    };
}

counters!(DefragStats {
    fragments,
    reassembled,
    overlaps,
    overlaps_conflicting,
    duplicates,
    ttl_discards,
    too_large,
    short_fragments,
    zero_length,
    tiny_fragments,
    oversize,
    last_mismatch,
    teardrops,
    bad_headers,
    timeouts,
    memcap_evictions,
    too_many_fragments,
});

counters!(StreamStats {
    segments,
    empty_segments,
    bytes_inserted,
    retransmissions,
    retransmitted_bytes,
    overlaps,
    overlaps_conflicting,
    out_of_order,
    gaps,
    gap_bytes,
    delivered_bytes,
    depth_exceeded_bytes,
    forced_flushes,
    cap_dropped_bytes,
    bad_seq,
    after_fin_bytes,
});

#[cfg(test)]
mod counter_tests {
    use super::*;

    #[test]
    fn counters_add_and_list_every_field() {
        let mut a = StreamStats { segments: 2, bad_seq: 1, ..Default::default() };
        a.add(&StreamStats { segments: 3, after_fin_bytes: 7, ..Default::default() });
        assert_eq!(a.segments, 5);
        let listed = a.counters();
        assert_eq!(listed.len(), 16);
        assert!(listed.contains(&("after_fin_bytes", 7)));
        let mut d = DefragStats::default();
        d.add(&DefragStats { timeouts: 4, ..Default::default() });
        assert_eq!(d.counters().iter().find(|(n, _)| *n == "timeouts"), Some(&("timeouts", 4)));
    }
}
