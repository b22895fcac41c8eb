use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

const T0: Timestamp = Timestamp(1_700_000_000_000_000_000);

fn key4(id: u32) -> FragKey {
    FragKey {
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        id,
        proto: 1,
        vlan: 0,
    }
}

fn key6(id: u32) -> FragKey {
    FragKey {
        src: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        dst: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
        id,
        proto: 58,
        vlan: 0,
    }
}

/// An IPv4 header as the offset-0 fragment carries it (MF set, this fragment's length, some
/// checksum), with `options` appended.
fn v4_header(id: u16, frag_len: usize, options: &[u8]) -> Vec<u8> {
    let hl = 20 + options.len();
    let total = (hl + frag_len) as u16;
    let mut h = vec![
        0x40 | (hl / 4) as u8,
        0x10, // TOS
        (total >> 8) as u8,
        total as u8,
        (id >> 8) as u8,
        id as u8,
        0x60, // DF (odd, but must survive) + MF
        0x00, // offset 0
        64,   // TTL
        1,    // ICMP
        0xde, // stale checksum
        0xad,
        10,
        0,
        0,
        1,
        10,
        0,
        0,
        2,
    ];
    h.extend_from_slice(options);
    h
}

fn frag<'a>(key: FragKey, off: u32, mf: bool, payload: &'a [u8], hdr: &'a [u8]) -> FragmentIn<'a> {
    FragmentIn { key, offset: off, more_fragments: mf, payload, ip_header: hdr, ttl: 64 }
}

fn complete(outcome: DefragOutcome) -> Vec<u8> {
    match outcome {
        DefragOutcome::Complete(v) => v,
        other => panic!("expected a complete datagram, got {other:?}"),
    }
}

fn checksum_ok(h: &[u8]) -> bool {
    let mut sum: u32 = h.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

#[test]
fn in_order_v4_header_fixed_up_byte_by_byte() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let opts = [0x94, 0x04, 0x00, 0x00]; // router alert
    let hdr = v4_header(0x1234, 8, &opts);
    let k = key4(0x1234);
    assert_eq!(d.insert(frag(k, 0, true, b"AAAAAAAA", &hdr), T0), DefragOutcome::Pending);
    assert_eq!(d.insert(frag(k, 8, true, b"BBBBBBBB", &hdr), T0), DefragOutcome::Pending);
    let out = complete(d.insert(frag(k, 16, false, b"CCC", &hdr), T0));

    let mut want = hdr.clone();
    want[2] = 0;
    want[3] = 24 + 19; // total length: 24-byte header + 19 bytes
    want[6] = 0x40; // DF kept, MF cleared
    want[7] = 0;
    want[10] = 0;
    want[11] = 0;
    let sum = ipv4_checksum(&want);
    want[10..12].copy_from_slice(&sum.to_be_bytes());
    want.extend_from_slice(b"AAAAAAAABBBBBBBBCCC");
    assert_eq!(out, want);
    assert!(checksum_ok(&out[..24]));
    assert_eq!(d.pending(), 0);
    assert_eq!(d.memory_used(), 0);
    assert_eq!(d.stats().reassembled, 1);
    assert_eq!(d.stats().fragments, 3);
}

#[test]
fn checksum_known_value() {
    // RFC 1071 example header (from Wikipedia's IPv4 checksum example): checksum 0xb861.
    let h = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0,
        0xa8, 0x00, 0xc7,
    ];
    assert_eq!(ipv4_checksum(&h), 0xb861);
}

#[test]
fn reverse_order_and_duplicates() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let hdr = v4_header(7, 8, &[]);
    let k = key4(7);
    assert_eq!(d.insert(frag(k, 16, false, b"CCC", &hdr), T0), DefragOutcome::Pending);
    assert_eq!(d.insert(frag(k, 8, true, b"BBBBBBBB", &hdr), T0), DefragOutcome::Pending);
    assert_eq!(d.insert(frag(k, 8, true, b"BBBBBBBB", &hdr), T0), DefragOutcome::Pending);
    assert_eq!(d.insert(frag(k, 16, false, b"CCC", &hdr), T0), DefragOutcome::Pending);
    let out = complete(d.insert(frag(k, 0, true, b"AAAAAAAA", &hdr), T0));
    assert_eq!(&out[20..], b"AAAAAAAABBBBBBBBCCC");
    assert_eq!(u16::from_be_bytes([out[2], out[3]]), 39);
    assert_eq!(d.stats().duplicates, 2);
    assert_eq!(d.stats().overlaps, 0);
}

