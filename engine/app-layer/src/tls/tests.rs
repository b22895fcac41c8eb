use super::*;
use crate::testutil::{feed, feed_cut, feed_split};
use crate::Direction::{ToClient, ToServer};

/// Both directions of TCP stream 0 of nDPI's `tls_long_cert.pcap` (www.repubblica.it), as
/// reassembled by `tshark -z follow,tcp,raw,0`, cut after the server's Finished.
const C2S: &[u8] = include_bytes!("../../testdata/tls_long_cert.c2s.bin");
const S2C: &[u8] = include_bytes!("../../testdata/tls_long_cert.s2c.bin");

fn parser() -> TlsParser {
    TlsParser::new(Limits::default())
}

fn anomalies(ev: &[AppEvent]) -> Vec<Anomaly> {
    ev.iter().filter_map(|e| if let AppEvent::Anomaly(a) = e { Some(*a) } else { None }).collect()
}

#[test]
fn client_hello_from_capture() {
    let (ev, st) = feed(&mut parser(), &[(ToServer, C2S)]);
    assert_eq!(st, ParseStatus::Done, "the client's CCS ends clear text");
    let AppEvent::TlsClientHello(ch) = &ev[0] else { panic!("{ev:?}") };
    assert_eq!(ch.sni.as_deref(), Some(&b"www.repubblica.it"[..]));
    assert_eq!(ch.alpn, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    assert_eq!((ch.legacy_version, ch.version), (0x0303, 0x0304));
    assert_eq!(ch.cipher_suites.len(), 17);
    // Expected values from `tshark -T fields -e tls.handshake.ja3 -e tls.handshake.ja3_full`.
    assert_eq!(
        ch.ja3,
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0"
    );
    assert_eq!(ch.ja3_hash, "66918128f1b9b03303d77c6f2eefd128");
    // tshark 4.0 has no JA4 field: computed independently from tshark's cipher, extension and
    // signature-algorithm fields with a short Python script following the FoxIO spec.
    assert_eq!(ch.ja4, "t13d1615h2_46e7e9700bed_45f260be83e2");
    assert!(ev.contains(&AppEvent::TlsEncrypted { dir: ToServer }));
    assert!(anomalies(&ev).is_empty());
}

#[test]
fn server_hello_and_certificates_from_capture() {
    let (ev, st) = feed(&mut parser(), &[(ToClient, S2C)]);
    assert_eq!(st, ParseStatus::Done);
    let AppEvent::TlsServerHello(sh) = &ev[0] else { panic!("{ev:?}") };
    // `tshark -e tls.handshake.ja3s -e tls.handshake.ja3s_full`.
    assert_eq!(sh.ja3s, "771,49200,65281-0-11-35-5-16");
    assert_eq!(sh.ja3s_hash, "35af4c8cd9495354f7d701ce8ad7fd2d");
    assert_eq!(sh.alpn.as_deref(), Some(&b"h2"[..]));
    let certs: Vec<&Certificate> = ev
        .iter()
        .filter_map(|e| if let AppEvent::TlsCertificate(c) = e { Some(&**c) } else { None })
        .collect();
    assert_eq!(certs.len(), 2);
    assert_eq!((certs[0].der.len(), certs[1].der.len()), (2786, 1167));
    let leaf = &certs[0].x509;
    assert_eq!(leaf.version, 3);
    assert_eq!(leaf.serial, "07:AC:6D:74:69:3E:98:B1:A1:F6:9A:C3:4D:5B:F1:DC");
    assert_eq!(leaf.subject, "C=IT, ST=Roma, L=Roma, O=GEDI Digital S.r.l., CN=www.repstatic.it");
    assert_eq!(leaf.subject_cn.as_deref(), Some("www.repstatic.it"));
    assert_eq!(leaf.issuer, "C=US, O=DigiCert Inc, OU=www.digicert.com, CN=GeoTrust RSA CA 2018");
    assert_eq!(leaf.issuer_cn.as_deref(), Some("GeoTrust RSA CA 2018"));
    // 2019-03-07 00:00:00 and 2020-05-05 12:00:00 UTC.
    assert_eq!((leaf.not_before, leaf.not_after), (Some(1551916800), Some(1588680000)));
    assert_eq!(leaf.sans.len(), 55);
    assert_eq!(leaf.sans[..2], ["www.repstatic.it".to_string(), "repstatic.it".to_string()]);
    assert!(leaf.sans.contains(&"www.repubblica.it".to_string()));
    assert_eq!(certs[1].x509.subject_cn.as_deref(), Some("GeoTrust RSA CA 2018"));
    assert_eq!(certs[1].index, 1);
    assert!(ev.contains(&AppEvent::TlsEncrypted { dir: ToClient }));
    assert!(anomalies(&ev).is_empty());
}

#[test]
fn split_anywhere_same_result() {
    let (whole, _) = feed(&mut parser(), &[(ToServer, C2S)]);
    for at in 0..=C2S.len() {
        assert_eq!(feed_cut(&mut parser(), ToServer, C2S, at), whole, "cut at {at}");
    }
    let (whole, _) = feed(&mut parser(), &[(ToClient, S2C)]);
    for size in [1, 2, 3, 5, 100, 1460] {
        assert_eq!(feed_split(&mut parser(), ToClient, S2C, size), whole, "pieces of {size}");
    }
}

#[test]
fn hostile_records() {
    // Not TLS at all.
    let (ev, st) = feed(&mut parser(), &[(ToServer, b"GET / HTTP/1.1\r\n\r\n")]);
    assert_eq!((st, anomalies(&ev)), (ParseStatus::Error, vec![Anomaly::TlsRecordInvalid]));
    // An oversized record.
    let (_, st) = feed(&mut parser(), &[(ToServer, &[22, 3, 1, 0xff, 0xff])]);
    assert_eq!(st, ParseStatus::Error);
    // A handshake message announcing 16 MiB is skipped, not buffered.
    let limits = Limits { tls_max_handshake_bytes: 1024, ..Limits::default() };
    let mut p = TlsParser::new(limits);
    let mut ev = Vec::new();
    let mut rec = vec![22, 3, 3, 0x40, 0x00, 11, 0xff, 0xff, 0xff];
    rec.resize(5 + 0x4000, 0xaa);
    for _ in 0..4 {
        assert_eq!(p.parse(ToClient, &rec, &mut |e| ev.push(e)), ParseStatus::NeedMore);
        rec.truncate(5);
        rec.resize(5 + 0x4000, 0xaa);
    }
    assert_eq!(anomalies(&ev), vec![Anomaly::TlsHandshakeTooLong]);
    assert!(p.halves[1].hs.len() <= 1024);
    // A truncated ClientHello inside a well-formed message.
    let (ev, _) = feed(&mut parser(), &[(ToServer, &[22, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0])]);
    assert_eq!(anomalies(&ev), vec![Anomaly::TlsHandshakeInvalid]);
    // SSLv2 hello.
    let (ev, st) = feed(&mut parser(), &[(ToServer, &[0x80, 0x2e, 0x01, 0x00, 0x02])]);
    assert_eq!((st, anomalies(&ev)), (ParseStatus::Done, vec![Anomaly::TlsSslv2]));
}

#[test]
fn gaps() {
    let mut p = parser();
    let mut ev = Vec::new();
    p.parse(ToServer, &C2S[..100], &mut |e| ev.push(e));
    assert_eq!(p.gap(ToServer, 10, &mut |e| ev.push(e)), ParseStatus::Error);
    assert_eq!(anomalies(&ev), vec![Anomaly::TlsGap]);
    // A gap inside an alert record is skipped.
    let mut p = parser();
    p.parse(ToClient, &[21, 3, 3, 0, 2, 1], &mut |e| ev.push(e));
    assert_eq!(p.gap(ToClient, 1, &mut |e| ev.push(e)), ParseStatus::Ok);
}

/// TLS 1.3 with a HelloRetryRequest: the client answers with a compatibility ChangeCipherSpec
/// and a second ClientHello (as in nDPI's `steam.pcapng`), which must still be reported.
#[test]
fn second_client_hello_after_hello_retry_request() {
    let hello = &C2S[..5 + 0x200];
    let mut sh = vec![0x03, 0x03];
    sh.extend_from_slice(&HRR_RANDOM);
    sh.extend_from_slice(&[0, 0x13, 0x01, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4]);
    let mut hs = vec![2, 0, 0, sh.len() as u8];
    hs.extend_from_slice(&sh);
    let mut hrr = vec![0x16, 3, 3, 0, hs.len() as u8];
    hrr.extend_from_slice(&hs);
    hrr.extend_from_slice(&[0x14, 3, 3, 0, 1, 1]);
    let mut second = vec![0x14, 3, 3, 0, 1, 1];
    second.extend_from_slice(hello);
    let (ev, st) = feed(&mut parser(), &[(ToServer, hello), (ToClient, &hrr), (ToServer, &second)]);
    let hellos = ev.iter().filter(|e| matches!(e, AppEvent::TlsClientHello(_))).count();
    assert_eq!(hellos, 2, "{ev:?}");
    assert!(
        matches!(ev.iter().find(|e| matches!(e, AppEvent::TlsServerHello(_))), Some(AppEvent::TlsServerHello(s)) if s.hello_retry_request)
    );
    assert_eq!(st, ParseStatus::Ok);
    assert!(anomalies(&ev).is_empty());
}
