//! One direction of a TCP byte stream, reassembled the way a chosen target operating system
//! would (target-based stream reassembly).
//!
//! A [`StreamReassembler`] receives the payload of every segment one endpoint sent
//! ([`StreamReassembler::insert`]), keeps what is not yet delivered in a queue ordered by stream
//! offset, resolves overlaps between a new segment and queued data by a [`StreamPolicy`], and hands
//! the bytes to inspection in order through the `flush_*` calls. Stream offsets are `u64` counted
//! from `initial_seq` (offset 0 is the first payload byte), so a stream longer than 4 GiB and a
//! sequence number wrapping past 2^32 both work: every 32-bit sequence number is unwrapped against
//! the flushed point with wrapping arithmetic.
//!
//! # Overlap policies
//!
//! The rules are those of Snort 3's `tcp_overlap_resolver.cc` (whose policy set comes from Novak &
//! Sturges, "Target-Based TCP Stream Reassembly", Sourcefire 2007). A new segment `N = [s, e)` is
//! compared with the queued segments it touches, which never overlap each other:
//!
//! * **left**: the queued segment `L` that starts before `s` and ends after it;
//! * **right, partial**: a queued segment `R` with `s <= R.start < e < R.end` (N ends inside R);
//! * **right, full**: a queued segment `R` with `s <= R.start` and `R.end <= e` (N covers R).
//!
//! "cur" below is where the not-yet-placed part of N starts (after left trimming and after any
//! fully covered segment whose old bytes won).
//!
//! | policy (Snort name)                    | left overlap                   | right, partial                  | right, full (N covers R)                                       |
//! |----------------------------------------|--------------------------------|---------------------------------|----------------------------------------------------------------|
//! | `first`, `vista`                       | old wins                       | old wins                        | old wins                                                       |
//! | `last`                                 | new wins (L split if it covers N) | new wins                     | new wins                                                       |
//! | `bsd`, `macos`, `windows`, `win_2003`  | old wins                       | new wins, unless R.start = cur  | new wins if cur < R.start, else old wins                       |
//! | `linux`, `irix`, `hpux10`              | old wins                       | new wins, unless R.start = cur  | new wins if cur < R.start, or R.start = cur and e > R.end      |
//! | `old_linux`                            | old wins                       | new wins, unless R.start = cur  | new wins                                                       |
//! | `solaris`, `hpux11`                    | new wins, unless L covers N    | old wins                        | old wins only if N = R exactly and the queued segment before R does not end at s; else new wins |
//!
//! Where the table says old wins, the new bytes are discarded for that range; where new wins, the
//! old segment is trimmed or dropped. The parts of N not covered by queued data always go in.
//! Overlaps whose bytes are identical are the same whatever the policy; a segment whose every byte
//! is already queued (identical) or already delivered is a *retransmission* and does not count as
//! an overlap.
//!
//! With the classic Novak/Sturges segment pattern (see the tests) the policies give:
//! `bsd` `0AAAJJBCCCLLLMMMFFFGGHHIQ`, `linux` `0AAAJJBCCCLLLMMMFFFGGHHQQ`,
//! `old_linux` `0AAAJJBKKKLLLMMMFFFGGHHQQ`, `solaris` `0AJJJBBKKKLLLMMMFFFGGHHQQ`,
//! `last` `0AJJJJBKKKLLLMMMFNFGOPHQQ`, `first`/`vista` `0AAAJBBCCCLDLMEEFFFGGHHIQ`.
//!
//! Differences from Snort: Snort treats a new segment as a retransmission when its bytes match a
//! queued segment's and then skips it; here identical bytes are detected up front and the whole
//! segment is a retransmission only if every byte was already held, which yields the same stream.
//! Snort's inline (IPS) normalisation, which rewrites packets to the `first` policy, is not
//! modelled.
//!
//! # Delivery
//!
//! Data is delivered once, in order, and never changes afterwards. Anything that arrives for an
//! offset below the flushed point ([`StreamReassembler::next_offset`]) is a retransmission of
//! delivered data: it is counted and dropped, not compared. In IDS mode the caller flushes up to
//! the peer's ACK ([`StreamReassembler::flush_to`]): what the receiver acknowledged is what it
//! accepted, so the policy has resolved every overlap before delivery. Holes below the ACK are
//! delivered as [`Chunk::Gap`] so inspection knows bytes are missing.
//!
//! # Guarantees
//!
//! * No panic and no arithmetic overflow for any sequence number, length or call order; sequence
//!   numbers more than 1 GiB away from the flushed point are ignored and counted (`bad_seq`).
//! * Memory: queued payload is bounded by `max_queued_bytes` / `max_queued_segments`. Going over
//!   marks the oldest queued data for a forced flush (delivered, holes as gaps, by the next
//!   `flush_*` call; [`InsertOutcome::flush_required`] tells the caller to flush now). If the
//!   caller does not, new data beyond twice `max_queued_bytes` is dropped and counted, so the hard
//!   bound is `2 * max_queued_bytes` plus per-segment overhead.
//! * Cost: an in-order segment (the common case) is one copy of its bytes into the queue and one
//!   `BTreeMap` insertion, O(log n); overlap resolution is O(k log n) in the number k of queued
//!   segments the new one touches.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Sequence numbers further than this from the flushed point are not believed.
const MAX_SEQ_DISTANCE: i64 = 1 << 30;