/// Novak's 17-fragment pattern (offsets and lengths in bytes; all but the last have MF set), as
/// used by Suricata's defrag tests of the paper.
const NOVAK_FRAG: &[(u32, char, usize)] = &[
    (0, 'A', 24),
    (32, 'B', 16),
    (48, 'C', 24),
    (80, 'D', 8),
    (104, 'E', 16),
    (120, 'F', 24),
    (144, 'G', 16),
    (160, 'H', 16),
    (176, 'I', 8),
    (8, 'J', 32),
    (48, 'K', 24),
    (72, 'L', 24),
    (96, 'M', 24),
    (128, 'N', 8),
    (152, 'O', 8),
    (160, 'P', 8),
    (176, 'Q', 16),
];

/// Expected payload as one letter per 8-byte block.
fn novak_expected(policy: FragPolicy) -> &'static str {
    match policy {
        FragPolicy::Bsd => "AAAJJBCCCLLLMMMFFFGGHHIQ",
        FragPolicy::Linux => "AAAJJBKKKLLLMMMFFFGGPHQQ",
        FragPolicy::Windows => "AAAJBBCCCLLLMEEFFFGGHHIQ",
        FragPolicy::Solaris => "AAAJBBCCCLLLMMMFFFGGHHIQ",
        FragPolicy::First => "AAAJBBCCCLDLMEEFFFGGHHIQ",
        FragPolicy::Last => "AJJJJBKKKLLLMMMFNFGOPHQQ",
        // Not in the paper's published set; derived from Snort's bsd_right rules: left overlaps
        // are won by the new fragment unless covered, right partial overlaps by the old one,
        // fully covered fragments are replaced.
        FragPolicy::BsdRight => "AJJJBBKKKLLLMMMFFFGGHHQQ",
    }
}

fn run_novak(policy: FragPolicy, key: FragKey, hdr: &[u8]) -> (Vec<u8>, DefragStats) {
    let mut d = Defragmenter::new(DefragConfig { policy, ..DefragConfig::default() });
    let payloads: Vec<Vec<u8>> = NOVAK_FRAG.iter().map(|&(_, c, n)| vec![c as u8; n]).collect();
    let last = NOVAK_FRAG.len() - 1;
    for (i, &(off, _, _)) in NOVAK_FRAG.iter().enumerate() {
        let out = d.insert(frag(key, off, i != last, &payloads[i], hdr), T0);
        if i != last {
            assert_eq!(out, DefragOutcome::Pending, "policy {policy}, fragment {i}");
        } else {
            assert_eq!(d.pending(), 0);
            assert_eq!(d.memory_used(), 0);
            return (complete(out), d.stats().clone());
        }
    }
    unreachable!()
}

fn blocks(s: &str) -> Vec<u8> {
    s.bytes().flat_map(|c| [c; 8]).collect()
}

#[test]
fn novak_pattern_every_policy_v4() {
    let hdr = v4_header(1, 24, &[]);
    for policy in FragPolicy::ALL {
        let (out, stats) = run_novak(policy, key4(1), &hdr);
        assert_eq!(
            String::from_utf8_lossy(&out[20..]),
            String::from_utf8_lossy(&blocks(novak_expected(policy))),
            "policy {policy}"
        );
        assert_eq!(u16::from_be_bytes([out[2], out[3]]), 20 + 192);
        assert!(stats.overlaps_conflicting > 0);
    }
}

/// IPv6 unfragmentable part: fixed header (next header = destination options) + an 8-byte
/// destination options header whose next header is the fragment header (44).
fn v6_header(with_ext: bool) -> Vec<u8> {
    let mut h = vec![0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 44, 64];
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    if with_ext {
        h[6] = 60;
        h.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]); // next=frag, len 0, PadN
    }
    h
}

#[test]
fn novak_pattern_every_policy_v6() {
    let hdr = v6_header(false);
    for policy in FragPolicy::ALL {
        let (out, _) = run_novak(policy, key6(1), &hdr);
        assert_eq!(&out[40..], blocks(novak_expected(policy)).as_slice(), "policy {policy}");
        assert_eq!(u16::from_be_bytes([out[4], out[5]]), 192);
        assert_eq!(out[6], 58, "next header patched to the fragment's next header");
    }
}

