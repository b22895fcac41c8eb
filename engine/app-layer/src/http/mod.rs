//! HTTP/1.x: requests and responses over one TCP connection.
//!
//! # What is parsed
//! - Request line (method, raw URI, normalised URI per [`uri`], protocol), status line (protocol,
//!   status code, message), header fields (folded lines unfolded, repeated fields kept in order),
//!   `Cookie`/`Set-Cookie`, `Host`, `User-Agent`.
//! - Bodies framed by Content-Length, chunked Transfer-Encoding (with trailers) or connection
//!   close; `gzip`, `x-gzip` and `deflate` (zlib or raw) Content-Encoding decoded.
//! - Pipelining: any number of requests per segment; responses are paired with requests in order
//!   (`tx_id` is the same for a request and its response). HEAD, 1xx, 204 and 304 responses have
//!   no body; 100-continue is followed by the real response.
//! - CONNECT answered with 2xx and `101 Switching Protocols` end HTTP parsing of the connection:
//!   an [`AppEvent::HttpTunnel`] is raised and both directions report [`ParseStatus::Done`].
//!
//! # Buffers for detection (per transaction)
//! [`HttpRequest`]: `method`, `uri_raw`, `uri_norm`, `headers.raw`, `headers.normalized`, `cookie`,
//! `host`, `user_agent`; [`HttpResponse`]: `status_code`, `status_msg`, headers, cookie;
//! [`HttpBody`]: request body (`http_client_body`) and response body (`file_data`), de-chunked,
//! decompressed and capped.
//!
//! # Limits (see [`Limits`])
//! A head longer than `http_max_header_bytes` is truncated (what was parsed is reported, the rest
//! of the head is skipped); at most `http_max_headers` fields; body inspection capped at
//! `http_max_body_inspect`; decompression capped by `http_max_decompressed` and a ratio.
//! Chunk-size lines are capped at 1 KiB; more than 10000 chunks in a body is counted.
//!
//! # Anomalies
//! Every `Http*` [`Anomaly`]: invalid start lines (the direction is abandoned), over-long heads,
//! folding, bare LF, TE+CL, invalid Content-Length, bad chunking, decompression failures and
//! bombs, URI evasions, gaps. Anomalies of a message are also listed in its `anomalies` field.
//!
//! # Gaps
//! A gap inside a Content-Length body or chunk is skipped (the body loses its inspection); any
//! other gap makes the direction look for the next start line (`http_gap_resync`).

pub mod body;
mod parser;
pub mod uri;

use std::collections::VecDeque;

use nom::Err;

pub use body::ContentEncoding;
use body::{chunk_size, BodySink, Chunk, CHUNKS_MAX, CHUNK_LINE_MAX};
use parser::{header_line, request_line, status_line, HeaderLine};

use crate::buf::StreamBuf;
use crate::{Anomaly, AppEvent, Direction, Limits, ParseStatus, StreamParser};

/// One header field, value trimmed and unfolded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpHeader {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

/// The parsed header block shared by requests and responses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpHeaders {
    /// Fields in arrival order; repeated fields are separate entries.
    pub fields: Vec<HttpHeader>,
    /// The header lines exactly as received (after the start line, without the final blank line):
    /// Snort's `http_raw_header`.
    pub raw: Vec<u8>,
    /// `Name: value\r\n` per field with folding removed and whitespace around values trimmed,
    /// Cookie and Set-Cookie left out (they have their own buffer): Snort's `http_header`.
    pub normalized: Vec<u8>,
}

impl HttpHeaders {
    /// All values of a field (case-insensitive name), joined with `", "` as RFC 9110 allows.
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        let mut it = self.fields.iter().filter(|h| h.name.eq_ignore_ascii_case(name.as_bytes()));
        let first = it.next()?;
        let mut v = first.value.clone();
        for h in it {
            v.extend_from_slice(b", ");
            v.extend_from_slice(&h.value);
        }
        Some(v)
    }

    /// The first value of a field.
    pub fn first(&self, name: &str) -> Option<&[u8]> {
        self.fields.iter().find(|h| h.name.eq_ignore_ascii_case(name.as_bytes())).map(|h| h.value.as_slice())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| h.value.as_slice())
    }
}

