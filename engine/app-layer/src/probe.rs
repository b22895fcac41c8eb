//! Protocol recognition by content.
//!
//! [`probe_tcp`] looks at the first bytes each side sent and names the protocol (HTTP, TLS, SSH,
//! DNS over TCP, and from their greetings FTP, SMTP, POP3, IMAP), whatever the ports; a service
//! on port 80 that does not speak HTTP is not called HTTP. [`probe_udp`] does the same for DNS
//! datagrams, using the ports only to relax the checks for the well-known DNS ports.
//!
//! Probes answer [`Probe::NeedMore`] while the bytes so far are a prefix of something they
//! recognise (or nothing has been seen yet). Probing never buffers: the engine keeps the first
//! bytes of each direction (a few hundred are enough for everything here) and decides when to
//! give up, e.g. once 2 KiB were seen or both directions spoke without a match.

use crate::dns::parse_message;
use crate::http::METHODS;
use crate::{Anomaly, AppProto, Limits};

/// What a probe concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Found(AppProto),
    /// Could still be something recognised: call again with more bytes.
    NeedMore,
    /// None of the protocols recognised here.
    Unknown,
}

/// Compares `s` with `pat` over their common length: `Some(true)` if `s` starts with `pat`,
/// `None` if `s` is a shorter prefix of it, `Some(false)` otherwise.
fn prefix(s: &[u8], pat: &[u8]) -> Option<bool> {
    let n = s.len().min(pat.len());
    if s[..n] != pat[..n] {
        Some(false)
    } else if n < pat.len() {
        None
    } else {
        Some(true)
    }
}

fn http_request(ts: &[u8]) -> Probe {
    let mut maybe = false;
    for m in METHODS {
        let mut pat = m.to_vec();
        pat.push(b' ');
        match prefix(ts, &pat) {
            Some(true) => {
                // The request-target must follow: a path, an absolute URI (scheme first), `*`
                // or an authority (a host name or `[IPv6]`). Other printable starts are text
                // protocols with an HTTP-like verb, e.g. NATS `CONNECT {"verbose":...}`.
                return match ts.get(pat.len()) {
                    None => Probe::NeedMore,
                    Some(&c) if c == b'/' || c == b'*' || c == b'[' || c.is_ascii_alphanumeric() => {
                        Probe::Found(AppProto::Http)
                    }
                    Some(_) => Probe::Unknown,
                };
            }
            None => maybe = true,
            Some(false) => {}
        }
    }
    if maybe {
        Probe::NeedMore
    } else {
        Probe::Unknown
    }
}

/// A TLS handshake record carrying `hs_type` (1: ClientHello, 2: ServerHello), or an SSLv2
/// ClientHello when `hs_type` is 1.
fn tls(s: &[u8], hs_type: u8) -> Probe {
    match s.first() {
        Some(0x16) => {
            if s.len() < 6 {
                return if s.get(1).is_none_or(|&v| v == 3) && s.get(2).is_none_or(|&v| v <= 4) {
                    Probe::NeedMore
                } else {
                    Probe::Unknown
                };
            }
            let len = u16::from_be_bytes([s[3], s[4]]);
            if s[1] == 3 && s[2] <= 4 && (4..=16384 + 2048).contains(&len) && s[5] == hs_type {
                Probe::Found(AppProto::Tls)
            } else {
                Probe::Unknown
            }
        }
        Some(&b) if b & 0x80 != 0 && hs_type == 1 => {
            if s.len() < 5 {
                return Probe::NeedMore;
            }
            let ver = u16::from_be_bytes([s[3], s[4]]);
            if s[2] == 1 && (ver == 0x0002 || (0x0300..=0x0304).contains(&ver)) {
                Probe::Found(AppProto::Tls)
            } else {
                Probe::Unknown
            }
        }
        _ => Probe::Unknown,
    }
}

