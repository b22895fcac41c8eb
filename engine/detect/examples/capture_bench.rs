//! Detection throughput on a real capture: every packet of a classic pcap, decoded here
//! (Ethernet / VLAN / IPv4 / IPv6 / TCP / UDP / ICMP, no reassembly, no app layer), is run
//! through [`RuleSet::detect`] with `pkt_data` = the transport payload and
//! `FlowFacts { has_flow, established: true, to_server: <lower port is the server> }`.
//! Decoding happens before the clock starts; the figure is detection only, single thread.
//!
//! ```text
//! cd /work/main && mkdir -p benches/out && \
//!   python3 ../shared/bench/make-bench-pcap.py benches/out/bench.pcap 10 ../shared/pcaps/ndpi/pcap/*.pcap
//! CARGO_TARGET_DIR=/work/target-detectperf cargo run --release -p ids-detect --example capture_bench \
//!   [-- [PCAP] [--rules DIR] [--max N] [--service] [--rounds N]]
//! ```
//!
//! `--service` also sets `app_proto` from the server port (80/8080 http, 53 dns, 443 tls...),
//! as a pipeline with protocol detection would; by default the service is unknown.
//!
//! Figures (before/after the scan groups and the gram scanner, bench.pcap, enabled ET Open
//! 2024-04, 2-core VM): 390–427k → 680–693k packets/s (service unknown), 306–313k → 494–504k
//! packets/s (`--service`); automata 26.7 → 13.1 MiB; parse + compile 0.8–1.2 s. Then scanning
//! each buffer once for a known service: `--service` 487–489k → 612–636k packets/s, automata
//! unchanged. Details in the crate docs, "Performance".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ids_detect::{
    Buffers, CompileOptions, Detector, FlowDetectState, FlowFacts, IcmpFacts, PacketFacts, RuleSet, TcpFacts,
};
use ids_rules::{load_files, LoadOptions, Vars};

/// One decoded packet: header facts and the payload's range in the capture buffer.
struct Pkt {
    ip_version: u8,
    proto: u8,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    ttl: u8,
    tos: u8,
    ip_id: u32,
    df: bool,
    mf: bool,
    frag_offset: u16,
    tcp: Option<TcpFacts>,
    icmp: Option<IcmpFacts>,
    payload: (usize, usize),
}

fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Decodes one Ethernet frame starting at `base` in the capture buffer.
fn decode(cap: &[u8], base: usize, len: usize) -> Option<Pkt> {
    let f = &cap[base..base + len];
    if f.len() < 14 {
        return None;
    }
    let mut et = be16(f, 12);
    let mut o = 14;
    while matches!(et, 0x8100 | 0x88a8 | 0x9100) {
        if f.len() < o + 4 {
            return None;
        }
        et = be16(f, o + 2);
        o += 4;
    }
    let (ip_version, mut proto, src, dst, ttl, tos, ip_id, df, mf, frag_offset, mut l4, end);
    match et {
        0x0800 => {
            if f.len() < o + 20 || f[o] >> 4 != 4 {
                return None;
            }
            let ihl = usize::from(f[o] & 15) * 4;
            let tot = usize::from(be16(f, o + 2));
            ip_version = 4;
            tos = f[o + 1];
            ip_id = u32::from(be16(f, o + 4));
            let fl = be16(f, o + 6);
            df = fl & 0x4000 != 0;
            mf = fl & 0x2000 != 0;
            frag_offset = fl & 0x1fff;
            ttl = f[o + 8];
            proto = f[o + 9];
            src = IpAddr::V4(Ipv4Addr::from(be32(f, o + 12)));
            dst = IpAddr::V4(Ipv4Addr::from(be32(f, o + 16)));
            l4 = o + ihl;
            end = (o + tot.max(ihl)).min(f.len());
        }
        0x86dd => {
            if f.len() < o + 40 {
                return None;
            }
            ip_version = 6;
            tos = ((be16(f, o) >> 4) & 0xff) as u8;
            ip_id = 0;
            df = false;
            mf = false;
            frag_offset = 0;
            proto = f[o + 6];
            ttl = f[o + 7];
            let mut a = [0u8; 16];
            a.copy_from_slice(&f[o + 8..o + 24]);
            src = IpAddr::V6(Ipv6Addr::from(a));
            a.copy_from_slice(&f[o + 24..o + 40]);
            dst = IpAddr::V6(Ipv6Addr::from(a));
            end = (o + 40 + usize::from(be16(f, o + 4))).min(f.len());
            l4 = o + 40;
            // Hop-by-hop, routing, destination options.
            while matches!(proto, 0 | 43 | 60) && l4 + 8 <= end {
                proto = f[l4];
                l4 += (usize::from(f[l4 + 1]) + 1) * 8;
            }
        }
        _ => return None,
    }
    if l4 > end {
        return None;
    }
    let mut p = Pkt {
        ip_version,
        proto,
        src,
        dst,
        sport: 0,
        dport: 0,
        ttl,
        tos,
        ip_id,
        df,
        mf,
        frag_offset,
        tcp: None,
        icmp: None,
        payload: (base + l4, base + end),
    };
    if frag_offset != 0 {
        return Some(p);
    }
    match proto {
        6 if l4 + 20 <= end => {
            let doff = usize::from(f[l4 + 12] >> 4) * 4;
            p.sport = be16(f, l4);
            p.dport = be16(f, l4 + 2);
            p.tcp = Some(TcpFacts {
                flags: f[l4 + 13],
                seq: be32(f, l4 + 4),
                ack: be32(f, l4 + 8),
                window: be16(f, l4 + 14),
            });
            p.payload = (base + (l4 + doff).min(end), base + end);
        }
        17 if l4 + 8 <= end => {
            p.sport = be16(f, l4);
            p.dport = be16(f, l4 + 2);
            p.payload = (base + l4 + 8, base + end);
        }
        1 | 58 if l4 + 8 <= end => {
            p.icmp =
                Some(IcmpFacts { itype: f[l4], icode: f[l4 + 1], id: be16(f, l4 + 4), seq: be16(f, l4 + 6) });
            p.payload = (base + l4 + 8, base + end);
        }
        _ => {}
    }
    Some(p)
}

