//! Tests over hand-built captures: every variant the readers claim to handle, and damage at
//! every byte.

use super::*;
use crate::input::Endian;
use std::io::Write;

// ---------------------------------------------------------------------------------------------
// Builders

fn put16(e: Endian, out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&match e {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    });
}

fn put32(e: Endian, out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&match e {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    });
}

fn put64(e: Endian, out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&match e {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    });
}

/// A pcap file being built; `boundaries` are the offsets where a cut leaves whole records.
struct Pcap {
    e: Endian,
    bytes: Vec<u8>,
    boundaries: Vec<usize>,
    modified: bool,
}

impl Pcap {
    fn new(e: Endian, magic: u32, snaplen: u32, link_type: u32) -> Pcap {
        let mut bytes = Vec::new();
        put32(e, &mut bytes, magic);
        put16(e, &mut bytes, 2);
        put16(e, &mut bytes, 4);
        put32(e, &mut bytes, 0);
        put32(e, &mut bytes, 0);
        put32(e, &mut bytes, snaplen);
        put32(e, &mut bytes, link_type);
        Pcap { e, boundaries: vec![bytes.len()], bytes, modified: magic == pcap::MAGIC_MODIFIED }
    }

    fn record(mut self, secs: u32, frac: u32, data: &[u8], orig_len: u32) -> Pcap {
        self.raw_record(secs, frac, data.len() as u32, orig_len);
        self.bytes.extend_from_slice(data);
        self.boundaries.push(self.bytes.len());
        self
    }

    fn raw_record(&mut self, secs: u32, frac: u32, caplen: u32, orig_len: u32) {
        let e = self.e;
        put32(e, &mut self.bytes, secs);
        put32(e, &mut self.bytes, frac);
        put32(e, &mut self.bytes, caplen);
        put32(e, &mut self.bytes, orig_len);
        if self.modified {
            self.bytes.extend_from_slice(&[0; 8]);
        }
    }
}

/// A pcapng file being built, section by section.
struct Ng {
    e: Endian,
    bytes: Vec<u8>,
    boundaries: Vec<usize>,
}

impl Ng {
    fn new() -> Ng {
        Ng { e: Endian::Little, bytes: Vec::new(), boundaries: Vec::new() }
    }

    fn block(mut self, btype: u32, body: &[u8]) -> Ng {
        let e = self.e;
        let padded = body.len().next_multiple_of(4);
        let len = (12 + padded) as u32;
        put32(e, &mut self.bytes, btype);
        put32(e, &mut self.bytes, len);
        self.bytes.extend_from_slice(body);
        self.bytes.resize(self.bytes.len() + padded - body.len(), 0);
        put32(e, &mut self.bytes, len);
        self.boundaries.push(self.bytes.len());
        self
    }

    fn shb(mut self, e: Endian) -> Ng {
        self.e = e;
        let mut body = Vec::new();
        put32(e, &mut body, 0x1a2b_3c4d);
        put16(e, &mut body, 1);
        put16(e, &mut body, 0);
        put64(e, &mut body, u64::MAX);
        // An option, to check options are skipped: shb_userappl "ids".
        put16(e, &mut body, 4);
        put16(e, &mut body, 3);
        body.extend_from_slice(b"ids\0");
        put16(e, &mut body, 0);
        put16(e, &mut body, 0);
        self.block(0x0a0d_0d0a, &body)
    }

    fn idb(self, link_type: u16, snaplen: u32, tsresol: Option<u8>, tsoffset: Option<i64>) -> Ng {
        let e = self.e;
        let mut body = Vec::new();
        put16(e, &mut body, link_type);
        put16(e, &mut body, 0);
        put32(e, &mut body, snaplen);
        // if_name first, so option walking is exercised.
        put16(e, &mut body, 2);
        put16(e, &mut body, 5);
        body.extend_from_slice(b"eth0\0\0\0\0");
        if let Some(r) = tsresol {
            put16(e, &mut body, 9);
            put16(e, &mut body, 1);
            body.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            put16(e, &mut body, 14);
            put16(e, &mut body, 8);
            put64(e, &mut body, o as u64);
        }
        put16(e, &mut body, 0);
        put16(e, &mut body, 0);
        self.block(1, &body)
    }