#[test]
fn v6_header_fixed_up_byte_by_byte() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let hdr = v6_header(true);
    let k = key6(0xdead_beef);
    assert_eq!(d.insert(frag(k, 8, false, b"world", &hdr), T0), DefragOutcome::Pending);
    let out = complete(d.insert(frag(k, 0, true, b"hello, \0", &hdr), T0));
    let mut want = hdr.clone();
    want[4] = 0;
    want[5] = 8 + 13; // ext header + payload
    want[40] = 58; // the destination options header now names ICMPv6
    want.extend_from_slice(b"hello, \0world");
    assert_eq!(out, want);
    assert_eq!(out[6], 60, "fixed header still names the destination options header");
}

#[test]
fn header_from_offset0_fragment_chosen_by_policy() {
    let k = key4(9);
    let mut h1 = v4_header(9, 8, &[]);
    h1[1] = 0x01; // distinguishable TOS
    let mut h2 = v4_header(9, 8, &[]);
    h2[1] = 0x02;
    for (policy, want_tos, want) in [
        (FragPolicy::First, 1, b"11111111"),
        (FragPolicy::Linux, 2, b"22222222"),
        (FragPolicy::Bsd, 1, b"11111111"),
    ] {
        let mut d = Defragmenter::new(DefragConfig { policy, ..DefragConfig::default() });
        d.insert(frag(k, 0, true, b"11111111", &h1), T0);
        d.insert(frag(k, 0, true, b"22222222", &h2), T0);
        let out = complete(d.insert(frag(k, 8, false, b"end", &h1), T0));
        assert_eq!(out[1], want_tos, "policy {policy}");
        assert_eq!(&out[20..28], want);
    }
}

#[test]
fn timeout_from_first_fragment() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let hdr = v4_header(3, 8, &[]);
    let k = key4(3);
    d.insert(frag(k, 0, true, b"AAAAAAAA", &hdr), T0);
    d.insert(frag(k, 8, true, b"BBBBBBBB", &hdr), T0.add_secs(50));
    d.expire(T0.add_secs(59));
    assert_eq!(d.pending(), 1);
    d.expire(T0.add_secs(60));
    assert_eq!(d.pending(), 0);
    assert_eq!(d.stats().timeouts, 1);
    assert_eq!(d.memory_used(), 0);

    // A late fragment for a timed-out datagram starts a new one (old pieces are gone).
    d.insert(frag(k, 0, true, b"AAAAAAAA", &hdr), T0);
    let out = d.insert(frag(k, 8, false, b"B", &hdr), T0.add_secs(61));
    assert_eq!(out, DefragOutcome::Pending);
    assert_eq!(d.stats().timeouts, 2);
    assert_eq!(d.pending(), 1);
}

#[test]
fn memcap_evicts_oldest_datagrams() {
    let per = DATAGRAM_OVERHEAD + FRAGMENT_OVERHEAD + 1000 + 20;
    let cfg = DefragConfig { memcap: 3 * per + 2 * FRAGMENT_OVERHEAD, ..DefragConfig::default() };
    let mut d = Defragmenter::new(cfg);
    let hdr = v4_header(0, 1000, &[]);
    let data = [0x55u8; 1000];
    for id in 0..10u32 {
        let out = d.insert(frag(key4(id), 0, true, &data, &hdr), T0.add_nanos(i64::from(id)));
        assert_eq!(out, DefragOutcome::Pending);
        assert!(d.memory_used() <= cfg.memcap);
    }
    assert_eq!(d.pending(), 3);
    assert_eq!(d.stats().memcap_evictions, 7);
    // The newest ones survived: finishing id 9 works, id 0 is gone.
    let out = d.insert(frag(key4(9), 1000, false, b"x", &hdr), T0);
    assert_eq!(complete(out).len(), 20 + 1001);
    assert_eq!(d.insert(frag(key4(0), 1000, false, b"x", &hdr), T0), DefragOutcome::Pending);

    // A fragment that cannot fit even alone is dropped.
    let mut d = Defragmenter::new(DefragConfig { memcap: 100, ..DefragConfig::default() });
    assert_eq!(d.insert(frag(key4(1), 0, true, &data, &hdr), T0), DefragOutcome::Dropped(DropReason::Memcap));
    assert_eq!(d.memory_used(), 0);
}

