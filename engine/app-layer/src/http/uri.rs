//! URI normalisation in the manner of Snort's http_inspect.
//!
//! The normalised URI is what `http.uri` / `http_uri` content matches run against, so that an
//! attacker cannot hide `/etc/passwd` behind `%2e%2e%2f`, `%u002f`, `..%c0%af`, `//` or `\`.
//! Steps, in order:
//!
//! 1. An absolute-form URI (`http://host/path`) loses its scheme and authority (the authority is
//!    reported separately); the rest is split at the first literal `?` into path and query.
//! 2. Both parts are percent-decoded: `%XX`, IIS `%uXXXX` (code points above 0x7f become UTF-8),
//!    then overlong UTF-8 sequences for ASCII (`%c0%af`) are folded to the ASCII byte.
//!    A `%25` that decodes to another escape is counted as double encoding but not decoded again
//!    (Snort's `double_decode` is an IIS-only option).
//! 3. In the path only: backslashes become slashes, repeated slashes collapse, `.` segments go
//!    and `..` segments remove their parent; `..` above the root stays at the root.
//!
//! Every transformation that an honest client would not need is counted as an [`Anomaly`].

use crate::Anomaly;

/// The result of normalising one request URI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NormalizedUri {
    /// Path and query after decoding and path normalisation.
    pub uri: Vec<u8>,
    /// Authority of an absolute-form URI (`host[:port]`), raw.
    pub authority: Option<Vec<u8>>,
    /// Anomalies found, each at most once.
    pub anomalies: Vec<Anomaly>,
}

fn note(an: &mut Vec<Anomaly>, a: Anomaly) {
    if !an.contains(&a) {
        an.push(a);
    }
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Length of the `scheme://authority` prefix of an absolute-form URI, and the authority.
fn split_absolute(raw: &[u8]) -> Option<(usize, &[u8])> {
    let colon = memchr::memchr(b':', raw)?;
    let scheme = &raw[..colon];
    if scheme.is_empty()
        || !scheme[0].is_ascii_alphabetic()
        || !scheme.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        || !raw[colon..].starts_with(b"://")
    {
        return None;
    }
    let auth_start = colon + 3;
    let auth_len = raw[auth_start..]
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#'))
        .unwrap_or(raw.len() - auth_start);
    Some((auth_start + auth_len, &raw[auth_start..auth_start + auth_len]))
}

/// Percent-decodes `s` (with `%uXXXX`) into `out`, then folds overlong UTF-8.
fn decode(s: &[u8], an: &mut Vec<Anomaly>) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'%' {
            if i + 6 <= s.len() && matches!(s[i + 1], b'u' | b'U') {
                let h = &s[i + 2..i + 6];
                if let (Some(a), Some(b), Some(c2), Some(d)) =
                    (hexval(h[0]), hexval(h[1]), hexval(h[2]), hexval(h[3]))
                {
                    note(an, Anomaly::HttpUriUEncoding);
                    let cp = (u32::from(a) << 12) | (u32::from(b) << 8) | (u32::from(c2) << 4) | u32::from(d);
                    match char::from_u32(cp) {
                        Some(ch) => {
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        // A lone surrogate has no UTF-8 form; keep the escape as it was.
                        None => out.extend_from_slice(&s[i..i + 6]),
                    }
                    i += 6;
                    continue;
                }
            }
            if let (Some(&h1), Some(&h2)) = (s.get(i + 1), s.get(i + 2)) {
                if let (Some(a), Some(b)) = (hexval(h1), hexval(h2)) {
                    let v = (a << 4) | b;
                    if v == b'%' {
                        let next = &s[i + 3..];
                        let escape_follows =
                            (next.len() >= 2 && hexval(next[0]).is_some() && hexval(next[1]).is_some())
                                || (next.len() >= 5 && matches!(next[0], b'u' | b'U'));
                        if escape_follows {
                            note(an, Anomaly::HttpUriDoubleEncoding);
                        }
                    }
                    out.push(v);
                    i += 3;
                    continue;
                }
            }
            note(an, Anomaly::HttpUriPercentInvalid);
            out.push(c);
            i += 1;
            continue;
        }
        if c <= 0x20 || c == 0x7f {
            note(an, if c == 0 { Anomaly::HttpUriNul } else { Anomaly::HttpUriInvalidChar });
        }
        out.push(c);
        i += 1;
    }
    if out.contains(&0) {
        note(an, Anomaly::HttpUriNul);
    }
    fold_overlong(out, an)
}

