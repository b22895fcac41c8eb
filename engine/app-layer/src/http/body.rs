//! HTTP message bodies: framing (Content-Length, chunked, until close), decompression (gzip,
//! deflate) and the capped inspection buffer.
//!
//! Bodies are never buffered beyond `http_max_body_inspect`: once that much decoded body is kept
//! the body is handed out (truncated) and the rest is only framed, not decoded. Decompression is
//! stopped by an output cap and a ratio cap, so a bomb costs at most the cap in memory and CPU.

use flate2::{Decompress, FlushDecompress, Status};

use super::HttpBody;
use crate::{Anomaly, Direction, Limits};

/// A Content-Encoding this crate decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentEncoding {
    Gzip,
    Deflate,
}

enum DecState {
    /// Collecting the gzip header (magic, flags, optional fields) or the first two bytes of a
    /// deflate stream (to tell zlib from raw deflate).
    Header(Vec<u8>),
    Inflate(Box<Decompress>),
    /// The body does not start like the announced encoding: it is inspected as it is.
    Passthrough,
    /// Finished or given up: further input is ignored.
    Stopped,
}

/// Longest gzip header kept while looking for its end (a FNAME or FEXTRA beyond this is hostile).
const GZIP_HEADER_MAX: usize = 4096;

/// Streaming decompressor with an output cap and a ratio cap.
pub(crate) struct Decoder {
    enc: ContentEncoding,
    state: DecState,
    total_in: u64,
    total_out: u64,
}