/// DNS over TCP: a length prefix and a plausible message (a query from the client, a response
/// from the server) that parses without anomalies once complete.
fn dns_tcp(s: &[u8], response: bool) -> Probe {
    // Each header field is checked as soon as it has arrived, so junk is rejected early.
    let be = |i: usize| s.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let Some(len) = be(0).map(usize::from) else { return Probe::NeedMore };
    if len < 17 || (!response && len > 4096) {
        return Probe::Unknown;
    }
    if let Some(flags) = be(4) {
        if (flags & 0x8000 != 0) != response || (flags >> 11) & 0xf > 6 {
            return Probe::Unknown;
        }
    }
    if let Some(qd) = be(6) {
        if qd == 0 || qd > 16 {
            return Probe::Unknown;
        }
    }
    let Some(msg) = s.get(2..2 + len) else {
        // A long message (a TKEY or TSIG token, a big response) may not fit in what the
        // engine buffers for probing: once a good part of it is here, decide on its header
        // and questions alone (records counted as absent, what follows is left unparsed).
        if s.len() < 512 {
            return Probe::NeedMore;
        }
        let mut head = s[2..].to_vec();
        head[6..12].fill(0);
        return match parse_message(&head, &Limits::default()) {
            Some(m)
                if !m.questions.is_empty() && m.anomalies.iter().all(|&a| a == Anomaly::DnsTrailingData) =>
            {
                Probe::Found(AppProto::Dns)
            }
            _ => Probe::Unknown,
        };
    };
    match parse_message(msg, &Limits::default()) {
        Some(m) if m.anomalies.is_empty() => Probe::Found(AppProto::Dns),
        _ => Probe::Unknown,
    }
}

/// Looks at what the client sent first.
fn client_side(ts: &[u8]) -> Probe {
    let probes = [http_request(ts), tls(ts, 1), ssh(ts), dns_tcp(ts, false)];
    combine(&probes)
}

fn ssh(s: &[u8]) -> Probe {
    match prefix(s, b"SSH-") {
        Some(true) => Probe::Found(AppProto::Ssh),
        None => Probe::NeedMore,
        Some(false) => Probe::Unknown,
    }
}

/// The first `Found`, else `NeedMore` if any, else `Unknown`.
fn combine(probes: &[Probe]) -> Probe {
    if let Some(p) = probes.iter().find(|p| matches!(p, Probe::Found(_))) {
        return *p;
    }
    if probes.contains(&Probe::NeedMore) {
        Probe::NeedMore
    } else {
        Probe::Unknown
    }
}