#[test]
fn too_many_fragments_drops_the_datagram() {
    let mut d = Defragmenter::new(DefragConfig { max_fragments: 4, ..DefragConfig::default() });
    let hdr = v4_header(5, 8, &[]);
    let k = key4(5);
    for i in 0..4u32 {
        assert_eq!(d.insert(frag(k, i * 8, true, b"xxxxxxxx", &hdr), T0), DefragOutcome::Pending);
    }
    assert_eq!(
        d.insert(frag(k, 32, false, b"y", &hdr), T0),
        DefragOutcome::Dropped(DropReason::TooManyFragments)
    );
    assert_eq!(d.pending(), 0);
    assert_eq!(d.memory_used(), 0);
    assert_eq!(d.stats().too_many_fragments, 1);
}

#[test]
fn anomalies_teardrop_and_friends() {
    let hdr = v4_header(1, 8, &[]);
    let k = key4(1);
    let mut d = Defragmenter::new(DefragConfig::default());

    // Teardrop: the second (last) fragment lies inside the first.
    d.insert(frag(k, 0, true, &[1; 36], &hdr), T0);
    assert_eq!(d.stats().short_fragments, 1, "36 bytes is not a multiple of 8");
    assert_eq!(d.insert(frag(k, 24, false, &[2; 4], &hdr), T0), DefragOutcome::Dropped(DropReason::Teardrop));
    assert_eq!(d.pending(), 0);
    assert_eq!(d.stats().teardrops, 1);

    // Ping of death: offset + length beyond 65535.
    assert_eq!(
        d.insert(frag(k, 65528, false, &[0; 8], &hdr), T0),
        DefragOutcome::Dropped(DropReason::TooLarge)
    );
    assert_eq!(
        d.insert(frag(k, u32::MAX, false, &[0; 8], &hdr), T0),
        DefragOutcome::Dropped(DropReason::TooLarge)
    );
    // Zero-length fragments, and non-last ones that are cut to nothing.
    assert_eq!(d.insert(frag(k, 8, false, &[], &hdr), T0), DefragOutcome::Dropped(DropReason::ZeroLength));
    assert_eq!(d.insert(frag(k, 8, true, &[0; 7], &hdr), T0), DefragOutcome::Dropped(DropReason::ZeroLength));
    assert_eq!(d.stats().zero_length, 2);

    // Last fragment twice with different ends; data past the end.
    let k2 = key4(2);
    d.insert(frag(k2, 16, false, &[3; 8], &hdr), T0);
    assert_eq!(
        d.insert(frag(k2, 16, false, &[3; 9], &hdr), T0),
        DefragOutcome::Dropped(DropReason::LastMismatch)
    );
    assert_eq!(d.insert(frag(k2, 24, true, &[3; 8], &hdr), T0), DefragOutcome::Dropped(DropReason::Oversize));
    // A last fragment ending before held data (no overlap) is discarded too.
    let k3 = key4(3);
    d.insert(frag(k3, 32, true, &[3; 8], &hdr), T0);
    assert_eq!(d.insert(frag(k3, 8, false, &[3; 8], &hdr), T0), DefragOutcome::Dropped(DropReason::Oversize));
    assert_eq!(d.stats().oversize, 2);
    assert_eq!(d.stats().last_mismatch, 1);

    // TTL below the minimum; bad offset-0 header.
    let mut low = frag(k, 0, true, &[0; 8], &hdr);
    low.ttl = 0;
    assert_eq!(d.insert(low, T0), DefragOutcome::Dropped(DropReason::TtlTooLow));
    assert_eq!(
        d.insert(frag(k, 0, true, &[0; 8], &hdr[..19]), T0),
        DefragOutcome::Dropped(DropReason::BadHeader)
    );
    assert_eq!(
        d.insert(frag(key6(1), 0, true, &[0; 8], &hdr), T0),
        DefragOutcome::Dropped(DropReason::BadHeader)
    );
    assert!(d.stats().anomalies() >= 8);
}

#[test]
fn tiny_fragments_counted_not_dropped() {
    let mut d = Defragmenter::new(DefragConfig { min_fragment_len: 8, ..DefragConfig::default() });
    let hdr = v4_header(1, 8, &[]);
    let k = key4(1);
    d.insert(frag(k, 0, true, &[1; 8], &hdr), T0);
    let out = complete(d.insert(frag(k, 8, false, &[2; 8], &hdr), T0));
    assert_eq!(out.len(), 36);
    assert_eq!(d.stats().tiny_fragments, 1);
}