/// An HTTP request head.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// Transaction number on this connection, from 0; the response to this request has the same.
    pub tx_id: u64,
    pub method: Vec<u8>,
    pub uri_raw: Vec<u8>,
    /// See [`uri::normalize`].
    pub uri_norm: Vec<u8>,
    /// Authority of an absolute-form URI or the CONNECT target.
    pub uri_authority: Option<Vec<u8>>,
    /// `HTTP/1.1` etc.; empty for HTTP/0.9.
    pub protocol: Vec<u8>,
    pub headers: HttpHeaders,
    /// `Cookie` values joined with `"; "`.
    pub cookie: Option<Vec<u8>>,
    /// `Host` header as sent.
    pub host: Option<Vec<u8>>,
    /// Host lower-cased without port (the header, or the URI authority if there is no header).
    pub host_norm: Option<Vec<u8>>,
    pub user_agent: Option<Vec<u8>>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub content_encoding: Option<ContentEncoding>,
    /// The head exceeded `http_max_header_bytes`; fields after the cut are missing.
    pub truncated: bool,
    pub anomalies: Vec<Anomaly>,
}

/// An HTTP response head.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// The request this answers (see [`HttpRequest::tx_id`]).
    pub tx_id: u64,
    pub protocol: Vec<u8>,
    pub status_code: u16,
    /// The three digits as sent.
    pub status_raw: Vec<u8>,
    pub status_msg: Vec<u8>,
    pub headers: HttpHeaders,
    /// `Set-Cookie` values joined with `"; "`.
    pub cookie: Option<Vec<u8>>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub content_encoding: Option<ContentEncoding>,
    pub truncated: bool,
    pub anomalies: Vec<Anomaly>,
}

/// The inspected part of a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpBody {
    pub tx_id: u64,
    /// `ToServer`: request body; `ToClient`: response body (`file_data`).
    pub dir: Direction,
    /// De-chunked and decompressed, at most `http_max_body_inspect` bytes.
    pub data: Vec<u8>,
    /// The body was longer than what is in `data`.
    pub truncated: bool,
    /// The whole body was seen (false: handed out early because of the cap, a gap or the end of
    /// the connection).
    pub complete: bool,
    /// The Content-Encoding that was decoded.
    pub decoded: Option<ContentEncoding>,
    /// Raw (encoded, de-chunked) body bytes seen up to the time this was handed out.
    pub raw_len: u64,
}

/// How a body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

struct Body {
    framing: Framing,
    sink: BodySink,
    chunks: u64,
}

enum State {
    /// Expecting a request or status line.
    Head,
    /// A head was truncated; skipping to its blank line, then `then` (a body, or nothing).
    SkipHead {
        nl: u8,
        then: Option<Body>,
        tunnel: bool,
    },
    Body(Body),
    /// Lost framing: looking for the next start line.
    Resync,
    /// CONNECT/Upgrade: not HTTP any more.
    Tunnel,
    /// Malformed: abandoned.
    Dead,
}

struct Half {
    buf: StreamBuf,
    state: State,
}

/// What the response side needs to know about a request.
#[derive(Clone, Copy, Debug)]
struct Pending {
    tx_id: u64,
    head: bool,
    connect: bool,
}

/// The HTTP/1.x parser for one connection.
pub struct HttpParser {
    limits: Limits,
    halves: [Half; 2],
    pending: VecDeque<Pending>,
    next_request: u64,
    next_unsolicited: u64,
    /// A CONNECT request waits for its response: client bytes that are not a request are the
    /// tunnel (clients start TLS without waiting for the 200).
    connect_pending: bool,
}

/// Methods recognised when resynchronising and when probing.
pub(crate) const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"MKACTIVITY",
    b"CHECKOUT",
    b"MERGE",
    b"M-SEARCH",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"PURGE",
];

fn events_for(an: &[Anomaly], out: &mut dyn FnMut(AppEvent)) {
    for &a in an {
        out(AppEvent::Anomaly(a));
    }
}

/// Builds the header block from header lines; returns it and the body-relevant facts.
struct HeadFacts {
    headers: HttpHeaders,
    content_length: Option<u64>,
    chunked: bool,
    encoding: Option<ContentEncoding>,
}