/// Replaces overlong UTF-8 encodings of ASCII (2-byte `C0/C1 xx`, 3-byte `E0 80..9F xx`) with the
/// ASCII byte, as IIS did and as Snort's `utf_8` decoding does.
fn fold_overlong(v: Vec<u8>, an: &mut Vec<Anomaly>) -> Vec<u8> {
    if !v.iter().any(|&b| b == 0xc0 || b == 0xc1 || b == 0xe0) {
        return v;
    }
    let cont = |b: u8| b & 0xc0 == 0x80;
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        let b = v[i];
        if (b == 0xc0 || b == 0xc1) && i + 1 < v.len() && cont(v[i + 1]) {
            out.push(((b & 0x1f) << 6) | (v[i + 1] & 0x3f));
            note(an, Anomaly::HttpUriOverlongUtf8);
            i += 2;
        } else if b == 0xe0 && i + 2 < v.len() && (0x80..=0x81).contains(&v[i + 1]) && cont(v[i + 2]) {
            // E0 80..81 xx encodes 0x00..0x7f in three bytes.
            out.push(((v[i + 1] & 0x3f) << 6) | (v[i + 2] & 0x3f));
            note(an, Anomaly::HttpUriOverlongUtf8);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

/// Removes dot segments and repeated slashes from a decoded path (backslashes already turned
/// into slashes).
fn normalize_path(p: &[u8], an: &mut Vec<Anomaly>) -> Vec<u8> {
    let absolute = p.first() == Some(&b'/');
    let mut segs: Vec<&[u8]> = Vec::new();
    let mut trailing = false;
    let n = p.split(|&c| c == b'/').count();
    for (i, seg) in p.split(|&c| c == b'/').enumerate() {
        let last = i + 1 == n;
        match seg {
            b"" => {
                if i != 0 && !last {
                    note(an, Anomaly::HttpUriMultiSlash);
                }
                if last && i != 0 {
                    trailing = true;
                }
            }
            b"." => {
                note(an, Anomaly::HttpUriDotSegment);
                trailing = last;
            }
            b".." => {
                note(an, Anomaly::HttpUriDotSegment);
                if segs.pop().is_none() {
                    note(an, Anomaly::HttpUriAboveRoot);
                }
                trailing = last;
            }
            s => {
                segs.push(s);
                trailing = false;
            }
        }
    }
    let mut out = Vec::with_capacity(p.len());
    if absolute {
        out.push(b'/');
    }
    for (i, s) in segs.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(s);
    }
    if trailing && !segs.is_empty() {
        out.push(b'/');
    }
    out
}

/// Normalises a raw request URI (the request-target as it appeared on the request line).
pub fn normalize(raw: &[u8]) -> NormalizedUri {
    let mut an = Vec::new();
    let (rest, authority) = match split_absolute(raw) {
        Some((n, auth)) => (&raw[n..], Some(auth.to_vec())),
        None => (raw, None),
    };
    // Fragments never reach a server; a client that sends one is odd but harmless: keep it.
    let (path_raw, query_raw) = match memchr::memchr(b'?', rest) {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    let mut path = decode(path_raw, &mut an);
    if path.contains(&b'\\') {
        note(&mut an, Anomaly::HttpUriBackslash);
        for c in path.iter_mut() {
            if *c == b'\\' {
                *c = b'/';
            }
        }
    }
    let mut uri =
        if path.is_empty() && authority.is_some() { b"/".to_vec() } else { normalize_path(&path, &mut an) };
    path.clear();
    if let Some(q) = query_raw {
        uri.push(b'?');
        uri.extend_from_slice(&decode(q, &mut an));
    }
    NormalizedUri { uri, authority, anomalies: an }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Anomaly::*;

    /// Cases follow the evasions described in Snort's http_inspect documentation (README.http_inspect).
    #[test]
    fn normalisation_table() {
        let cases: &[(&str, &str, &[Anomaly])] = &[
            ("/index.html", "/index.html", &[]),
            ("/", "/", &[]),
            ("*", "*", &[]),
            ("/a/b/", "/a/b/", &[]),
            ("/a?b=c%20d", "/a?b=c d", &[]),
            // percent encoding of dots and slashes
            ("/%2e%2e/etc/passwd", "/etc/passwd", &[HttpUriDotSegment, HttpUriAboveRoot]),
            ("/a/%2E%2E%2Fb", "/b", &[HttpUriDotSegment]),
            ("/scripts/..%2f..%2fwinnt", "/winnt", &[HttpUriDotSegment, HttpUriAboveRoot]),
            // IIS %u encoding
            ("/a%u002fb", "/a/b", &[HttpUriUEncoding]),
            ("/%u002e%u002e/x", "/x", &[HttpUriUEncoding, HttpUriDotSegment, HttpUriAboveRoot]),
            ("/caf%u00e9", "/caf\u{e9}", &[HttpUriUEncoding]),
            // overlong UTF-8
            ("/..%c0%af..%c0%afwinnt", "/winnt", &[HttpUriOverlongUtf8, HttpUriDotSegment, HttpUriAboveRoot]),
            // double slashes
            ("//a///b", "/a/b", &[HttpUriMultiSlash]),
            // backslashes
            ("/a\\b\\..\\c", "/a/c", &[HttpUriBackslash, HttpUriDotSegment]),
            ("/a%5cb", "/a/b", &[HttpUriBackslash]),
            // self-references and traversal
            ("/a/./b", "/a/b", &[HttpUriDotSegment]),
            ("/a/b/../c", "/a/c", &[HttpUriDotSegment]),
            ("/a/b/..", "/a/", &[HttpUriDotSegment]),
            ("/a/.", "/a/", &[HttpUriDotSegment]),
            ("/../../../etc/passwd", "/etc/passwd", &[HttpUriDotSegment, HttpUriAboveRoot]),
            ("/..", "/", &[HttpUriDotSegment, HttpUriAboveRoot]),
            // query is decoded but not path-normalised
            ("/a?x=../..//y", "/a?x=../..//y", &[]),
            ("/a?x=%2e%2e", "/a?x=..", &[]),
            // a literal '?' ends the path, an encoded one does not
            ("/a%3fb/../c", "/c", &[HttpUriDotSegment]),
            // bad escapes are kept
            ("/a%zzb%4", "/a%zzb%4", &[HttpUriPercentInvalid]),
            ("/a%", "/a%", &[HttpUriPercentInvalid]),
            // double encoding is counted, not decoded
            ("/%252e%252e/x", "/%2e%2e/x", &[HttpUriDoubleEncoding]),
            // NUL
            ("/a%00.txt", "/a\0.txt", &[HttpUriNul]),
            // absolute form
            ("http://example.com/a/../b", "/b", &[HttpUriDotSegment]),
            ("http://example.com", "/", &[]),
            ("http://example.com?q", "/?q", &[]),
        ];
        for (raw, want, want_an) in cases {
            let n = normalize(raw.as_bytes());
            assert_eq!(String::from_utf8_lossy(&n.uri), *want, "normalize({raw:?})");
            let mut got = n.anomalies.clone();
            got.sort();
            let mut w = want_an.to_vec();
            w.sort();
            assert_eq!(got, w, "anomalies of {raw:?}");
        }
        assert_eq!(normalize(b"http://h:8080/x").authority.as_deref(), Some(&b"h:8080"[..]));
    }
}