/// Target-based overlap policy, named as in Snort 3 (`stream_tcp.policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StreamPolicy {
    First,
    Last,
    Linux,
    OldLinux,
    /// Snort 3's default.
    #[default]
    Bsd,
    MacOs,
    Solaris,
    Irix,
    Hpux11,
    Hpux10,
    Windows,
    Win2003,
    Vista,
}

/// How a left overlap (queued segment starts before the new one) is resolved.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LeftRule {
    KeepOld,
    /// Solaris/HP-UX 11: old wins only where it covers the whole new segment.
    NewUnlessCovered,
    KeepNew,
}

/// How a partial right overlap (new segment ends inside a queued one) is resolved.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RightRule {
    /// New wins, except that a new segment starting where the old one starts loses.
    NewUnlessSameStart,
    New,
    Old,
}

/// How a queued segment completely covered by the new one is resolved (Snort's `os1`..`os5`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum FullRule {
    NewIfStartsBefore,
    NewIfStartsBeforeOrLonger,
    OldIfExactCopyAfterHole,
    New,
    Old,
}

impl StreamPolicy {
    pub const ALL: [StreamPolicy; 13] = [
        StreamPolicy::First,
        StreamPolicy::Last,
        StreamPolicy::Linux,
        StreamPolicy::OldLinux,
        StreamPolicy::Bsd,
        StreamPolicy::MacOs,
        StreamPolicy::Solaris,
        StreamPolicy::Irix,
        StreamPolicy::Hpux11,
        StreamPolicy::Hpux10,
        StreamPolicy::Windows,
        StreamPolicy::Win2003,
        StreamPolicy::Vista,
    ];