    fn epb(self, iface: u32, units: u64, data: &[u8], orig_len: u32) -> Ng {
        let e = self.e;
        let mut body = Vec::new();
        put32(e, &mut body, iface);
        put32(e, &mut body, (units >> 32) as u32);
        put32(e, &mut body, units as u32);
        put32(e, &mut body, data.len() as u32);
        put32(e, &mut body, orig_len);
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
        // epb_flags option, to check options after the data are ignored.
        put16(e, &mut body, 2);
        put16(e, &mut body, 4);
        put32(e, &mut body, 1);
        self.block(6, &body)
    }

    fn pb(self, iface: u16, units: u64, data: &[u8]) -> Ng {
        let e = self.e;
        let mut body = Vec::new();
        put16(e, &mut body, iface);
        put16(e, &mut body, 0);
        put32(e, &mut body, (units >> 32) as u32);
        put32(e, &mut body, units as u32);
        put32(e, &mut body, data.len() as u32);
        put32(e, &mut body, data.len() as u32);
        body.extend_from_slice(data);
        self.block(2, &body)
    }

    fn spb(self, data: &[u8], orig_len: u32) -> Ng {
        let e = self.e;
        let mut body = Vec::new();
        put32(e, &mut body, orig_len);
        body.extend_from_slice(data);
        self.block(3, &body)
    }
}

#[derive(Debug, PartialEq, Eq, Clone)]
struct Pkt {
    ts: i64,
    link_type: u32,
    interface: u32,
    orig_len: u32,
    data: Vec<u8>,
}

fn read_all(src: &mut dyn PacketSource) -> Vec<Pkt> {
    let mut out = Vec::new();
    while let Some(p) = src.next_packet().expect("no error") {
        assert!(p.data.len() <= p.orig_len as usize);
        out.push(Pkt {
            ts: p.ts.as_nanos(),
            link_type: p.link_type.0,
            interface: p.interface,
            orig_len: p.orig_len,
            data: p.data.to_vec(),
        });
    }
    // Fused: stays at the end.
    assert!(src.next_packet().unwrap().is_none());
    out
}

fn open_bytes(bytes: &[u8]) -> Result<Box<dyn PacketSource>, CaptureError> {
    open_reader("test", Box::new(io::Cursor::new(bytes.to_vec())))
}

fn read_bytes(bytes: &[u8]) -> (Vec<Pkt>, CaptureStats) {
    let mut src = open_bytes(bytes).expect("opens");
    let pkts = read_all(&mut *src);
    (pkts, src.stats().clone())
}

fn pkt(ts: i64, link_type: u32, interface: u32, orig_len: u32, data: &[u8]) -> Pkt {
    Pkt { ts, link_type, interface, orig_len, data: data.to_vec() }
}

const SEC: i64 = 1_000_000_000;

fn sample_pcap(e: Endian, magic: u32) -> Pcap {
    Pcap::new(e, magic, 65535, 1)
        .record(1_700_000_000, 123_456, b"first packet", 12)
        .record(1_700_000_001, 999_999, b"", 0)
        .record(1_700_000_002, 5, b"cut by snaplen", 1500)
        .record(1_700_000_003, 0, &[0xab; 1000], 1000)
}

/// A file with two sections of different byte order and everything pcapng can throw at us.
fn sample_pcapng() -> Ng {
    Ng::new()
        .shb(Endian::Little)
        .idb(1, 0, None, None) // iface 0: ethernet, microseconds
        .idb(101, 64, Some(9), Some(-10)) // iface 1: raw, nanoseconds, 10 s earlier, snaplen 64
        .block(4, &[0, 0, 0, 0]) // name resolution block: skipped
        .epb(0, 1_700_000_000_123_456, b"eth in usec", 11)
        .epb(1, 1_700_000_000_000_000_007, b"raw in nsec", 100)
        .spb(b"simple packet block uses iface 0", 32)
        .epb(2, 0, b"no such interface", 17) // bad, skipped
        .pb(0, 1_700_000_005_000_000, b"obsolete packet block")
        .block(5, &[0; 20]) // interface statistics: skipped
        .shb(Endian::Big)
        .idb(0, 0, Some(0x80 | 10), Some(1)) // NULL, 2^-10 s, +1 s
        .block(0x0000_0bad, &[1, 2, 3, 4, 5]) // custom block: skipped
        .epb(0, 1024 * 5 + 256, b"second section", 14)
        .spb(b"0123456789", 4) // orig_len below the room in the block: caplen = orig_len
}