/// Splits a header block (`lines` are the header lines, already split) into the fields.
fn collect_headers(raw: &[u8], limits: &Limits, an: &mut Vec<Anomaly>) -> HeadFacts {
    let mut h = HttpHeaders { raw: raw.to_vec(), ..Default::default() };
    let mut rest = raw;
    let mut too_many = false;
    while !rest.is_empty() {
        // `raw` was cut at line ends, except for a truncated head whose last line may be partial:
        // a partial last line is dropped.
        let Ok((r, (line, bare_lf))) = header_line(rest) else { break };
        rest = r;
        if bare_lf {
            push_once(an, Anomaly::HttpBareLf);
        }
        match line {
            HeaderLine::End => break,
            HeaderLine::Field { name, value } => {
                if h.fields.len() >= limits.http_max_headers {
                    too_many = true;
                    continue;
                }
                h.fields.push(HttpHeader { name: name.to_vec(), value: value.to_vec() });
            }
            HeaderLine::Continuation(v) => {
                push_once(an, Anomaly::HttpHeaderFolded);
                if let Some(last) = h.fields.last_mut() {
                    if !v.is_empty() {
                        if !last.value.is_empty() {
                            last.value.push(b' ');
                        }
                        last.value.extend_from_slice(v);
                    }
                }
            }
            HeaderLine::Invalid(_) => push_once(an, Anomaly::HttpHeaderInvalid),
        }
    }
    if too_many {
        push_once(an, Anomaly::HttpTooManyHeaders);
    }
    for f in &h.fields {
        if f.name.eq_ignore_ascii_case(b"cookie") || f.name.eq_ignore_ascii_case(b"set-cookie") {
            continue;
        }
        h.normalized.extend_from_slice(&f.name);
        h.normalized.extend_from_slice(b": ");
        h.normalized.extend_from_slice(&f.value);
        h.normalized.extend_from_slice(b"\r\n");
    }
    // Framing facts.
    let mut content_length = None;
    for v in h.all("content-length") {
        // "Content-Length: 5, 5" is legal when the values agree.
        for part in v.split(|&c| c == b',') {
            let part = part.trim_ascii();
            let n = if !part.is_empty() && part.iter().all(u8::is_ascii_digit) {
                part.iter().try_fold(0u64, |a, &d| a.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            } else {
                None
            };
            match (n, content_length) {
                (None, _) => push_once(an, Anomaly::HttpContentLengthInvalid),
                (Some(n), Some(prev)) if n != prev => push_once(an, Anomaly::HttpContentLengthInvalid),
                (Some(n), _) => content_length = Some(n),
            }
        }
    }
    let mut chunked = false;
    let mut te_seen = false;
    for v in h.all("transfer-encoding") {
        te_seen = true;
        // Chunked must be the last coding to frame the message.
        let last = v.rsplit(|&c| c == b',').next().unwrap_or_default().trim_ascii();
        chunked = last.eq_ignore_ascii_case(b"chunked");
    }
    if te_seen && !chunked {
        push_once(an, Anomaly::HttpTransferEncodingUnknown);
    }
    if chunked && content_length.is_some() {
        push_once(an, Anomaly::HttpTeAndCl);
    }
    let mut encoding = None;
    let codings: Vec<&[u8]> = h
        .all("content-encoding")
        .flat_map(|v| v.split(|&c| c == b','))
        .map(|c| c.trim_ascii())
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case(b"identity"))
        .collect();
    match codings.as_slice() {
        [] => {}
        [c] if c.eq_ignore_ascii_case(b"gzip") || c.eq_ignore_ascii_case(b"x-gzip") => {
            encoding = Some(ContentEncoding::Gzip)
        }
        [c] if c.eq_ignore_ascii_case(b"deflate") => encoding = Some(ContentEncoding::Deflate),
        _ => push_once(an, Anomaly::HttpContentEncodingUnknown),
    }
    HeadFacts { headers: h, content_length, chunked, encoding }
}

fn push_once(an: &mut Vec<Anomaly>, a: Anomaly) {
    if !an.contains(&a) {
        an.push(a);
    }
}

fn join_values<'a>(it: impl Iterator<Item = &'a [u8]>, sep: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for v in it {
        match &mut out {
            None => out = Some(v.to_vec()),
            Some(o) => {
                o.extend_from_slice(sep);
                o.extend_from_slice(v);
            }
        }
    }
    out
}

/// `Host` value lower-cased, port and IPv6 brackets' port removed.
fn host_norm(h: &[u8]) -> Vec<u8> {
    let h = h.trim_ascii();
    let h = if h.first() == Some(&b'[') {
        match memchr::memchr(b']', h) {
            Some(e) => &h[..=e],
            None => h,
        }
    } else {
        match memchr::memrchr(b':', h) {
            Some(c) if h[c + 1..].iter().all(u8::is_ascii_digit) => &h[..c],
            _ => h,
        }
    };
    let h = h.strip_suffix(b".").unwrap_or(h);
    h.to_ascii_lowercase()
}

/// Where the head ends: the offset after the blank line, `Ok(None)` for "need more", `Err` for
/// "not a start line".
enum HeadScan<'a> {
    Complete { start_len: usize, head_len: usize, start: Start<'a> },
    Incomplete,
    Invalid,
}

