//! Application-layer protocol recognition and parsers.
//!
//! This crate is pure: it receives bytes and hands back parsed fields. It knows nothing of flows,
//! threads or rules. The engine feeds it, per direction, the in-order reassembled bytes of a TCP
//! connection (in pieces split anywhere, possibly with gaps) and whole UDP payloads.
//!
//! - [`probe`]: protocol recognition by content, not by port ([`probe_tcp`], [`probe_udp`]).
//! - [`http`]: HTTP/1.x requests and responses, URI normalisation, chunked and compressed bodies.
//! - [`tls`]: TLS records and handshakes: ClientHello (JA3, JA4), ServerHello (JA3S), certificates.
//! - [`dns`]: DNS messages over UDP and over TCP (length-prefixed).
//! - [`ssh`]: SSH version banners.
//! - [`banner`]: the first line of line-based services (FTP, SMTP, POP3, IMAP).
//! - [`hash`]: the MD5 and SHA-256 the fingerprints need.
//!
//! # The common interface
//!
//! Every stream parser implements [`StreamParser`]: `parse(dir, bytes, out)` consumes all the bytes
//! it is given (keeping a bounded copy of a partial message when it must) and reports what it found
//! through the `out` callback as [`AppEvent`]s, which own their data so the engine can keep them
//! for as long as a transaction lives. The returned [`ParseStatus`] tells "need more bytes"
//! ([`ParseStatus::NeedMore`]) apart from "malformed, this direction is abandoned"
//! ([`ParseStatus::Error`]) and "nothing more to see here" ([`ParseStatus::Done`], e.g. encrypted
//! or tunnelled traffic). Datagram protocols implement [`DatagramParser`].
//!
//! Every anomaly is an [`Anomaly`] event with a stable name; the engine counts them in a
//! `[u64; Anomaly::COUNT]` array (see [`AnomalyCounts`]). Every buffer held on behalf of the
//! network is capped by a field of [`Limits`].

pub mod banner;
pub mod dns;
pub mod hash;
pub mod http;
pub mod probe;
pub mod ssh;
pub mod tls;

mod anomaly;
mod buf;

pub use anomaly::{Anomaly, AnomalyCounts};
pub use probe::{probe_tcp, probe_udp, Probe};

use std::fmt;

/// Which way bytes travel, from the point of view of the application protocol: the side that
/// opened the connection (or sent the first datagram) is the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    /// Array index for per-direction state: `ToServer` is 0, `ToClient` is 1.
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }

    /// The opposite direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// Application protocols this crate recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppProto {
    Http,
    Tls,
    Ssh,
    Dns,
    Ftp,
    Smtp,
    Pop3,
    Imap,
}

impl AppProto {
    /// Stable lower-case name (`"http"`, `"tls"`, ...), as used by rule `app-layer-protocol` and
    /// by output.
    pub fn name(self) -> &'static str {
        match self {
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Ssh => "ssh",
            AppProto::Dns => "dns",
            AppProto::Ftp => "ftp",
            AppProto::Smtp => "smtp",
            AppProto::Pop3 => "pop3",
            AppProto::Imap => "imap",
        }
    }

    /// A fresh stream parser for this protocol over TCP.
    pub fn stream_parser(self, limits: &Limits) -> Box<dyn StreamParser + Send> {
        match self {
            AppProto::Http => Box::new(http::HttpParser::new(limits.clone())),
            AppProto::Tls => Box::new(tls::TlsParser::new(limits.clone())),
            AppProto::Ssh => Box::new(ssh::SshParser::new()),
            AppProto::Dns => Box::new(dns::DnsTcpParser::new(limits.clone())),
            AppProto::Ftp | AppProto::Smtp | AppProto::Pop3 | AppProto::Imap => {
                Box::new(banner::BannerParser::new(self))
            }
        }
    }
}

impl AppProto {
    /// A fresh datagram parser for this protocol over UDP, if it has one.
    pub fn datagram_parser(self, limits: &Limits) -> Option<Box<dyn DatagramParser + Send>> {
        match self {
            AppProto::Dns => Some(Box::new(dns::DnsUdpParser::new(limits.clone()))),
            _ => None,
        }
    }
}

impl fmt::Display for AppProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a parser says after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseStatus {
    /// Everything was consumed and the direction sits at a message boundary.
    Ok,
    /// Everything was consumed; part of a message is buffered (or being skipped) and more bytes
    /// are needed to finish it.
    NeedMore,
    /// The parser has nothing more to extract from this direction (encrypted, tunnelled, or the
    /// protocol has no further fields of interest). The engine may stop feeding it.
    Done,
    /// The bytes do not follow the protocol; the parser abandoned this direction. An
    /// [`Anomaly`] event said why.
    Error,
}