fn sample_pcapng_packets() -> Vec<Pkt> {
    vec![
        pkt(1_700_000_000_123_456_000, 1, 0, 11, b"eth in usec"),
        pkt(1_700_000_000_000_000_007 - 10 * SEC, 101, 1, 100, b"raw in nsec"),
        pkt(1_700_000_000_000_000_007 - 10 * SEC, 1, 0, 32, b"simple packet block uses iface 0"),
        pkt(1_700_000_005 * SEC, 1, 0, 21, b"obsolete packet block"),
        pkt(6 * SEC + SEC / 4, 0, 2, 14, b"second section"),
        pkt(6 * SEC + SEC / 4, 0, 2, 4, b"0123"),
    ]
}

// ---------------------------------------------------------------------------------------------
// pcap

#[test]
fn pcap_both_byte_orders_and_resolutions() {
    for e in [Endian::Little, Endian::Big] {
        for magic in [pcap::MAGIC_USEC, pcap::MAGIC_NSEC, pcap::MAGIC_MODIFIED] {
            let file = sample_pcap(e, magic);
            let (pkts, stats) = read_bytes(&file.bytes);
            let scale = if magic == pcap::MAGIC_NSEC { 1 } else { 1000 };
            assert_eq!(
                pkts,
                vec![
                    pkt(1_700_000_000 * SEC + 123_456 * scale, 1, 0, 12, b"first packet"),
                    pkt(1_700_000_001 * SEC + 999_999 * scale, 1, 0, 0, b""),
                    pkt(1_700_000_002 * SEC + 5 * scale, 1, 0, 1500, b"cut by snaplen"),
                    pkt(1_700_000_003 * SEC, 1, 0, 1000, &[0xab; 1000]),
                ],
                "{e:?} {magic:x}"
            );
            assert_eq!(stats.packets, 4);
            assert_eq!(stats.bytes, 12 + 14 + 1000);
            assert_eq!(stats.snaplen_truncated, 1);
            assert_eq!(stats.truncated_file + stats.bad_records + stats.caplen_over_snaplen, 0);
        }
    }
}

#[test]
fn pcap_link_type_fcs_bits_and_dlt_mapping() {
    for (field, want) in [(0x3000_0001, 1), (12, 101), (14, 101), (11, 100), (108, 108), (0x0400_00e4, 228)] {
        let file = Pcap::new(Endian::Little, pcap::MAGIC_USEC, 0, field).record(1, 0, b"x", 1);
        let (pkts, _) = read_bytes(&file.bytes);
        assert_eq!(pkts[0].link_type, want, "{field:#x}");
    }
}

#[test]
fn pcap_absurd_caplen_ends_file_cleanly() {
    let mut file = Pcap::new(Endian::Big, pcap::MAGIC_USEC, 65535, 1).record(1, 0, b"good", 4);
    file.raw_record(2, 0, MAX_CAPLEN + 1, 100);
    file.bytes.extend_from_slice(&[0; 64]);
    let (pkts, stats) = read_bytes(&file.bytes);
    assert_eq!(pkts.len(), 1);
    assert_eq!(stats.bad_records, 1);
    assert_eq!(stats.truncated_file, 0);
}

#[test]
fn pcap_caplen_over_snaplen_is_kept_and_counted() {
    let file = Pcap::new(Endian::Little, pcap::MAGIC_USEC, 8, 1).record(1, 0, b"longer than eight", 17);
    let (pkts, stats) = read_bytes(&file.bytes);
    assert_eq!(pkts[0].data, b"longer than eight");
    assert_eq!(stats.caplen_over_snaplen, 1);
    assert_eq!(stats.bad_records, 0);
}

#[test]
fn pcap_orig_len_below_caplen_is_raised() {
    let file = Pcap::new(Endian::Little, pcap::MAGIC_USEC, 0, 1).record(1, 0, b"12345", 2);
    let (pkts, _) = read_bytes(&file.bytes);
    assert_eq!(pkts[0].orig_len, 5);
}

