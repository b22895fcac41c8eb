//! TLS (SSL 3.0 to TLS 1.3) over TCP: the record layer and the clear-text handshake.
//!
//! # What is parsed
//! - Records: content type, version, length. Handshake messages are reassembled across records
//!   (and records across segments); other record types are skipped without buffering.
//! - ClientHello: version (legacy and `supported_versions`), cipher suites, compression, the
//!   extension list, SNI, ALPN, supported groups, EC point formats, signature algorithms; JA3
//!   (string and MD5) and JA4 (fingerprint and raw form), see [`ja`].
//! - ServerHello: version (selected `supported_versions` for TLS 1.3), cipher, extensions, ALPN;
//!   JA3S.
//! - Certificate (TLS 1.2 and below; 1.3 sends it encrypted): every certificate of the chain,
//!   see [`x509`].
//! - A ChangeCipherSpec or application-data record ends clear-text parsing of its direction
//!   ([`AppEvent::TlsEncrypted`], then [`ParseStatus::Done`]).
//!
//! # Limits
//! A handshake message longer than `tls_max_handshake_bytes` is skipped (counted); at most
//! `tls_max_certs` certificates per chain are parsed. The record carry-over buffer is 5 bytes.
//!
//! # Anomalies
//! `tls_record_invalid` (bad type, version or length: the direction is abandoned),
//! `tls_handshake_invalid`, `tls_handshake_too_long`, `tls_extension_invalid`,
//! `tls_certificate_invalid`, `tls_too_many_certificates`, `tls_sslv2`, `tls_gap`.
//!
//! # Gaps
//! A gap inside a non-handshake record is skipped. A gap in handshake data abandons the direction
//! (the handshake cannot be reassembled).

pub mod ja;
pub mod x509;

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u24, be_u8};
use nom::number::streaming as ns;
use nom::IResult;

use crate::buf::StreamBuf;
use crate::{Anomaly, AppEvent, Direction, Limits, ParseStatus, StreamParser};

pub use x509::X509;

/// Content types of the record layer.
const CT_CCS: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPDATA: u8 = 23;
const CT_HEARTBEAT: u8 = 24;

/// Largest record payload allowed (2^14 plus the compression/encryption expansion of TLS 1.2).
const MAX_RECORD: u16 = 16384 + 2048;

/// Extension types used by the parsers.
pub mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SUPPORTED_VERSIONS: u16 = 43;
}

/// A parsed ClientHello.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` of the hello (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// Highest non-GREASE `supported_versions` entry, or `legacy_version`.
    pub version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    /// Extension types in order of appearance (GREASE included).
    pub extensions: Vec<u16>,
    /// The first host_name of the server_name extension.
    pub sni: Option<Vec<u8>>,
    pub alpn: Vec<Vec<u8>>,
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    pub supported_versions: Vec<u16>,
    pub ja3: String,
    /// MD5 of `ja3`, lower-case hex.
    pub ja3_hash: String,
    pub ja4: String,
    /// JA4 with the lists shown instead of hashed (`ja4_r`).
    pub ja4_raw: String,
}

/// A parsed ServerHello.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    /// The `supported_versions` selection, or `legacy_version`.
    pub version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression_method: u8,
    pub extensions: Vec<u16>,
    /// The protocol the server selected by ALPN.
    pub alpn: Option<Vec<u8>>,
    /// The random is the HelloRetryRequest magic (RFC 8446 4.1.3).
    pub hello_retry_request: bool,
    pub ja3s: String,
    pub ja3s_hash: String,
}

/// One certificate of a Certificate message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// Who sent it (`ToClient`: the server's chain).
    pub dir: Direction,
    /// Position in the chain, 0 for the end-entity certificate.
    pub index: usize,
    /// The DER bytes.
    pub der: Vec<u8>,
    pub x509: X509,
}

/// SHA-256("HelloRetryRequest"), the random of a HelloRetryRequest.
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2,
    0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

fn u16_list(i: &[u8]) -> Vec<u16> {
    i.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect()
}

