//! Diagnostics with file and line, parsed out of Lua error messages.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One finding about the package: the file (relative to the package root where possible), the
/// line if known, and a message. Displays as `file:line: severity: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub line: Option<u32>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: impl Into<PathBuf>, line: Option<u32>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, file: file.into(), line, message: message.into() }
    }

    pub fn warning(file: impl Into<PathBuf>, line: Option<u32>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, file: file.into(), line, message: message.into() }
    }

    /// Builds a diagnostic from a Lua error text. Lua prefixes runtime and syntax errors with
    /// `chunkname:line:`; when such a prefix is found (the error may come from a library the
    /// detector required) that file and line are used, otherwise `default_file` without a line.
    pub fn from_lua_error(severity: Severity, default_file: &Path, context: &str, text: &str) -> Self {
        let first = first_line(text);
        let (file, line, msg) = match split_location(first) {
            Some((f, l, m)) => (PathBuf::from(f), Some(l), m.to_owned()),
            None => (default_file.to_owned(), None, first.to_owned()),
        };
        let message = if context.is_empty() { msg } else { format!("{context}: {msg}") };
        Diagnostic { severity, file, line, message }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        match self.line {
            Some(l) => write!(f, "{}:{}: {}: {}", self.file.display(), l, sev, self.message),
            None => write!(f, "{}: {}: {}", self.file.display(), sev, self.message),
        }
    }
}

/// The first line of an mlua error text, without mlua's `runtime error: ` style prefixes.
pub(crate) fn first_line(text: &str) -> &str {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    for prefix in ["runtime error: ", "syntax error: ", "memory error: ", "callback error: "] {
        if let Some(rest) = line.strip_prefix(prefix) {
            return rest;
        }
    }
    line
}

/// Finds `NAME.lua:LINE:` in a message and returns (NAME.lua, LINE, rest of message).
pub(crate) fn split_location(text: &str) -> Option<(&str, u32, &str)> {
    let mut search = 0;
    while let Some(pos) = text[search..].find(".lua:") {
        let end_name = search + pos + 4;
        let start_name = text[..end_name].rfind([' ', '\t', '"', '\'', '[']).map_or(0, |i| i + 1);
        let after = &text[end_name + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after.as_bytes().get(digits) == Some(&b':') {
            if let Ok(line) = after[..digits].parse() {
                let rest = after[digits + 1..].trim_start();
                return Some((&text[start_name..end_name], line, rest));
            }
        }
        search = end_name;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lua_locations() {
        let d = Diagnostic::from_lua_error(
            Severity::Error,
            Path::new("x.lua"),
            "init",
            "runtime error: odp/lua/foo.lua:12: attempt to index a nil value\nstack traceback:\n...",
        );
        assert_eq!(d.file, PathBuf::from("odp/lua/foo.lua"));
        assert_eq!(d.line, Some(12));
        assert_eq!(d.message, "init: attempt to index a nil value");
        assert_eq!(d.to_string(), "odp/lua/foo.lua:12: error: init: attempt to index a nil value");
        let d = Diagnostic::from_lua_error(Severity::Error, Path::new("x.lua"), "", "boom");
        assert_eq!((d.file.to_str(), d.line), (Some("x.lua"), None));
    }
}
