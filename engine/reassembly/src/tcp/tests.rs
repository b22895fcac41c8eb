use super::*;

/// Renders delivered chunks as a string: data as is, each gap byte as `_`.
fn render(chunks: &[(u64, Vec<u8>, bool)]) -> String {
    let mut s = String::new();
    for (_, bytes, gap) in chunks {
        if *gap {
            s.extend(std::iter::repeat_n('_', bytes.len()));
        } else {
            s.push_str(&String::from_utf8_lossy(bytes));
        }
    }
    s
}

/// Collects chunks, checking that they are contiguous and start at the flushed point.
struct Collector {
    chunks: Vec<(u64, Vec<u8>, bool)>,
    next: u64,
}

impl Collector {
    fn new(start: u64) -> Self {
        Collector { chunks: Vec::new(), next: start }
    }
    fn sink(&mut self) -> impl FnMut(Chunk<'_>) + '_ {
        move |c| match c {
            Chunk::Data { offset, bytes } => {
                assert_eq!(offset, self.next, "data chunk not contiguous");
                assert!(!bytes.is_empty());
                self.next += bytes.len() as u64;
                self.chunks.push((offset, bytes.to_vec(), false));
            }
            Chunk::Gap { offset, len } => {
                assert_eq!(offset, self.next, "gap chunk not contiguous");
                assert!(len > 0);
                self.next += len;
                // Gaps in tests are small; render them byte by byte.
                self.chunks.push((offset, vec![0; len.min(1 << 20) as usize], true));
            }
        }
    }
    fn text(&self) -> String {
        render(&self.chunks)
    }
}

fn run(policy: StreamPolicy, isn: u32, inserts: &[(u32, &str)]) -> (String, StreamReassembler) {
    let mut r = StreamReassembler::new(isn, policy, StreamConfig::default());
    for (seq, data) in inserts {
        r.insert(*seq, data.as_bytes());
    }
    let mut c = Collector::new(0);
    r.flush_all(&mut c.sink());
    check_invariants(&r);
    (c.text(), r)
}

fn check_invariants(r: &StreamReassembler) {
    let mut prev_end = r.flushed;
    let mut total = 0usize;
    for (&k, seg) in &r.segs {
        assert!(k >= prev_end, "queued segments overlap or precede the flushed point");
        assert!(seg.len() > 0, "empty queued segment");
        prev_end = k + seg.len();
        total += seg.len() as usize;
    }
    assert_eq!(total, r.queued_bytes, "queued byte count drifted");
    assert!(r.tail >= prev_end, "tail below queued data");
}

/// The Novak/Sturges TCP pattern (ISN 10, first payload byte at 11): nine original segments,
/// then eight overlapping ones, then the first byte. Same packets as Suricata's unit tests of the
/// paper's pattern.
const NOVAK_TCP: &[(u32, &str)] = &[
    (12, "AAA"),
    (16, "BB"),
    (18, "CCC"),
    (22, "D"),
    (25, "EE"),
    (27, "FFF"),
    (30, "GG"),
    (32, "HH"),
    (34, "I"),
    (13, "JJJJ"),
    (18, "KKK"),
    (21, "LLL"),
    (24, "MMM"),
    (28, "N"),
    (31, "O"),
    (32, "P"),
    (34, "QQ"),
    (11, "0"),
];

#[test]
fn novak_sturges_pattern_every_policy() {
    // Expected strings: Novak & Sturges 2007 as encoded in Suricata's reassembly tests (bsd,
    // vista, linux, old_linux, solaris, last); the other policies share Snort 3's rule sets.
    let bsd = "0AAAJJBCCCLLLMMMFFFGGHHIQ";
    let linux = "0AAAJJBCCCLLLMMMFFFGGHHQQ";
    let first = "0AAAJBBCCCLDLMEEFFFGGHHIQ";
    let solaris = "0AJJJBBKKKLLLMMMFFFGGHHQQ";
    let cases: &[(StreamPolicy, &str)] = &[
        (StreamPolicy::Bsd, bsd),
        (StreamPolicy::MacOs, bsd),
        (StreamPolicy::Windows, bsd),
        (StreamPolicy::Win2003, bsd),
        (StreamPolicy::Linux, linux),
        (StreamPolicy::Irix, linux),
        (StreamPolicy::Hpux10, linux),
        (StreamPolicy::OldLinux, "0AAAJJBKKKLLLMMMFFFGGHHQQ"),
        (StreamPolicy::Solaris, solaris),
        (StreamPolicy::Hpux11, solaris),
        (StreamPolicy::Last, "0AJJJJBKKKLLLMMMFNFGOPHQQ"),
        (StreamPolicy::First, first),
        (StreamPolicy::Vista, first),
    ];
    assert_eq!(cases.len(), StreamPolicy::ALL.len());
    for &(policy, want) in cases {
        let (got, r) = run(policy, 11, NOVAK_TCP);
        assert_eq!(got, want, "policy {policy}");
        assert!(r.stats().overlaps > 0);
        assert!(r.stats().overlaps_conflicting > 0);
        assert_eq!(r.bytes_queued(), 0);
    }
}

#[test]
fn novak_sturges_pattern_survives_sequence_wrap() {
    // Same pattern with the sequence space shifted so that it straddles 2^32.
    let shift = u32::MAX - 15;
    let shifted: Vec<(u32, &str)> = NOVAK_TCP.iter().map(|&(seq, d)| (seq.wrapping_add(shift), d)).collect();
    let (got, _) = run(StreamPolicy::Bsd, 11u32.wrapping_add(shift), &shifted);
    assert_eq!(got, "0AAAJJBCCCLLLMMMFFFGGHHIQ");
}

/// Overlap shapes against an old segment `oooo` at offsets 4..8 (initial seq 0).
/// (name, new segment offset, length)
const SHAPES: &[(&str, u32, usize)] = &[
    ("left overlap", 6, 4),
    ("right partial", 2, 4),
    ("covers both sides", 2, 8),
    ("same start, longer", 4, 6),
    ("same start and end", 4, 4),
    ("same start, shorter", 4, 2),
    ("same end, starts before", 2, 6),
    ("inside", 5, 2),
    ("same end, starts after", 6, 2),
];

/// Rule classes of the module table, in SHAPES order.
fn expected_shapes(policy: StreamPolicy) -> [&'static str; 9] {
    use StreamPolicy::*;
    match policy {
        First | Vista => [
            "____oooonn",
            "__nnoooo",
            "__nnoooonn",
            "____oooonn",
            "____oooo",
            "____oooo",
            "__nnoooo",
            "____oooo",
            "____oooo",
        ],
        Last => [
            "____oonnnn",
            "__nnnnoo",
            "__nnnnnnnn",
            "____nnnnnn",
            "____nnnn",
            "____nnoo",
            "__nnnnnn",
            "____onno",
            "____oonn",
        ],
        Bsd | MacOs | Windows | Win2003 => [
            "____oooonn",
            "__nnnnoo",
            "__nnnnnnnn",
            "____oooonn",
            "____oooo",
            "____oooo",
            "__nnnnnn",
            "____oooo",
            "____oooo",
        ],
        Linux | Irix | Hpux10 => [
            "____oooonn",
            "__nnnnoo",
            "__nnnnnnnn",
            "____nnnnnn",
            "____oooo",
            "____oooo",
            "__nnnnnn",
            "____oooo",
            "____oooo",
        ],
        OldLinux => [
            "____oooonn",
            "__nnnnoo",
            "__nnnnnnnn",
            "____nnnnnn",
            "____nnnn",
            "____oooo",
            "__nnnnnn",
            "____oooo",
            "____oooo",
        ],
        // Solaris: the exact copy case has no queued segment before it here, so new wins.
        Solaris | Hpux11 => [
            "____oonnnn",
            "__nnoooo",
            "__nnnnnnnn",
            "____nnnnnn",
            "____nnnn",
            "____oooo",
            "__nnnnnn",
            "____oooo",
            "____oooo",
        ],
    }
}

#[test]
fn every_overlap_shape_every_policy() {
    for policy in StreamPolicy::ALL {
        let want = expected_shapes(policy);
        for (i, &(name, off, len)) in SHAPES.iter().enumerate() {
            let n = "n".repeat(len);
            let (got, r) = run(policy, 0, &[(4, "oooo"), (off, &n)]);
            assert_eq!(got, want[i], "policy {policy}, shape {name}");
            assert_eq!(r.stats().overlaps, 1, "policy {policy}, shape {name}");
            assert_eq!(r.stats().overlaps_conflicting, 1);
        }
    }
}

#[test]
fn solaris_exact_copy_after_hole_keeps_old() {
    // A queued segment ends before the copy with a hole in between: old wins (first).
    let (got, _) = run(StreamPolicy::Solaris, 0, &[(0, "pp"), (4, "oooo"), (4, "nnnn")]);
    assert_eq!(got, "pp__oooo");
    // Adjacent predecessor: new wins.
    let (got, _) = run(StreamPolicy::Solaris, 0, &[(0, "pppp"), (4, "oooo"), (4, "nnnn")]);
    assert_eq!(got, "ppppnnnn");
}

#[test]
fn new_segment_spanning_several_queued_ones() {
    // Old: [2,4) [6,8) [10,12); new covers [0,14).
    let ins = &[(2, "aa"), (6, "bb"), (10, "cc"), (0, "nnnnnnnnnnnnnn")];
    assert_eq!(run(StreamPolicy::First, 0, ins).0, "nnaannbbnnccnn");
    assert_eq!(run(StreamPolicy::Bsd, 0, ins).0, "nnnnnnnnnnnnnn");
    assert_eq!(run(StreamPolicy::Last, 0, ins).0, "nnnnnnnnnnnnnn");
    // Adjacent old segments after an old win: BSD sees the second one "starting at cur".
    let ins = &[(0, "aa"), (2, "bb"), (0, "nnnnn")];
    assert_eq!(run(StreamPolicy::Bsd, 0, ins).0, "aabbn");
    // Linux: same start and longer, so the new segment wins the first and then starts before
    // the second.
    assert_eq!(run(StreamPolicy::Linux, 0, ins).0, "nnnnn");
}

#[test]
fn in_order_and_out_of_order() {
    let (got, r) = run(StreamPolicy::Bsd, 100, &[(100, "abc"), (103, "def"), (106, "g")]);
    assert_eq!(got, "abcdefg");
    assert_eq!(r.stats().out_of_order, 0);
    assert_eq!(r.stats().overlaps, 0);

    let (got, r) = run(StreamPolicy::Bsd, 100, &[(106, "g"), (103, "def"), (100, "abc")]);
    assert_eq!(got, "abcdefg");
    // Each one started somewhere other than the end of the queued data.
    assert_eq!(r.stats().out_of_order, 3);
    assert_eq!(r.stats().gaps, 0);
}

#[test]
fn exact_retransmissions() {
    // Of queued data.
    let (got, r) = run(StreamPolicy::Last, 1, &[(1, "abc"), (4, "def"), (1, "abcdef"), (2, "bc")]);
    assert_eq!(got, "abcdef");
    assert_eq!(r.stats().retransmissions, 2);
    assert_eq!(r.stats().overlaps, 0);

    // Of delivered data: counted, not compared, never changes what was delivered.
    let mut r = StreamReassembler::new(1, StreamPolicy::Last, StreamConfig::default());
    r.insert(1, b"abc");
    let mut c = Collector::new(0);
    assert_eq!(r.flush_to(4, &mut c.sink()), 3);
    let out = r.insert(1, b"XYZ");
    assert!(out.retransmission);
    assert_eq!(r.stats().retransmissions, 1);
    // Partly delivered: the new tail is kept.
    r.insert(2, b"YZde");
    r.flush_all(&mut c.sink());
    assert_eq!(c.text(), "abcde");
}

#[test]
fn gaps_below_ack_and_partial_flush() {
    let mut r = StreamReassembler::new(1, StreamPolicy::Bsd, StreamConfig::default());
    r.insert(1, b"abc");
    r.insert(7, b"ghijkl");
    let mut c = Collector::new(0);
    // ACK 10: abc, 3-byte gap, ghi; "jkl" stays queued.
    assert_eq!(r.flush_to(10, &mut c.sink()), 6);
    assert_eq!(c.text(), "abc___ghi");
    assert_eq!(r.stats().gaps, 1);
    assert_eq!(r.stats().gap_bytes, 3);
    assert_eq!(r.next_offset(), 9);
    assert_eq!(r.bytes_queued(), 3);
    // An old ACK does nothing.
    assert_eq!(r.flush_to(5, &mut c.sink()), 0);
    // ACK beyond everything: the never-seen bytes are a gap.
    assert_eq!(r.flush_to(15, &mut c.sink()), 3);
    assert_eq!(c.text(), "abc___ghijkl__");
    check_invariants(&r);
}

#[test]
fn flush_contiguous_stops_at_holes() {
    let mut r = StreamReassembler::new(1, StreamPolicy::Bsd, StreamConfig::default());
    r.insert(1, b"abc");
    r.insert(7, b"ghi");
    let mut c = Collector::new(0);
    assert_eq!(r.flush_contiguous(&mut c.sink()), 3);
    assert_eq!(c.text(), "abc");
    r.insert(4, b"def");
    assert_eq!(r.flush_contiguous(&mut c.sink()), 6);
    assert_eq!(c.text(), "abcdefghi");
    assert_eq!(r.stats().gaps, 0);
}

#[test]
fn sequence_wraparound() {
    let isn = u32::MAX - 2;
    let mut r = StreamReassembler::new(isn, StreamPolicy::Bsd, StreamConfig::default());
    r.insert(3, b"ghi"); // wrapped: offset 6
    r.insert(isn, b"abc");
    r.insert(0, b"def"); // offset 3
    let mut c = Collector::new(0);
    assert_eq!(r.flush_to(6, &mut c.sink()), 9);
    assert_eq!(c.text(), "abcdefghi");
    assert_eq!(r.next_seq(), 6);
}

#[test]
fn streams_longer_than_4_gib() {
    // Walk the flushed point past 2^32 with ACKs over missing data (no bytes copied), then check
    // that sequence numbers keep unwrapping to the right 64-bit offsets.
    let isn = 0x1234_5678u32;
    let mut r = StreamReassembler::new(isn, StreamPolicy::Bsd, StreamConfig::default());
    let step = 1u64 << 29;
    let mut off = 0u64;
    let mut sink = |_: Chunk<'_>| {};
    while off < (5u64 << 30) {
        off += step;
        r.flush_to(isn.wrapping_add(off as u32), &mut sink);
        assert_eq!(r.next_offset(), off);
    }
    let seq = isn.wrapping_add(off as u32);
    r.insert(seq, b"late");
    let mut got = Vec::new();
    r.flush_all(&mut |c| {
        if let Chunk::Data { offset, bytes } = c {
            got.push((offset, bytes.to_vec()));
        }
    });
    assert_eq!(got, vec![(off, b"late".to_vec())]);
    assert!(off > u64::from(u32::MAX));
    assert_eq!(r.stats().bad_seq, 0);
}

#[test]
fn midstream_pickup_drops_bytes_before_start() {
    let (got, r) = run(StreamPolicy::Bsd, 1000, &[(990, "0123456789abc"), (980, "old")]);
    assert_eq!(got, "abc");
    assert_eq!(r.stats().retransmissions, 1);
    assert_eq!(r.stats().retransmitted_bytes, 13);
}

#[test]
fn depth_limit() {
    let cfg = StreamConfig { depth: 5, ..StreamConfig::default() };
    let mut r = StreamReassembler::new(0, StreamPolicy::Bsd, cfg);
    r.insert(0, b"abcdefgh");
    r.insert(8, b"ijk");
    let mut c = Collector::new(0);
    r.flush_to(100, &mut c.sink());
    assert_eq!(c.text(), "abcde");
    assert_eq!(r.stats().depth_exceeded_bytes, 6);
    assert_eq!(r.bytes_queued(), 0);
}

#[test]
fn memcap_forces_flush_of_oldest_data() {
    let cfg = StreamConfig { max_queued_bytes: 10, ..StreamConfig::default() };
    let mut r = StreamReassembler::new(0, StreamPolicy::Bsd, cfg);
    assert!(!r.insert(10, b"bbbb").flush_required);
    let out = r.insert(20, b"cccccccc");
    assert!(out.flush_required);
    assert_eq!(r.stats().forced_flushes, 1);
    let mut c = Collector::new(0);
    // Forced: the hole before "bbbb" becomes a gap, "bbbb" goes; "cccccccc" fits the cap.
    assert_eq!(r.flush_forced(&mut c.sink()), 4);
    assert_eq!(c.text(), "__________bbbb");
    assert_eq!(r.bytes_queued(), 8);
    assert!(!r.insert(28, b"dd").flush_required);

    // A caller that never flushes: data beyond twice the cap is dropped and counted.
    let mut r = StreamReassembler::new(0, StreamPolicy::Bsd, cfg);
    for i in 0..10u32 {
        r.insert(i * 4, b"xxxx");
    }
    assert!(r.bytes_queued() <= 20);
    assert!(r.stats().cap_dropped_bytes > 0);
    let mut c = Collector::new(0);
    r.flush_all(&mut c.sink());
    check_invariants(&r);
}

#[test]
fn segment_cap_forces_flush() {
    let cfg = StreamConfig { max_queued_segments: 4, ..StreamConfig::default() };
    let mut r = StreamReassembler::new(0, StreamPolicy::Bsd, cfg);
    let mut c = Collector::new(0);
    for i in 0..10u32 {
        let out = r.insert(i * 2, b"x");
        if out.flush_required {
            r.flush_contiguous(&mut c.sink());
        }
        assert!(r.segments_queued() <= 4);
    }
    assert!(r.stats().forced_flushes > 0);
    r.flush_all(&mut c.sink());
    assert_eq!(c.text(), "x_x_x_x_x_x_x_x_x_x");
}

#[test]
fn fin_bounds_the_stream() {
    let mut r = StreamReassembler::new(1, StreamPolicy::Bsd, StreamConfig::default());
    r.insert(1, b"abcdef");
    r.set_fin(5); // offset 4: "ef" is beyond the FIN
    r.insert(5, b"zz");
    let mut c = Collector::new(0);
    // The ACK of the FIN is fin + 1; it must not produce a one-byte gap.
    r.flush_to(6, &mut c.sink());
    assert_eq!(c.text(), "abcd");
    assert_eq!(r.stats().after_fin_bytes, 4);
    assert_eq!(r.stats().gaps, 0);

    // Data missing before the FIN shows up as a gap at teardown.
    let mut r = StreamReassembler::new(1, StreamPolicy::Bsd, StreamConfig::default());
    r.insert(1, b"ab");
    r.set_fin(6);
    let mut c = Collector::new(0);
    r.flush_all(&mut c.sink());
    assert_eq!(c.text(), "ab___");
}

#[test]
fn hostile_sequence_numbers_and_lengths() {
    let mut r = StreamReassembler::new(1000, StreamPolicy::Bsd, StreamConfig::default());
    assert!(r.insert(1000u32.wrapping_add(0x8000_0000), b"far").bad_seq);
    assert!(r.insert(1000u32.wrapping_add(0x4000_0001), b"far").bad_seq);
    assert!(r.insert(1000u32.wrapping_sub(0x4000_0001), b"far").bad_seq);
    assert_eq!(r.insert(1000, b"").queued, 0);
    assert_eq!(r.stats().empty_segments, 1);
    assert_eq!(r.stats().bad_seq, 3);
    let mut c = Collector::new(0);
    r.flush_to(1000u32.wrapping_add(0x9000_0000), &mut c.sink());
    assert_eq!(r.stats().bad_seq, 4);
    assert_eq!(c.chunks.len(), 0);
    r.set_fin(1000u32.wrapping_sub(5));
    assert_eq!(r.fin_offset(), None);
}

#[test]
fn reverse_order_65k_segments() {
    let cfg = StreamConfig { max_queued_segments: 0, max_queued_bytes: 0, depth: 0 };
    let mut r = StreamReassembler::new(0, StreamPolicy::Linux, cfg);
    let n = 65_536u32;
    for i in (0..n).rev() {
        r.insert(i, &[(i % 251) as u8]);
    }
    assert_eq!(r.segments_queued(), n as usize);
    let mut count = 0u64;
    let mut ok = true;
    let delivered = r.flush_contiguous(&mut |c| {
        if let Chunk::Data { offset, bytes } = c {
            ok &= bytes == [(offset % 251) as u8];
            count += 1;
        }
    });
    assert!(ok);
    assert_eq!(delivered, u64::from(n));
    assert_eq!(count, u64::from(n));
}

/// Small deterministic generator so the fuzz-style tests need no dependency.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}

#[test]
fn random_segments_never_panic_and_keep_invariants() {
    for policy in StreamPolicy::ALL {
        let cfg = StreamConfig { depth: 0, max_queued_bytes: 64 << 10, max_queued_segments: 512 };
        let isn = 0xffff_f000u32;
        let mut r = StreamReassembler::new(isn, policy, cfg);
        let mut rng = Lcg(u64::from(policy as u8) + 7);
        let mut next = 0u64;
        let buf: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
        let mut sink = |c: Chunk<'_>| {
            let (off, len) = match c {
                Chunk::Data { offset, bytes } => (offset, bytes.len() as u64),
                Chunk::Gap { offset, len } => (offset, len),
            };
            assert_eq!(off, next);
            next += len;
        };
        for i in 0..20_000u32 {
            let base = r.next_seq();
            let seq = match rng.next() % 10 {
                0 => rng.next(),                              // anywhere
                1 => base.wrapping_sub(rng.next() % 3000),    // old
                _ => base.wrapping_add(rng.next() % 100_000), // ahead, overlapping
            };
            let len = (rng.next() % 1500) as usize;
            let start = (rng.next() % 500) as usize;
            let out = r.insert(seq, &buf[start..start + len]);
            if out.flush_required {
                r.flush_forced(&mut sink);
            }
            match rng.next() % 50 {
                0 => {
                    r.flush_to(base.wrapping_add(rng.next() % 20_000), &mut sink);
                }
                1 => {
                    r.flush_contiguous(&mut sink);
                }
                2 if i % 1000 == 0 => {
                    r.flush_all(&mut sink);
                }
                _ => {}
            }
            check_invariants(&r);
            assert!(r.bytes_queued() <= 2 * cfg.max_queued_bytes);
        }
        r.flush_all(&mut sink);
        assert_eq!(r.bytes_queued(), 0);
    }
}