enum Start<'a> {
    Request(parser::RequestLine<'a>),
    Status(parser::StatusLine<'a>),
}

fn scan_head(dir: Direction, input: &[u8]) -> HeadScan<'_> {
    let res = match dir {
        Direction::ToServer => request_line(input).map(|(r, l)| (r, Start::Request(l))),
        Direction::ToClient => status_line(input).map(|(r, l)| (r, Start::Status(l))),
    };
    let (mut rest, start) = match res {
        Ok(x) => x,
        Err(Err::Incomplete(_)) => return HeadScan::Incomplete,
        Err(_) => return HeadScan::Invalid,
    };
    let start_len = input.len() - rest.len();
    // HTTP/0.9 requests have no headers.
    if let Start::Request(r) = &start {
        if r.protocol.is_empty() {
            return HeadScan::Complete { start_len, head_len: start_len, start };
        }
    }
    loop {
        match header_line(rest) {
            Ok((r, (HeaderLine::End, _))) => {
                rest = r;
                break;
            }
            Ok((r, _)) => rest = r,
            Err(_) => return HeadScan::Incomplete,
        }
    }
    HeadScan::Complete { start_len, head_len: input.len() - rest.len(), start }
}

/// Whether `s` starts with a start line for `dir` (`Some(true)`), cannot (`Some(false)`), or is
/// too short to tell (`None`).
fn start_line_prefix(dir: Direction, s: &[u8]) -> Option<bool> {
    match dir {
        Direction::ToClient => {
            let n = s.len().min(7);
            if s[..n] != b"HTTP/1."[..n] {
                Some(false)
            } else if n < 7 {
                None
            } else {
                Some(true)
            }
        }
        Direction::ToServer => {
            let mut short = false;
            for m in METHODS {
                let n = s.len().min(m.len() + 1);
                let mut want = m.to_vec();
                want.push(b' ');
                if s[..n] == want[..n] {
                    if n == want.len() {
                        return Some(true);
                    }
                    short = true;
                }
            }
            if short {
                None
            } else {
                Some(false)
            }
        }
    }
}

impl HttpParser {
    pub fn new(limits: Limits) -> Self {
        let half = || Half { buf: StreamBuf::default(), state: State::Head };
        HttpParser {
            limits,
            halves: [half(), half()],
            pending: VecDeque::new(),
            next_request: 0,
            next_unsolicited: 0,
            connect_pending: false,
        }
    }

    /// The buffer cap: a head may use all of `http_max_header_bytes`; chunk lines and resync
    /// need less.
    fn cap(&self) -> usize {
        self.limits.http_max_header_bytes.max(CHUNK_LINE_MAX + 1)
    }

    /// Parses as much of `input` as possible; returns the bytes consumed.
    fn step(&mut self, dir: Direction, input: &[u8], out: &mut dyn FnMut(AppEvent)) -> usize {
        let mut pos = 0;
        while pos < input.len() {
            let d = dir.index();
            let rest = &input[pos..];
            let used = match self.halves[d].state {
                State::Tunnel | State::Dead => return input.len(),
                State::Head => self.head(dir, rest, out),
                State::SkipHead { .. } => self.skip_head(dir, rest, out),
                State::Body(_) => self.body(dir, rest, out),
                State::Resync => self.resync(dir, rest),
            };
            match used {
                Some(n) => pos += n,
                None => break,
            }
        }
        pos
    }

    /// `None`: need more bytes.
    fn head(&mut self, dir: Direction, input: &[u8], out: &mut dyn FnMut(AppEvent)) -> Option<usize> {
        // Empty lines before a request are tolerated (RFC 9112 2.2); the same is done for
        // responses, which some servers send after a body.
        let skip = input.iter().take_while(|&&c| c == b'\r' || c == b'\n').count();
        if skip > 0 {
            return Some(skip);
        }
        if dir == Direction::ToServer && self.connect_pending {
            match start_line_prefix(dir, input) {
                None => return None,
                Some(false) => {
                    self.halves[dir.index()].state = State::Tunnel;
                    return Some(input.len());
                }
                Some(true) => {}
            }
        }
        let limit = self.limits.http_max_header_bytes;
        match scan_head(dir, input) {
            HeadScan::Complete { start_len, head_len, start } if head_len <= limit => {
                // The header lines with their line ends, without the blank line.
                let h = &input[start_len..head_len];
                let raw_headers = if h == b"\r\n" || h == b"\n" {
                    &h[..0]
                } else if h.ends_with(b"\n\r\n") {
                    &h[..h.len() - 2]
                } else if h.ends_with(b"\n\n") {
                    &h[..h.len() - 1]
                } else {
                    h
                };
                self.emit_head(dir, start, raw_headers, false, out);
                Some(head_len)
            }
            HeadScan::Complete { .. } => Some(self.truncate_head(dir, input, limit, out)),
            HeadScan::Incomplete if input.len() >= limit => Some(self.truncate_head(dir, input, limit, out)),
            HeadScan::Incomplete => None,
            HeadScan::Invalid => {
                out(AppEvent::Anomaly(match dir {
                    Direction::ToServer => Anomaly::HttpRequestLineInvalid,
                    Direction::ToClient => Anomaly::HttpStatusLineInvalid,
                }));
                self.halves[dir.index()].state = State::Dead;
                Some(input.len())
            }
        }
    }

