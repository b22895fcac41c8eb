//! Lexing of the option body: the option splitter and the quoted-string / content decoders.
//!
//! The splitter is hand-written because the rule it implements is not a grammar a combinator
//! library expresses naturally: Suricata's `SigParseOptions` (`src/detect-parse.c`) ends an option
//! at the next `;` that is not immediately preceded by `\`, and it does *not* track double
//! quotes. ET Open depends on that: 13 rules carry a bare `"` inside a `pcre:"..."` value, which a
//! quote-aware splitter would lose sync on. Snort 3's FSM also runs `pcre` values to the next `;`.
//! So: split first, strip quotes afterwards.

/// A parse failure inside one rule: byte offset and length in the rule text, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fail {
    /// Byte offset of the offending text in the rule.
    pub offset: usize,
    /// Byte length of the offending text.
    pub len: usize,
    /// Human-readable reason.
    pub reason: String,
}

impl Fail {
    /// A failure at `offset..offset+len`.
    pub fn new(offset: usize, len: usize, reason: impl Into<String>) -> Self {
        Fail { offset, len, reason: reason.into() }
    }
}

/// One option as split from the body, before interpretation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// The keyword, trimmed.
    pub name: &'a str,
    /// The value after `:`, trimmed; `None` for `keyword;`.
    pub value: Option<&'a str>,
    /// Byte offset of the keyword in the rule text.
    pub offset: usize,
    /// The whole option text (`keyword:value`, without the `;`), trimmed.
    pub text: &'a str,
    /// Byte offset of the value in the rule text (valid when `value` is `Some`).
    pub value_offset: usize,
}

/// Splits the option body (the text between `(` and the final `)`) into options.
///
/// `base` is the byte offset of `body` within the rule text, so positions come out in rule
/// coordinates. The last option may omit its `;`.
pub fn split_options(body: &str, base: usize) -> Result<Vec<RawOption<'_>>, Fail> {
    let bytes = body.as_bytes();
    // One pass to size the vector: ET rules often have 20+ options.
    let mut out = Vec::with_capacity(bytes.iter().filter(|&&b| b == b';').count() + 1);
    let mut pos = 0;
    loop {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= bytes.len() {
            break;
        }
        let start = pos;
        // The keyword runs to the first `:` or `;`.
        let mut name_end = pos;
        while name_end < bytes.len() && bytes[name_end] != b':' && bytes[name_end] != b';' {
            name_end += 1;
        }
        let end; // end of the option (index of its `;` or end of body)
        let mut value = None;
        let mut value_offset = 0;
        if name_end < bytes.len() && bytes[name_end] == b':' {
            let vstart = name_end + 1;
            end = find_unescaped_semicolon(bytes, vstart).unwrap_or(bytes.len());
            let raw = &body[vstart..end];
            let lead = raw.len() - raw.trim_start().len();
            value = Some(raw.trim());
            value_offset = base + vstart + lead;
        } else {
            end = name_end;
        }
        let name = body[start..name_end].trim();
        if name.is_empty() {
            return Err(Fail::new(base + start, (end - start).max(1), "empty option keyword"));
        }
        out.push(RawOption {
            name,
            value,
            offset: base + start,
            text: body[start..end].trim_end(),
            value_offset,
        });
        pos = end + 1;
    }
    Ok(out)
}

