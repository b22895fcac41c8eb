use std::io::Write;

use super::*;
use crate::testutil::{feed, feed_cut, feed_split};
use crate::Direction::{ToClient, ToServer};

fn parser() -> HttpParser {
    HttpParser::new(Limits::default())
}

fn requests(ev: &[AppEvent]) -> Vec<&HttpRequest> {
    ev.iter().filter_map(|e| if let AppEvent::HttpRequest(r) = e { Some(&**r) } else { None }).collect()
}

fn responses(ev: &[AppEvent]) -> Vec<&HttpResponse> {
    ev.iter().filter_map(|e| if let AppEvent::HttpResponse(r) = e { Some(&**r) } else { None }).collect()
}

fn bodies(ev: &[AppEvent]) -> Vec<&HttpBody> {
    ev.iter().filter_map(|e| if let AppEvent::HttpBody(b) = e { Some(&**b) } else { None }).collect()
}

fn anomalies(ev: &[AppEvent]) -> Vec<Anomaly> {
    ev.iter().filter_map(|e| if let AppEvent::Anomaly(a) = e { Some(*a) } else { None }).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn s(v: &Option<Vec<u8>>) -> Option<&str> {
    v.as_deref().map(|b| std::str::from_utf8(b).unwrap())
}

const REQ: &[u8] = b"POST /cgi-bin/../login.php?user=a%20b HTTP/1.1\r\n\
Host: Example.COM:8080\r\n\
User-Agent: curl/8.0\r\n\
X-Folded: one\r\n  two\r\n\
Cookie: a=1\r\n\
Accept: */*\r\n\
Cookie: b=2\r\n\
Content-Length: 11\r\n\
\r\n\
hello world";

#[test]
fn request_fields() {
    let (ev, st) = feed(&mut parser(), &[(ToServer, REQ)]);
    assert_eq!(st, ParseStatus::Ok);
    let r = requests(&ev);
    assert_eq!(r.len(), 1);
    let r = r[0];
    assert_eq!(r.method, b"POST");
    assert_eq!(r.uri_raw, b"/cgi-bin/../login.php?user=a%20b");
    assert_eq!(r.uri_norm, b"/login.php?user=a b");
    assert_eq!(r.protocol, b"HTTP/1.1");
    assert_eq!(s(&r.host), Some("Example.COM:8080"));
    assert_eq!(s(&r.host_norm), Some("example.com"));
    assert_eq!(s(&r.user_agent), Some("curl/8.0"));
    assert_eq!(s(&r.cookie), Some("a=1; b=2"));
    assert_eq!(r.headers.first("x-folded"), Some(&b"one two"[..]));
    assert_eq!(r.content_length, Some(11));
    assert_eq!(
        std::str::from_utf8(&r.headers.normalized).unwrap(),
        "Host: Example.COM:8080\r\nUser-Agent: curl/8.0\r\nX-Folded: one two\r\nAccept: */*\r\nContent-Length: 11\r\n"
    );
    assert!(r.headers.raw.starts_with(b"Host: Example.COM:8080\r\n"));
    assert!(r.headers.raw.ends_with(b"Content-Length: 11\r\n"));
    assert!(r.anomalies.contains(&Anomaly::HttpHeaderFolded));
    assert!(r.anomalies.contains(&Anomaly::HttpUriDotSegment));
    let b = bodies(&ev);
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].data.as_slice(), b[0].complete, b[0].tx_id), (&b"hello world"[..], true, 0));
}

/// Every way of cutting a message in two, and byte-at-a-time, gives the same events.
#[test]
fn split_anywhere_same_result() {
    let gz = gzip(b"<html>compressed body</html>");
    let mut resp =
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nSet-Cookie: s=1\r\n\r\n"
            .to_vec();
    for part in gz.chunks(7) {
        resp.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        resp.extend_from_slice(part);
        resp.extend_from_slice(b"\r\n");
    }
    resp.extend_from_slice(b"0\r\nTrailer: x\r\n\r\n");
    for (dir, msg) in [(ToServer, REQ), (ToClient, resp.as_slice())] {
        let (whole, _) = feed(&mut parser(), &[(dir, msg)]);
        assert!(!whole.is_empty());
        for at in 0..=msg.len() {
            assert_eq!(feed_cut(&mut parser(), dir, msg, at), whole, "cut at {at}");
        }
        assert_eq!(feed_split(&mut parser(), dir, msg, 1), whole, "byte by byte");
    }
    let (ev, _) = feed(&mut parser(), &[(ToClient, &resp)]);
    let b = bodies(&ev);
    assert_eq!(b[0].data, b"<html>compressed body</html>");
    assert_eq!(b[0].decoded, Some(ContentEncoding::Gzip));
    assert_eq!(s(&responses(&ev)[0].cookie), Some("s=1"));
}