    /// The head is longer than the limit: report what the first `limit` bytes hold, then skip
    /// to the end of the head.
    fn truncate_head(
        &mut self,
        dir: Direction,
        input: &[u8],
        limit: usize,
        out: &mut dyn FnMut(AppEvent),
    ) -> usize {
        let cut = &input[..limit.min(input.len())];
        out(AppEvent::Anomaly(Anomaly::HttpHeaderTooLong));
        // Parse the start line from the cut; if the start line itself is cut, report it as is.
        let with_nl: Vec<u8>;
        let (start, start_len) = match dir {
            Direction::ToServer => match request_line(cut) {
                Ok((r, l)) => (Some(Start::Request(l)), cut.len() - r.len()),
                Err(_) => {
                    with_nl = [cut, &b" HTTP/1.1\n"[..]].concat();
                    // A request line cut inside the URI: report the URI prefix we have.
                    let st = match request_line(&with_nl) {
                        Ok((_, l)) => Some(parser::RequestLine {
                            method: &cut[..l.method.len()],
                            uri: &cut[cut.len() - l.uri.len()..],
                            protocol: b"",
                            bare_lf: false,
                            uri_has_space: l.uri_has_space,
                        }),
                        Err(_) => None,
                    };
                    (st.map(Start::Request), cut.len())
                }
            },
            Direction::ToClient => match status_line(cut) {
                Ok((r, l)) => (Some(Start::Status(l)), cut.len() - r.len()),
                Err(_) => (None, cut.len()),
            },
        };
        let Some(start) = start else {
            self.halves[dir.index()].state = State::Dead;
            return input.len();
        };
        self.emit_head(dir, start, &cut[start_len..], true, out);
        // Whatever state emit_head chose (a body, a tunnel) applies after the rest of the head.
        let next = std::mem::replace(&mut self.halves[dir.index()].state, State::Head);
        let (then, tunnel) = match next {
            State::Body(b) => (Some(b), false),
            State::Tunnel => (None, true),
            _ => (None, false),
        };
        // The cut may end just after a newline: seed the blank-line detector accordingly.
        let nl = match cut {
            [.., b'\n', b'\r'] => 2,
            [.., b'\n'] => 1,
            _ => 0,
        };
        self.halves[dir.index()].state = State::SkipHead { nl, then, tunnel };
        cut.len()
    }

    fn skip_head(&mut self, dir: Direction, input: &[u8], _out: &mut dyn FnMut(AppEvent)) -> Option<usize> {
        let half = &mut self.halves[dir.index()];
        let State::SkipHead { nl, .. } = &mut half.state else { return Some(0) };
        for (i, &c) in input.iter().enumerate() {
            match c {
                b'\n' if *nl > 0 => {
                    let State::SkipHead { then, tunnel, .. } =
                        std::mem::replace(&mut half.state, State::Head)
                    else {
                        return Some(i + 1);
                    };
                    half.state = match (then, tunnel) {
                        (_, true) => State::Tunnel,
                        (Some(b), _) => State::Body(b),
                        (None, _) => State::Head,
                    };
                    return Some(i + 1);
                }
                b'\n' => *nl = 1,
                b'\r' if *nl == 1 => *nl = 2,
                _ => *nl = 0,
            }
        }
        Some(input.len())
    }