/// A `u8`-length-prefixed vector.
fn vec8(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, n) = be_u8(i)?;
    take(n)(i)
}

/// A `u16`-length-prefixed vector.
fn vec16(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, n) = be_u16(i)?;
    take(n)(i)
}

/// A `u24`-length-prefixed vector.
fn vec24(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, n) = be_u24(i)?;
    take(n)(i)
}

/// The extension block: `(type, data)` pairs. `None` if the block does not add up.
fn extensions(i: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    if i.is_empty() {
        return Some(Vec::new());
    }
    let (rest, mut block) = vec16(i).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let mut v = Vec::new();
    while !block.is_empty() {
        let (r, t) = be_u16::<_, nom::error::Error<_>>(block).ok()?;
        let (r, d) = vec16(r).ok()?;
        v.push((t, d));
        block = r;
    }
    Some(v)
}

/// Fixed part of a ClientHello: version, random, session id, cipher suites, compression.
type ClientHead<'a> = (u16, &'a [u8], &'a [u8], &'a [u8], &'a [u8]);
/// Fixed part of a ServerHello: version, random, session id, cipher suite, compression.
type ServerHead<'a> = (u16, &'a [u8], &'a [u8], u16, u8);

/// Parses a ClientHello body (after the 4-byte handshake header).
pub fn parse_client_hello(i: &[u8], an: &mut Vec<Anomaly>) -> Option<ClientHello> {
    let p = |i| -> IResult<&[u8], ClientHead<'_>> {
        let (i, ver) = be_u16(i)?;
        let (i, random) = take(32usize)(i)?;
        let (i, sid) = vec8(i)?;
        let (i, ciphers) = vec16(i)?;
        let (i, comp) = vec8(i)?;
        Ok((i, (ver, random, sid, ciphers, comp)))
    };
    let (rest, (legacy_version, random, sid, ciphers, comp)) = p(i).ok()?;
    let mut ch = ClientHello {
        legacy_version,
        session_id: sid.to_vec(),
        cipher_suites: u16_list(ciphers),
        compression_methods: comp.to_vec(),
        ..Default::default()
    };
    ch.random.copy_from_slice(random);
    if ciphers.len() % 2 != 0 {
        an.push(Anomaly::TlsHandshakeInvalid);
    }
    let exts = extensions(rest).unwrap_or_else(|| {
        an.push(Anomaly::TlsExtensionInvalid);
        Vec::new()
    });
    let mut bad_ext = false;
    for &(t, d) in &exts {
        if ch.extensions.contains(&t) {
            bad_ext = true;
        }
        ch.extensions.push(t);
        match t {
            ext::SERVER_NAME => {
                // server_name_list: (type u8, name vec16)*
                let mut list = vec16(d).map(|(_, l)| l).unwrap_or(&[]);
                while let Ok((r, ty)) = be_u8::<_, nom::error::Error<_>>(list) {
                    let Ok((r, name)) = vec16(r) else { break };
                    if ty == 0 && ch.sni.is_none() {
                        ch.sni = Some(name.to_vec());
                    }
                    list = r;
                }
            }
            ext::ALPN => {
                let mut list = vec16(d).map(|(_, l)| l).unwrap_or(&[]);
                while let Ok((r, p)) = vec8(list) {
                    ch.alpn.push(p.to_vec());
                    list = r;
                }
            }
            ext::SUPPORTED_GROUPS => {
                ch.supported_groups = vec16(d).map(|(_, l)| u16_list(l)).unwrap_or_default()
            }
            ext::EC_POINT_FORMATS => {
                ch.ec_point_formats = vec8(d).map(|(_, l)| l.to_vec()).unwrap_or_default()
            }
            ext::SIGNATURE_ALGORITHMS => {
                ch.signature_algorithms = vec16(d).map(|(_, l)| u16_list(l)).unwrap_or_default()
            }
            ext::SUPPORTED_VERSIONS => {
                ch.supported_versions = vec8(d).map(|(_, l)| u16_list(l)).unwrap_or_default()
            }
            _ => {}
        }
    }
    if bad_ext {
        an.push(Anomaly::TlsExtensionInvalid);
    }
    ch.version =
        ch.supported_versions.iter().copied().filter(|&v| !ja::is_grease(v)).max().unwrap_or(legacy_version);
    ch.ja3 = ja::ja3_string(
        legacy_version,
        &ch.cipher_suites,
        &ch.extensions,
        &ch.supported_groups,
        &ch.ec_point_formats,
    );
    ch.ja3_hash = ja::ja3_hash(&ch.ja3);
    (ch.ja4, ch.ja4_raw) = ja::ja4(&ja::Ja4Input {
        transport: 't',
        legacy_version,
        supported_versions: &ch.supported_versions,
        has_sni: ch.extensions.contains(&ext::SERVER_NAME),
        ciphers: &ch.cipher_suites,
        exts: &ch.extensions,
        first_alpn: ch.alpn.first().map(Vec::as_slice),
        sig_algs: &ch.signature_algorithms,
    });
    Some(ch)
}