fn contains_nocase(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// Greetings of server-speaks-first line protocols. `ts` (the client's first bytes) settles a
/// `220` greeting that names neither FTP nor SMTP.
fn greeting(tc: &[u8], ts: &[u8]) -> Probe {
    let line_end = memchr::memchr(b'\n', tc);
    let line = &tc[..line_end.unwrap_or(tc.len()).min(512)];
    for (pat, proto) in
        [(&b"+OK"[..], AppProto::Pop3), (b"* OK", AppProto::Imap), (b"* PREAUTH", AppProto::Imap)]
    {
        match prefix(tc, pat) {
            Some(true) => return Probe::Found(proto),
            None => return Probe::NeedMore,
            Some(false) => {}
        }
    }
    match prefix(tc, b"220") {
        Some(false) => return Probe::Unknown,
        None => return Probe::NeedMore,
        Some(true) => {}
    }
    if !matches!(tc.get(3), None | Some(b' ' | b'-' | b'\r' | b'\n')) {
        return Probe::Unknown;
    }
    if line_end.is_none() && tc.len() < 512 {
        return Probe::NeedMore;
    }
    if contains_nocase(line, b"FTP") {
        return Probe::Found(AppProto::Ftp);
    }
    if contains_nocase(line, b"SMTP") || contains_nocase(line, b"mail") {
        return Probe::Found(AppProto::Smtp);
    }
    let cmd: Vec<u8> = ts.iter().take(4).map(u8::to_ascii_uppercase).collect();
    match cmd.as_slice() {
        b"EHLO" | b"HELO" => Probe::Found(AppProto::Smtp),
        b"USER" | b"AUTH" | b"FEAT" | b"SYST" | b"OPTS" => Probe::Found(AppProto::Ftp),
        _ if ts.len() < 4 => Probe::NeedMore,
        _ => Probe::Unknown,
    }
}

/// Looks at what the server sent first.
fn server_side(tc: &[u8], ts: &[u8]) -> Probe {
    let http = match prefix(tc, b"HTTP/1.") {
        Some(true) => Probe::Found(AppProto::Http),
        None => Probe::NeedMore,
        Some(false) => Probe::Unknown,
    };
    combine(&[http, tls(tc, 2), ssh(tc), greeting(tc, ts), dns_tcp(tc, true)])
}

/// Names the protocol of a TCP connection from the first bytes of each direction.
///
/// The client's bytes are trusted first (they are what a server would act on); the server's
/// decide when the client has not said enough, and for server-speaks-first protocols.
pub fn probe_tcp(first_to_server: &[u8], first_to_client: &[u8]) -> Probe {
    let c = if first_to_server.is_empty() { Probe::NeedMore } else { client_side(first_to_server) };
    if let Probe::Found(_) = c {
        return c;
    }
    let s = if first_to_client.is_empty() {
        Probe::NeedMore
    } else {
        server_side(first_to_client, first_to_server)
    };
    match (c, s) {
        (_, Probe::Found(p)) => Probe::Found(p),
        (Probe::Unknown, Probe::Unknown) => Probe::Unknown,
        // The client spoke, is not recognised, and the server has not spoken: only a
        // server-first protocol can still match.
        _ => Probe::NeedMore,
    }
}

/// Well-known DNS ports (DNS, mDNS, LLMNR).
const DNS_PORTS: [u16; 3] = [53, 5353, 5355];

/// NetBIOS name service (RFC 1002): DNS's message format with its own name encoding and
/// semantics. Its queries parse cleanly as DNS, so the content check alone would call it DNS.
const NBNS_PORT: u16 = 137;

/// Names the protocol of a UDP datagram (DNS only for now). Ports only relax the checks: on a
/// DNS port a message with anomalies still counts as DNS (so its anomalies get reported); on
/// any other port it must parse cleanly with at least one question.
pub fn probe_udp(payload: &[u8], src_port: u16, dst_port: u16) -> Option<AppProto> {
    let m = parse_message(payload, &Limits::default())?;
    let on_dns_port = DNS_PORTS.contains(&src_port) || DNS_PORTS.contains(&dst_port);
    if !on_dns_port && (src_port == NBNS_PORT || dst_port == NBNS_PORT) {
        return None;
    }
    let sane = m.questions.len() <= 16 && m.opcode() <= 6;
    if on_dns_port && sane || sane && m.anomalies.is_empty() && !m.questions.is_empty() {
        Some(AppProto::Dns)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::unhex;
    use AppProto::*;

    #[test]
    fn tcp_table() {
        let dnsq = {
            let mut m = unhex("0006 0100 0001 0000 0000 0000 076578616d706c65 03636f6d 00 0001 0001");
            let mut v = (m.len() as u16).to_be_bytes().to_vec();
            v.append(&mut m);
            v
        };
        let long_dnsq = {
            let mut m = unhex("0006 0000 0001 0000 0000 0001 076578616d706c65 03636f6d 00 00f9 00ff");
            m.extend_from_slice(&[0, 0, 0xf9, 0, 0xff, 0, 0, 0, 0, 0x0b, 0x8a]);
            m.resize(3000, 0x41);
            let mut v = (m.len() as u16).to_be_bytes().to_vec();
            v.append(&mut m);
            v
        };
        let cases: &[(&[u8], &[u8], Probe)] = &[
            (b"GET / HTTP/1.1\r\n", b"", Probe::Found(Http)),
            (b"GE", b"", Probe::NeedMore),
            (b"OPTIONS * HTTP/1.1\r\n", b"", Probe::Found(Http)),
            (b"", b"HTTP/1.1 200 OK\r\n", Probe::Found(Http)),
            (b"", b"HTTP/", Probe::NeedMore),
            (&[0x16, 3, 1, 2, 0, 1, 0, 1, 0xfc], b"", Probe::Found(Tls)),
            (&[0x16, 3], b"", Probe::NeedMore),
            (b"", &[0x16, 3, 3, 0, 0x5a, 2], Probe::Found(Tls)),
            (&[0x80, 0x2e, 1, 3, 1], b"", Probe::Found(Tls)),
            (b"SSH-2.0-OpenSSH_9.0\r\n", b"", Probe::Found(Ssh)),
            (b"", b"SSH-2.0-x\r\n", Probe::Found(Ssh)),
            (&dnsq, b"", Probe::Found(Dns)),
            (&dnsq[..10], b"", Probe::NeedMore),
            // A 3000-byte query of which the first 600 bytes are here: decided on its question.
            (&long_dnsq[..600], b"", Probe::Found(Dns)),
            (b"", b"220 ProFTPD Server ready\r\n", Probe::Found(Ftp)),
            (b"", b"220 mx.example.com ESMTP Postfix\r\n", Probe::Found(Smtp)),
            (b"", b"220 host ready\r\n", Probe::NeedMore),
            (b"EHLO me\r\n", b"220 host ready\r\n", Probe::Found(Smtp)),
            (b"USER anonymous\r\n", b"220 host ready\r\n", Probe::Found(Ftp)),
            (b"", b"+OK POP3 ready\r\n", Probe::Found(Pop3)),
            (b"", b"* OK IMAP4rev1\r\n", Probe::Found(Imap)),
            // Non-HTTP on any port: not HTTP.
            (b"HELO example.com\r\n", b"", Probe::NeedMore),
            (b"\x00\x00\x00\x2fbinary", b"\x00\x01", Probe::Unknown),
            (b"GET\x00/ HTTP/1.1\r\n", b"\x00\x01junkjunkjunkjunk", Probe::Unknown),
            (b"random text\r\n", b"more random\r\n", Probe::Unknown),
            // A verb followed by something that is no request-target (NATS).
            (b"CONNECT {\"verbose\":false}\r\n", b"INFO {}\r\n", Probe::Unknown),
            (b"CONNECT [::1]:443 HTTP/1.1\r\n", b"", Probe::Found(Http)),
            (b"GET http://a/ HTTP/1.1\r\n", b"", Probe::Found(Http)),
            (b"", b"", Probe::NeedMore),
        ];
        for (ts, tc, want) in cases {
            assert_eq!(probe_tcp(ts, tc), *want, "{ts:?} / {tc:?}");
        }
    }

    #[test]
    fn udp() {
        let q = unhex("0006 0100 0001 0000 0000 0000 076578616d706c65 03636f6d 00 0001 0001");
        assert_eq!(probe_udp(&q, 40000, 5300), Some(Dns), "DNS on an odd port");
        assert_eq!(probe_udp(&q[..q.len() - 1], 40000, 5300), None);
        assert_eq!(probe_udp(&q[..q.len() - 1], 40000, 53), Some(Dns));
        assert_eq!(probe_udp(b"\x01\x02\x03", 40000, 53), None);
        // The same message between NetBIOS name service ports is NBNS, not DNS.
        assert_eq!(probe_udp(&q, 137, 137), None);
        // Random-looking payload on a non-DNS port.
        assert_eq!(
            probe_udp(b"\x17\xfe\xfd\x00\x01\x00\x00\x00\x00\x00\x01\x00\x10abcdefgh", 1000, 2000),
            None
        );
    }
}
