//! nom parsers for the HTTP/1.x message head: start lines and header lines.
//!
//! All parsers are *streaming*: `Err::Incomplete` means "the line is not finished yet", while
//! `Err::Error` means "this is not HTTP". The caller decides what an over-long incomplete head
//! means (truncation, see `mod.rs`).

use nom::bytes::streaming::{tag, take_till, take_while1};
use nom::character::streaming::char;
use nom::error::{Error, ErrorKind};
use nom::{Err, IResult};

/// RFC 9110 `tchar`: the characters of a method or header name.
pub(crate) fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn fail(i: &[u8]) -> Err<Error<&[u8]>> {
    Err::Error(Error::new(i, ErrorKind::Verify))
}

/// One line ending in LF; the returned line has its CR (if any) removed. The flag says whether
/// the line ended in a bare LF.
pub(crate) fn line(i: &[u8]) -> IResult<&[u8], (&[u8], bool)> {
    let (i, l) = take_till(|c| c == b'\n')(i)?;
    let (i, _) = char('\n')(i)?;
    match l.strip_suffix(b"\r") {
        Some(l) => Ok((i, (l, false))),
        None => Ok((i, (l, true))),
    }
}

/// A parsed request line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RequestLine<'a> {
    pub method: &'a [u8],
    pub uri: &'a [u8],
    /// `HTTP/1.1` etc.; empty for an HTTP/0.9 simple request.
    pub protocol: &'a [u8],
    pub bare_lf: bool,
    /// The URI contained spaces (it was delimited by the last space before the protocol).
    pub uri_has_space: bool,
}

/// `METHOD SP request-target [SP HTTP/x.y] CRLF`. The method is checked while it arrives, so a
/// binary protocol is rejected from its first byte.
pub(crate) fn request_line(i: &[u8]) -> IResult<&[u8], RequestLine<'_>> {
    let (i, method) = take_while1(is_tchar)(i)?;
    let (i, _) = take_while1(|c| c == b' ' || c == b'\t')(i)?;
    let (rest, (l, bare_lf)) = line(i)?;
    let l = trim_end(l);
    if l.is_empty() {
        return Err(fail(i));
    }
    // The protocol is the word after the last space; anything else is part of the URI (some
    // servers accept unencoded spaces in the URI, so an IDS has to as well).
    let (uri, protocol) = match memchr::memrchr2(b' ', b'\t', l) {
        Some(sp) if l[sp + 1..].starts_with(b"HTTP/") => (trim_end(&l[..sp]), &l[sp + 1..]),
        Some(_) => return Err(fail(i)),
        None => (l, &b""[..]),
    };
    if uri.is_empty() || !(protocol.is_empty() || valid_version(protocol)) {
        return Err(fail(i));
    }
    let uri_has_space = uri.iter().any(|&c| c == b' ' || c == b'\t');
    Ok((rest, RequestLine { method, uri, protocol, bare_lf, uri_has_space }))
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    trim_end(s)
}

/// `HTTP/d.d` (one or more digits each side, as seen in the wild).
fn valid_version(p: &[u8]) -> bool {
    let Some(v) = p.strip_prefix(b"HTTP/") else { return false };
    let mut parts = v.splitn(2, |&c| c == b'.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().unwrap_or_default();
    !major.is_empty() && !minor.is_empty() && major.iter().chain(minor).all(u8::is_ascii_digit)
}

/// A parsed status line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StatusLine<'a> {
    pub protocol: &'a [u8],
    pub code: u16,
    pub code_raw: &'a [u8],
    pub message: &'a [u8],
    pub bare_lf: bool,
}

/// `HTTP/x.y SP 3DIGIT [SP reason] CRLF`.
pub(crate) fn status_line(i: &[u8]) -> IResult<&[u8], StatusLine<'_>> {
    let start = i;
    let (_, _) = tag(&b"HTTP/"[..])(i)?;
    let (rest, (l, bare_lf)) = line(i)?;
    let sp = memchr::memchr2(b' ', b'\t', l).ok_or_else(|| fail(start))?;
    let protocol = &l[..sp];
    if !valid_version(protocol) {
        return Err(fail(start));
    }
    let after = trim(&l[sp..]);
    let code_len = after.iter().take_while(|c| c.is_ascii_digit()).count();
    if code_len != 3 || after.get(3).is_some_and(|&c| c != b' ' && c != b'\t') {
        return Err(fail(start));
    }
    let code_raw = &after[..3];
    let code = code_raw.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    Ok((rest, StatusLine { protocol, code, code_raw, message: trim(&after[3..]), bare_lf }))
}