/// Parses a ServerHello body.
pub fn parse_server_hello(i: &[u8], an: &mut Vec<Anomaly>) -> Option<ServerHello> {
    let p = |i| -> IResult<&[u8], ServerHead<'_>> {
        let (i, ver) = be_u16(i)?;
        let (i, random) = take(32usize)(i)?;
        let (i, sid) = vec8(i)?;
        let (i, cipher) = be_u16(i)?;
        let (i, comp) = be_u8(i)?;
        Ok((i, (ver, random, sid, cipher, comp)))
    };
    let (rest, (legacy_version, random, sid, cipher_suite, compression_method)) = p(i).ok()?;
    let mut sh = ServerHello {
        legacy_version,
        version: legacy_version,
        session_id: sid.to_vec(),
        cipher_suite,
        compression_method,
        ..Default::default()
    };
    sh.random.copy_from_slice(random);
    sh.hello_retry_request = sh.random == HRR_RANDOM;
    let exts = extensions(rest).unwrap_or_else(|| {
        an.push(Anomaly::TlsExtensionInvalid);
        Vec::new()
    });
    for &(t, d) in &exts {
        sh.extensions.push(t);
        match t {
            ext::SUPPORTED_VERSIONS if d.len() == 2 => sh.version = u16::from_be_bytes([d[0], d[1]]),
            ext::ALPN => sh.alpn = vec16(d).ok().and_then(|(_, l)| vec8(l).ok()).map(|(_, p)| p.to_vec()),
            _ => {}
        }
    }
    sh.ja3s = ja::ja3s_string(legacy_version, cipher_suite, &sh.extensions);
    sh.ja3s_hash = ja::ja3_hash(&sh.ja3s);
    Some(sh)
}

/// Where a direction is in the record stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rec {
    /// Expecting a record header.
    Header,
    /// Inside a record: its type and the payload bytes left.
    Body(u8, u16),
}

struct Half {
    buf: StreamBuf,
    rec: Rec,
    /// Handshake bytes waiting for the end of their message.
    hs: Vec<u8>,
    /// Bytes left of an over-long handshake message being skipped.
    hs_skip: u64,
    first: bool,
    certs_seen: usize,
    encrypted: bool,
    dead: bool,
}

/// The TLS parser for one connection.
pub struct TlsParser {
    limits: Limits,
    halves: [Half; 2],
    /// A ServerHello (or HelloRetryRequest) selected TLS 1.3: ChangeCipherSpec records are
    /// then only middlebox-compatibility dummies (RFC 8446 D.4) and encryption is signalled by
    /// application-data records alone. A client sends one before its second ClientHello
    /// after a HelloRetryRequest, which must still be parsed.
    tls13: bool,
}

impl TlsParser {
    pub fn new(limits: Limits) -> Self {
        let half = || Half {
            buf: StreamBuf::default(),
            rec: Rec::Header,
            hs: Vec::new(),
            hs_skip: 0,
            first: true,
            certs_seen: 0,
            encrypted: false,
            dead: false,
        };
        TlsParser { limits, halves: [half(), half()], tls13: false }
    }