/// Length of a complete gzip header at the start of `h`: `Ok(None)` if more bytes are needed,
/// `Err` if it is not gzip.
fn gzip_header_len(h: &[u8]) -> Result<Option<usize>, ()> {
    if h.len() >= 2 && (h[0] != 0x1f || h[1] != 0x8b) || h.len() >= 3 && h[2] != 8 {
        return Err(());
    }
    if h.len() < 10 {
        return Ok(None);
    }
    let flags = h[3];
    let mut p = 10usize;
    if flags & 0x04 != 0 {
        let Some(x) = h.get(p..p + 2) else { return Ok(None) };
        p += 2 + usize::from(u16::from_le_bytes([x[0], x[1]]));
    }
    for bit in [0x08, 0x10] {
        if flags & bit != 0 {
            match h.get(p..).and_then(|r| memchr::memchr(0, r)) {
                Some(z) => p += z + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & 0x02 != 0 {
        p += 2;
    }
    Ok(if h.len() >= p { Some(p) } else { None })
}

impl Decoder {
    pub(crate) fn new(enc: ContentEncoding) -> Self {
        Decoder { enc, state: DecState::Header(Vec::new()), total_in: 0, total_out: 0 }
    }

    /// Decompresses `input`, appending to `sink` through `emit`. Returns anomalies via `an`.
    fn feed(
        &mut self,
        input: &[u8],
        limits: &Limits,
        an: &mut Vec<Anomaly>,
        emit: &mut dyn FnMut(&[u8]) -> bool,
    ) {
        let mut input = input;
        if let DecState::Header(h) = &mut self.state {
            let take = input.len().min(GZIP_HEADER_MAX.saturating_sub(h.len()));
            h.extend_from_slice(&input[..take]);
            let next = match self.enc {
                ContentEncoding::Gzip => match gzip_header_len(h) {
                    Ok(Some(n)) => Some((n, false)),
                    Ok(None) if h.len() >= GZIP_HEADER_MAX => None,
                    Ok(None) => return,
                    Err(()) => None,
                },
                ContentEncoding::Deflate => {
                    if h.len() < 2 {
                        return;
                    }
                    // RFC 9110 says zlib, but servers send raw deflate too: a zlib header has
                    // CM = 8 and a check value making the first 16 bits a multiple of 31.
                    let zlib = h[0] & 0x0f == 8 && (u16::from(h[0]) << 8 | u16::from(h[1])) % 31 == 0;
                    Some((0, zlib))
                }
            };
            let Some((skip, zlib)) = next else {
                // Servers and clients label plain bodies as gzip: like libhtp (Suricata issue
                // 6959) the body is then inspected undecoded rather than dropped.
                an.push(Anomaly::HttpDecompressionFailed);
                let buffered = std::mem::take(h);
                self.state = DecState::Passthrough;
                self.total_in += buffered.len() as u64;
                self.total_out += buffered.len() as u64;
                if emit(&buffered) {
                    self.passthrough(&input[take..], emit);
                } else {
                    self.state = DecState::Stopped;
                }
                return;
            };
            let buffered = std::mem::take(h);
            self.state = DecState::Inflate(Box::new(Decompress::new(zlib)));
            // The header bytes past the header itself are deflate data: run them first.
            self.inflate(&buffered[skip..], limits, an, emit);
            input = &input[take..];
        }
        if let DecState::Passthrough = self.state {
            self.passthrough(input, emit);
            return;
        }
        self.inflate(input, limits, an, emit);
    }

    fn passthrough(&mut self, input: &[u8], emit: &mut dyn FnMut(&[u8]) -> bool) {
        if input.is_empty() {
            return;
        }
        self.total_in += input.len() as u64;
        self.total_out += input.len() as u64;
        if !emit(input) {
            self.state = DecState::Stopped;
        }
    }

    fn inflate(
        &mut self,
        mut input: &[u8],
        limits: &Limits,
        an: &mut Vec<Anomaly>,
        emit: &mut dyn FnMut(&[u8]) -> bool,
    ) {
        let DecState::Inflate(z) = &mut self.state else { return };
        let mut scratch = [0u8; 8192];
        while !input.is_empty() {
            let (in0, out0) = (z.total_in(), z.total_out());
            let res = z.decompress(input, &mut scratch, FlushDecompress::None);
            let used = usize::try_from(z.total_in() - in0).unwrap_or(input.len()).min(input.len());
            let made = usize::try_from(z.total_out() - out0).unwrap_or(0).min(scratch.len());
            input = &input[used..];
            self.total_in += used as u64;
            self.total_out += made as u64;
            let wants_more = emit(&scratch[..made]);
            let stop = match res {
                Ok(Status::StreamEnd) => true,
                Ok(_) if used == 0 && made == 0 => true,
                Ok(_) => false,
                Err(_) => {
                    an.push(Anomaly::HttpDecompressionFailed);
                    true
                }
            };
            if self.total_out > limits.http_max_decompressed as u64 {
                an.push(Anomaly::HttpDecompressedTooLarge);
                self.state = DecState::Stopped;
                return;
            }
            if self.total_out >= limits.http_ratio_min_output as u64
                && self.total_out > self.total_in.saturating_mul(limits.http_max_decompress_ratio)
            {
                an.push(Anomaly::HttpDecompressionBomb);
                self.state = DecState::Stopped;
                return;
            }
            if stop || !wants_more {
                self.state = DecState::Stopped;
                return;
            }
        }
    }
}

/// Collects the inspected part of one body and hands it out once.
pub(crate) struct BodySink {
    pub tx_id: u64,
    pub dir: Direction,
    decoder: Option<Decoder>,
    encoding: Option<ContentEncoding>,
    data: Vec<u8>,
    /// The inspected part was already handed out; later bytes are framed only.
    emitted: bool,
    truncated: bool,
    /// Raw (still encoded) body bytes seen.
    pub raw_len: u64,
}

impl BodySink {
    pub(crate) fn new(tx_id: u64, dir: Direction, encoding: Option<ContentEncoding>) -> Self {
        BodySink {
            tx_id,
            dir,
            decoder: encoding.map(Decoder::new),
            encoding,
            data: Vec::new(),
            emitted: false,
            truncated: false,
            raw_len: 0,
        }
    }

    /// Takes raw (de-chunked) body bytes.
    pub(crate) fn push(&mut self, bytes: &[u8], limits: &Limits, an: &mut Vec<Anomaly>) -> Option<HttpBody> {
        self.raw_len = self.raw_len.saturating_add(bytes.len() as u64);
        if self.emitted || bytes.is_empty() {
            return None;
        }
        let cap = limits.http_max_body_inspect;
        let data = &mut self.data;
        let truncated = &mut self.truncated;
        let mut keep = |chunk: &[u8]| -> bool {
            let room = cap.saturating_sub(data.len());
            if chunk.len() > room {
                *truncated = true;
            }
            data.extend_from_slice(&chunk[..chunk.len().min(room)]);
            !*truncated
        };
        match &mut self.decoder {
            Some(d) => {
                let before = an.len();
                d.feed(bytes, limits, an, &mut keep);
                // Decompression stopped by a limit: the rest of the body will not be seen.
                if an[before..]
                    .iter()
                    .any(|a| matches!(a, Anomaly::HttpDecompressionBomb | Anomaly::HttpDecompressedTooLarge))
                {
                    *truncated = true;
                }
            }
            None => {
                keep(bytes);
            }
        }
        if self.truncated {
            if !an
                .iter()
                .any(|a| matches!(a, Anomaly::HttpDecompressionBomb | Anomaly::HttpDecompressedTooLarge))
            {
                an.push(Anomaly::HttpBodyTruncated);
            }
            return self.take(false);
        }
        None
    }

    /// The inspected body, once: `complete` says whether the whole body was seen.
    pub(crate) fn take(&mut self, complete: bool) -> Option<HttpBody> {
        if self.emitted {
            return None;
        }
        self.emitted = true;
        if self.data.is_empty() && self.raw_len == 0 {
            return None;
        }
        Some(HttpBody {
            tx_id: self.tx_id,
            dir: self.dir,
            data: std::mem::take(&mut self.data),
            truncated: self.truncated,
            complete,
            decoded: self.encoding,
            raw_len: self.raw_len,
        })
    }
}

/// Where a chunked body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// In chunk data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last chunk: trailer lines up to a blank line.
    Trailer,
}

/// Longest chunk-size line accepted (size plus extensions).
pub(crate) const CHUNK_LINE_MAX: usize = 1024;
/// Chunks per body above which the body is called endless chunking (counted once).
pub(crate) const CHUNKS_MAX: u64 = 10_000;

/// Parses a chunk-size line (without its LF): hex digits, optional extensions.
pub(crate) fn chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut s = line;
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    let digits = s.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if digits == 0 {
        return None;
    }
    let rest = &s[digits..];
    let rest_ok = rest.iter().all(|&c| c == b' ' || c == b'\t') || {
        let t = rest.iter().position(|&c| c != b' ' && c != b'\t').unwrap_or(0);
        rest[t] == b';'
    };
    if !rest_ok {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[..digits] {
        let d = (c as char).to_digit(16)? as u64;
        v = v.checked_mul(16)?.checked_add(d)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_size_lines() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"1A;name=value\r"), Some(26));
        assert_eq!(chunk_size(b"0\r"), Some(0));
        assert_eq!(chunk_size(b"00000000000000000000000010"), Some(16));
        assert_eq!(chunk_size(b"fffffffffffffffff"), None);
        assert_eq!(chunk_size(b"zz"), None);
        assert_eq!(chunk_size(b""), None);
        assert_eq!(chunk_size(b"10 x"), None);
    }

    #[test]
    fn gzip_headers() {
        assert_eq!(gzip_header_len(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Ok(Some(10)));
        assert_eq!(gzip_header_len(&[0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3, b'a', 0]), Ok(Some(12)));
        assert_eq!(gzip_header_len(&[0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3, b'a']), Ok(None));
        assert_eq!(gzip_header_len(&[0x1f, 0x8c]), Err(()));
    }
}