    /// Snort 3's name for the policy.
    pub fn name(self) -> &'static str {
        match self {
            StreamPolicy::First => "first",
            StreamPolicy::Last => "last",
            StreamPolicy::Linux => "linux",
            StreamPolicy::OldLinux => "old_linux",
            StreamPolicy::Bsd => "bsd",
            StreamPolicy::MacOs => "macos",
            StreamPolicy::Solaris => "solaris",
            StreamPolicy::Irix => "irix",
            StreamPolicy::Hpux11 => "hpux11",
            StreamPolicy::Hpux10 => "hpux10",
            StreamPolicy::Windows => "windows",
            StreamPolicy::Win2003 => "win_2003",
            StreamPolicy::Vista => "vista",
        }
    }

    fn left_rule(self) -> LeftRule {
        match self {
            StreamPolicy::Last => LeftRule::KeepNew,
            StreamPolicy::Solaris | StreamPolicy::Hpux11 => LeftRule::NewUnlessCovered,
            _ => LeftRule::KeepOld,
        }
    }

    fn right_rule(self) -> RightRule {
        match self {
            StreamPolicy::Last => RightRule::New,
            StreamPolicy::First | StreamPolicy::Vista | StreamPolicy::Solaris | StreamPolicy::Hpux11 => {
                RightRule::Old
            }
            _ => RightRule::NewUnlessSameStart,
        }
    }

    fn full_rule(self) -> FullRule {
        match self {
            StreamPolicy::First | StreamPolicy::Vista => FullRule::Old,
            StreamPolicy::Last | StreamPolicy::OldLinux => FullRule::New,
            StreamPolicy::Bsd | StreamPolicy::MacOs | StreamPolicy::Windows | StreamPolicy::Win2003 => {
                FullRule::NewIfStartsBefore
            }
            StreamPolicy::Linux | StreamPolicy::Irix | StreamPolicy::Hpux10 => {
                FullRule::NewIfStartsBeforeOrLonger
            }
            StreamPolicy::Solaris | StreamPolicy::Hpux11 => FullRule::OldIfExactCopyAfterHole,
        }
    }
}

impl fmt::Display for StreamPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A policy name that is not one of Snort's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPolicy(pub String);

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown reassembly policy '{}'", self.0)
    }
}

impl std::error::Error for UnknownPolicy {}

impl FromStr for StreamPolicy {
    type Err = UnknownPolicy;

    /// Snort 3 names, case-insensitive; a few spellings from Snort 2 / Suricata are accepted too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let p = match lower.as_str() {
            "first" => StreamPolicy::First,
            "last" => StreamPolicy::Last,
            "linux" => StreamPolicy::Linux,
            "old_linux" | "old-linux" | "oldlinux" => StreamPolicy::OldLinux,
            "bsd" => StreamPolicy::Bsd,
            "macos" | "mac_os" => StreamPolicy::MacOs,
            "solaris" => StreamPolicy::Solaris,
            "irix" => StreamPolicy::Irix,
            "hpux11" | "hpux" => StreamPolicy::Hpux11,
            "hpux10" => StreamPolicy::Hpux10,
            "windows" | "win" => StreamPolicy::Windows,
            "win_2003" | "win2003" | "windows2k3" => StreamPolicy::Win2003,
            "vista" => StreamPolicy::Vista,
            _ => return Err(UnknownPolicy(s.to_string())),
        };
        Ok(p)
    }
}

/// A piece of the reassembled stream handed to the sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes starting at stream offset `offset` (0 = first payload byte).
    Data { offset: u64, bytes: &'a [u8] },
    /// `len` bytes starting at `offset` were never seen (lost, or not captured).
    Gap { offset: u64, len: u64 },
}

/// Limits for one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// Bytes of the stream to reassemble; data at or beyond this offset is dropped. 0 = unlimited.
    pub depth: u64,
    /// Cap on queued (not yet delivered) payload bytes; 0 = unlimited.
    pub max_queued_bytes: usize,
    /// Cap on queued segments; 0 = unlimited.
    pub max_queued_segments: usize,
}

impl Default for StreamConfig {
    /// Snort 3's `stream_tcp` defaults: `max_bytes` 4 MiB, `max_segments` 3072, no depth limit.
    fn default() -> Self {
        StreamConfig { depth: 0, max_queued_bytes: 4 << 20, max_queued_segments: 3072 }
    }
}