    fn status(&self, dir: Direction) -> ParseStatus {
        let h = &self.halves[dir.index()];
        if h.dead {
            ParseStatus::Error
        } else if h.encrypted {
            ParseStatus::Done
        } else if h.rec == Rec::Header && h.buf.len() == 0 && h.hs.is_empty() && h.hs_skip == 0 {
            ParseStatus::Ok
        } else {
            ParseStatus::NeedMore
        }
    }

    /// Consumes record headers and payloads from `input`.
    fn step(&mut self, dir: Direction, input: &[u8], out: &mut dyn FnMut(AppEvent)) -> usize {
        let mut pos = 0;
        while pos < input.len() {
            let h = &mut self.halves[dir.index()];
            if h.dead || h.encrypted {
                return input.len();
            }
            match h.rec {
                Rec::Header => {
                    let rest = &input[pos..];
                    if h.first && rest[0] & 0x80 != 0 {
                        // SSLv2 record header (2-byte length with the high bit set).
                        out(AppEvent::Anomaly(Anomaly::TlsSslv2));
                        h.encrypted = true;
                        return input.len();
                    }
                    let hdr = |i| -> IResult<&[u8], (u8, u8, u8, u16)> {
                        let (i, ct) = ns::be_u8(i)?;
                        let (i, major) = ns::be_u8(i)?;
                        let (i, minor) = ns::be_u8(i)?;
                        let (i, len) = ns::be_u16(i)?;
                        Ok((i, (ct, major, minor, len)))
                    };
                    let Ok((_, (ct, major, minor, len))) = hdr(rest) else { return pos };
                    let ok_type = matches!(ct, CT_CCS | CT_ALERT | CT_HANDSHAKE | CT_APPDATA | CT_HEARTBEAT);
                    if !ok_type || major != 3 || minor > 4 || len > MAX_RECORD {
                        out(AppEvent::Anomaly(Anomaly::TlsRecordInvalid));
                        h.dead = true;
                        return input.len();
                    }
                    h.first = false;
                    pos += 5;
                    if ct == CT_CCS && self.tls13 {
                        // A compatibility dummy: skipped like an alert.
                        h.rec = if len == 0 { Rec::Header } else { Rec::Body(ct, len) };
                        continue;
                    }
                    if ct == CT_CCS || ct == CT_APPDATA {
                        // Everything after this in this direction is encrypted.
                        h.encrypted = true;
                        out(AppEvent::TlsEncrypted { dir });
                        return input.len();
                    }
                    h.rec = if len == 0 { Rec::Header } else { Rec::Body(ct, len) };
                }
                Rec::Body(ct, left) => {
                    let n = usize::from(left).min(input.len() - pos);
                    let chunk = &input[pos..pos + n];
                    pos += n;
                    let left = left - n as u16;
                    h.rec = if left == 0 { Rec::Header } else { Rec::Body(ct, left) };
                    if ct == CT_HANDSHAKE {
                        self.handshake_bytes(dir, chunk, out);
                    }
                }
            }
        }
        pos
    }

    /// Appends handshake-record payload and parses every complete handshake message.
    fn handshake_bytes(&mut self, dir: Direction, mut chunk: &[u8], out: &mut dyn FnMut(AppEvent)) {
        let max = self.limits.tls_max_handshake_bytes;
        let h = &mut self.halves[dir.index()];
        if h.hs_skip > 0 {
            let n = usize::try_from(h.hs_skip).unwrap_or(usize::MAX).min(chunk.len());
            h.hs_skip -= n as u64;
            chunk = &chunk[n..];
        }
        h.hs.extend_from_slice(chunk);
        loop {
            let h = &mut self.halves[dir.index()];
            if h.hs.len() < 4 {
                return;
            }
            let mlen = usize::from(h.hs[1]) << 16 | usize::from(h.hs[2]) << 8 | usize::from(h.hs[3]);
            if mlen + 4 > max {
                out(AppEvent::Anomaly(Anomaly::TlsHandshakeTooLong));
                let have = h.hs.len();
                if have >= mlen + 4 {
                    h.hs.drain(..mlen + 4);
                    continue;
                }
                h.hs_skip = (mlen + 4 - have) as u64;
                h.hs.clear();
                return;
            }
            if h.hs.len() < mlen + 4 {
                return;
            }
            let msg: Vec<u8> = h.hs.drain(..mlen + 4).collect();
            self.handshake_message(dir, msg[0], &msg[4..], out);
        }
    }