/// CPU time of this thread (ns on CPU from `/proc/thread-self/schedstat`, Linux), so that a
/// loaded machine does not skew the figure; falls back to wall time.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn service_of(port: u16) -> Option<&'static str> {
    Some(match port {
        80 | 8080 | 8000 => "http",
        53 => "dns",
        443 | 993 | 995 | 465 => "tls",
        25 | 587 => "smtp",
        21 => "ftp",
        22 => "ssh",
        445 | 139 => "smb",
        _ => return None,
    })
}

/// Packet classes for the per-class timing.
const CLASSES: [&str; 6] = ["tcp no payload", "tcp payload", "udp", "icmp", "other ip", "undecoded"];

fn class_of(p: &Pkt) -> usize {
    let empty = p.payload.0 >= p.payload.1;
    match p.proto {
        6 if empty => 0,
        6 => 1,
        17 => 2,
        1 | 58 => 3,
        _ => 4,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut pcap = manifest.join("../../benches/out/bench.pcap");
    let mut dir = manifest.join("../../../shared/rules/etopen-suricata5-2024-04");
    let mut max = usize::MAX;
    let mut service = false;
    let mut rounds = 3;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rules" => dir = PathBuf::from(args.next().expect("--rules DIR")),
            "--max" => max = args.next().and_then(|s| s.parse().ok()).expect("--max N"),
            "--rounds" => rounds = args.next().and_then(|s| s.parse().ok()).expect("--rounds N"),
            "--service" => service = true,
            _ => pcap = PathBuf::from(a),
        }
    }

    // Rules.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("rule directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    files.sort();
    let t0 = Instant::now();
    let rep = load_files(&files, &mut Vars::default(), &LoadOptions::default());
    let parse = t0.elapsed();
    let (rs, report) = RuleSet::compile(rep.rules, &CompileOptions::default());
    let automata: usize = report.groups.iter().map(|g| g.automata_bytes).sum();
    println!(
        "rules: {} compiled of {} | parse {:.0} ms + compile {:.0} ms = {:.2} s | {} groups, {:.1} MiB automata",
        report.compiled,
        report.rules_in,
        parse.as_secs_f64() * 1e3,
        report.elapsed.as_secs_f64() * 1e3,
        t0.elapsed().as_secs_f64(),
        report.groups.len(),
        automata as f64 / (1 << 20) as f64
    );

    let mut groups = report.groups.clone();
    groups.sort_by_key(|g| std::cmp::Reverse(g.automata_bytes));
    for g in groups.iter().take(12) {
        println!(
            "  group {:<32} rules {:>6} patterns {:>6} always {:>4} automata {:>6} KiB",
            g.name,
            g.rules,
            g.patterns,
            g.always,
            g.automata_bytes >> 10
        );
    }

    // Capture.
    let cap = std::fs::read(&pcap).unwrap_or_else(|e| panic!("{}: {e}", pcap.display()));
    assert!(cap.len() >= 24, "short pcap");
    let magic = u32::from_le_bytes([cap[0], cap[1], cap[2], cap[3]]);
    let swap = match magic {
        0xa1b2c3d4 | 0xa1b23c4d => false,
        0xd4c3b2a1 | 0x4d3cb2a1 => true,
        _ => panic!("not a classic pcap"),
    };
    let rd32 = |i: usize| {
        let v = u32::from_le_bytes([cap[i], cap[i + 1], cap[i + 2], cap[i + 3]]);
        if swap {
            v.swap_bytes()
        } else {
            v
        }
    };
    assert_eq!(rd32(20), 1, "link type must be Ethernet");
    let mut pkts = Vec::new();
    let mut undecoded = 0usize;
    let mut off = 24;
    while off + 16 <= cap.len() && pkts.len() + undecoded < max {
        let incl = rd32(off + 8) as usize;
        let base = off + 16;
        if base + incl > cap.len() {
            break;
        }
        match decode(&cap, base, incl) {
            Some(p) => pkts.push(p),
            None => undecoded += 1,
        }
        off = base + incl;
    }
    let payload_bytes: usize = pkts.iter().map(|p| p.payload.1.saturating_sub(p.payload.0)).sum();
    println!(
        "{}: {} packets decoded ({} not IP), {:.1} MB of transport payload, service {}",
        pcap.display(),
        pkts.len(),
        undecoded,
        payload_bytes as f64 / 1e6,
        if service { "from port" } else { "unknown" }
    );

    let facts = |p: &Pkt| {
        let pf = PacketFacts {
            ip_version: p.ip_version,
            proto: p.proto,
            src: p.src,
            dst: p.dst,
            src_port: p.sport,
            dst_port: p.dport,
            ttl: p.ttl,
            tos: p.tos,
            ip_id: p.ip_id,
            df: p.df,
            mf: p.mf,
            frag_offset: p.frag_offset,
            tcp: p.tcp,
            icmp: p.icmp,
            payload_len: p.payload.1.saturating_sub(p.payload.0) as u32,
            ..PacketFacts::default()
        };
        let to_server = p.dport < p.sport;
        let server_port = if to_server { p.dport } else { p.sport };
        let ff = FlowFacts {
            has_flow: true,
            established: true,
            to_server,
            app_proto: if service { service_of(server_port) } else { None },
            ..FlowFacts::default()
        };
        let payload = if p.payload.0 < p.payload.1 { &cap[p.payload.0..p.payload.1] } else { &[][..] };
        (pf, ff, Buffers::with_pkt_data(payload))
    };

    let mut det = Detector::new(&rs);
    let mut state = FlowDetectState::default();
    let mut out = Vec::new();
    let mut alerts = 0u64;
    let mut best = Duration::MAX;
    for round in 0..rounds {
        let before = *det.stats();
        let mut n_alerts = 0u64;
        let t = Instant::now();
        let c0 = cpu_ns();
        for (i, p) in pkts.iter().enumerate() {
            let (pf, ff, bufs) = facts(p);
            out.clear();
            rs.detect(&mut det, &pf, &ff, Some(&mut state), &bufs, i as i64 * 1000, &mut out);
            n_alerts += out.len() as u64;
        }
        let wall = t.elapsed();
        let el = match (c0, cpu_ns()) {
            (Some(a), Some(b)) => Duration::from_nanos(b - a),
            _ => wall,
        };
        best = best.min(el);
        let s = *det.stats();
        let np = pkts.len() as f64;
        println!(
            "round {round}: {:.3} s CPU ({:.3} s wall) = {:.0} packets/s | alerts {} | prefilter hits {:.2}/pkt | evaluated {:.2}/pkt",
            el.as_secs_f64(),
            wall.as_secs_f64(),
            np / el.as_secs_f64(),
            n_alerts,
            (s.prefilter_hits - before.prefilter_hits) as f64 / np,
            (s.evaluated - before.evaluated) as f64 / np,
        );
        alerts = n_alerts;
    }
    println!(
        "best: {:.0} packets/s ({:.0} MB/s of payload), {} alerts",
        pkts.len() as f64 / best.as_secs_f64(),
        payload_bytes as f64 / best.as_secs_f64() / 1e6,
        alerts
    );

    // Per class (timers around each packet: adds ~40 ns per packet).
    let mut per = [(0u64, Duration::ZERO, 0u64); CLASSES.len()];
    for (i, p) in pkts.iter().enumerate() {
        let (pf, ff, bufs) = facts(p);
        out.clear();
        let before = det.stats().evaluated;
        let t = Instant::now();
        rs.detect(&mut det, &pf, &ff, Some(&mut state), &bufs, i as i64 * 1000, &mut out);
        let el = t.elapsed();
        let c = &mut per[class_of(p)];
        c.0 += 1;
        c.1 += el;
        c.2 += det.stats().evaluated - before;
    }
    println!("per class: packets / share of time / µs per packet / evaluated per packet");
    let total: Duration = per.iter().map(|c| c.1).sum();
    for (k, (n, t, ev)) in per.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        println!(
            "  {:<15} {:>9} {:>5.1} % {:>8.3} µs {:>7.2}",
            CLASSES[k],
            n,
            100.0 * t.as_secs_f64() / total.as_secs_f64(),
            t.as_secs_f64() * 1e6 / *n as f64,
            *ev as f64 / *n as f64
        );
    }
    println!("{:?}", det.stats());
}
