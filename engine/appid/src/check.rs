//! `ids appid check DIR`: load every detector and report what is wrong with file and line.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::api::{DETECTOR_METHODS, FLOW_METHODS};
use crate::diag::{Diagnostic, Severity};
use crate::package::DetectorPackage;
use crate::sandbox::Limits;

/// Result of checking a package.
#[derive(Debug, Clone)]
pub struct Report {
    pub root: PathBuf,
    pub detectors: usize,
    pub enabled: usize,
    pub apps: usize,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count()
    }

    /// No errors (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors() == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "{d}")?;
        }
        writeln!(
            f,
            "{}: {} detectors, {} loaded, {} applications; {} errors, {} warnings",
            self.root.display(),
            self.detectors,
            self.enabled,
            self.apps,
            self.errors(),
            self.warnings()
        )
    }
}

/// Loads the package at `dir` (with default limits), then scans each detector's source for calls
/// of API methods this engine does not provide. Diagnostics are sorted by file and line.
pub fn check_package(dir: &Path) -> Report {
    check_package_with(dir, Limits::default())
}

pub fn check_package_with(dir: &Path, limits: Limits) -> Report {
    let (pkg, mut diags) = DetectorPackage::load_with(dir, limits);
    for info in &pkg.detectors {
        let Ok(code) = std::fs::read_to_string(pkg.root.join(&info.file)) else { continue };
        diags.extend(unknown_method_calls(&info.file, &code));
        // Contract problems have no line from Lua; point at the table's definition.
        for d in diags.iter_mut() {
            if d.line.is_none()
                && d.file == Path::new(&info.file)
                && d.message.starts_with("DetectorPackageInfo")
            {
                d.line = code.lines().position(|l| l.contains("DetectorPackageInfo")).map(|i| i as u32 + 1);
            }
        }
    }
    diags.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    diags.dedup();
    Report {
        root: pkg.root.clone(),
        detectors: pkg.detectors.len(),
        enabled: pkg.detectors.iter().filter(|d| d.enabled).count(),
        apps: pkg.apps.len(),
        diagnostics: diags,
    }
}

/// Blanks comments and string contents (keeping quotes and newlines) so a scan sees only code.
fn strip_comments_and_strings(code: &str) -> Vec<u8> {
    let b = code.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    // `[==[` at i → level, or None.
    let long_open = |i: usize| -> Option<usize> {
        if b.get(i) != Some(&b'[') {
            return None;
        }
        let eq = b[i + 1..].iter().take_while(|&&c| c == b'=').count();
        (b.get(i + 1 + eq) == Some(&b'[')).then_some(eq)
    };
    let long_close = |from: usize, level: usize| -> usize {
        let close: Vec<u8> = [b"]".to_vec(), vec![b'='; level], b"]".to_vec()].concat();
        memchr::memmem::find(&b[from..], &close).map_or(b.len(), |p| from + p + close.len())
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let end = match long_open(i + 2) {
                    Some(level) => long_close(i + 2, level),
                    None => memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p),
                };
                blank(&mut out, i, end);
                i = end;
            }
            q @ (b'"' | b'\'') => {
                let mut j = i + 1;
                while j < b.len() && b[j] != q && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(b.len());
                blank(&mut out, i + 1, end);
                i = end + 1;
            }
            b'[' => match long_open(i) {
                Some(level) => {
                    let end = long_close(i, level);
                    blank(&mut out, i, end);
                    i = end;
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Finds `obj:method(` calls on detector objects whose method the engine lacks. A call guarded by
/// a presence test elsewhere in the file (`if gDetector.method then`) is not reported, since ODP
/// detectors probe for optional methods that way.
pub(crate) fn unknown_method_calls(file: &str, code: &str) -> Vec<Diagnostic> {
    let known: HashSet<&str> = DETECTOR_METHODS.iter().chain(FLOW_METHODS).copied().collect();
    let src = strip_comments_and_strings(code);
    let text = String::from_utf8_lossy(&src);
    let mut out = Vec::new();
    let b = src.as_slice();
    for (pos, _) in text.match_indices(':') {
        let name_len = b[pos + 1..].iter().take_while(|&&c| is_ident(c)).count();
        if name_len == 0 || b.get(pos + 1) == Some(&b':') || (pos > 0 && b[pos - 1] == b':') {
            continue;
        }
        let after = b[pos + 1 + name_len..].iter().find(|c| !c.is_ascii_whitespace());
        if !matches!(after, Some(b'(' | b'"' | b'\'' | b'{')) {
            continue;
        }
        let recv_start = b[..pos].iter().rposition(|&c| !(is_ident(c) || c == b'.')).map_or(0, |p| p + 1);
        let receiver = text[recv_start..pos].to_ascii_lowercase();
        let last = receiver.rsplit('.').next().unwrap_or("");
        let name = &text[pos + 1..pos + 1 + name_len];
        if !last.contains("detector") || last.contains("flow") || known.contains(name) {
            continue;
        }
        if text.contains(&format!(".{name}")) {
            continue;
        }
        let line = text[..pos].bytes().filter(|&c| c == b'\n').count() as u32 + 1;
        out.push(Diagnostic::error(
            file,
            Some(line),
            format!("unknown API method '{name}' (not provided by this engine)"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_unguarded_unknown_methods() {
        let code = "-- gDetector:commented()\nlocal s = 'gDetector:inString()'\n\
                    gDetector:addPort(6, 22)\n\
                    if gDetector.AFAddApp then gDetector:AFAddApp(1, 2, 3) end\n\
                    gDetector:bogusMethod(1)\n\
                    context.detectorFlow:setFlowFlag(1)\n\
                    local x = str:format('a')\n\
                    --[[ gDetector:blockComment() ]]\n";
        let d = unknown_method_calls("x.lua", code);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].line, Some(5));
        assert!(d[0].message.contains("bogusMethod"));
    }
}