/// One line of the header block.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderLine<'a> {
    /// The blank line that ends the head.
    End,
    Field {
        name: &'a [u8],
        value: &'a [u8],
    },
    /// An obs-fold continuation of the previous field's value.
    Continuation(&'a [u8]),
    /// A line without a colon.
    Invalid(&'a [u8]),
}

/// One header line (or the blank line). The second value is the bare-LF flag.
pub(crate) fn header_line(i: &[u8]) -> IResult<&[u8], (HeaderLine<'_>, bool)> {
    let (rest, (l, bare_lf)) = line(i)?;
    let h = if l.is_empty() {
        HeaderLine::End
    } else if l[0] == b' ' || l[0] == b'\t' {
        HeaderLine::Continuation(trim(l))
    } else {
        match memchr::memchr(b':', l) {
            // Whitespace between name and colon is a smuggling vector; the name keeps it trimmed
            // here and the raw buffer keeps the truth.
            Some(c) if c > 0 => HeaderLine::Field { name: trim_end(&l[..c]), value: trim(&l[c + 1..]) },
            _ => HeaderLine::Invalid(l),
        }
    };
    Ok((rest, (h, bare_lf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        let (_, r) = request_line(b"GET /a HTTP/1.1\r\n").unwrap();
        assert_eq!(
            (r.method, r.uri, r.protocol, r.bare_lf),
            (&b"GET"[..], &b"/a"[..], &b"HTTP/1.1"[..], false)
        );
        let (_, r) = request_line(b"GET /a\n").unwrap();
        assert_eq!((r.uri, r.protocol, r.bare_lf), (&b"/a"[..], &b""[..], true));
        let (_, r) = request_line(b"GET /a b HTTP/1.0\r\n").unwrap();
        assert_eq!((r.uri, r.uri_has_space), (&b"/a b"[..], true));
        assert!(matches!(request_line(b"GET /a HT"), Err(Err::Incomplete(_))));
        assert!(matches!(request_line(b"GE"), Err(Err::Incomplete(_))));
        assert!(matches!(request_line(b"\x16\x03\x01"), Err(Err::Error(_))));
        assert!(matches!(request_line(b"GET\x00"), Err(Err::Error(_))));
        assert!(matches!(request_line(b"GET /a FOO/1.1\r\n"), Err(Err::Error(_))));
        assert!(matches!(request_line(b"GET /a HTTP/x\r\n"), Err(Err::Error(_))));
    }

    #[test]
    fn status_lines() {
        let (_, s) = status_line(b"HTTP/1.1 200 OK\r\n").unwrap();
        assert_eq!((s.code, s.message), (200, &b"OK"[..]));
        let (_, s) = status_line(b"HTTP/1.0 404\r\n").unwrap();
        assert_eq!((s.code, s.message), (404, &b""[..]));
        assert!(matches!(status_line(b"HTTP/1.1 20"), Err(Err::Incomplete(_))));
        assert!(matches!(status_line(b"HTT"), Err(Err::Incomplete(_))));
        assert!(matches!(status_line(b"SSH-2.0"), Err(Err::Error(_))));
        assert!(matches!(status_line(b"HTTP/1.1 2000 OK\r\n"), Err(Err::Error(_))));
    }

    #[test]
    fn header_lines() {
        let (_, (h, _)) = header_line(b"Host:  example.com \r\n").unwrap();
        assert_eq!(h, HeaderLine::Field { name: b"Host", value: b"example.com" });
        let (_, (h, _)) = header_line(b"\r\n").unwrap();
        assert_eq!(h, HeaderLine::End);
        let (_, (h, _)) = header_line(b"  more\r\n").unwrap();
        assert_eq!(h, HeaderLine::Continuation(b"more"));
        let (_, (h, _)) = header_line(b"garbage\r\n").unwrap();
        assert_eq!(h, HeaderLine::Invalid(b"garbage"));
    }
}