/// Index of the next `;` at or after `from` that is not immediately preceded by `\` — exactly
/// Suricata's rule (so `\\;` also counts as escaped; no public rule set contains that sequence).
fn find_unescaped_semicolon(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == b';' && !(i > 0 && bytes[i - 1] == b'\\') {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Index of the closing `"` of a quoted string starting at `open` (which holds the opening quote),
/// honouring `\` escapes.
pub fn closing_quote(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Unquotes and unescapes a string value such as `msg:"a \"b\" \; c"`. Unquoted values are
/// returned trimmed; escapes are removed in both cases (`\x` → `x`).
pub fn unquote(v: &str) -> Result<String, String> {
    let v = v.trim();
    let inner = if let Some(rest) = v.strip_prefix('"') {
        match closing_quote(v, 0) {
            Some(end) if end == v.len() - 1 => &rest[..rest.len() - 1],
            Some(_) => return Err("unexpected text after closing quote".into()),
            None => return Err("unterminated quoted string".into()),
        }
    } else {
        v
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Splits a content-like value into (negated, quoted inner text, rest after the closing quote).
/// Unquoted values are accepted as a whole (Suricata does).
pub fn split_quoted(v: &str) -> Result<(bool, &str, &str), String> {
    let v = v.trim();
    let (negated, v) = match v.strip_prefix('!') {
        Some(r) => (true, r.trim_start()),
        None => (false, v),
    };
    if v.starts_with('"') {
        let end = closing_quote(v, 0).ok_or("unterminated quoted string")?;
        Ok((negated, &v[1..end], v[end + 1..].trim()))
    } else {
        Ok((negated, v, ""))
    }
}

/// Decodes a content pattern: `|41 42|` hex blocks (spaces allowed) and `\` escapes.
pub fn decode_content(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut in_hex = false;
    let mut nibble: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if in_hex {
            match c {
                b'|' => {
                    if nibble.is_some() {
                        return Err("odd number of hex digits in |...|".into());
                    }
                    in_hex = false;
                }
                // Spaces are ignored, even between the two digits of a byte (Snort and
                // Suricata both just skip them).
                c if c.is_ascii_whitespace() => {}
                c if c.is_ascii_hexdigit() => {
                    let v = (c as char).to_digit(16).unwrap_or(0) as u8;
                    match nibble.take() {
                        Some(hi) => out.push(hi << 4 | v),
                        None => nibble = Some(v),
                    }
                }
                _ => {
                    return Err(format!(
                        "invalid character `{}` in |hex| block",
                        String::from_utf8_lossy(&b[i..i + utf8_len(c)])
                    ))
                }
            }
            i += 1;
        } else {
            match c {
                b'|' => in_hex = true,
                b'\\' => {
                    i += 1;
                    if i >= b.len() {
                        return Err("dangling `\\` at end of content".into());
                    }
                    // Copy the whole escaped character (it may be multi-byte UTF-8).
                    let n = utf8_len(b[i]);
                    out.extend_from_slice(&b[i..(i + n).min(b.len())]);
                    i += n;
                    continue;
                }
                _ => out.push(c),
            }
            i += 1;
        }
    }
    if in_hex {
        return Err("unterminated |hex| block".into());
    }
    Ok(out)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &str) -> Vec<(String, Option<String>)> {
        split_options(body, 0)
            .unwrap()
            .iter()
            .map(|o| (o.name.to_string(), o.value.map(str::to_string)))
            .collect()
    }

    #[test]
    fn splits_on_unescaped_semicolons_only() {
        let got = names(r#" msg:"a\;b"; content:"x|3b|"; nocase ; pcre:"/a['"]b;/i"; sid:1"#);
        assert_eq!(got[0], ("msg".into(), Some(r#""a\;b""#.into())));
        assert_eq!(got[1], ("content".into(), Some(r#""x|3b|""#.into())));
        assert_eq!(got[2], ("nocase".into(), None));
        // Quotes are not tracked: the bare `"` inside the pcre does not matter, but the `;`
        // inside it ends the option (Suricata behaviour).
        assert_eq!(got[3], ("pcre".into(), Some(r#""/a['"]b"#.into())));
        assert_eq!(got[4], ("/i\"".into(), None));
        assert_eq!(got[5], ("sid".into(), Some("1".into())));
    }

    #[test]
    fn last_option_without_semicolon_and_offsets() {
        let opts = split_options("a:1; b", 10).unwrap();
        assert_eq!(opts.len(), 2);
        assert_eq!(opts[1].name, "b");
        assert_eq!(opts[1].offset, 15);
        assert_eq!(opts[0].value_offset, 12);
    }

    #[test]
    fn content_decoding() {
        let cases: &[(&str, &[u8])] = &[
            ("abc", b"abc"),
            ("|41 42|C", b"ABC"),
            ("|4142|", b"AB"),
            (r#"a\"b\;c\\d"#, b"a\"b;c\\d"),
            ("|0d 0a|x| 20 |", b"\r\nx "),
            ("é", "é".as_bytes()),
            ("|4 1|", b"A"),
        ];
        for (input, want) in cases {
            assert_eq!(decode_content(input).unwrap(), *want, "{input}");
        }
        for bad in ["|4|", "|41", "|zz|", "a\\"] {
            assert!(decode_content(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote(r#""a \"q\" \; b""#).unwrap(), r#"a "q" ; b"#);
        assert_eq!(unquote(" plain ").unwrap(), "plain");
        assert!(unquote(r#""open"#).is_err());
        assert_eq!(split_quoted(r#"!"x",depth 4"#).unwrap(), (true, "x", ",depth 4"));
    }
}