    /// Reports a head and sets up what follows it.
    fn emit_head(
        &mut self,
        dir: Direction,
        start: Start<'_>,
        raw_headers: &[u8],
        truncated: bool,
        out: &mut dyn FnMut(AppEvent),
    ) {
        let mut an = Vec::new();
        if truncated {
            an.push(Anomaly::HttpHeaderTooLong);
        }
        let facts = collect_headers(raw_headers, &self.limits, &mut an);
        let d = dir.index();
        match start {
            Start::Request(rl) => {
                if rl.bare_lf {
                    push_once(&mut an, Anomaly::HttpBareLf);
                }
                if rl.uri_has_space {
                    push_once(&mut an, Anomaly::HttpUriInvalidChar);
                }
                let tx_id = self.next_request;
                self.next_request += 1;
                let connect = rl.method.eq_ignore_ascii_case(b"CONNECT");
                self.connect_pending |= connect;
                let norm = if connect {
                    // The target of CONNECT is an authority, not a path.
                    uri::NormalizedUri {
                        uri: rl.uri.to_vec(),
                        authority: Some(rl.uri.to_vec()),
                        anomalies: Vec::new(),
                    }
                } else {
                    uri::normalize(rl.uri)
                };
                for &a in &norm.anomalies {
                    push_once(&mut an, a);
                }
                if self.pending.len() >= self.limits.http_max_pending_requests {
                    push_once(&mut an, Anomaly::HttpTooManyPending);
                    self.pending.pop_front();
                }
                self.pending.push_back(Pending {
                    tx_id,
                    head: rl.method.eq_ignore_ascii_case(b"HEAD"),
                    connect,
                });
                let host = facts.headers.first("host").map(<[u8]>::to_vec);
                let host_norm = host.as_deref().or(norm.authority.as_deref()).map(|h| {
                    // An authority may carry userinfo.
                    let h = match memchr::memrchr(b'@', h) {
                        Some(at) => &h[at + 1..],
                        None => h,
                    };
                    host_norm(h)
                });
                let req = HttpRequest {
                    tx_id,
                    method: rl.method.to_vec(),
                    uri_raw: rl.uri.to_vec(),
                    uri_norm: norm.uri,
                    uri_authority: norm.authority,
                    protocol: rl.protocol.to_vec(),
                    cookie: join_values(facts.headers.all("cookie"), b"; "),
                    host,
                    host_norm,
                    user_agent: facts.headers.first("user-agent").map(<[u8]>::to_vec),
                    content_length: facts.content_length,
                    chunked: facts.chunked,
                    content_encoding: facts.encoding,
                    headers: facts.headers,
                    truncated,
                    anomalies: an,
                };
                // Requests without Content-Length or chunking have no body (RFC 9112 6.3).
                let framing = if req.chunked {
                    Some(Framing::Chunked(Chunk::Size))
                } else {
                    req.content_length.filter(|&n| n > 0).map(Framing::Length)
                };
                events_for(&req.anomalies, out);
                let enc = req.content_encoding;
                out(AppEvent::HttpRequest(Box::new(req)));
                self.halves[d].state = match framing {
                    Some(framing) => {
                        State::Body(Body { framing, sink: BodySink::new(tx_id, dir, enc), chunks: 0 })
                    }
                    None => State::Head,
                };
            }
            Start::Status(sl) => {
                if sl.bare_lf {
                    push_once(&mut an, Anomaly::HttpBareLf);
                }
                let interim = (100..200).contains(&sl.code) && sl.code != 101;
                let req = if interim { self.pending.front().copied() } else { self.pending.pop_front() };
                let req = req.unwrap_or_else(|| {
                    push_once(&mut an, Anomaly::HttpUnsolicitedResponse);
                    // Responses without requests (midstream pickup) get ids past the requests.
                    self.next_unsolicited += 1;
                    Pending { tx_id: u64::MAX - self.next_unsolicited, head: false, connect: false }
                });
                let resp = HttpResponse {
                    tx_id: req.tx_id,
                    protocol: sl.protocol.to_vec(),
                    status_code: sl.code,
                    status_raw: sl.code_raw.to_vec(),
                    status_msg: sl.message.to_vec(),
                    cookie: join_values(facts.headers.all("set-cookie"), b"; "),
                    content_length: facts.content_length,
                    chunked: facts.chunked,
                    content_encoding: facts.encoding,
                    headers: facts.headers,
                    truncated,
                    anomalies: an,
                };
                let tunnel = (req.connect && (200..300).contains(&sl.code)) || sl.code == 101;
                if req.connect && !interim {
                    self.connect_pending = false;
                }
                let no_body = req.head || interim || sl.code == 204 || sl.code == 304 || tunnel;
                let framing = if no_body {
                    None
                } else if resp.chunked {
                    Some(Framing::Chunked(Chunk::Size))
                } else {
                    match resp.content_length {
                        Some(0) => None,
                        Some(n) => Some(Framing::Length(n)),
                        None => Some(Framing::UntilClose),
                    }
                };
                events_for(&resp.anomalies, out);
                let enc = resp.content_encoding;
                out(AppEvent::HttpResponse(Box::new(resp)));
                if tunnel {
                    out(AppEvent::HttpTunnel { tx_id: req.tx_id });
                    self.halves[0].state = State::Tunnel;
                    self.halves[0].buf.clear();
                    self.halves[1].state = State::Tunnel;
                } else {
                    self.halves[d].state = match framing {
                        Some(framing) => {
                            State::Body(Body { framing, sink: BodySink::new(req.tx_id, dir, enc), chunks: 0 })
                        }
                        None => State::Head,
                    };
                }
            }
        }
    }

