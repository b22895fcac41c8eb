//! Option semantics, table-driven: (rule options, input, should match).

use std::net::IpAddr;

use ids_rules::{load_str, Dialect, LoadOptions, Vars};

use crate::*;

fn compile_d(text: &str, dialect: Option<Dialect>) -> RuleSet {
    let opts = LoadOptions { dialect, ..LoadOptions::default() };
    let rep = load_str(text, "t", &mut Vars::default(), &opts);
    assert!(rep.errors.is_empty(), "{text}: {:?}", rep.errors);
    let (rs, cr) = RuleSet::compile(rep.rules, &CompileOptions::default());
    assert!(cr.rejected.is_empty(), "{text}: {:?}", cr.rejected);
    rs
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn tcp_pkt(payload_len: usize) -> PacketFacts<'static> {
    PacketFacts {
        proto: 6,
        src: ip("10.0.0.1"),
        dst: ip("10.0.0.2"),
        src_port: 1234,
        dst_port: 80,
        tcp: Some(TcpFacts { flags: 0x18, seq: 1, ack: 1, window: 512 }),
        payload_len: payload_len as u32,
        ..PacketFacts::default()
    }
}

fn est() -> FlowFacts<'static> {
    FlowFacts { has_flow: true, established: true, to_server: true, ..FlowFacts::default() }
}

fn sids(rs: &RuleSet, pkt: &PacketFacts<'_>, flow: &FlowFacts<'_>, bufs: &Buffers<'_>) -> Vec<u32> {
    let mut det = Detector::new(rs);
    let mut out = Vec::new();
    rs.detect(&mut det, pkt, flow, None, bufs, 0, &mut out);
    out.iter().map(|m| m.sid).collect()
}

/// Runs a table of (options, payload, expected) rows as `alert tcp any any -> any any`.
fn table(dialect: Option<Dialect>, rows: &[(&str, &[u8], bool)]) {
    for (opts, payload, want) in rows {
        let rs = compile_d(&format!("alert tcp any any -> any any ({opts} sid:1;)"), dialect);
        let got = !sids(&rs, &tcp_pkt(payload.len()), &est(), &Buffers::with_pkt_data(payload)).is_empty();
        assert_eq!(got, *want, "{dialect:?} `{opts}` on {:?}", String::from_utf8_lossy(payload));
    }
}