/// Counters of one direction. Every anomaly has a counter here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Segments with payload given to `insert`.
    pub segments: u64,
    /// Zero-length segments (ignored).
    pub empty_segments: u64,
    pub bytes_inserted: u64,
    /// Segments whose every byte was already delivered or queued with the same value.
    pub retransmissions: u64,
    /// Bytes dropped because they were already delivered or already queued identically.
    pub retransmitted_bytes: u64,
    /// Queued segments overlapped by a new one (retransmissions excluded).
    pub overlaps: u64,
    /// Of those, overlaps where the bytes differ: the policy decided what inspection sees.
    pub overlaps_conflicting: u64,
    /// Segments that did not start where the queued data ended (retransmissions excluded).
    pub out_of_order: u64,
    /// Holes delivered as [`Chunk::Gap`] and their total length.
    pub gaps: u64,
    pub gap_bytes: u64,
    pub delivered_bytes: u64,
    pub depth_exceeded_bytes: u64,
    /// Times the queue went over its caps and the oldest data was marked for forced delivery.
    pub forced_flushes: u64,
    /// Bytes dropped because the queue was over twice its byte cap (forced flushes not honoured).
    pub cap_dropped_bytes: u64,
    /// Sequence or acknowledgement numbers more than 1 GiB away from the flushed point.
    pub bad_seq: u64,
    /// Bytes at or beyond the FIN's sequence number, dropped.
    pub after_fin_bytes: u64,
}

/// What `insert` did with one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InsertOutcome {
    /// New bytes queued for delivery.
    pub queued: usize,
    pub retransmission: bool,
    pub overlap: bool,
    /// An overlap with different bytes was resolved by the policy.
    pub conflicting: bool,
    pub out_of_order: bool,
    pub bad_seq: bool,
    /// The queue is over its caps: the caller should flush now (any `flush_*` call, e.g.
    /// [`StreamReassembler::flush_forced`]) to deliver the data marked for forced delivery.
    pub flush_required: bool,
}

/// A queued segment: the visible bytes are `buf[skip..]`, so trimming the front (partial
/// delivery, right overlaps) does not copy.
#[derive(Debug)]
struct Seg {
    buf: Vec<u8>,
    skip: usize,
}

impl Seg {
    fn new(bytes: &[u8]) -> Seg {
        Seg { buf: bytes.to_vec(), skip: 0 }
    }
    fn len(&self) -> u64 {
        (self.buf.len() - self.skip) as u64
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[self.skip..]
    }
}

/// One direction of a TCP connection. See the module documentation.
#[derive(Debug)]
pub struct StreamReassembler {
    initial_seq: u32,
    policy: StreamPolicy,
    cfg: StreamConfig,
    /// Offset of the next byte to deliver; everything below it has been delivered.
    flushed: u64,
    /// Queued segments by start offset; they never overlap and all start at or after `flushed`.
    segs: BTreeMap<u64, Seg>,
    queued_bytes: usize,
    /// Upper bound of the end of queued data (and at least `flushed`): a segment starting at or
    /// after it cannot overlap anything, which is the fast path.
    tail: u64,
    fin: Option<u64>,
    /// Data below this offset must be delivered by the next flush (forced flush). `<= flushed`
    /// means nothing is pending.
    forced_to: u64,
    stats: StreamStats,
}

impl StreamReassembler {
    /// `initial_seq` is the sequence number of the first payload byte: ISN+1 after a SYN, or the
    /// first sequence number seen when the connection is picked up midstream.
    pub fn new(initial_seq: u32, policy: StreamPolicy, config: StreamConfig) -> Self {
        StreamReassembler {
            initial_seq,
            policy,
            cfg: config,
            flushed: 0,
            segs: BTreeMap::new(),
            queued_bytes: 0,
            tail: 0,
            fin: None,
            forced_to: 0,
            stats: StreamStats::default(),
        }
    }

    pub fn policy(&self) -> StreamPolicy {
        self.policy
    }

    pub fn initial_seq(&self) -> u32 {
        self.initial_seq
    }

    pub fn config(&self) -> &StreamConfig {
        &self.cfg
    }

    /// The flushed point: stream offset of the next byte to be delivered.
    pub fn next_offset(&self) -> u64 {
        self.flushed
    }