#[test]
fn policy_names_round_trip() {
    for p in StreamPolicy::ALL {
        assert_eq!(p.to_string().parse::<StreamPolicy>(), Ok(p));
    }
    assert_eq!("WIN_2003".parse::<StreamPolicy>(), Ok(StreamPolicy::Win2003));
    assert!("beos".parse::<StreamPolicy>().is_err());
    assert_eq!(StreamPolicy::default(), StreamPolicy::Bsd);
}

#[test]
fn consistent_overlapping_segments_reassemble_exactly() {
    // When every copy of a byte agrees, the policy cannot matter: whatever the arrival order,
    // overlaps and retransmissions, the delivered stream is the original one, with no conflicts.
    let stream: Vec<u8> = {
        let mut rng = Lcg(99);
        (0..60_000).map(|_| rng.next() as u8).collect()
    };
    for policy in StreamPolicy::ALL {
        let mut rng = Lcg(policy as u64 + 1000);
        let isn = 0xffff_0000u32;
        let mut r = StreamReassembler::new(isn, policy, StreamConfig::default());
        let mut segs: Vec<(usize, usize)> = Vec::new();
        let mut off = 0;
        while off < stream.len() {
            let n = (1 + rng.next() % 1460) as usize;
            segs.push((off, n.min(stream.len() - off)));
            off += n;
        }
        // Extra overlapping copies at random places.
        for _ in 0..segs.len() {
            let o = rng.next() as usize % stream.len();
            let n = (1 + rng.next() % 3000) as usize;
            segs.push((o, n.min(stream.len() - o)));
        }
        // Mostly in order, with local reordering.
        for i in 0..segs.len() {
            let j = (i + rng.next() as usize % 8).min(segs.len() - 1);
            segs.swap(i, j);
        }
        let mut c = Collector::new(0);
        for (i, &(o, n)) in segs.iter().enumerate() {
            r.insert(isn.wrapping_add(o as u32), &stream[o..o + n]);
            if i % 7 == 0 {
                r.flush_contiguous(&mut c.sink());
            }
        }
        r.flush_all(&mut c.sink());
        let got: Vec<u8> = c
            .chunks
            .iter()
            .flat_map(|(_, b, gap)| {
                assert!(!gap, "policy {policy}: unexpected gap");
                b.iter().copied()
            })
            .collect();
        assert!(got == stream, "policy {policy}: stream differs");
        assert_eq!(r.stats().overlaps_conflicting, 0);
        assert!(r.stats().retransmissions > 0);
        check_invariants(&r);
    }
}