#[test]
fn keys_separate_datagrams() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let hdr = v4_header(1, 8, &[]);
    let mut k2 = key4(1);
    k2.vlan = 2;
    d.insert(frag(key4(1), 0, true, &[1; 8], &hdr), T0);
    assert_eq!(d.insert(frag(k2, 8, false, &[2; 8], &hdr), T0), DefragOutcome::Pending);
    let mut k3 = key4(1);
    k3.proto = 17;
    assert_eq!(d.insert(frag(k3, 8, false, &[2; 8], &hdr), T0), DefragOutcome::Pending);
    assert_eq!(d.pending(), 3);
}

#[test]
fn policy_names_round_trip() {
    for p in FragPolicy::ALL {
        assert_eq!(p.to_string().parse::<FragPolicy>(), Ok(p));
    }
    assert_eq!("BSD-RIGHT".parse::<FragPolicy>(), Ok(FragPolicy::BsdRight));
    assert!("vista".parse::<FragPolicy>().is_err());
    assert_eq!(FragPolicy::default(), FragPolicy::Linux);
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}

#[test]
fn shuffled_clean_fragments_reassemble_exactly() {
    let mut rng = Lcg(42);
    for policy in FragPolicy::ALL {
        let mut d = Defragmenter::new(DefragConfig { policy, ..DefragConfig::default() });
        for round in 0..50u32 {
            let len = 1 + (rng.next() % 4000) as usize;
            let payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Cut into 8-aligned pieces.
            let mut frags = Vec::new();
            let mut off = 0usize;
            while off < len {
                let n = (8 * (1 + rng.next() % 64) as usize).min(len - off);
                frags.push((off, n));
                off += n;
            }
            for i in (1..frags.len()).rev() {
                frags.swap(i, rng.next() as usize % (i + 1));
            }
            let hdr = v4_header(round as u16, 8, &[]);
            let k = key4(round);
            let mut got = None;
            for (i, &(o, n)) in frags.iter().enumerate() {
                let mf = o + n < len;
                let out = d.insert(frag(k, o as u32, mf, &payload[o..o + n], &hdr), T0);
                if i + 1 < frags.len() {
                    assert_eq!(out, DefragOutcome::Pending);
                } else {
                    got = Some(complete(out));
                }
            }
            let got = got.unwrap();
            assert_eq!(&got[20..], payload.as_slice(), "policy {policy}, round {round}");
            assert!(checksum_ok(&got[..20]));
        }
        assert_eq!(d.memory_used(), 0);
    }
}

fn recount_memory(d: &Defragmenter) -> usize {
    d.datagrams
        .values()
        .map(|dg| {
            DATAGRAM_OVERHEAD
                + dg.header.as_ref().map_or(0, Vec::len)
                + dg.pieces.values().map(|p| p.buf.len() + FRAGMENT_OVERHEAD).sum::<usize>()
        })
        .sum()
}

#[test]
fn random_hostile_fragments_never_panic_and_stay_bounded() {
    let hdr4 = v4_header(0, 8, &[]);
    let hdr6 = v6_header(true);
    let junk: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    for policy in FragPolicy::ALL {
        let cfg = DefragConfig {
            policy,
            memcap: 256 << 10,
            max_fragments: 64,
            min_fragment_len: 16,
            ..DefragConfig::default()
        };
        let mut d = Defragmenter::new(cfg);
        let mut rng = Lcg(u64::from(policy as u8) * 31 + 5);
        let mut now = T0;
        for _ in 0..30_000 {
            now = now.add_nanos(i64::from(rng.next() % 10_000_000));
            let v6 = rng.next() % 4 == 0;
            let id = rng.next() % 40;
            let key = if v6 { key6(id) } else { key4(id) };
            let off = match rng.next() % 8 {
                0 => rng.next(),
                1 => 65535 - rng.next() % 100,
                _ => 8 * (rng.next() % 300),
            };
            let len = (rng.next() % 1600) as usize;
            let start = (rng.next() % 1000) as usize;
            let hdr: &[u8] = match (v6, rng.next() % 20) {
                (_, 0) => &junk[..(rng.next() % 70) as usize],
                (true, _) => &hdr6,
                (false, _) => &hdr4,
            };
            let f = FragmentIn {
                key,
                offset: off,
                more_fragments: rng.next() % 6 != 0,
                payload: &junk[start..start + len],
                ip_header: hdr,
                ttl: (rng.next() % 70) as u8,
            };
            if let DefragOutcome::Complete(bytes) = d.insert(f, now) {
                let hl = if v6 { hdr6.len() } else { 20 };
                assert!(bytes.len() >= hl);
            }
            assert!(d.memory_used() <= cfg.memcap);
            if rng.next() % 100 == 0 {
                d.expire(now);
            }
        }
        assert_eq!(d.memory_used(), recount_memory(&d), "policy {policy}");
        assert_eq!(d.order.len(), d.datagrams.len());
        d.expire(now.add_secs(120));
        assert_eq!(d.pending(), 0);
        assert_eq!(d.memory_used(), 0);
    }
}