    /// The 32-bit sequence number of the flushed point.
    pub fn next_seq(&self) -> u32 {
        self.initial_seq.wrapping_add(self.flushed as u32)
    }

    /// Payload bytes queued and not yet delivered.
    pub fn bytes_queued(&self) -> usize {
        self.queued_bytes
    }

    pub fn segments_queued(&self) -> usize {
        self.segs.len()
    }

    /// Stream offset of the FIN, if one was seen.
    pub fn fin_offset(&self) -> Option<u64> {
        self.fin
    }

    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    /// Stream offset of `seq`, unwrapped around the flushed point; `None` when more than 1 GiB
    /// away. May be negative (before the initial sequence number).
    fn unwrap_seq(&self, seq: u32) -> Option<i64> {
        let reference = self.initial_seq.wrapping_add(self.flushed as u32);
        let diff = i64::from(seq.wrapping_sub(reference) as i32);
        if diff.abs() > MAX_SEQ_DISTANCE {
            return None;
        }
        // flushed < 2^63 in any real stream; saturate rather than wrap if not.
        Some(i64::try_from(self.flushed).unwrap_or(i64::MAX - MAX_SEQ_DISTANCE) + diff)
    }

    /// Queues the payload of one segment with sequence number `seq`.
    pub fn insert(&mut self, seq: u32, data: &[u8]) -> InsertOutcome {
        let mut out = InsertOutcome::default();
        if data.is_empty() {
            self.stats.empty_segments += 1;
            return out;
        }
        self.stats.segments += 1;
        self.stats.bytes_inserted += data.len() as u64;
        let len = match i64::try_from(data.len()) {
            Ok(l) if l <= MAX_SEQ_DISTANCE => l,
            _ => {
                self.stats.bad_seq += 1;
                out.bad_seq = true;
                return out;
            }
        };
        let Some(start) = self.unwrap_seq(seq) else {
            self.stats.bad_seq += 1;
            out.bad_seq = true;
            return out;
        };
        let end = start + len;
        let flushed = self.flushed as i64;
        if end <= flushed {
            // Everything was delivered already; what the endpoint does with it no longer
            // matters to inspection.
            self.stats.retransmissions += 1;
            self.stats.retransmitted_bytes += data.len() as u64;
            out.retransmission = true;
            return out;
        }
        let mut data = data;
        let mut s = start;
        if s < flushed {
            // The front was delivered already: drop it, keep the rest.
            let cut = (flushed - s) as usize;
            self.stats.retransmitted_bytes += cut as u64;
            data = &data[cut..];
            s = flushed;
        }
        let s = s as u64;
        let mut e = end as u64;
        if let Some(fin) = self.fin {
            if s >= fin {
                self.stats.after_fin_bytes += e - s;
                return out;
            }
            if e > fin {
                self.stats.after_fin_bytes += e - fin;
                e = fin;
            }
        }
        if self.cfg.depth > 0 {
            if s >= self.cfg.depth {
                self.stats.depth_exceeded_bytes += e - s;
                return out;
            }
            if e > self.cfg.depth {
                self.stats.depth_exceeded_bytes += e - self.cfg.depth;
                e = self.cfg.depth;
            }
        }
        let data = &data[..(e - s) as usize];
        if self.cfg.max_queued_bytes > 0
            && self.queued_bytes.saturating_add(data.len()) > self.cfg.max_queued_bytes.saturating_mul(2)
        {
            // The caller is not honouring forced flushes: hold the hard memory bound.
            self.stats.cap_dropped_bytes += data.len() as u64;
            out.flush_required = true;
            return out;
        }

        if s >= self.tail {
            // Fast path: nothing queued at or after `s`, so no overlap is possible.
            out.out_of_order = s > self.tail;
            self.push_seg(s, data);
            out.queued = data.len();
            self.tail = e;
        } else {
            self.insert_overlapping(s, data, &mut out);
            out.out_of_order = !out.retransmission;
            self.tail = self.tail.max(e);
        }
        if out.out_of_order {
            self.stats.out_of_order += 1;
        }
        self.enforce_caps(&mut out);
        out
    }

