//! Loads and compiles a rule directory (default: the shared ET Open set), prints the parse and
//! compile times and the report, then runs synthetic packets through the engine to show that
//! prefiltering keeps candidate counts low, and the packet rate of that single-threaded loop.
//!
//! `cargo run --release -p ids-detect --example ruleset_bench [-- DIR]`

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Instant;

use ids_detect::{
    BufferId, Buffers, CompileOptions, Detector, FlowDetectState, FlowFacts, PacketFacts, RuleSet, TcpFacts,
};
use ids_rules::{load_files, LoadOptions, Vars};

fn main() {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rules/etopen-suricata5-2024-04")
    });
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
    let total = t0.elapsed();
    println!("{}: {} enabled rules", dir.display(), report.rules_in);
    println!(
        "parse {:.0} ms + compile {:.0} ms = {:.2} s",
        parse.as_secs_f64() * 1e3,
        report.elapsed.as_secs_f64() * 1e3,
        total.as_secs_f64()
    );
    print!("{report}");
    let mut groups = report.groups.clone();
    groups.sort_by_key(|g| std::cmp::Reverse(g.rules));
    for g in groups.iter().take(8) {
        println!(
            "  group {:<28} rules {:>6} patterns {:>6} addr {:>5} always {:>4}",
            g.name, g.rules, g.patterns, g.addr_indexed, g.always
        );
    }

    // Synthetic traffic: HTTP requests and responses, DNS, TLS and random binary payloads.
    let http_req: &[u8] = b"GET /index.html?id=42&lang=en HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n";
    let http_resp: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 120\r\n\r\n<html><head><title>Welcome</title></head><body><p>Hello world, nothing to see here.</p></body></html>";
    let mut rng = 0x1234_5678_u64;
    let mut random = vec![0u8; 1200];
    for b in random.iter_mut() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        *b = rng as u8;
    }
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let client = ip("192.168.1.10");
    let server = ip("93.184.216.34");
    struct Case<'a> {
        name: &'a str,
        pkt: PacketFacts<'a>,
        flow: FlowFacts<'a>,
        bufs: Buffers<'a>,
    }
    let tcp = |sport, dport, len: usize| PacketFacts {
        proto: 6,
        src: client,
        dst: server,
        src_port: sport,
        dst_port: dport,
        tcp: Some(TcpFacts { flags: 0x18, seq: 1, ack: 1, window: 501 }),
        payload_len: len as u32,
        ..PacketFacts::default()
    };
    let flow = |app: Option<&'static str>, to_server| FlowFacts {
        has_flow: true,
        established: true,
        to_server,
        app_proto: app,
        ..FlowFacts::default()
    };
    let cases = [
        Case {
            name: "http request",
            pkt: tcp(40000, 80, http_req.len()),
            flow: flow(Some("http"), true),
            bufs: Buffers::with_pkt_data(http_req)
                .with(BufferId::HttpMethod, b"GET")
                .with(BufferId::HttpUri, b"/index.html?id=42&lang=en")
                .with(BufferId::HttpRawUri, b"/index.html?id=42&lang=en")
                .with(BufferId::HttpHost, b"www.example.com")
                .with(BufferId::HttpUserAgent, b"Mozilla/5.0 (X11; Linux x86_64)")
                .with(BufferId::HttpHeader, b"Host: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"),
        },
        Case {
            name: "http response",
            pkt: PacketFacts { src: server, dst: client, src_port: 80, dst_port: 40000, ..tcp(80, 40000, http_resp.len()) },
            flow: flow(Some("http"), false),
            bufs: Buffers::with_pkt_data(http_resp)
                .with(BufferId::HttpStatCode, b"200")
                .with(BufferId::HttpStatMsg, b"OK")
                .with(BufferId::FileData, b"<html><head><title>Welcome</title></head><body><p>Hello world, nothing to see here.</p></body></html>"),
        },
        Case {
            name: "dns query",
            pkt: PacketFacts { proto: 17, tcp: None, ..tcp(53000, 53, 40) },
            flow: flow(Some("dns"), true),
            bufs: Buffers::with_pkt_data(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01").with(BufferId::DnsQuery, b"www.example.com"),
        },
        Case {
            name: "tls client hello",
            pkt: tcp(40001, 443, 200),
            flow: flow(Some("tls"), true),
            bufs: Buffers::with_pkt_data(&random[..200]).with(BufferId::TlsSni, b"www.example.com"),
        },
        Case { name: "tcp random 1200", pkt: tcp(40002, 8443, 1200), flow: flow(None, true), bufs: Buffers::with_pkt_data(&random) },
        Case { name: "tcp ack, no payload", pkt: tcp(40002, 8443, 0), flow: flow(None, true), bufs: Buffers::new() },
        Case {
            name: "udp random 512",
            pkt: PacketFacts { proto: 17, tcp: None, ..tcp(5000, 6000, 512) },
            flow: flow(None, true),
            bufs: Buffers::with_pkt_data(&random[..512]),
        },
    ];
    let mut det = Detector::new(&rs);
    let mut out = Vec::new();
    let mut state = FlowDetectState::default();
    println!("\nper packet type: prefilter hits / rules evaluated / alerts");
    for c in &cases {
        let before = *det.stats();
        out.clear();
        rs.detect(&mut det, &c.pkt, &c.flow, Some(&mut state), &c.bufs, 0, &mut out);
        let after = *det.stats();
        println!(
            "  {:<22} {:>5} / {:>5} / {:>3} {:?}",
            c.name,
            after.prefilter_hits - before.prefilter_hits,
            after.evaluated - before.evaluated,
            out.len(),
            out.iter().map(|m| m.sid).collect::<Vec<_>>()
        );
    }
    for c in &cases {
        let t = Instant::now();
        let k = 20_000;
        for i in 0..k {
            out.clear();
            rs.detect(&mut det, &c.pkt, &c.flow, Some(&mut state), &c.bufs, i as i64 * 1000, &mut out);
        }
        println!("  {:<22} {:>8.0} ns/packet", c.name, t.elapsed().as_secs_f64() * 1e9 / k as f64);
    }
    let n = 200_000;
    let t = Instant::now();
    for i in 0..n {
        let c = &cases[i % cases.len()];
        out.clear();
        rs.detect(&mut det, &c.pkt, &c.flow, Some(&mut state), &c.bufs, i as i64 * 1000, &mut out);
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "\n{n} synthetic packets in {secs:.2} s = {:.0} packets/s (single thread, detection only)",
        n as f64 / secs
    );
    println!("{:?}", det.stats());
}