    /// Body bytes. `None`: need more (only for chunk lines).
    fn body(&mut self, dir: Direction, input: &[u8], out: &mut dyn FnMut(AppEvent)) -> Option<usize> {
        let limits = &self.limits;
        let half = &mut self.halves[dir.index()];
        let State::Body(b) = &mut half.state else { return Some(0) };
        let mut an = Vec::new();
        let mut ev = None;
        let mut finished = false;
        let used = match &mut b.framing {
            Framing::Length(left) => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(input.len());
                ev = b.sink.push(&input[..n], limits, &mut an);
                *left -= n as u64;
                finished = *left == 0;
                n
            }
            Framing::UntilClose => {
                ev = b.sink.push(input, limits, &mut an);
                input.len()
            }
            Framing::Chunked(Chunk::Data(left)) => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(input.len());
                ev = b.sink.push(&input[..n], limits, &mut an);
                *left -= n as u64;
                if *left == 0 {
                    b.framing = Framing::Chunked(Chunk::DataEnd);
                }
                n
            }
            Framing::Chunked(Chunk::DataEnd) => match input {
                [b'\r', b'\n', ..] => {
                    b.framing = Framing::Chunked(Chunk::Size);
                    2
                }
                [b'\n', ..] => {
                    b.framing = Framing::Chunked(Chunk::Size);
                    1
                }
                [b'\r'] => return None,
                _ => {
                    // Tolerate and read the next size line from here.
                    an.push(Anomaly::HttpChunkDataNoCrlf);
                    b.framing = Framing::Chunked(Chunk::Size);
                    0
                }
            },
            Framing::Chunked(Chunk::Size) => {
                let Some(nl) = memchr::memchr(b'\n', input) else {
                    if input.len() > CHUNK_LINE_MAX {
                        out(AppEvent::Anomaly(Anomaly::HttpChunkSizeInvalid));
                        if let Some(e) = b.sink.take(false) {
                            out(AppEvent::HttpBody(Box::new(e)));
                        }
                        half.state = State::Dead;
                        return Some(input.len());
                    }
                    return None;
                };
                match chunk_size(&input[..nl]).filter(|_| nl <= CHUNK_LINE_MAX) {
                    Some(0) => b.framing = Framing::Chunked(Chunk::Trailer),
                    Some(n) => {
                        b.chunks += 1;
                        if b.chunks == CHUNKS_MAX {
                            an.push(Anomaly::HttpTooManyChunks);
                        }
                        b.framing = Framing::Chunked(Chunk::Data(n));
                    }
                    None => {
                        out(AppEvent::Anomaly(Anomaly::HttpChunkSizeInvalid));
                        if let Some(e) = b.sink.take(false) {
                            out(AppEvent::HttpBody(Box::new(e)));
                        }
                        half.state = State::Dead;
                        return Some(input.len());
                    }
                }
                nl + 1
            }
            Framing::Chunked(Chunk::Trailer) => match header_line(input) {
                Ok((r, (HeaderLine::End, _))) => {
                    finished = true;
                    input.len() - r.len()
                }
                Ok((r, _)) => input.len() - r.len(),
                Err(_) if input.len() >= CHUNK_LINE_MAX => {
                    // An endless trailer: give up on the body's end, not on memory.
                    out(AppEvent::Anomaly(Anomaly::HttpHeaderTooLong));
                    finished = true;
                    input.len()
                }
                Err(_) => return None,
            },
        };
        if finished {
            if ev.is_none() {
                ev = b.sink.take(true);
            }
            half.state = State::Head;
        }
        events_for(&an, out);
        if let Some(e) = ev {
            out(AppEvent::HttpBody(Box::new(e)));
        }
        Some(used)
    }

    /// Looks for the next start line after lost bytes. Consumes up to (not including) it.
    fn resync(&mut self, dir: Direction, input: &[u8]) -> Option<usize> {
        let looks_like_start = |s: &[u8]| start_line_prefix(dir, s);
        let mut at = 0;
        loop {
            match looks_like_start(&input[at..]) {
                Some(true) => {
                    self.halves[dir.index()].state = State::Head;
                    return Some(at);
                }
                None => return if at == 0 { None } else { Some(at) },
                Some(false) => {}
            }
            match memchr::memchr(b'\n', &input[at..]) {
                Some(nl) if at + nl + 1 < input.len() => at += nl + 1,
                Some(_) => return Some(input.len()),
                None => {
                    return Some(input.len());
                }
            }
        }
    }

    fn status_of(&self, dir: Direction) -> ParseStatus {
        let h = &self.halves[dir.index()];
        match h.state {
            State::Dead => ParseStatus::Error,
            State::Tunnel => ParseStatus::Done,
            State::Head if h.buf.len() == 0 => ParseStatus::Ok,
            _ => ParseStatus::NeedMore,
        }
    }
}