#[test]
fn pipelined_requests_and_responses() {
    let reqs = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\nPOST /3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /4 HTTP/1.1\r\n\r\n";
    let resps = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnot\r\n0\r\n\r\n";
    let (ev, st) = feed(&mut parser(), &[(ToServer, reqs), (ToClient, resps)]);
    assert_eq!(st, ParseStatus::Ok);
    let uris: Vec<_> = requests(&ev).iter().map(|r| (r.tx_id, r.uri_raw.clone())).collect();
    assert_eq!(
        uris,
        vec![(0, b"/1".to_vec()), (1, b"/2".to_vec()), (2, b"/3".to_vec()), (3, b"/4".to_vec())]
    );
    let codes: Vec<_> = responses(&ev).iter().map(|r| (r.tx_id, r.status_code)).collect();
    // The HEAD response has no body despite its Content-Length; 100 Continue is interim.
    assert_eq!(codes, vec![(0, 200), (1, 200), (2, 100), (2, 201), (3, 404)]);
    let b: Vec<_> = bodies(&ev).iter().map(|b| (b.tx_id, b.dir, b.data.clone())).collect();
    assert_eq!(
        b,
        vec![(2, ToServer, b"abc".to_vec()), (0, ToClient, b"ok".to_vec()), (3, ToClient, b"not".to_vec())]
    );
    assert_eq!(responses(&ev)[4].status_msg, b"Not Found");
    // Cutting either stream anywhere changes nothing.
    for at in 0..=reqs.len() {
        let mut p = parser();
        let mut ev2 = feed_cut(&mut p, ToServer, reqs, at);
        ev2.extend(feed(&mut p, &[(ToClient, resps)]).0);
        assert_eq!(ev2, ev, "request stream cut at {at}");
    }
    for at in 0..=resps.len() {
        let mut p = parser();
        let mut ev2 = feed(&mut p, &[(ToServer, reqs)]).0;
        ev2.extend(feed_cut(&mut p, ToClient, resps, at));
        assert_eq!(ev2, ev, "response stream cut at {at}");
    }
    assert!(anomalies(&ev).is_empty(), "{:?}", anomalies(&ev));
}

#[test]
fn deflate_zlib_and_raw() {
    let text = b"deflated text deflated text deflated text";
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(text).unwrap();
    let zlib = z.finish().unwrap();
    let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    r.write_all(text).unwrap();
    let raw = r.finish().unwrap();
    for body in [zlib, raw] {
        let mut msg =
            format!("HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: {}\r\n\r\n", body.len())
                .into_bytes();
        msg.extend_from_slice(&body);
        let (ev, _) = feed(&mut parser(), &[(ToClient, &msg)]);
        assert_eq!(bodies(&ev)[0].data, text);
    }
}

#[test]
fn decompression_bomb_is_bounded() {
    let limits =
        Limits { http_max_body_inspect: 1 << 30, http_max_decompressed: 1 << 20, ..Limits::default() };
    let gz = gzip(&vec![0u8; 20 << 20]);
    let mut msg =
        format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", gz.len())
            .into_bytes();
    msg.extend_from_slice(&gz);
    let mut p = HttpParser::new(limits.clone());
    let (ev, st) = feed(&mut p, &[(ToClient, &msg)]);
    assert_eq!(st, ParseStatus::Ok, "the body is still framed to its end");
    let b = bodies(&ev);
    assert_eq!(b.len(), 1);
    assert!(b[0].data.len() <= limits.http_ratio_min_output + 8192, "{}", b[0].data.len());
    assert!(anomalies(&ev).contains(&Anomaly::HttpDecompressionBomb));
    // Without the ratio check, the output cap stops it.
    let limits = Limits { http_max_decompress_ratio: u64::MAX, ..limits };
    let (ev, _) = feed(&mut HttpParser::new(limits.clone()), &[(ToClient, &msg)]);
    assert!(bodies(&ev)[0].data.len() <= limits.http_max_decompressed + 8192);
    assert!(anomalies(&ev).contains(&Anomaly::HttpDecompressedTooLarge));
    // With default limits, the inspection cap comes first.
    let (ev, _) = feed(&mut parser(), &[(ToClient, &msg)]);
    assert_eq!(bodies(&ev)[0].data.len(), Limits::default().http_max_body_inspect);
    assert!(bodies(&ev)[0].truncated);
}

