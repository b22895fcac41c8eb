//! Errors with source positions.
//!
//! Parsers work on one *logical* rule (continuation lines joined, a disabling `#` removed) and
//! report byte offsets into it; [`LineMap`] maps such an offset back to the physical file line
//! and column, so an error in the middle of a `\`-continued rule points at the right place.

use std::fmt;

use crate::lexer::Fail;

/// A rule (or configuration line) that could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RuleError {
    /// File name (`<string>` for text not read from a file).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The offending snippet (an option, a header field, a line).
    pub text: String,
    /// Why it was rejected.
    pub reason: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file, self.line, self.column, self.reason, self.text)
    }
}

/// One physical line's contribution to a logical line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    /// Byte offset in the logical text where this piece starts.
    logical: usize,
    /// 1-based physical line.
    line: usize,
    /// 0-based character column in the physical line of that first byte.
    col: usize,
}

/// Maps byte offsets in a logical line to physical (line, column).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineMap {
    segments: Vec<Segment>,
}

impl LineMap {
    /// A map for text that starts at `line`, character column `col` (0-based) and whose own
    /// newlines (Snort 3 multi-line rules) start new lines at column 0.
    pub fn single(text: &str, line: usize, col: usize) -> Self {
        let mut m = LineMap::default();
        m.push(0, line, col);
        m.add_newlines(text, 0, line);
        m
    }

    /// Records that logical offset `logical` is physical `line`, column `col` (0-based).
    pub fn push(&mut self, logical: usize, line: usize, col: usize) {
        self.segments.push(Segment { logical, line, col });
    }

    /// Adds a segment after every `\n` found in `text` (which starts at logical offset `base`
    /// and physical line `line`).
    pub fn add_newlines(&mut self, text: &str, base: usize, line: usize) {
        let mut l = line;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                l += 1;
                self.push(base + i + 1, l, 0);
            }
        }
    }

    /// (line, 1-based column) of `offset` in `text` (the logical line this map describes).
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let idx = self.segments.partition_point(|s| s.logical <= offset);
        let Some(seg) = idx.checked_sub(1).and_then(|i| self.segments.get(i)) else {
            return (1, offset + 1);
        };
        let chars = text.get(seg.logical..offset).map_or(offset - seg.logical, |s| s.chars().count());
        (seg.line, seg.col + chars + 1)
    }

    /// Builds a [`RuleError`] for a parse failure inside `text`.
    pub fn error(&self, file: &str, text: &str, fail: &Fail) -> RuleError {
        let (line, column) = self.position(text, fail.offset);
        let start = floor_char(text, fail.offset.min(text.len()));
        let end = floor_char(text, (fail.offset + fail.len).min(text.len())).max(start);
        let mut snippet = text[start..end].trim().to_owned();
        if snippet.is_empty() {
            snippet = text.trim().chars().take(80).collect();
        }
        RuleError { file: file.to_owned(), line, column, text: snippet, reason: fail.reason.clone() }
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_across_segments() {
        // "ab" from line 3 col 4, then "cd" from line 4 col 2.
        let mut m = LineMap::default();
        m.push(0, 3, 4);
        m.push(2, 4, 2);
        assert_eq!(m.position("abcd", 0), (3, 5));
        assert_eq!(m.position("abcd", 1), (3, 6));
        assert_eq!(m.position("abcd", 2), (4, 3));
        assert_eq!(m.position("abcd", 3), (4, 4));
    }

    #[test]
    fn display_format() {
        let e = RuleError {
            file: "x.rules".into(),
            line: 2,
            column: 7,
            text: "depth:x y".into(),
            reason: "invalid number".into(),
        };
        assert_eq!(e.to_string(), "x.rules:2:7: invalid number: depth:x y");
    }
}