impl StreamParser for HttpParser {
    fn parse(&mut self, dir: Direction, data: &[u8], out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        let d = dir.index();
        if matches!(self.halves[d].state, State::Dead | State::Tunnel) {
            return self.status_of(dir);
        }
        let cap = self.cap();
        let mut buf = std::mem::take(&mut self.halves[d].buf);
        let res = buf.run(data, cap, |s| self.step(dir, s, out));
        self.halves[d].buf = buf;
        if res.is_err() {
            // Cannot happen with the steps above (each makes progress on `cap` bytes); if it did,
            // the bytes are lost, which is a gap.
            out(AppEvent::Anomaly(Anomaly::HttpGapResync));
            self.halves[d].state = State::Resync;
        }
        self.status_of(dir)
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        let d = dir.index();
        let pending = self.halves[d].buf.len();
        let half = &mut self.halves[d];
        let skipped = match &mut half.state {
            State::Tunnel | State::Dead => return self.status_of(dir),
            State::Body(b) if pending == 0 => {
                let ok = match &mut b.framing {
                    Framing::Length(left) | Framing::Chunked(Chunk::Data(left)) if len <= *left => {
                        *left -= len;
                        true
                    }
                    Framing::UntilClose => true,
                    _ => false,
                };
                // The body has a hole: hand out what was inspected before it.
                if let Some(e) = b.sink.take(false) {
                    out(AppEvent::HttpBody(Box::new(e)));
                }
                if ok {
                    if let Framing::Length(0) = b.framing {
                        half.state = State::Head;
                    } else if let Framing::Chunked(Chunk::Data(0)) = b.framing {
                        b.framing = Framing::Chunked(Chunk::DataEnd);
                    }
                }
                ok
            }
            _ => false,
        };
        if !skipped {
            if let State::Body(b) = &mut half.state {
                if let Some(e) = b.sink.take(false) {
                    out(AppEvent::HttpBody(Box::new(e)));
                }
            }
            out(AppEvent::Anomaly(Anomaly::HttpGapResync));
            half.buf.clear();
            half.state = State::Resync;
        }
        self.status_of(dir)
    }

    fn end(&mut self, dir: Direction, out: &mut dyn FnMut(AppEvent)) {
        // A head cut short by the end of the connection (a server closing right after its
        // headers, without the blank line) is still a message: complete it and report it.
        let pending = self.halves[dir.index()].buf.pending();
        if matches!(self.halves[dir.index()].state, State::Head)
            && pending.iter().any(|&c| c != b'\r' && c != b'\n')
        {
            let mut head = pending.to_vec();
            if !head.ends_with(b"\n") {
                head.extend_from_slice(b"\r\n");
            }
            head.extend_from_slice(b"\r\n");
            self.halves[dir.index()].buf.clear();
            if self.head(dir, &head, out).is_some_and(|n| n == head.len()) {
                out(AppEvent::Anomaly(Anomaly::HttpHeadIncomplete));
            }
        }
        let half = &mut self.halves[dir.index()];
        if let State::Body(b) = &mut half.state {
            let complete = b.framing == Framing::UntilClose;
            if !complete {
                out(AppEvent::Anomaly(Anomaly::HttpBodyIncomplete));
            }
            if let Some(e) = b.sink.take(complete) {
                out(AppEvent::HttpBody(Box::new(e)));
            }
            half.state = State::Head;
        }
        half.buf.clear();
    }
}

#[cfg(test)]
mod tests;