#[test]
fn endless_chunking_and_bad_chunks() {
    let mut msg = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let mut p = parser();
    let mut ev = Vec::new();
    p.parse(ToServer, &msg, &mut |e| ev.push(e));
    msg.clear();
    for _ in 0..20_000 {
        msg.extend_from_slice(b"1\r\nA\r\n");
    }
    let st = p.parse(ToServer, &msg, &mut |e| ev.push(e));
    assert_eq!(st, ParseStatus::NeedMore);
    assert!(anomalies(&ev).contains(&Anomaly::HttpTooManyChunks));
    // An endless chunk-size line.
    let st = p.parse(ToServer, &vec![b'0'; 5000], &mut |e| ev.push(e));
    assert_eq!(st, ParseStatus::Error);
    assert!(anomalies(&ev).contains(&Anomaly::HttpChunkSizeInvalid));
    assert_eq!(bodies(&ev)[0].data.len(), 20_000);
    // An overflowing chunk size.
    let (ev, st) = feed(
        &mut parser(),
        &[(ToServer, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n")],
    );
    assert_eq!(st, ParseStatus::Error);
    assert!(anomalies(&ev).contains(&Anomaly::HttpChunkSizeInvalid));
}

#[test]
fn huge_header_is_truncated_and_parsing_continues() {
    let limits = Limits { http_max_header_bytes: 1024, ..Limits::default() };
    let mut msg = b"GET /x HTTP/1.1\r\nHost: h\r\nX-Big: ".to_vec();
    msg.extend(std::iter::repeat_n(b'a', 100_000));
    msg.extend_from_slice(b"\r\nContent-Length: 5\r\n\r\nGET /next HTTP/1.1\r\n\r\n");
    for piece in [msg.len(), 1000, 7] {
        let mut p = HttpParser::new(limits.clone());
        let ev = feed_split(&mut p, ToServer, &msg, piece);
        let r = requests(&ev);
        assert_eq!(r.len(), 2, "piece {piece}");
        assert!(r[0].truncated);
        assert_eq!(s(&r[0].host), Some("h"));
        assert_eq!(r[1].uri_raw, b"/next");
        assert!(anomalies(&ev).contains(&Anomaly::HttpHeaderTooLong));
    }
    // A URI longer than the limit is reported cut.
    let mut msg = b"GET /".to_vec();
    msg.extend(std::iter::repeat_n(b'b', 5000));
    msg.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    let ev = feed_split(&mut HttpParser::new(limits), ToServer, &msg, 100);
    let r = requests(&ev);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].uri_raw.len(), 1024 - 4);
}

#[test]
fn connect_tunnel() {
    let (ev, st) = feed(
        &mut parser(),
        &[
            (ToServer, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
            (ToClient, b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01"),
            (ToServer, b"\x16\x03\x01\x02\x00"),
        ],
    );
    assert_eq!(st, ParseStatus::Done);
    assert!(ev.contains(&AppEvent::HttpTunnel { tx_id: 0 }));
    // Clients start TLS before the 200 arrives (nDPI's http_connect.pcap): not an error.
    let (ev2, st) = feed(
        &mut parser(),
        &[
            (
                ToServer,
                b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01\x02\x00",
            ),
            (ToClient, b"HTTP/1.1 200 Connection established\r\n\r\n"),
        ],
    );
    assert_eq!(st, ParseStatus::Done);
    assert!(anomalies(&ev2).is_empty());
    assert!(ev2.contains(&AppEvent::HttpTunnel { tx_id: 0 }));
    let r = requests(&ev);
    assert_eq!(s(&r[0].uri_authority), Some("example.com:443"));
    assert_eq!(s(&r[0].host_norm), Some("example.com"));
    assert!(anomalies(&ev).is_empty());
}

#[test]
fn not_http_is_rejected() {
    for junk in [&b"\x16\x03\x01\x02\x00\x01\x00"[..], b"SSH-2.0-OpenSSH\r\n", b"GET\x00/ HTTP/1.1\r\n"] {
        let (ev, st) = feed(&mut parser(), &[(ToServer, junk)]);
        assert_eq!(st, ParseStatus::Error, "{junk:?}");
        assert_eq!(anomalies(&ev), vec![Anomaly::HttpRequestLineInvalid]);
    }
    let (_, st) = feed(&mut parser(), &[(ToClient, b"220 smtp.example.com ESMTP\r\n")]);
    assert_eq!(st, ParseStatus::Error);
}

#[test]
fn gaps() {
    // A gap inside a Content-Length body is skipped; the next request parses.
    let mut p = parser();
    let mut ev = Vec::new();
    p.parse(ToServer, b"POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", &mut |e| ev.push(e));
    p.gap(ToServer, 4, &mut |e| ev.push(e));
    let st = p.parse(ToServer, b"xyzGET /b HTTP/1.1\r\n\r\n", &mut |e| ev.push(e));
    assert_eq!(st, ParseStatus::Ok);
    assert_eq!(requests(&ev).len(), 2);
    assert_eq!(bodies(&ev)[0].data, b"abc");
    assert!(!bodies(&ev)[0].complete);
    // A gap in a head resynchronises on the next request line.
    let mut p = parser();
    let mut ev = Vec::new();
    p.parse(ToServer, b"GET /a HTTP/1.1\r\nHo", &mut |e| ev.push(e));
    p.gap(ToServer, 100, &mut |e| ev.push(e));
    p.parse(ToServer, b"rest of a line\r\n\r\nGET /b HTTP/1.1\r\n\r\n", &mut |e| ev.push(e));
    let r = requests(&ev);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].uri_raw, b"/b");
    assert!(anomalies(&ev).contains(&Anomaly::HttpGapResync));
}