#[test]
fn consistent_overlapping_fragments_reassemble_exactly() {
    let mut rng = Lcg(7);
    for policy in FragPolicy::ALL {
        let mut d = Defragmenter::new(DefragConfig { policy, ..DefragConfig::default() });
        for round in 0..30u32 {
            let len = 8 + (rng.next() % 8000) as usize;
            let payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // 8-aligned fragments that overlap each other; the last one ends the datagram.
            let mut frags: Vec<(usize, usize)> = Vec::new();
            let mut off = 0usize;
            while off < len {
                let n = (8 * (1 + rng.next() % 40) as usize).min(len - off);
                frags.push((off, n));
                off += n;
            }
            for _ in 0..frags.len() {
                let o = 8 * (rng.next() as usize % len.div_ceil(8));
                let n = (8 * (1 + rng.next() % 60) as usize).min(len - o);
                if o + n < len && n > 0 {
                    frags.push((o, n));
                }
            }
            for i in (1..frags.len()).rev() {
                frags.swap(i, rng.next() as usize % (i + 1));
            }
            let hdr = v4_header(round as u16, 8, &[]);
            let k = key4(round);
            let mut got = None;
            for &(o, n) in &frags {
                let out = d.insert(frag(k, o as u32, o + n < len, &payload[o..o + n], &hdr), T0);
                if let DefragOutcome::Complete(bytes) = out {
                    assert!(got.is_none());
                    got = Some(bytes);
                }
            }
            let got = got.expect("datagram completes");
            assert_eq!(&got[20..], payload.as_slice(), "policy {policy}, round {round}");
        }
        assert_eq!(d.stats().overlaps_conflicting, 0);
    }
}

#[test]
fn memcap_holds_when_one_fragment_fills_many_holes() {
    // First policy: a big fragment over many small held ones becomes one piece per hole.
    let hdr = v4_header(1, 8, &[]);
    let k = key4(1);
    let small = 200usize;
    // Room for the big fragment's bytes (the check before placement passes), not for 200 pieces.
    let memcap = DATAGRAM_OVERHEAD + small * (FRAGMENT_OVERHEAD + 8) + 5000;
    let mut d =
        Defragmenter::new(DefragConfig { policy: FragPolicy::First, memcap, ..DefragConfig::default() });
    for i in 0..small as u32 {
        assert_eq!(d.insert(frag(k, 8 + i * 16, true, &[1; 8], &hdr), T0), DefragOutcome::Pending);
    }
    let big = vec![2u8; 16 * small];
    let out = d.insert(frag(k, 0, true, &big, &hdr), T0);
    assert_eq!(out, DefragOutcome::Dropped(DropReason::Memcap));
    assert!(d.memory_used() <= memcap);
    assert_eq!(d.pending(), 0);
}

#[test]
fn rejected_fragments_do_not_evict_others() {
    let hdr = v4_header(1, 8, &[]);
    let per = DATAGRAM_OVERHEAD + 20 + FRAGMENT_OVERHEAD + 8;
    let mut d = Defragmenter::new(DefragConfig {
        memcap: 2 * per + FRAGMENT_OVERHEAD + 8 + 100,
        ..DefragConfig::default()
    });
    d.insert(frag(key4(1), 0, true, &[1; 8], &hdr), T0);
    d.insert(frag(key4(2), 0, true, &[1; 8], &hdr), T0);
    d.insert(frag(key4(2), 16, false, &[1; 8], &hdr), T0);
    assert_eq!(d.stats().memcap_evictions, 0);
    // Mismatching last fragment for datagram 2: it would need room that only evicting datagram
    // 1 could make, but it is rejected first and datagram 1 stays.
    assert_eq!(
        d.insert(frag(key4(2), 16, false, &[1; 16], &hdr), T0),
        DefragOutcome::Dropped(DropReason::LastMismatch)
    );
    assert_eq!(d.stats().memcap_evictions, 0);
    assert_eq!(d.pending(), 2);
}
