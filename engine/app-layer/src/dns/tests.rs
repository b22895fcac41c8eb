use super::*;
use crate::testutil::{feed, feed_split, unhex};
use crate::Direction::{ToClient, ToServer};

/// A response from nDPI's `dns.pcap` (`tshark -Y "dns.count.answers>2" -e udp.payload`):
/// e7.whatsapp.net, eight A records whose names are pointers to the question.
const WHATSAPP: &str = "784381800001000800000000026537087768617473617070036e65740000010001c00c00010001000001eb0004a92ddbebc00c00010001000001eb0004a92f288ec00c00010001000001eb0004a92df879c00c00010001000001eb00046ca8b0eac00c00010001000001eb0004a92df8bdc00c00010001000001eb0004a92df8b4c00c00010001000001eb0004a935514fc00c00010001000001eb0004a92ddbe8";

fn limits() -> Limits {
    Limits::default()
}

fn msgs(ev: &[AppEvent]) -> Vec<&DnsMessage> {
    ev.iter().filter_map(|e| if let AppEvent::Dns(m) = e { Some(&**m) } else { None }).collect()
}

/// Hand-built response exercising every decoded type; `c00c` points at the question name.
fn rich_response() -> Vec<u8> {
    let mut m = unhex("abcd 8180 0001 0006 0001 0000");
    m.extend(unhex("03777777 076578616d706c65 03636f6d 00 0001 0001")); // www.example.com A IN
                                                                        // CNAME -> cdn.<example.com> (pointer to offset 16, "example.com")
    m.extend(unhex("c00c 0005 0001 0000003c 0006 03 63646e c010"));
    // A 192.0.2.1 for cdn.example.com (pointer to the CNAME target at offset 45)
    m.extend(unhex("c02d 0001 0001 0000003c 0004 c0000201"));
    // AAAA 2001:db8::1
    m.extend(unhex("c02d 001c 0001 0000003c 0010 20010db8000000000000000000000001"));
    // MX 10 mail.example.com
    m.extend(unhex("c010 000f 0001 0000003c 0009 000a 046d61696c c010"));
    // TXT "v=1" "x"
    m.extend(unhex("c010 0010 0001 0000003c 0006 03763d31 0178"));
    // SRV 1 2 443 example.com
    m.extend(unhex("c010 0021 0001 0000003c 0008 0001 0002 01bb c010"));
    // authority SOA ns.example.com hostmaster.example.com
    m.extend(unhex("c010 0006 0001 0000003c 0026 026e73 c010 0a686f73746d6173746572 c010 00000001 00000002 00000003 00000004 00000005"));
    m
}

#[test]
fn capture_response() {
    let m = parse_message(&unhex(WHATSAPP), &limits()).unwrap();
    assert!(m.is_response());
    assert_eq!((m.id, m.rcode(), m.opcode()), (0x7843, 0, 0));
    assert_eq!(m.questions, vec![DnsQuestion { name: b"e7.whatsapp.net".to_vec(), rtype: 1, rclass: 1 }]);
    assert_eq!(m.answers.len(), 8);
    assert!(m.answers.iter().all(|a| a.name == b"e7.whatsapp.net" && a.ttl == 491));
    assert_eq!(m.answers[0].data, RData::A(Ipv4Addr::new(169, 45, 219, 235)));
    assert_eq!(m.answers[7].data, RData::A(Ipv4Addr::new(169, 45, 219, 232)));
    assert!(m.anomalies.is_empty());
}

#[test]
fn record_types_and_pointers() {
    let m = parse_message(&rich_response(), &limits()).unwrap();
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    let data: Vec<(&[u8], &RData)> = m.answers.iter().map(|r| (r.name.as_slice(), &r.data)).collect();
    assert_eq!(
        data,
        vec![
            (&b"www.example.com"[..], &RData::Name(b"cdn.example.com".to_vec())),
            (b"cdn.example.com", &RData::A(Ipv4Addr::new(192, 0, 2, 1))),
            (b"cdn.example.com", &RData::Aaaa("2001:db8::1".parse().unwrap())),
            (b"example.com", &RData::Mx { preference: 10, exchange: b"mail.example.com".to_vec() }),
            (b"example.com", &RData::Txt(vec![b"v=1".to_vec(), b"x".to_vec()])),
            (
                b"example.com",
                &RData::Srv { priority: 1, weight: 2, port: 443, target: b"example.com".to_vec() }
            ),
        ]
    );
    assert_eq!(
        m.authorities[0].data,
        RData::Soa {
            mname: b"ns.example.com".to_vec(),
            rname: b"hostmaster.example.com".to_vec(),
            serial: 1,
            refresh: 2,
            retry: 3,
            expire: 4,
            minimum: 5
        }
    );
}