    fn handshake_message(&mut self, dir: Direction, ty: u8, body: &[u8], out: &mut dyn FnMut(AppEvent)) {
        let mut an = Vec::new();
        match ty {
            1 => match parse_client_hello(body, &mut an) {
                Some(ch) => out(AppEvent::TlsClientHello(Box::new(ch))),
                None => an.push(Anomaly::TlsHandshakeInvalid),
            },
            2 => match parse_server_hello(body, &mut an) {
                Some(sh) => {
                    // In TLS 1.3 everything the server sends after ServerHello is encrypted
                    // (in records that look like application data).
                    self.tls13 |= sh.version == 0x0304;
                    out(AppEvent::TlsServerHello(Box::new(sh)));
                }
                None => an.push(Anomaly::TlsHandshakeInvalid),
            },
            11 => self.certificates(dir, body, &mut an, out),
            _ => {}
        }
        for a in an {
            out(AppEvent::Anomaly(a));
        }
    }

    fn certificates(
        &mut self,
        dir: Direction,
        body: &[u8],
        an: &mut Vec<Anomaly>,
        out: &mut dyn FnMut(AppEvent),
    ) {
        let Ok((_, mut list)) = vec24(body) else {
            an.push(Anomaly::TlsHandshakeInvalid);
            return;
        };
        let h = &mut self.halves[dir.index()];
        let mut index = 0;
        while !list.is_empty() {
            let Ok((rest, der)) = vec24(list) else {
                an.push(Anomaly::TlsHandshakeInvalid);
                return;
            };
            list = rest;
            if h.certs_seen >= self.limits.tls_max_certs {
                an.push(Anomaly::TlsTooManyCertificates);
                return;
            }
            h.certs_seen += 1;
            match x509::parse(der) {
                Some(x509) => out(AppEvent::TlsCertificate(Box::new(Certificate {
                    dir,
                    index,
                    der: der.to_vec(),
                    x509,
                }))),
                None => an.push(Anomaly::TlsCertificateInvalid),
            }
            index += 1;
        }
    }
}

impl StreamParser for TlsParser {
    fn parse(&mut self, dir: Direction, data: &[u8], out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        let d = dir.index();
        if self.halves[d].dead || self.halves[d].encrypted {
            return self.status(dir);
        }
        let mut buf = std::mem::take(&mut self.halves[d].buf);
        // Only record headers are ever carried over, so 5 bytes is enough.
        let _ = buf.run(data, 5, |s| self.step(dir, s, out));
        self.halves[d].buf = buf;
        self.status(dir)
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        let h = &mut self.halves[dir.index()];
        if h.dead || h.encrypted {
            return self.status(dir);
        }
        match h.rec {
            Rec::Body(ct, left) if ct != CT_HANDSHAKE && len <= u64::from(left) && h.buf.len() == 0 => {
                let left = left - len as u16;
                h.rec = if left == 0 { Rec::Header } else { Rec::Body(ct, left) };
            }
            _ => {
                out(AppEvent::Anomaly(Anomaly::TlsGap));
                h.dead = true;
            }
        }
        self.status(dir)
    }

    fn end(&mut self, dir: Direction, _out: &mut dyn FnMut(AppEvent)) {
        let h = &mut self.halves[dir.index()];
        h.hs = Vec::new();
        h.buf.clear();
    }
}

#[cfg(test)]
mod tests;