#[test]
fn content_basics_and_positions() {
    table(
        None,
        &[
            (r#"content:"abc";"#, b"xxabcxx", true),
            (r#"content:"abc";"#, b"xxabxcx", false),
            (r#"content:"ABC";"#, b"abc", false),
            (r#"content:"ABC"; nocase;"#, b"xaBc", true),
            (r#"content:"|41 42|C";"#, b"zABC", true),
            (r#"content:"|00 ff|";"#, b"a\x00\xffb", true),
            // Snort manual: offset / depth.
            (r#"content:"ABC"; depth:3;"#, b"ABCD", true),
            (r#"content:"ABC"; depth:3;"#, b"xABC", false),
            (r#"content:"ABC"; offset:1;"#, b"ABC", false),
            (r#"content:"ABC"; offset:1;"#, b"xABC", true),
            (r#"content:"ABC"; offset:1; depth:3;"#, b"xABC", true),
            (r#"content:"ABC"; offset:1; depth:3;"#, b"xxABC", false),
            (r#"content:"cgi-bin/phf"; offset:4; depth:20;"#, b"GET /cgi-bin/phf", true),
            // distance / within.
            (r#"content:"ABC"; content:"DEF"; distance:1;"#, b"ABCxDEF", true),
            (r#"content:"ABC"; content:"DEF"; distance:1;"#, b"ABCDEF", false),
            (r#"content:"ABC"; content:"EFG"; within:10;"#, b"ABC123EFG", true),
            (r#"content:"ABC"; content:"EFG"; within:10;"#, b"ABC1234567890EFG", false),
            (r#"content:"ABC"; content:"DEF"; distance:-3;"#, b"xDEFABC", false),
            (r#"content:"ABC"; content:"BCD"; distance:-2; within:3;"#, b"ABCD", true),
            (r#"content:"DEF"; content:"ABC"; distance:0;"#, b"ABCDEF", false),
            // Snort 3 syntax.
            (r#"content:"ABC",depth 3,nocase;"#, b"abcd", true),
            (r#"content:"x",offset 2; content:"y",distance 0,within 1;"#, b"xxxy", true),
        ],
    );
}

#[test]
fn relative_matches_retry_earlier_contents() {
    table(
        None,
        &[
            // The brief's example and the Snort manual's "Optimizing Rules" one.
            (r#"content:"a"; content:"b"; distance:0; within:1;"#, b"a a ab", true),
            (r#"content:"a"; content:"b"; distance:0; within:1;"#, b"a a a b", false),
            (r#"content:"a"; content:"b"; within:1;"#, b"aab", true),
            // Three levels: the middle content has to be retried via the first one.
            (
                r#"content:"x"; content:"y"; distance:0; within:2; content:"z"; distance:0; within:1;"#,
                b"xy1 xyz",
                true,
            ),
            (
                r#"content:"x"; content:"y"; distance:0; within:2; content:"z"; distance:0; within:1;"#,
                b"xy1 xy2",
                false,
            ),
            // Retry after a relative byte_test fails on the first occurrence.
            (r#"content:"id="; byte_test:1,=,0x37,0,relative;"#, b"id=1 id=7", true),
            (r#"content:"id="; byte_test:1,=,0x37,0,relative;"#, b"id=1 id=8", false),
            // Retry through a relative isdataat.
            (r#"content:"k"; isdataat:!1,relative;"#, b"k k", true),
        ],
    );
}

#[test]
fn negated_contents() {
    table(
        None,
        &[
            (r#"content:!"abc";"#, b"xyz", true),
            (r#"content:!"abc";"#, b"xabcx", false),
            (r#"content:"GET"; content:!"HTTP/1.1"; distance:0;"#, b"GET / HTTP/1.0", true),
            (r#"content:"GET"; content:!"HTTP/1.1"; distance:0;"#, b"GET / HTTP/1.1", false),
            (r#"content:!"a"; depth:1;"#, b"ba", true),
            (r#"content:!"a"; depth:1;"#, b"ab", false),
            (r#"content:"abc"; content:!"xy"; within:2;"#, b"abcz", true),
            // Snort: a window with no data fails a negated content.
            (r#"content:"abc"; content:!"x"; distance:0;"#, b"abc", false),
            (r#"content:"abc"; content:!"x"; distance:0;"#, b"abcy", true),
        ],
    );
    // Suricata: the same empty window matches.
    table(Some(Dialect::Suricata), &[(r#"content:"abc"; content:!"x"; distance:0;"#, b"abc", true)]);
}

#[test]
fn fast_pattern_variants() {
    table(
        Some(Dialect::Snort2),
        &[
            (r#"content:"abcdef"; fast_pattern:2,2;"#, b"abcdef", true),
            (r#"content:"abcdef"; fast_pattern:2,2;"#, b"cd", false),
            // fast_pattern:only does not move the cursor in Snort 2.
            (r#"content:"zzz"; fast_pattern:only; content:"def"; distance:0; within:3;"#, b"defzzz", true),
            (r#"content:"short"; content:"longer one"; fast_pattern;"#, b"longer one short", true),
            (r#"content:"ab"; nocase; fast_pattern;"#, b"xAB", true),
        ],
    );
}

#[test]
fn pcre_options() {
    table(
        None,
        &[
            (r#"pcre:"/ab+c/";"#, b"xabbbc", true),
            (r#"pcre:"/ab+c/";"#, b"xac", false),
            (r#"pcre:"/ABC/i";"#, b"abc", true),
            (r#"pcre:"/a.b/";"#, b"a\nb", false),
            (r#"pcre:"/a.b/s";"#, b"a\nb", true),
            (r#"pcre:"/^b/m";"#, b"a\nb", true),
            (r#"pcre:"/^b/";"#, b"a\nb", false),
            (r#"pcre:!"/abc/";"#, b"xyz", true),
            (r#"pcre:!"/abc/";"#, b"abc", false),
            (r#"content:"foo"; pcre:"/^bar/R";"#, b"foobar", true),
            (r#"content:"foo"; pcre:"/^bar/R";"#, b"foo bar", false),
            (r#"content:"foo"; pcre:"/bar/R";"#, b"barfoo", false),
            // The content is retried so the relative pcre finds its anchor.
            (r#"content:"a"; pcre:"/^b/R";"#, b"ac ab", true),
            (r#"pcre:"/a+/"; content:"b"; distance:0; within:1;"#, b"aab", true),
            (r#"pcre:"/x/"; content:"b"; distance:0; within:1;"#, b"xa xb", true),
            (r#"pcre:"/foo(?=bar)/";"#, b"foobar", true),
            (r#"pcre:"/foo(?=bar)/";"#, b"foobaz", false),
            (r#"pcre:"/(ab)\1/";"#, b"xabab", true),
            (r#"pcre:"/\x2f\d{3}/";"#, b"/123", true),
            (r#"pcre:"/b/A";"#, b"ab", false),
        ],
    );
}

#[test]
fn pcre_buffer_flags() {
    let rs = compile_d(r#"alert tcp any any -> any any (pcre:"/\.php$/U"; sid:1;)"#, None);
    let p = tcp_pkt(6);
    assert_eq!(sids(&rs, &p, &est(), &Buffers::with_pkt_data(b"/x.php")), Vec::<u32>::new());
    let b = Buffers::with_pkt_data(b"GET").with(BufferId::HttpUri, b"/x.php");
    assert_eq!(sids(&rs, &p, &est(), &b), vec![1]);
    for (flag, buf) in [
        ('H', BufferId::HttpHeader),
        ('P', BufferId::HttpClientBody),
        ('I', BufferId::HttpRawUri),
        ('D', BufferId::HttpRawHeader),
        ('M', BufferId::HttpMethod),
        ('C', BufferId::HttpCookie),
        ('K', BufferId::HttpRawCookie),
        ('S', BufferId::HttpStatCode),
        ('Y', BufferId::HttpStatMsg),
        ('B', BufferId::RawData),
    ] {
        let rs = compile_d(&format!("alert tcp any any -> any any (pcre:\"/zz/{flag}\"; sid:1;)"), None);
        let yes = Buffers::with_pkt_data(b"-").with(buf, b"azz");
        assert_eq!(sids(&rs, &p, &est(), &yes), vec![1], "{flag}");
        if buf != BufferId::RawData {
            assert!(sids(&rs, &p, &est(), &Buffers::with_pkt_data(b"azz")).is_empty(), "{flag}");
        }
    }
}

#[test]
fn byte_options() {
    table(
        None,
        &[
            ("byte_test:1,>,5,0;", b"\x06", true),
            ("byte_test:1,>,5,0;", b"\x05", false),
            ("byte_test:2,=,0x0102,1;", b"\x00\x01\x02", true),
            ("byte_test:2,=,0x0201,0,little;", b"\x01\x02", true),
            ("byte_test:2,=,0x0201,0,dce;", b"\x01\x02", true),
            ("byte_test:3,>,100,0,string,dec;", b"200", true),
            ("byte_test:3,>,100,0,string,dec;", b"050", false),
            ("byte_test:2,=,0x1f,0,string,hex;", b"1f", true),
            ("byte_test:1,&,0x80,0;", b"\x80", true),
            ("byte_test:1,!&,0x80,0;", b"\x7f", true),
            ("byte_test:1,!&,0x80,0;", b"\x80", false),
            ("byte_test:1,^,0x01,0;", b"\x01", false),
            ("byte_test:1,!=,3,0;", b"\x04", true),
            ("byte_test:1,<=,3,0;", b"\x03", true),
            ("byte_test:1,=,0xf,0,bitmask 0xf0;", b"\xf5", true),
            ("byte_test:4,>,0,2;", b"\x01\x02\x03", false),
            (r#"content:"len="; byte_test:2,=,42,0,relative,string,dec;"#, b"len=42", true),
            // byte_jump
            (r#"byte_jump:1,0; content:"X"; within:1;"#, b"\x02abX", true),
            (r#"byte_jump:1,0; content:"X"; within:1;"#, b"\x01abX", false),
            (
                r#"content:"|00|"; byte_jump:1,0,relative; content:"Z"; distance:0; within:1;"#,
                b"q\x00\x01yZ",
                true,
            ),
            (r#"byte_jump:1,0,from_beginning; content:"Z"; within:1;"#, b"\x03abZ", true),
            (r#"byte_jump:1,0,multiplier 2; content:"Z"; within:1;"#, b"\x02abcdZ", true),
            (r#"byte_jump:1,0,align; content:"Z"; within:1;"#, b"\x03abcdZ", true),
            (r#"byte_jump:1,0,post_offset -1; content:"Z"; within:1;"#, b"\x02aZb", true),
            (r#"byte_jump:2,0,string,dec; content:"!"; within:1;"#, b"03abc!", true),
            (r#"byte_jump:1,0,from_end,post_offset -1; content:"Z"; within:1;"#, b"\x00abZ", true),
            ("byte_jump:1,0;", b"\x09ab", false),
            // byte_extract: variables as within / offset / operands.
            (r#"byte_extract:1,0,len; content:"abc"; within:len;"#, b"\x05xxabc", true),
            (r#"byte_extract:1,0,len; content:"abc"; within:len;"#, b"\x03xxabc", false),
            (r#"byte_extract:1,0,off; content:"Z"; offset:off; depth:1;"#, b"\x03abZ", true),
            (r#"byte_extract:1,0,off; content:"Z"; offset:off; depth:1;"#, b"\x02abZ", false),
            ("byte_extract:1,0,v; byte_test:1,=,v,1;", b"\x07\x07", true),
            ("byte_extract:1,0,v; byte_test:1,=,v,1;", b"\x07\x08", false),
            ("byte_extract:1,0,v,multiplier 2; byte_test:1,=,v,1;", b"\x03\x06", true),
            (
                r#"content:"n="; byte_extract:1,0,v,relative,string,dec; byte_test:1,=,v,0,relative;"#,
                b"n=5\x05",
                true,
            ),
            // byte_math
            ("byte_math:bytes 1,offset 0,oper +,rvalue 2,result r; byte_test:1,=,r,1;", b"\x03\x05", true),
            (
                "byte_extract:1,0,a; byte_math:bytes 1,offset 1,oper *,rvalue a,result r; byte_test:1,=,r,2;",
                b"\x02\x03\x06",
                true,
            ),
            ("byte_math:bytes 1,offset 0,oper /,rvalue 0,result r;", b"\x03", false),
            ("byte_math:bytes 1,offset 0,oper >>,rvalue 1,result r; byte_test:1,=,r,1;", b"\x08\x04", true),
        ],
    );
}

#[test]
fn isdataat_and_sizes() {
    table(
        None,
        &[
            ("isdataat:3;", b"abcd", true),
            ("isdataat:3;", b"abc", false),
            ("isdataat:!3;", b"abc", true),
            (r#"content:"abc"; isdataat:2,relative;"#, b"abcxyz", true),
            (r#"content:"abc"; isdataat:2,relative;"#, b"abcxy", false),
            (r#"content:"abc"; isdataat:!0,relative;"#, b"abc", true),
            (r#"content:"abc"; isdataat:!0,relative;"#, b"abcd", false),
            ("dsize:>3;", b"abcd", true),
            ("dsize:>3;", b"abc", false),
            ("dsize:3<>5;", b"abcde", true), // Snort 2: inclusive
            ("dsize:!4;", b"abc", true),
        ],
    );
    table(
        Some(Dialect::Suricata),
        &[
            (r#"content:"abc"; isdataat:!1,relative;"#, b"abc", true),
            (r#"content:"abc"; isdataat:!1,relative;"#, b"abcd", false),
            (r#"content:"abc"; isdataat:1,relative;"#, b"abcd", true),
            ("dsize:3<>5;", b"abcde", false), // Suricata / Snort 3: exclusive
            ("dsize:3<>5;", b"abcd", true),
        ],
    );
    table(Some(Dialect::Snort3), &[("dsize:3<>5;", b"abcde", false), ("dsize:3<=>5;", b"abcde", true)]);
}

#[test]
fn sticky_buffers_and_suricata_keywords() {
    let http = FlowFacts { app_proto: Some("http"), ..est() };
    type Row<'a> = (&'a str, &'a [(BufferId, &'a [u8])], bool);
    let rows: &[Row<'_>] = &[
        (r#"http.uri; content:"/admin"; startswith;"#, &[(BufferId::HttpUri, b"/admin/x")], true),
        (r#"http.uri; content:"/admin"; startswith;"#, &[(BufferId::HttpUri, b"/x/admin")], false),
        (r#"http.host; content:"example.com"; endswith;"#, &[(BufferId::HttpHost, b"www.example.com")], true),
        (
            r#"http.host; content:"example.com"; endswith;"#,
            &[(BufferId::HttpHost, b"example.com.evil")],
            false,
        ),
        (r#"http.uri; bsize:6;"#, &[(BufferId::HttpUri, b"/a.php")], true),
        (r#"http.uri; bsize:6;"#, &[(BufferId::HttpUri, b"/ab.php")], false),
        (r#"http.uri; content:"/a"; bsize:>5;"#, &[(BufferId::HttpUri, b"/a.php")], true),
        (
            r#"http.method; content:"POST"; http.uri; content:".php";"#,
            &[(BufferId::HttpMethod, b"POST"), (BufferId::HttpUri, b"/a.php")],
            true,
        ),
        (
            r#"http.method; content:"POST"; http.uri; content:".php";"#,
            &[(BufferId::HttpMethod, b"GET"), (BufferId::HttpUri, b"/a.php")],
            false,
        ),
        (r#"http.uri; content:".php"; pkt_data; content:"GET";"#, &[(BufferId::HttpUri, b"/a.php")], true),
        (
            r#"http.header; content:"User-Agent|3a| x";"#,
            &[(BufferId::HttpHeader, b"Host: a\r\nUser-Agent: x\r\n")],
            true,
        ),
        (r#"http.stat_code; content:"200";"#, &[(BufferId::HttpStatCode, b"200")], true),
        (r#"http.request_body; content:"pw=";"#, &[(BufferId::HttpClientBody, b"user=a&pw=b")], true),
        (r#"file.data; content:"MZ"; depth:2;"#, &[(BufferId::FileData, b"MZ\x90\x00")], true),
        (r#"http.uri; to_lowercase; content:"/admin";"#, &[(BufferId::HttpUri, b"/ADMIN")], true),
        (r#"urilen:6;"#, &[(BufferId::HttpUri, b"/a.php")], true),
        (r#"urilen:>6;"#, &[(BufferId::HttpUri, b"/a.php")], false),
        // Legacy content modifiers.
        (
            r#"content:"POST"; http_method; content:"/a"; http_uri;"#,
            &[(BufferId::HttpMethod, b"POST"), (BufferId::HttpUri, b"/a")],
            true,
        ),
        (r#"content:"/a"; http_uri;"#, &[], false),
        (r#"uricontent:"/a";"#, &[(BufferId::HttpUri, b"/a")], true),
    ];
    for (opts, bufs, want) in rows {
        let rs = compile_d(&format!("alert http any any -> any any ({opts} sid:1;)"), None);
        let mut b = Buffers::with_pkt_data(b"GET /a.php HTTP/1.1\r\n");
        for (id, data) in *bufs {
            b.set(*id, data);
        }
        let got = !sids(&rs, &tcp_pkt(20), &http, &b).is_empty();
        assert_eq!(got, *want, "`{opts}`");
    }
    // dotprefix on dns.query / tls.sni.
    let dns = FlowFacts { app_proto: Some("dns"), ..est() };
    let rs = compile_d(
        r#"alert dns any any -> any any (dns.query; dotprefix; content:".evil.com"; endswith; sid:1;)"#,
        None,
    );
    let udp = PacketFacts { proto: 17, tcp: None, dst_port: 53, ..tcp_pkt(30) };
    for (q, want) in
        [(&b"a.evil.com"[..], true), (b"evil.com", true), (b"notevil.com", false), (b"evil.com.x", false)]
    {
        let b = Buffers::with_pkt_data(b"-").with(BufferId::DnsQuery, q);
        assert_eq!(!sids(&rs, &udp, &dns, &b).is_empty(), want, "{}", String::from_utf8_lossy(q));
    }
    let tls = FlowFacts { app_proto: Some("tls"), ..est() };
    let rs =
        compile_d(r#"alert tls any any -> any any (tls.sni; content:"bad.example"; nocase; sid:1;)"#, None);
    let b = Buffers::with_pkt_data(b"-").with(BufferId::TlsSni, b"BAD.example");
    assert_eq!(sids(&rs, &tcp_pkt(1), &tls, &b), vec![1]);
    // `ssl` service names the same thing.
    let ssl = FlowFacts { app_proto: Some("ssl"), ..est() };
    assert_eq!(sids(&rs, &tcp_pkt(1), &ssl, &b), vec![1]);
    // Snort 3 sticky spelling.
    let rs = compile_d(r#"alert tcp any any -> any any (http_uri; content:"/x",nocase; sid:1;)"#, None);
    let b = Buffers::with_pkt_data(b"-").with(BufferId::HttpUri, b"/X");
    assert_eq!(sids(&rs, &tcp_pkt(1), &est(), &b), vec![1]);
}

#[test]
fn header_options() {
    let rs_of = |o: &str| compile_d(&format!("alert ip any any -> any any ({o} sid:1;)"), None);
    let base = tcp_pkt(0);
    let with_flags = |f: u8| PacketFacts { tcp: Some(TcpFacts { flags: f, ..TcpFacts::default() }), ..base };
    let icmp = PacketFacts {
        proto: 1,
        tcp: None,
        icmp: Some(IcmpFacts { itype: 8, icode: 0, id: 77, seq: 3 }),
        ..base
    };
    let rows: Vec<(&str, PacketFacts<'_>, bool)> = vec![
        ("flags:S;", with_flags(0x02), true),
        ("flags:S;", with_flags(0x12), false),
        ("flags:S+;", with_flags(0x12), true),
        ("flags:SA;", with_flags(0x12), true),
        ("flags:*SA;", with_flags(0x02), true),
        ("flags:*SA;", with_flags(0x01), false),
        ("flags:!A;", with_flags(0x02), true),
        ("flags:!A;", with_flags(0x12), false),
        ("flags:S,12;", with_flags(0x82), true),
        ("flags:S,CE;", with_flags(0xc2), true),
        ("flags:0;", with_flags(0x00), true),
        ("flags:S;", icmp, false),
        ("ttl:<5;", PacketFacts { ttl: 3, ..base }, true),
        ("ttl:<5;", PacketFacts { ttl: 5, ..base }, false),
        ("ttl:3-5;", PacketFacts { ttl: 5, ..base }, true),
        ("tos:!4;", PacketFacts { tos: 8, ..base }, true),
        ("id:31337;", PacketFacts { ip_id: 31337, ..base }, true),
        ("ip_proto:6;", base, true),
        ("ip_proto:!tcp;", base, false),
        ("ip_proto:igmp;", PacketFacts { proto: 2, tcp: None, ..base }, true),
        ("itype:8;", icmp, true),
        ("itype:>30;", icmp, false),
        ("icode:0;", icmp, true),
        ("icmp_id:77;", icmp, true),
        ("icmp_seq:3;", icmp, true),
        ("itype:8;", base, false),
        ("sameip;", PacketFacts { dst: ip("10.0.0.1"), ..base }, true),
        ("sameip;", base, false),
        ("ack:0;", PacketFacts { tcp: Some(TcpFacts { ack: 0, ..TcpFacts::default() }), ..base }, true),
        ("seq:1;", base, true),
        ("window:!512;", base, false),
        ("fragbits:M;", PacketFacts { mf: true, ..base }, true),
        ("fragbits:M;", PacketFacts { mf: true, df: true, ..base }, false),
        ("fragbits:M+;", PacketFacts { mf: true, df: true, ..base }, true),
        ("fragbits:!D;", PacketFacts { mf: true, ..base }, true),
        ("fragoffset:0;", base, true),
        ("fragoffset:>0;", PacketFacts { frag_offset: 2, ..base }, true),
        ("ipopts:rr;", PacketFacts { ip_options: &[7], ..base }, true),
        ("ipopts:any;", base, false),
    ];
    for (o, p, want) in rows {
        let got = !sids(&rs_of(o), &p, &est(), &Buffers::new()).is_empty();
        assert_eq!(got, want, "`{o}`");
    }
}

#[test]
fn flow_options() {
    let rs_of = |o: &str| compile_d(&format!("alert tcp any any -> any any ({o} sid:1;)"), None);
    let p = tcp_pkt(0);
    let stream = PacketFacts { is_rebuilt_stream: true, ..p };
    let client = est();
    let server = FlowFacts { to_server: false, ..est() };
    let fresh = FlowFacts { established: false, ..est() };
    let big = FlowFacts { client_bytes: 200, ..est() };
    let http = FlowFacts { app_proto: Some("http"), ..est() };
    let rows: Vec<(&str, &PacketFacts<'_>, &FlowFacts<'_>, bool)> = vec![
        ("flow:established,to_server;", &p, &client, true),
        ("flow:established,to_server;", &p, &server, false),
        ("flow:established,to_server;", &p, &fresh, false),
        ("flow:to_client;", &p, &server, true),
        ("flow:from_server;", &p, &server, true),
        ("flow:not_established;", &p, &fresh, true),
        ("flow:stateless;", &p, &fresh, true),
        ("flow:only_stream;", &stream, &client, true),
        ("flow:only_stream;", &p, &client, false),
        ("flow:no_stream;", &p, &client, true),
        ("flow:no_stream;", &stream, &client, false),
        ("stream_size:client,>,100;", &p, &big, true),
        ("stream_size:server,>,100;", &p, &big, false),
        ("app-layer-protocol:http;", &p, &http, true),
        ("app-layer-protocol:!http;", &p, &http, false),
    ];
    for (o, pkt, flow, want) in rows {
        let got = !sids(&rs_of(o), pkt, flow, &Buffers::new()).is_empty();
        assert_eq!(got, want, "`{o}`");
    }
}

#[test]
fn flowbits_across_packets() {
    let rs = compile_d(
        r#"alert tcp any any -> any any (content:"login"; flowbits:set,logged; flowbits:noalert; sid:1;)
alert tcp any any -> any any (content:"cmd"; flowbits:isset,logged; sid:2;)
alert tcp any any -> any any (content:"cmd"; flowbits:isnotset,logged; sid:3;)
alert tcp any any -> any any (content:"logout"; flowbits:unset,logged; sid:4;)
alert tcp any any -> any any (content:"flip"; flowbits:toggle,a; sid:5;)
alert tcp any any -> any any (content:"q"; flowbits:isset,a|logged; sid:6;)
alert tcp any any -> any any (content:"q"; flowbits:isset,a&logged; sid:7;)
"#,
        None,
    );
    let mut det = Detector::new(&rs);
    let mut st = FlowDetectState::default();
    let mut send = |payload: &[u8], st: Option<&mut FlowDetectState>| {
        let mut out = Vec::new();
        rs.detect(
            &mut det,
            &tcp_pkt(payload.len()),
            &est(),
            st,
            &Buffers::with_pkt_data(payload),
            0,
            &mut out,
        );
        out.iter().map(|m| m.sid).collect::<Vec<_>>()
    };
    assert_eq!(send(b"cmd", Some(&mut st)), vec![3]);
    assert_eq!(send(b"login", Some(&mut st)), Vec::<u32>::new()); // noalert
    assert_eq!(send(b"cmd", Some(&mut st)), vec![2]);
    assert_eq!(send(b"cmd", None), vec![3]); // no flow state: nothing is set
    assert_eq!(send(b"q", Some(&mut st)), vec![6]);
    assert_eq!(send(b"flip", Some(&mut st)), vec![4 + 1]);
    assert_eq!(send(b"q", Some(&mut st)), vec![6, 7]);
    assert_eq!(send(b"logout", Some(&mut st)), vec![4]);
    assert_eq!(send(b"cmd", Some(&mut st)), vec![3]);
    // Setter and checker in the same packet: setters are evaluated first.
    let mut st2 = FlowDetectState::default();
    assert_eq!(send(b"login cmd", Some(&mut st2)), vec![2]);
}

#[test]
fn xbits_and_flowint() {
    let rs = compile_d(
        r#"alert tcp any any -> any any (content:"a"; xbits:set,seen,track ip_src,expire 10; noalert; sid:1;)
alert tcp any any -> any any (content:"b"; xbits:isset,seen,track ip_src; sid:2;)
alert tcp any any -> any any (content:"c"; flowint:n,+,1; noalert; sid:3;)
alert tcp any any -> any any (content:"d"; flowint:n,>=,2; sid:4;)
"#,
        Some(Dialect::Suricata),
    );
    let mut det = Detector::new(&rs);
    let mut st = FlowDetectState::default();
    let mut send = |payload: &[u8], src: &str, now_s: i64, st: &mut FlowDetectState| {
        let mut out = Vec::new();
        let p = PacketFacts { src: ip(src), ..tcp_pkt(payload.len()) };
        rs.detect(
            &mut det,
            &p,
            &est(),
            Some(st),
            &Buffers::with_pkt_data(payload),
            now_s * 1_000_000_000,
            &mut out,
        );
        out.iter().map(|m| m.sid).collect::<Vec<_>>()
    };
    let mut other = FlowDetectState::default();
    assert_eq!(send(b"b", "1.1.1.1", 0, &mut st), Vec::<u32>::new());
    send(b"a", "1.1.1.1", 1, &mut st);
    assert_eq!(send(b"b", "1.1.1.1", 2, &mut other), vec![2]); // host bit: any flow
    assert_eq!(send(b"b", "2.2.2.2", 2, &mut other), Vec::<u32>::new());
    assert_eq!(send(b"b", "1.1.1.1", 12, &mut other), Vec::<u32>::new()); // expired
    send(b"c", "1.1.1.1", 0, &mut st);
    assert_eq!(send(b"d", "1.1.1.1", 0, &mut st), Vec::<u32>::new());
    send(b"c", "1.1.1.1", 0, &mut st);
    assert_eq!(send(b"d", "1.1.1.1", 0, &mut st), vec![4]);
}

#[test]
fn thresholds_over_time() {
    let cases: &[(&str, &[i64], &[bool])] = &[
        (
            "threshold:type limit,track by_src,count 2,seconds 60;",
            &[0, 1, 2, 3, 61, 62],
            &[true, true, false, false, true, true],
        ),
        (
            "threshold:type threshold,track by_src,count 3,seconds 60;",
            &[0, 1, 2, 3, 4, 5],
            &[false, false, true, false, false, true],
        ),
        (
            "threshold:type both,track by_dst,count 3,seconds 60;",
            &[0, 1, 2, 3, 4, 70, 71, 72],
            &[false, false, true, false, false, false, false, true],
        ),
        (
            "detection_filter:track by_src,count 2,seconds 10;",
            &[0, 1, 2, 3, 20],
            &[false, false, true, true, false],
        ),
        (
            "threshold:type backoff,track by_src,count 1,multiplier 2;",
            &[0, 1, 2, 3, 4, 5, 6, 7],
            &[true, true, false, true, false, false, false, true],
        ),
    ];
    for (opt, times, want) in cases {
        let rs = compile_d(&format!("alert tcp any any -> any any (content:\"x\"; {opt} sid:9;)"), None);
        let mut det = Detector::new(&rs);
        let got: Vec<bool> = times
            .iter()
            .map(|t| {
                let mut out = Vec::new();
                rs.detect(
                    &mut det,
                    &tcp_pkt(1),
                    &est(),
                    None,
                    &Buffers::with_pkt_data(b"x"),
                    t * 1_000_000_000,
                    &mut out,
                );
                !out.is_empty()
            })
            .collect();
        assert_eq!(&got, want, "{opt}");
    }
    // by_src keeps separate counts per source.
    let rs = compile_d("alert tcp any any -> any any (content:\"x\"; threshold:type limit,track by_src,count 1,seconds 60; sid:9;)", None);
    let mut det = Detector::new(&rs);
    for (src, want) in [("1.1.1.1", 1), ("1.1.1.1", 0), ("2.2.2.2", 1)] {
        let mut out = Vec::new();
        let p = PacketFacts { src: ip(src), ..tcp_pkt(1) };
        rs.detect(&mut det, &p, &est(), None, &Buffers::with_pkt_data(b"x"), 0, &mut out);
        assert_eq!(out.len(), want, "{src}");
    }
}

#[test]
fn configured_filters() {
    let rules = load_str(
        "alert tcp any any -> any any (content:\"x\"; sid:1;)\nalert tcp any any -> any any (content:\"x\"; sid:2;)",
        "t",
        &mut Vars::default(),
        &LoadOptions::default(),
    )
    .rules;
    let opts = CompileOptions {
        event_filters: vec![EventFilter {
            gid: 1,
            sid: 1,
            spec: FilterSpec { kind: FilterKind::Limit, track: TrackBy::Src, count: 1, seconds: 60 },
        }],
        suppressions: vec![Suppression { gid: 1, sid: 2, track: None }],
        ..CompileOptions::default()
    };
    let (rs, _) = RuleSet::compile(rules, &opts);
    let mut det = Detector::new(&rs);
    let mut run = || {
        let mut out = Vec::new();
        rs.detect(&mut det, &tcp_pkt(1), &est(), None, &Buffers::with_pkt_data(b"x"), 0, &mut out);
        out.iter().map(|m| m.sid).collect::<Vec<_>>()
    };
    assert_eq!(run(), vec![1]);
    assert_eq!(run(), Vec::<u32>::new());
}

#[test]
fn addresses_ports_and_direction() {
    let rs = compile_d(
        r#"alert tcp 10.0.0.1 any -> 10.0.0.2 80 (content:"x"; sid:1;)
alert tcp 10.0.0.1 any <> 10.0.0.2 80 (content:"x"; sid:2;)
alert tcp any any -> any !80 (content:"x"; sid:3;)
alert tcp any any -> any [80,8080] (content:"x"; sid:4;)
alert tcp any any -> any 1024: (content:"x"; sid:5;)
alert tcp any 80 -> any any (content:"x"; sid:6;)
alert tcp !10.0.0.0/8 any -> any any (content:"x"; sid:7;)
alert udp any any -> any any (content:"x"; sid:8;)
alert ip [192.168.1.1,192.168.1.7] any -> any any (msg:"reputation"; sid:9;)
alert tcp any any -> any any (flags:S; sid:10;)
"#,
        None,
    );
    let fwd = tcp_pkt(1);
    let rev = PacketFacts { src: fwd.dst, dst: fwd.src, src_port: 80, dst_port: 1234, ..fwd };
    let alt = PacketFacts { dst_port: 8080, ..fwd };
    let ext = PacketFacts { src: ip("8.8.8.8"), ..fwd };
    let rep = PacketFacts { src: ip("192.168.1.7"), ..fwd };
    let syn = PacketFacts { tcp: Some(TcpFacts { flags: 0x02, ..TcpFacts::default() }), ..fwd };
    let x = Buffers::with_pkt_data(b"x");
    assert_eq!(sids(&rs, &fwd, &est(), &x), vec![1, 2, 4]);
    assert_eq!(sids(&rs, &rev, &est(), &x), vec![2, 3, 5, 6]);
    assert_eq!(sids(&rs, &alt, &est(), &x), vec![3, 4, 5]);
    assert_eq!(sids(&rs, &ext, &est(), &x), vec![4, 7]);
    assert_eq!(sids(&rs, &rep, &est(), &Buffers::with_pkt_data(b"-")), vec![9]);
    assert_eq!(sids(&rs, &syn, &est(), &Buffers::new()), vec![10]);
    let udp = PacketFacts { proto: 17, tcp: None, ..fwd };
    assert_eq!(sids(&rs, &udp, &est(), &x), vec![8]);
}

#[test]
fn services_and_app_headers() {
    let rs = compile_d(
        r#"alert http any any -> any any (content:"x"; sid:1;)
alert tcp any any -> any 80 (content:"x"; service:http; sid:2;)
alert tcp any any -> any any (content:"x"; sid:3;)
"#,
        None,
    );
    let x = Buffers::with_pkt_data(b"x");
    let p80 = tcp_pkt(1);
    let p81 = PacketFacts { dst_port: 81, ..p80 };
    let http = FlowFacts { app_proto: Some("http"), ..est() };
    let ssh = FlowFacts { app_proto: Some("ssh"), ..est() };
    assert_eq!(sids(&rs, &p80, &http, &x), vec![1, 2, 3]);
    assert_eq!(sids(&rs, &p81, &http, &x), vec![1, 2, 3]); // service decides, not the port
    assert_eq!(sids(&rs, &p80, &est(), &x), vec![2, 3]); // unknown service: ports
    assert_eq!(sids(&rs, &p81, &est(), &x), vec![3]);
    assert_eq!(sids(&rs, &p80, &ssh, &x), vec![3]);
}

#[test]
fn pass_rules_and_noalert_and_metadata() {
    let rs = compile_d(
        r#"pass tcp any any -> any any (content:"ok"; sid:1;)
alert tcp any any -> any any (msg:"bad"; content:"o"; classtype:trojan-activity; priority:2; sid:2; rev:3;)
"#,
        None,
    );
    assert_eq!(sids(&rs, &tcp_pkt(2), &est(), &Buffers::with_pkt_data(b"ok")), vec![1]);
    let mut det = Detector::new(&rs);
    let mut out = Vec::new();
    rs.detect(&mut det, &tcp_pkt(2), &est(), None, &Buffers::with_pkt_data(b"oz"), 0, &mut out);
    let m = out[0];
    assert_eq!((m.gid, m.sid, m.rev, m.priority), (1, 2, 3, Some(2)));
    let info = rs.rule(m.rule).unwrap();
    assert_eq!(info.rule.meta.msg.as_deref(), Some("bad"));
    assert_eq!(info.rule.meta.classtype.as_deref(), Some("trojan-activity"));
}

#[test]
fn hostile_rules_are_rejected_or_bounded() {
    let bad = [
        r#"alert tcp any any -> any any (pcre:"/(?<x/"; sid:1;)"#,
        r#"alert tcp any any -> any any (content:"a"; within:nosuchvar; sid:2;)"#,
        r#"alert tcp any any -> any any (byte_test:9,=,1,0; sid:3;)"#,
        r#"alert tcp any any -> any any (content:"abc"; depth:2; sid:4;)"#,
        r#"alert tcp any any -> any any (to_md5; content:"a"; sid:5;)"#,
    ];
    for text in bad {
        let rep = load_str(text, "t", &mut Vars::default(), &LoadOptions::default());
        let (rs, cr) = RuleSet::compile(rep.rules.clone(), &CompileOptions::default());
        assert_eq!(rs.len(), 0, "{text}");
        assert!(rep.errors.len() + cr.rejected.len() == 1, "{text}: {:?} {:?}", rep.errors, cr.rejected);
        if let Some(r) = cr.rejected.first() {
            assert!(r.location.starts_with("t:1"), "{r:?}");
        }
    }
    // Exponential relative chains over repetitive data stop at the search budget.
    let chain: String = (0..12).map(|_| r#"content:"a"; distance:0;"#).collect::<Vec<_>>().join(" ");
    let rs = compile_d(
        &format!("alert tcp any any -> any any ({chain} content:\"b\"; distance:0; within:1; sid:1;)"),
        None,
    );
    let payload = vec![b'a'; 1400];
    let mut det = Detector::new(&rs);
    let mut out = Vec::new();
    let t = std::time::Instant::now();
    rs.detect(&mut det, &tcp_pkt(1400), &est(), None, &Buffers::with_pkt_data(&payload), 0, &mut out);
    assert!(out.is_empty());
    assert!(t.elapsed().as_secs() < 5);
    assert_eq!(det.stats().budget_exhausted, 1);
    // A catastrophic PCRE2 pattern is bounded by the match limit.
    let rs = compile_d(r#"alert tcp any any -> any any (pcre:"/(a+)+(?=b)c/"; sid:1;)"#, None);
    let t = std::time::Instant::now();
    assert!(sids(&rs, &tcp_pkt(40), &est(), &Buffers::with_pkt_data(&[b'a'; 40])).is_empty());
    assert!(t.elapsed().as_secs() < 5);
}

#[test]
fn prefilter_keeps_candidates_low() {
    let mut text = String::new();
    for i in 0..500 {
        text.push_str(&format!(
            "alert tcp any any -> any any (content:\"pattern-{i:04}-x\"; sid:{};)\n",
            i + 1
        ));
    }
    let rs = compile_d(&text, None);
    let mut det = Detector::new(&rs);
    let mut out = Vec::new();
    rs.detect(
        &mut det,
        &tcp_pkt(30),
        &est(),
        None,
        &Buffers::with_pkt_data(b"nothing to see here at all"),
        0,
        &mut out,
    );
    assert_eq!(det.stats().evaluated, 0);
    rs.detect(
        &mut det,
        &tcp_pkt(30),
        &est(),
        None,
        &Buffers::with_pkt_data(b"xx pattern-0042-x yy"),
        0,
        &mut out,
    );
    assert_eq!(det.stats().evaluated, 1);
    assert_eq!(out.iter().map(|m| m.sid).collect::<Vec<_>>(), vec![43]);
}

#[test]
fn snort3_ber_and_sip() {
    table(
        Some(Dialect::Snort3),
        &[
            (
                r#"content:"|30|"; ber_skip:0x30; content:"Z"; distance:0; within:1;"#,
                b"\x30\x30\x02abZ",
                true,
            ),
            (r#"ber_data:0x30; content:"ab"; distance:0; within:2;"#, b"\x30\x02ab", true),
            (r#"ber_data:0x31; content:"ab";"#, b"\x30\x02ab", false),
        ],
    );
    let rs = compile_d(
        r#"alert udp any any -> any any (sip_method:invite,cancel; sid:1;)"#,
        Some(Dialect::Snort3),
    );
    let udp = PacketFacts { proto: 17, tcp: None, ..tcp_pkt(1) };
    assert_eq!(
        sids(&rs, &udp, &est(), &Buffers::with_pkt_data(b"-").with(BufferId::SipMethod, b"invite")),
        vec![1]
    );
    assert!(
        sids(&rs, &udp, &est(), &Buffers::with_pkt_data(b"-").with(BufferId::SipMethod, b"bye")).is_empty()
    );
}

#[test]
fn snort_inspector_keywords() {
    let p = tcp_pkt(1);
    // http_header:field, http_param (Snort 3).
    let rs = compile_d(
        r#"alert tcp any any -> any any (http_header:field user-agent; content:"evil",nocase; sid:1;)"#,
        None,
    );
    let hdr =
        Buffers::with_pkt_data(b"-").with(BufferId::HttpHeader, b"Host: evil\r\nUser-Agent: EVIL bot\r\n");
    assert_eq!(sids(&rs, &p, &est(), &hdr), vec![1]);
    let hdr2 = Buffers::with_pkt_data(b"-").with(BufferId::HttpHeader, b"Host: evil\r\nUser-Agent: good\r\n");
    assert!(sids(&rs, &p, &est(), &hdr2).is_empty());
    let rs =
        compile_d(r#"alert tcp any any -> any any (http_param:"cmd"; content:"rm",nocase; sid:1;)"#, None);
    let uri = |u: &'static [u8]| Buffers::with_pkt_data(b"-").with(BufferId::HttpUri, u);
    assert_eq!(sids(&rs, &p, &est(), &uri(b"/x?a=1&cmd=rm+-rf")), vec![1]);
    assert!(sids(&rs, &p, &est(), &uri(b"/x?a=rm&cmd=ls")).is_empty());
    // base64_decode / base64_data.
    table(
        None,
        &[
            (
                r#"content:"Auth: "; base64_decode:relative; base64_data; content:"admin";"#,
                b"Auth: YWRtaW46cHc=",
                true,
            ),
            (
                r#"content:"Auth: "; base64_decode:relative; base64_data; content:"root";"#,
                b"Auth: YWRtaW46cHc=",
                false,
            ),
            (r#"base64_decode:bytes 4,offset 0; base64_data; content:"adm";"#, b"YWRtaW46cHc=", true),
        ],
    );
    // asn1.
    table(
        None,
        &[
            ("asn1:bitstring_overflow;", b"\x03\x02\x09\x00", true),
            ("asn1:bitstring_overflow;", b"\x03\x02\x01\x00", false),
            ("asn1:oversize_length 100;", b"\x30\x82\x01\x00", true),
            ("asn1:oversize_length 1000;", b"\x30\x82\x01\x00", false),
            (r#"content:"X"; asn1:oversize_length 10,relative_offset 0;"#, b"ab X\x04\x20", true),
            ("asn1:double_overflow;", b"\x09\x82\x01\x01", true),
        ],
    );
    // ftpbounce: the PORT address must be the client's.
    let rs = compile_d(r#"alert tcp any any -> any 21 (content:"PORT"; nocase; ftpbounce; sid:1;)"#, None);
    let ftp = PacketFacts { dst_port: 21, ..p };
    assert_eq!(sids(&rs, &ftp, &est(), &Buffers::with_pkt_data(b"PORT 6,6,6,6,0,21\r\n")), vec![1]);
    assert!(sids(&rs, &ftp, &est(), &Buffers::with_pkt_data(b"PORT 10,0,0,1,4,1\r\n")).is_empty());
    // dce_iface / dce_opnum / sip_stat_code read flow facts.
    let rs = compile_d(
        r#"alert tcp any any -> any any (dce_iface:uuid 4b324fc8-1670-01d3-1278-5a47bf6ee188; dce_opnum:15-18,31; sid:1;)
alert udp any any -> any any (sip_stat_code:2; sid:2;)"#,
        None,
    );
    let uuid = 0x4b324fc8_1670_01d3_1278_5a47bf6ee188u128;
    let dce = FlowFacts { dce_iface: Some((uuid, 3)), dce_opnum: Some(16), ..est() };
    assert_eq!(sids(&rs, &p, &dce, &Buffers::new()), vec![1]);
    let dce2 = FlowFacts { dce_iface: Some((uuid, 3)), dce_opnum: Some(20), ..est() };
    assert!(sids(&rs, &p, &dce2, &Buffers::new()).is_empty());
    let udp = PacketFacts { proto: 17, tcp: None, ..p };
    let sip = FlowFacts { sip_stat_code: Some(200), ..est() };
    assert_eq!(sids(&rs, &udp, &sip, &Buffers::new()), vec![2]);
    let sip4 = FlowFacts { sip_stat_code: Some(404), ..est() };
    assert!(sids(&rs, &udp, &sip4, &Buffers::new()).is_empty());
}

#[test]
fn suricata_app_layer_rule_needs_established_tcp() {
    let rs = compile_d(r#"alert http any any -> any any (flow:to_server; sid:1;)"#, Some(Dialect::Suricata));
    let b = Buffers::with_pkt_data(b"");
    let http = FlowFacts { app_proto: Some("http"), ..est() };
    assert_eq!(sids(&rs, &tcp_pkt(0), &http, &b), vec![1]);
    // A SYN carrying TCP Fast Open data: the session is not established yet.
    let syn = FlowFacts { established: false, ..http };
    assert!(sids(&rs, &tcp_pkt(0), &syn, &b).is_empty());
}

#[test]
fn suricata_http_request_header_is_matched_per_header() {
    let raw: &[u8] = b"Host: example.org\r\nConnection:  close \r\nX-Long: a\r\n b\r\nCookie: c=1\r\n\r\n";
    let b = Buffers::with_pkt_data(b"-").with(BufferId::HttpRawHeader, raw);
    let http = FlowFacts { app_proto: Some("http"), ..est() };
    let resp = FlowFacts { to_server: false, ..http };
    for (opts, want) in [
        (r#"http.request_header; content:"Connection|3a 20|close"; startswith; endswith;"#, true),
        (r#"http.request_header; content:"X-Long: a b"; bsize:11;"#, true),
        (r#"http.request_header; content:"Cookie: c=1";"#, true),
        (r#"http.request_header; content:"Host"; content:"Connection"; distance:0;"#, false),
        (r#"http.request_header; to_lowercase; content:"host: example"; startswith;"#, true),
    ] {
        let rs =
            compile_d(&format!("alert http any any -> any any ({opts} sid:1;)"), Some(Dialect::Suricata));
        assert_eq!(!sids(&rs, &tcp_pkt(1), &http, &b).is_empty(), want, "{opts}");
    }
    let rs = compile_d(
        r#"alert http any any -> any any (http.response_header; content:"Host|3a 20|"; sid:1;)"#,
        Some(Dialect::Suricata),
    );
    assert!(sids(&rs, &tcp_pkt(1), &http, &b).is_empty());
    assert_eq!(sids(&rs, &tcp_pkt(1), &resp, &b), vec![1]);
}

/// Known services over TCP, UDP and another transport with a large service group (merged with
/// the scan groups) and a small one (folded into them): the same rules as without grouping.
#[test]
fn service_scan_groups() {
    let mut text = String::new();
    for n in 0..600 {
        text +=
            &format!("alert http any any -> any any (http.uri; content:\"/big{n:03}\"; sid:{};)\n", 1000 + n);
    }
    text += r#"alert http any any -> any any (content:"httpraw"; sid:1;)
alert tcp any any -> any 80 (content:"tcpport"; sid:2;)
alert tcp any any -> any any (http.uri; content:"tcpuri"; sid:3;)
alert udp any any -> any any (content:"udpany"; sid:4;)
alert ssh any any -> any any (content:"sshsmall"; sid:5;)
alert tcp any any -> any 80 (content:"fbrule"; metadata:service http; sid:6;)
alert ip any any -> any any (content:"ipany"; sid:7;)
"#;
    let rs = compile_d(&text, None);
    let payload = b"httpraw tcpport udpany sshsmall fbrule ipany";
    let bufs = Buffers::with_pkt_data(payload).with(BufferId::HttpUri, b"/big005 tcpuri");
    let cases: &[(u8, Option<&str>, &[u32])] = &[
        (6, Some("http"), &[1, 2, 3, 6, 7, 1005]),
        (6, Some("ssh"), &[2, 3, 5, 7]),
        (6, None, &[2, 3, 6, 7]),
        (17, Some("http"), &[1, 4, 7, 1005]),
        (17, Some("ssh"), &[4, 5, 7]),
        (17, None, &[4, 7]),
        (132, Some("http"), &[1, 7, 1005]),
        (132, Some("ssh"), &[5, 7]),
    ];
    for &(proto, app, want) in cases {
        let pkt = PacketFacts { proto, tcp: (proto == 6).then(TcpFacts::default), ..tcp_pkt(payload.len()) };
        let flow = FlowFacts { app_proto: app, ..est() };
        let mut got = sids(&rs, &pkt, &flow, &bufs);
        got.sort_unstable();
        assert_eq!(got, want, "proto {proto} service {app:?}");
    }
}

/// `rawbytes` patterns share the `pkt_data` matcher when the unit has no raw form of the
/// payload, and keep their own when it has one (prefilter `PfUse`).
#[test]
fn raw_data_prefilter_with_and_without_raw_form() {
    let rs = compile_d(
        "alert tcp any any -> any any (content:\"pktonly\"; sid:1;)\n\
         alert tcp any any -> any any (content:\"rawonly\"; rawbytes; sid:2;)\n\
         alert tcp any any -> any any (content:\"both\"; rawbytes; content:\"both\"; sid:3;)",
        Some(Dialect::Snort2),
    );
    let p = tcp_pkt(30);
    let mut got = sids(&rs, &p, &est(), &Buffers::with_pkt_data(b"pktonly rawonly both"));
    got.sort_unstable();
    assert_eq!(got, vec![1, 2, 3]);
    // A distinct raw form: raw patterns are searched there, packet patterns in pkt_data.
    let bufs = Buffers::with_pkt_data(b"pktonly rawonly").with(BufferId::RawData, b"xx both");
    assert_eq!(sids(&rs, &p, &est(), &bufs), vec![1]);
    let bufs = Buffers::with_pkt_data(b"both").with(BufferId::RawData, b"rawonly both");
    let mut got = sids(&rs, &p, &est(), &bufs);
    got.sort_unstable();
    assert_eq!(got, vec![2, 3]);
}