    fn push_seg(&mut self, at: u64, bytes: &[u8]) {
        self.queued_bytes += bytes.len();
        self.segs.insert(at, Seg::new(bytes));
    }

    /// Shortens the queued segment at `key` to `new_len` bytes (drops it when 0).
    fn truncate_seg(&mut self, key: u64, new_len: u64) {
        if new_len == 0 {
            self.remove_seg(key);
            return;
        }
        if let Some(seg) = self.segs.get_mut(&key) {
            let old = seg.len();
            if new_len < old {
                seg.buf.truncate(seg.skip + new_len as usize);
                self.queued_bytes -= (old - new_len) as usize;
            }
        }
    }

    /// Cuts `n` bytes off the front of the queued segment at `key` (it moves to `key + n`).
    fn trim_seg_front(&mut self, key: u64, n: u64) {
        if let Some(mut seg) = self.segs.remove(&key) {
            let n = n.min(seg.len());
            self.queued_bytes -= n as usize;
            if n < seg.len() {
                seg.skip += n as usize;
                self.segs.insert(key + n, seg);
            }
        }
    }

    fn remove_seg(&mut self, key: u64) {
        if let Some(seg) = self.segs.remove(&key) {
            self.queued_bytes -= seg.len() as usize;
        }
    }

    /// Slow path: `[s, s + data.len())` may overlap queued segments.
    fn insert_overlapping(&mut self, s: u64, data: &[u8], out: &mut InsertOutcome) {
        let e = s + data.len() as u64;
        let new_at = |from: u64, to: u64| &data[(from - s) as usize..(to - s) as usize];

        // Pass 1: what does the new segment overlap, and do the bytes differ? Decided before
        // anything changes so that a pure retransmission leaves the queue untouched.
        let mut covered = 0u64;
        let mut overlapped = 0u64;
        let mut conflicting = 0u64;
        let left = self.segs.range(..s).next_back().map(|(&k, seg)| (k, k + seg.len()));
        let mut note = |from: u64, to: u64, old: &[u8]| {
            covered += to - from;
            overlapped += 1;
            if old != new_at(from, to) {
                conflicting += 1;
            }
        };
        if let Some((ls, le)) = left {
            if le > s {
                let to = le.min(e);
                let seg = &self.segs[&ls];
                note(s, to, &seg.bytes()[(s - ls) as usize..(to - ls) as usize]);
            }
        }
        for (&rs, seg) in self.segs.range(s..e) {
            let to = (rs + seg.len()).min(e);
            note(rs, to, &seg.bytes()[..(to - rs) as usize]);
        }
        if overlapped == 0 {
            // Fills a hole without touching anything.
            self.push_seg(s, data);
            out.queued = data.len();
            return;
        }
        if conflicting == 0 && covered == e - s {
            self.stats.retransmissions += 1;
            self.stats.retransmitted_bytes += e - s;
            out.retransmission = true;
            return;
        }
        self.stats.overlaps += overlapped;
        self.stats.overlaps_conflicting += conflicting;
        out.overlap = true;
        out.conflicting = conflicting > 0;

        // Pass 2: apply the policy. `cur` is where the still-undecided part of the new data
        // starts; `pieces` collects the ranges of new data that win.
        let mut cur = s;
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        if let Some((ls, le)) = left {
            if le > s {
                match self.policy.left_rule() {
                    LeftRule::KeepOld => cur = le.min(e),
                    LeftRule::NewUnlessCovered => {
                        if le >= e {
                            cur = e;
                        } else {
                            self.truncate_seg(ls, s - ls);
                        }
                    }
                    LeftRule::KeepNew => {
                        if le > e {
                            // The old segment covers the new one on both sides: split it and
                            // put the new bytes in the middle.
                            let tail: Vec<u8> = self.segs[&ls].bytes()[(e - ls) as usize..].to_vec();
                            self.truncate_seg(ls, s - ls);
                            self.push_seg(e, &tail);
                        } else {
                            self.truncate_seg(ls, s - ls);
                        }
                    }
                }
            }
        }
        // End of the queued segment just before the new one, for the Solaris exact-copy rule.
        let prev_end = self.segs.range(..s).next_back().map(|(&k, seg)| k + seg.len());

        let mut scan = s;
        while cur < e {
            let Some((rs, rlen)) = self.segs.range(scan..).next().map(|(&k, g)| (k, g.len())) else {
                break;
            };
            if rs >= e {
                break;
            }
            let re = rs + rlen;
            if re > e {
                // Partial: the new data ends inside this segment; nothing further can overlap.
                match self.policy.right_rule() {
                    RightRule::NewUnlessSameStart if rs == cur => cur = e,
                    RightRule::NewUnlessSameStart | RightRule::New => self.trim_seg_front(rs, e - rs),
                    RightRule::Old => {
                        if cur < rs {
                            pieces.push((cur, rs));
                        }
                        cur = e;
                    }
                }
                break;
            }
            let new_wins = match self.policy.full_rule() {
                FullRule::Old => false,
                FullRule::New => true,
                FullRule::NewIfStartsBefore => cur < rs,
                FullRule::NewIfStartsBeforeOrLonger => cur < rs || (cur == rs && e > re),
                FullRule::OldIfExactCopyAfterHole => {
                    !(rs == s && re == e && prev_end.is_some_and(|pe| pe != s))
                }
            };
            if new_wins {
                self.remove_seg(rs);
            } else {
                if cur < rs {
                    pieces.push((cur, rs));
                }
                cur = re;
            }
            scan = re;
        }
        if cur < e {
            pieces.push((cur, e));
        }
        for (from, to) in pieces {
            self.push_seg(from, new_at(from, to));
            out.queued += (to - from) as usize;
        }
    }