#[test]
fn pcap_large_records_through_buffer_wraps() {
    // Maximum-size records, many times the initial buffer, plus odd sizes in between so records
    // straddle every refill.
    let mut file = Pcap::new(Endian::Little, pcap::MAGIC_USEC, MAX_CAPLEN, 1);
    let mut want = Vec::new();
    for i in 0..20u32 {
        let len = if i % 2 == 0 { MAX_CAPLEN as usize } else { 1000 + i as usize * 7919 };
        let data: Vec<u8> = (0..len).map(|j| (j as u32 ^ i) as u8).collect();
        file = file.record(i, 0, &data, len as u32);
        want.push(data);
    }
    let (pkts, stats) = read_bytes(&file.bytes);
    assert_eq!(pkts.iter().map(|p| p.data.clone()).collect::<Vec<_>>(), want);
    assert_eq!(stats.bad_records, 0);
}

/// Hands out `chunk` bytes per `read`, the way pipes and decompressors do.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn short_reads_give_the_same_packets() {
    let pcap_bytes = sample_pcap(Endian::Big, pcap::MAGIC_NSEC).bytes;
    let ng_bytes = sample_pcapng().bytes;
    for bytes in [pcap_bytes, ng_bytes] {
        let (want, want_stats) = read_bytes(&bytes);
        for chunk in [1, 3, 7, 64] {
            let mut src =
                open_reader("trickle", Box::new(Trickle { data: bytes.clone(), at: 0, chunk })).unwrap();
            assert_eq!(read_all(&mut *src), want);
            assert_eq!(src.stats(), &want_stats);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// pcapng

#[test]
fn pcapng_sections_interfaces_and_block_kinds() {
    let (pkts, stats) = read_bytes(&sample_pcapng().bytes);
    assert_eq!(pkts, sample_pcapng_packets());
    assert_eq!(stats.packets, 6);
    assert_eq!(stats.skipped_blocks, 3);
    assert_eq!(stats.bad_records, 1); // the EPB on interface 2
    assert_eq!(stats.snaplen_truncated, 1); // "raw in nsec" (11 of 100 bytes)
    assert_eq!(stats.truncated_file, 0);
}

#[test]
fn pcapng_spb_is_cut_to_interface_snaplen() {
    let file = Ng::new().shb(Endian::Big).idb(1, 4, None, None).spb(b"abcdefgh", 8);
    let (pkts, stats) = read_bytes(&file.bytes);
    assert_eq!(pkts, vec![pkt(0, 1, 0, 8, b"abcd")]);
    assert_eq!(stats.snaplen_truncated, 1);
}

#[test]
fn pcapng_spb_without_interface_is_bad() {
    let file = Ng::new().shb(Endian::Little).spb(b"abcd", 4);
    let (pkts, stats) = read_bytes(&file.bytes);
    assert!(pkts.is_empty());
    assert_eq!(stats.bad_records, 1);
}

#[test]
fn pcapng_caplen_beyond_block_or_limit_skips_only_that_block() {
    let mut file = Ng::new().shb(Endian::Little).idb(1, 0, None, None).epb(0, 1, b"ok", 2);
    // An EPB claiming more data than its block holds.
    let mut body = Vec::new();
    for v in [0u32, 0, 0, 100, 100] {
        put32(Endian::Little, &mut body, v);
    }
    body.extend_from_slice(&[0; 8]);
    file = file.block(6, &body);
    // One claiming more than MAX_CAPLEN.
    let mut body = Vec::new();
    for v in [0u32, 0, 0, MAX_CAPLEN + 4, MAX_CAPLEN + 4] {
        put32(Endian::Little, &mut body, v);
    }
    body.resize(body.len() + MAX_CAPLEN as usize + 4, 0);
    file = file.block(6, &body).epb(0, 2, b"still read", 10);
    let (pkts, stats) = read_bytes(&file.bytes);
    assert_eq!(
        pkts.iter().map(|p| p.data.clone()).collect::<Vec<_>>(),
        vec![b"ok".to_vec(), b"still read".to_vec()]
    );
    assert_eq!(stats.bad_records, 2);
}

#[test]
fn pcapng_max_size_packet() {
    let data: Vec<u8> = (0..MAX_CAPLEN).map(|i| i as u8).collect();
    let file = Ng::new()
        .shb(Endian::Little)
        .idb(1, 0, None, None)
        .epb(0, 1, &data, MAX_CAPLEN)
        .epb(0, 2, &data, MAX_CAPLEN);
    let (pkts, stats) = read_bytes(&file.bytes);
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[1].data, data);
    assert_eq!(stats.bad_records, 0);
}

#[test]
fn pcapng_broken_framing_ends_file() {
    // Trailing length differs from the leading one.
    let mut file =
        Ng::new().shb(Endian::Little).idb(1, 0, None, None).epb(0, 1, b"ok", 2).epb(0, 2, b"bad", 3);
    let n = file.bytes.len();
    file.bytes[n - 4] ^= 0x10;
    let file = file.epb(0, 3, b"unreachable", 11);
    let (pkts, stats) = read_bytes(&file.bytes);
    assert_eq!(pkts.len(), 1);
    assert_eq!(stats.bad_records, 1);

    // Block length that is not a multiple of 4.
    let mut file = Ng::new().shb(Endian::Little).idb(1, 0, None, None).epb(0, 1, b"ok", 2);
    let at = file.bytes.len();
    file = file.epb(0, 2, b"bad", 3);
    file.bytes[at + 4] += 1;
    let (pkts, stats) = read_bytes(&file.bytes);
    assert_eq!(pkts.len(), 1);
    assert_eq!(stats.bad_records, 1);
}

#[test]
fn pcapng_bad_first_section_header_is_an_error() {
    let mut file = Ng::new().shb(Endian::Little).bytes;
    file[8] = 0x99; // byte-order magic
    assert!(matches!(open_bytes(&file), Err(CaptureError::Corrupt { offset: 0, .. })));
}

#[test]
fn pcapng_huge_skipped_block_is_streamed() {
    // A 10 MiB custom block between two packets: skipped without being buffered whole.
    let file = Ng::new()
        .shb(Endian::Little)
        .idb(1, 0, None, None)
        .epb(0, 1, b"a", 1)
        .block(0x4000_0bad, &vec![7u8; 10 << 20])
        .epb(0, 2, b"b", 1);
    let (pkts, stats) = read_bytes(&file.bytes);
    assert_eq!(pkts.len(), 2);
    assert_eq!(stats.skipped_blocks, 1);
}

// ---------------------------------------------------------------------------------------------
// Damage

/// Cut a file at every length: opening never fails (except for an empty file), never panics,
/// yields a prefix of the packets, and counts a truncation exactly when the cut is not on a
/// record or block boundary.
fn check_every_cut(bytes: &[u8], boundaries: &[usize]) {
    let (full, _) = read_bytes(bytes);
    for cut in 0..=bytes.len() {
        let src = open_bytes(&bytes[..cut]);
        if cut == 0 {
            assert!(matches!(src, Err(CaptureError::NotACapture { .. })));
            continue;
        }
        let mut src = src.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let pkts = read_all(&mut *src);
        assert_eq!(pkts[..], full[..pkts.len()], "cut at {cut}");
        let clean = boundaries.contains(&cut);
        assert_eq!(src.stats().truncated_file, u64::from(!clean), "cut at {cut}");
    }
}

#[test]
fn pcap_cut_at_every_offset() {
    for e in [Endian::Little, Endian::Big] {
        let file = sample_pcap(e, pcap::MAGIC_NSEC);
        check_every_cut(&file.bytes, &file.boundaries);
    }
}

#[test]
fn pcapng_cut_at_every_offset() {
    let file = sample_pcapng();
    check_every_cut(&file.bytes, &file.boundaries);
}

/// Deterministic xorshift, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_files_never_panic() {
    let seeds = [sample_pcap(Endian::Little, pcap::MAGIC_USEC).bytes, sample_pcapng().bytes];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for round in 0..3000 {
        let mut bytes = seeds[round % 2].clone();
        for _ in 0..1 + rng.next() % 6 {
            let at = (rng.next() % bytes.len() as u64) as usize;
            // Favour values that hit length checks: 0, 0xff, small and random.
            bytes[at] = match rng.next() % 4 {
                0 => 0,
                1 => 0xff,
                2 => (rng.next() % 16) as u8,
                _ => rng.next() as u8,
            };
        }
        if let Ok(mut src) = open_bytes(&bytes) {
            let mut n = 0;
            while let Ok(Some(p)) = src.next_packet() {
                assert!(p.data.len() <= p.orig_len as usize);
                n += 1;
                assert!(n < 100);
            }
        }
    }
}