/// The common interface of TCP stream parsers.
///
/// A parser holds the state of both directions of one connection. Bytes for a direction must be
/// given in order; `gap` says that `len` bytes are missing at the current position.
pub trait StreamParser {
    /// Consumes `data`, the next bytes in direction `dir`, reporting fields through `out`.
    fn parse(&mut self, dir: Direction, data: &[u8], out: &mut dyn FnMut(AppEvent)) -> ParseStatus;

    /// `len` bytes are missing in direction `dir`. Parsers skip them when the message framing
    /// allows it, otherwise they try to resynchronise or give up (counted).
    fn gap(&mut self, dir: Direction, len: u64, out: &mut dyn FnMut(AppEvent)) -> ParseStatus;

    /// The direction ended (FIN, RST or flow timeout): flush whatever is pending, e.g. a response
    /// body delimited by connection close.
    fn end(&mut self, dir: Direction, out: &mut dyn FnMut(AppEvent));
}

/// The common interface of datagram (UDP) parsers: one payload is one message.
pub trait DatagramParser {
    fn parse_datagram(&mut self, dir: Direction, data: &[u8], out: &mut dyn FnMut(AppEvent)) -> ParseStatus;
}

/// Everything a parser reports. The payloads own their bytes so the engine can keep them (e.g. a
/// request until its response arrives).
#[derive(Clone, Debug, PartialEq)]
pub enum AppEvent {
    /// An HTTP request head (request line and headers) is complete.
    HttpRequest(Box<http::HttpRequest>),
    /// An HTTP response head (status line and headers) is complete.
    HttpResponse(Box<http::HttpResponse>),
    /// The inspected part of a message body (de-chunked, decompressed, capped): Snort's
    /// `http_client_body` (to server) and `file_data` (to client).
    HttpBody(Box<http::HttpBody>),
    /// A CONNECT request was answered with 2xx or an `Upgrade` with 101: from here on both
    /// directions carry another protocol, which the engine may probe for afresh.
    HttpTunnel {
        tx_id: u64,
    },
    TlsClientHello(Box<tls::ClientHello>),
    TlsServerHello(Box<tls::ServerHello>),
    /// One certificate of the chain a server (or client) sent, in order (index 0 is the leaf).
    TlsCertificate(Box<tls::Certificate>),
    /// The direction switched to encrypted records (ChangeCipherSpec or application data).
    TlsEncrypted {
        dir: Direction,
    },
    Dns(Box<dns::DnsMessage>),
    SshBanner(Box<ssh::SshBanner>),
    /// The first line a line-based service (FTP, SMTP, POP3, IMAP) sent in one direction.
    Banner {
        proto: AppProto,
        dir: Direction,
        line: Vec<u8>,
    },
    Anomaly(Anomaly),
}

/// Caps on everything a parser buffers or produces on behalf of the network. Exceeding one is an
/// [`Anomaly`], never an allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// HTTP: longest request/status line plus headers kept; longer heads are truncated.
    pub http_max_header_bytes: usize,
    /// HTTP: at most this many header fields are kept per message.
    pub http_max_headers: usize,
    /// HTTP: body bytes (after de-chunking and decompression) kept per message for inspection.
    pub http_max_body_inspect: usize,
    /// HTTP: decompressed bytes produced per body before decompression stops.
    pub http_max_decompressed: usize,
    /// HTTP: decompressed/compressed ratio above which a body is called a bomb and decompression
    /// stops (checked once `http_ratio_min_output` bytes were produced).
    pub http_max_decompress_ratio: u64,
    pub http_ratio_min_output: usize,
    /// HTTP: requests waiting for their response (pipelining depth).
    pub http_max_pending_requests: usize,
    /// TLS: largest handshake message reassembled (certificate chains are the big ones).
    pub tls_max_handshake_bytes: usize,
    /// TLS: certificates parsed per Certificate message.
    pub tls_max_certs: usize,
    /// DNS: records parsed per section.
    pub dns_max_records: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            http_max_header_bytes: 16 * 1024,
            http_max_headers: 128,
            http_max_body_inspect: 64 * 1024,
            http_max_decompressed: 1024 * 1024,
            http_max_decompress_ratio: 200,
            http_ratio_min_output: 64 * 1024,
            http_max_pending_requests: 64,
            tls_max_handshake_bytes: 64 * 1024,
            tls_max_certs: 16,
            dns_max_records: 256,
        }
    }
}

#[cfg(test)]
mod fuzz_smoke;
#[cfg(test)]
mod testutil;