    /// Marks the oldest data for forced delivery when the queue is over its caps.
    fn enforce_caps(&mut self, out: &mut InsertOutcome) {
        let max_b = self.cfg.max_queued_bytes;
        let max_s = self.cfg.max_queued_segments;
        let over = |bytes: usize, segs: usize| (max_b > 0 && bytes > max_b) || (max_s > 0 && segs > max_s);
        if !over(self.queued_bytes, self.segs.len()) {
            return;
        }
        out.flush_required = true;
        let (mut bytes, mut count) = (self.queued_bytes, self.segs.len());
        let mut mark = self.flushed;
        for (&k, seg) in &self.segs {
            if !over(bytes, count) {
                break;
            }
            bytes -= seg.len() as usize;
            count -= 1;
            mark = k + seg.len();
        }
        if mark > self.forced_to {
            self.forced_to = mark;
            self.stats.forced_flushes += 1;
        }
    }

    /// Delivers from the flushed point up to `limit`; holes become gaps only when `gaps`.
    fn deliver(&mut self, limit: u64, gaps: bool, sink: &mut dyn FnMut(Chunk<'_>)) -> u64 {
        let mut delivered = 0u64;
        while self.flushed < limit {
            let first = self.segs.first_key_value().map(|(&k, _)| k);
            match first {
                Some(k) if k <= self.flushed => {
                    let Some((k, mut seg)) = self.segs.pop_first() else {
                        break;
                    };
                    let n = seg.len().min(limit - k);
                    sink(Chunk::Data { offset: k, bytes: &seg.bytes()[..n as usize] });
                    delivered += n;
                    self.queued_bytes -= n as usize;
                    self.flushed = k + n;
                    if n < seg.len() {
                        seg.skip += n as usize;
                        self.segs.insert(k + n, seg);
                    }
                }
                _ => {
                    if !gaps {
                        break;
                    }
                    let end = first.map_or(limit, |k| k.min(limit));
                    sink(Chunk::Gap { offset: self.flushed, len: end - self.flushed });
                    self.stats.gaps += 1;
                    self.stats.gap_bytes += end - self.flushed;
                    self.flushed = end;
                }
            }
        }
        self.tail = self.tail.max(self.flushed);
        self.stats.delivered_bytes += delivered;
        delivered
    }

    /// Caps a delivery limit at the FIN and the depth.
    fn cap_limit(&self, mut limit: u64) -> u64 {
        if let Some(fin) = self.fin {
            limit = limit.min(fin);
        }
        if self.cfg.depth > 0 {
            limit = limit.min(self.cfg.depth);
        }
        limit
    }

    /// Delivers everything below the peer's acknowledgement number `ack`: queued data in order,
    /// holes as [`Chunk::Gap`]. Data marked for forced delivery goes too. Returns the number of
    /// data bytes delivered (gaps not included).
    pub fn flush_to(&mut self, ack: u32, sink: &mut dyn FnMut(Chunk<'_>)) -> u64 {
        let limit = match self.unwrap_seq(ack) {
            Some(a) if a > self.flushed as i64 => self.cap_limit(a as u64),
            Some(_) => self.flushed,
            None => {
                self.stats.bad_seq += 1;
                self.flushed
            }
        };
        self.deliver(limit.max(self.forced_to), true, sink)
    }

    /// Delivers everything queued, holes included (teardown, end of capture). When a FIN was
    /// seen beyond the queued data the missing bytes before it are a gap.
    pub fn flush_all(&mut self, sink: &mut dyn FnMut(Chunk<'_>)) -> u64 {
        let last_end = self.segs.last_key_value().map_or(self.flushed, |(&k, seg)| k + seg.len());
        let limit = self.cap_limit(last_end.max(self.fin.unwrap_or(0)));
        self.deliver(limit.max(self.forced_to), true, sink)
    }

    /// Delivers the data that is in order from the flushed point, without an ACK and without
    /// gaps (for one-sided captures). Data marked for forced delivery goes first, with gaps.
    pub fn flush_contiguous(&mut self, sink: &mut dyn FnMut(Chunk<'_>)) -> u64 {
        let forced = self.deliver(self.forced_to, true, sink);
        forced + self.deliver(u64::MAX, false, sink)
    }

    /// Delivers only the data marked for forced delivery (see [`InsertOutcome::flush_required`]).
    pub fn flush_forced(&mut self, sink: &mut dyn FnMut(Chunk<'_>)) -> u64 {
        self.deliver(self.forced_to, true, sink)
    }

    /// Records the sequence number of this direction's FIN: the stream ends there. Queued data
    /// at or beyond it is dropped and counted; so is later data. The first FIN seen counts.
    pub fn set_fin(&mut self, seq: u32) {
        if self.fin.is_some() {
            return;
        }
        let fin = match self.unwrap_seq(seq) {
            Some(f) if f >= self.flushed as i64 => f as u64,
            _ => {
                self.stats.bad_seq += 1;
                return;
            }
        };
        self.fin = Some(fin);
        let beyond: Vec<u64> = self.segs.range(fin..).map(|(&k, _)| k).collect();
        for k in beyond {
            if let Some(seg) = self.segs.remove(&k) {
                self.queued_bytes -= seg.len() as usize;
                self.stats.after_fin_bytes += seg.len();
            }
        }
        if let Some((k, len)) = self.segs.last_key_value().map(|(&k, s)| (k, s.len())) {
            if k + len > fin {
                self.stats.after_fin_bytes += k + len - fin;
                self.truncate_seg(k, fin - k);
            }
        }
        let last_end = self.segs.last_key_value().map_or(self.flushed, |(&k, seg)| k + seg.len());
        self.tail = last_end.max(self.flushed);
    }
}

#[cfg(test)]
mod tests;