#[test]
fn not_a_capture() {
    for bytes in [&b"hello world, this is text"[..], b"\x00", b"\xa1\xb2\xc3\xd5rest"] {
        assert!(matches!(open_bytes(bytes), Err(CaptureError::NotACapture { .. })), "{bytes:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// gzip, files, directories

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_round_trip_single_and_multi_member() {
    for plain in [sample_pcap(Endian::Little, pcap::MAGIC_USEC).bytes, sample_pcapng().bytes] {
        let (want, want_stats) = read_bytes(&plain);
        let (pkts, stats) = read_bytes(&gzip(&plain));
        assert_eq!(pkts, want);
        assert_eq!(stats, want_stats);
        // Two members, split mid-record.
        let mid = plain.len() / 2 + 1;
        let mut two = gzip(&plain[..mid]);
        two.extend(gzip(&plain[mid..]));
        assert_eq!(read_bytes(&two).0, want);
    }
}

#[test]
fn gzip_truncated_yields_prefix() {
    let plain = sample_pcap(Endian::Big, pcap::MAGIC_USEC).bytes;
    let (full, _) = read_bytes(&plain);
    let gz = gzip(&plain);
    for cut in 10..gz.len() {
        // A cut gzip stream is a truncated capture (or, cut before any data, not a capture);
        // what must not happen is a panic or packets that were not in the file.
        match open_bytes(&gz[..cut]) {
            Ok(mut src) => {
                let pkts = read_all(&mut *src);
                assert_eq!(pkts[..], full[..pkts.len()], "cut at {cut}");
                assert_eq!(src.stats().truncated_file, 1, "cut at {cut}");
            }
            Err(CaptureError::NotACapture { .. } | CaptureError::Io { .. }) => {}
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ids-capture-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn open_files_plain_and_gzip() {
    let tmp = TempDir::new("open");
    let plain = sample_pcap(Endian::Little, pcap::MAGIC_NSEC).bytes;
    let (want, _) = read_bytes(&plain);
    fs::write(tmp.0.join("a.pcap"), &plain).unwrap();
    // The extension says nothing; the magic decides.
    fs::write(tmp.0.join("a.bin"), gzip(&plain)).unwrap();
    for name in ["a.pcap", "a.bin"] {
        let path = tmp.0.join(name);
        let mut src = open(&path).unwrap();
        assert_eq!(src.name(), path.display().to_string());
        assert_eq!(read_all(&mut *src), want);
    }
    assert!(matches!(open(&tmp.0.join("missing.pcap")), Err(CaptureError::Io { .. })));
}

#[test]
fn expand_inputs_orders_directories_and_keeps_files() {
    let tmp = TempDir::new("expand");
    let d = &tmp.0;
    for f in ["tree/b.pcap", "tree/a/z.pcap", "tree/a/y/x.pcap", "tree/c.pcapng", "tree/a.pcap", "loose.pcap"]
    {
        let p = d.join(f);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, b"").unwrap();
    }
    fs::create_dir_all(d.join("tree/empty")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d.join("tree/a"), d.join("tree/link-to-dir")).unwrap();
        std::os::unix::fs::symlink(d.join("loose.pcap"), d.join("tree/link-to-file")).unwrap();
    }
    let inputs = [d.join("loose.pcap"), PathBuf::from("-"), d.join("tree"), d.join("tree/b.pcap")];
    let got = expand_inputs(&inputs).unwrap();
    let mut want: Vec<PathBuf> = vec![d.join("loose.pcap"), PathBuf::from("-")];
    // Component order: "a" (a directory) sorts before "a.pcap".
    for f in ["tree/a/y/x.pcap", "tree/a/z.pcap", "tree/a.pcap", "tree/b.pcap", "tree/c.pcapng"] {
        want.push(d.join(f));
    }
    #[cfg(unix)]
    want.push(d.join("tree/link-to-file"));
    want.push(d.join("tree/b.pcap"));
    assert_eq!(got, want);
    assert!(matches!(expand_inputs(&[d.join("nope")]), Err(CaptureError::Io { .. })));
}

#[test]
fn pcap_out_of_range_fraction_adds_to_the_time() {
    let file = Pcap::new(Endian::Little, pcap::MAGIC_USEC, 0, 1).record(10, 2_500_000, b"a", 1).record(
        10,
        u32::MAX,
        b"b",
        1,
    );
    let (pkts, _) = read_bytes(&file.bytes);
    assert_eq!(pkts[0].ts, 12 * SEC + SEC / 2);
    assert_eq!(pkts[1].ts, 10 * SEC + i64::from(u32::MAX) * 1000);
}