#[test]
fn response_until_close_and_anomalies() {
    let mut p = parser();
    let mut ev = Vec::new();
    p.parse(ToServer, b"GET / HTTP/1.0\n\n", &mut |e| ev.push(e));
    p.parse(ToClient, b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\npart1 ", &mut |e| ev.push(e));
    p.parse(ToClient, b"part2", &mut |e| ev.push(e));
    p.end(ToClient, &mut |e| ev.push(e));
    assert_eq!(bodies(&ev)[0].data, b"part1 part2");
    assert!(bodies(&ev)[0].complete);
    assert!(anomalies(&ev).contains(&Anomaly::HttpBareLf));

    let (ev, _) = feed(
        &mut parser(),
        &[(
            ToServer,
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
        )],
    );
    assert!(anomalies(&ev).contains(&Anomaly::HttpTeAndCl));
    assert_eq!(bodies(&ev)[0].data, b"x");
    let (ev, _) = feed(
        &mut parser(),
        &[(ToServer, b"GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n")],
    );
    assert!(anomalies(&ev).contains(&Anomaly::HttpContentLengthInvalid));
    let (ev, _) = feed(
        &mut parser(),
        &[(ToClient, b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 1\r\n\r\nx")],
    );
    assert!(anomalies(&ev).contains(&Anomaly::HttpContentEncodingUnknown));
    assert!(anomalies(&ev).contains(&Anomaly::HttpUnsolicitedResponse));
}

/// A response whose server closes right after the last header line, without the blank line
/// (suricata-verify http-close-headers): the head is completed on close, as libhtp does.
#[test]
fn head_completed_when_the_connection_closes() {
    let mut p = parser();
    let (mut ev, _) = feed(
        &mut p,
        &[(ToServer, b"GET / HTTP/1.0\r\n\r\n"), (ToClient, b"HTTP/1.0 200 OK\r\nServer:ng1nx\r\n")],
    );
    assert!(responses(&ev).is_empty());
    p.end(ToClient, &mut |e| ev.push(e));
    let r = responses(&ev);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status_raw, b"200");
    assert_eq!(r[0].headers.first("server"), Some(&b"ng1nx"[..]));
    assert!(anomalies(&ev).contains(&Anomaly::HttpHeadIncomplete));
    // Nothing but line ends pending: nothing to report.
    let mut p = parser();
    let (mut ev, _) = feed(&mut p, &[(ToClient, b"\r\n")]);
    p.end(ToClient, &mut |e| ev.push(e));
    assert!(responses(&ev).is_empty() && anomalies(&ev).is_empty());
}

/// A body labelled gzip that is not (suricata-verify http-encoding-gzip-uncompressed): it is
/// inspected as it is, with the anomaly counted, instead of being dropped.
#[test]
fn body_not_in_its_announced_encoding_is_passed_through() {
    let body = br#"{"plain": "json, not gzip"}"#;
    let req = [
        format!("POST /api HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", body.len())
            .into_bytes(),
        body.to_vec(),
    ]
    .concat();
    for size in [1, 7, req.len()] {
        let ev = feed_split(&mut parser(), ToServer, &req, size);
        let b = bodies(&ev);
        assert_eq!(b.len(), 1, "pieces of {size}");
        assert_eq!(b[0].data, body, "pieces of {size}");
        assert!(anomalies(&ev).contains(&Anomaly::HttpDecompressionFailed));
    }
}