#[test]
fn hostile_names() {
    let q = |name: &str| {
        let mut m = unhex("0001 0100 0001 0000 0000 0000");
        m.extend(unhex(name));
        m.extend(unhex("0001 0001"));
        parse_message(&m, &limits()).unwrap()
    };
    let cases: &[(&str, Anomaly)] = &[
        // A pointer to itself.
        ("c00c", Anomaly::DnsPointerLoop),
        // A label, then a pointer back to that label: loops through a backward jump.
        ("0161 c00c", Anomaly::DnsPointerLoop),
        // A forward pointer.
        ("c020 00", Anomaly::DnsPointerLoop),
        // Extended label types.
        ("4161 00", Anomaly::DnsLabelInvalid),
        ("8161 00", Anomaly::DnsLabelInvalid),
        // A label running off the end.
        ("3f61", Anomaly::DnsTruncated),
    ];
    for (name, want) in cases {
        let m = q(name);
        assert_eq!(m.anomalies, vec![*want], "{name}");
        assert!(m.questions.is_empty());
    }
    // A 300-byte name made of 63-byte labels.
    let long: String = std::iter::repeat_n(format!("3f{}", "61".repeat(63)), 5).collect::<String>() + "00";
    assert_eq!(q(&long).anomalies, vec![Anomaly::DnsNameTooLong]);
    // Two pointers chained backwards are fine: answer name -> question name suffix.
    let mut m =
        unhex("0001 8100 0001 0001 0000 0000 0161 0162 00 0001 0001 0163 c00e 0001 0001 00000000 0000");
    assert_eq!(parse_message(&m, &limits()).unwrap().answers[0].name, b"c.b");
    // ... but a pointer into a name that then jumps forward again is a loop.
    m = unhex("0001 8100 0001 0001 0000 0000 0161 c01a 0001 0001 0163 c00c 0001 0001 00000000 0000");
    assert_eq!(parse_message(&m, &limits()).unwrap().anomalies, vec![Anomaly::DnsPointerLoop]);
    // Counts that lie.
    let m = parse_message(&unhex("0001 0100 0005 0000 0000 0000 0161 00 0001 0001"), &limits()).unwrap();
    assert_eq!((m.questions.len(), m.anomalies.clone()), (1, vec![Anomaly::DnsTruncated]));
    let m = parse_message(&unhex("0001 0100 ffff 0000 0000 0000"), &limits()).unwrap();
    assert!(m.anomalies.contains(&Anomaly::DnsTooManyRecords));
    assert_eq!(parse_message(&unhex("0001 0100 0000"), &limits()), None);
}

#[test]
fn udp_datagrams() {
    let mut p = DnsUdpParser::new(limits());
    let mut ev = Vec::new();
    assert_eq!(p.parse_datagram(ToClient, &unhex(WHATSAPP), &mut |e| ev.push(e)), ParseStatus::Ok);
    assert_eq!(msgs(&ev)[0].dir, Some(ToClient));
    assert_eq!(p.parse_datagram(ToServer, b"\x00\x01", &mut |e| ev.push(e)), ParseStatus::Error);
}

#[test]
fn tcp_split_across_segments() {
    let mut stream = Vec::new();
    for m in [unhex(WHATSAPP), rich_response(), unhex(WHATSAPP)] {
        stream.extend_from_slice(&(m.len() as u16).to_be_bytes());
        stream.extend_from_slice(&m);
    }
    let (whole, st) = feed(&mut DnsTcpParser::new(limits()), &[(ToClient, &stream)]);
    assert_eq!(st, ParseStatus::Ok);
    assert_eq!(msgs(&whole).len(), 3);
    for size in 1..=40 {
        assert_eq!(
            feed_split(&mut DnsTcpParser::new(limits()), ToClient, &stream, size),
            whole,
            "pieces of {size}"
        );
    }
    // A gap inside the second message drops it and resumes on the third.
    let mut p = DnsTcpParser::new(limits());
    let mut ev = Vec::new();
    let first_len = 2 + unhex(WHATSAPP).len();
    p.parse(ToClient, &stream[..first_len + 10], &mut |e| ev.push(e));
    assert_eq!(p.gap(ToClient, 20, &mut |e| ev.push(e)), ParseStatus::NeedMore);
    let st = p.parse(ToClient, &stream[first_len + 30..], &mut |e| ev.push(e));
    assert_eq!(st, ParseStatus::Ok);
    assert_eq!(msgs(&ev).len(), 2);
    assert!(ev.contains(&AppEvent::Anomaly(Anomaly::DnsGap)));
}
