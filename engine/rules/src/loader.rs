//! Rule files: lines, continuations, comments, disabled rules, includes, variables, and the
//! Snort 2 configuration lines that may appear among rules.
//!
//! One bad rule never stops the others: every failure becomes a [`RuleError`] in the
//! [`LoadReport`] and loading goes on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ast::{Action, Dialect, Rule, SourceLocation};
use crate::classification::{classification_value, ClassificationTable};
use crate::error::{LineMap, RuleError};
use crate::filters::{parse_filter_directive, FilterDirective, FILTER_DIRECTIVES};
use crate::lexer::Fail;
use crate::rule::{parse_logical, ParseOptions};
use crate::vars::{VarValue, Vars};

/// How to load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Reject unknown option keywords and rules without a sid.
    pub strict: bool,
    /// Parse `#`-commented rules too and return them with `enabled == false`.
    pub include_disabled: bool,
    /// Force a dialect for every rule instead of guessing per rule.
    pub dialect: Option<Dialect>,
}

/// Two rules with the same `gid:sid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// `(gid, sid)`.
    pub id: (u32, u32),
    /// The rule that stayed.
    pub kept: SourceLocation,
    /// The rule that was dropped.
    pub dropped: SourceLocation,
}

/// What a load produced.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Loaded rules (one per `gid:sid`), in file order.
    pub rules: Vec<Rule>,
    /// Rules and lines that could not be used.
    pub errors: Vec<RuleError>,
    /// Lines that were deliberately ignored (Snort 2 `preprocessor`/`config`/`output`...), and
    /// other notes that are not errors.
    pub warnings: Vec<RuleError>,
    /// `#`-commented rules seen (parsed only with [`LoadOptions::include_disabled`]).
    pub disabled_count: usize,
    /// Rule lines for which a parse was attempted (enabled plus, if included, disabled).
    pub attempted: usize,
    /// `gid:sid` collisions. The later rule wins, except that an enabled rule is never replaced
    /// by a disabled one.
    pub duplicates: Vec<Duplicate>,
    /// Files read, in order.
    pub files: Vec<PathBuf>,
    /// `config classification:` lines met while loading.
    pub classifications: ClassificationTable,
    /// `event_filter` / `threshold` / `suppress` / `rate_filter` lines, in file order.
    pub filters: Vec<FilterDirective>,
}

impl LoadReport {
    /// Number of enabled rules loaded.
    pub fn enabled_rules(&self) -> usize {
        self.rules.iter().filter(|r| r.enabled).count()
    }
}

/// Loads one rule file (and what it includes).
pub fn load_file(path: impl AsRef<Path>, vars: &mut Vars, opts: &LoadOptions) -> LoadReport {
    load_files(&[path], vars, opts)
}

/// Loads several files into one report (duplicate sids are detected across them).
pub fn load_files<P: AsRef<Path>>(paths: &[P], vars: &mut Vars, opts: &LoadOptions) -> LoadReport {
    let mut l = Loader::new(vars, opts);
    for p in paths {
        l.load_path(p.as_ref(), None);
    }
    l.report
}

/// Loads rules from a string; `name` is used as the file name in locations and errors, and
/// includes are resolved relative to the current directory.
pub fn load_str(text: &str, name: &str, vars: &mut Vars, opts: &LoadOptions) -> LoadReport {
    let mut l = Loader::new(vars, opts);
    l.load_text(text, Arc::from(name), Path::new("."));
    l.report
}

/// Snort 2 `snort.conf` directives that may share a file with rules; they are skipped with a
/// warning.
const IGNORED_DIRECTIVES: &[&str] = &[
    "config",
    "preprocessor",
    "output",
    "dynamicpreprocessor",
    "dynamicengine",
    "dynamicdetection",
    "dynamicoutput",
    "ruletype",
    "attribute_table",
    "ipvar_path",
];

const MAX_INCLUDE_DEPTH: usize = 16;

struct Loader<'a> {
    vars: &'a mut Vars,
    opts: &'a LoadOptions,
    parse_opts: ParseOptions,
    report: LoadReport,
    index: HashMap<(u32, u32), usize>,
    stack: Vec<PathBuf>,
}

fn is_action_word(s: &str) -> bool {
    let end = s.find(|c: char| c.is_whitespace() || c == '(').unwrap_or(s.len());
    Action::from_keyword(&s[..end]).is_some() && s[end..].starts_with(|c: char| c.is_whitespace() || c == '(')
}

/// Does the text after a `#` look like a rule (rather than prose such as "# alert on this
/// (sometimes)")? An action keyword; then `(`, or a protocol word followed by `(` or something
/// shaped like an address (`$VAR`, `[`, `!`, `any`, a digit, an IPv6 `:`); an option body; and a
/// closing `)` or a continuation.
fn looks_like_rule(s: &str) -> bool {
    let t = s.trim_end();
    if !(is_action_word(s) && s.contains('(') && (t.ends_with(')') || t.ends_with('\\'))) {
        return false;
    }
    let mut words = s.split_whitespace().skip(1);
    let Some(proto) = words.next() else {
        return false;
    };
    if proto.starts_with('(') || s.split_whitespace().next().is_some_and(|a| a.contains('(')) {
        return true;
    }
    if !proto.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return false;
    }
    words.next().is_some_and(|w| {
        w.starts_with(['(', '$', '[', '!', ':'])
            || w.starts_with(|c: char| c.is_ascii_digit())
            || w.eq_ignore_ascii_case("any")
    })
}

fn char_col(line: &str, byte: usize) -> usize {
    line.get(..byte).map_or(byte, |p| p.chars().count())
}

impl<'a> Loader<'a> {
    fn new(vars: &'a mut Vars, opts: &'a LoadOptions) -> Self {
        Loader {
            vars,
            opts,
            parse_opts: ParseOptions { dialect: opts.dialect, strict: opts.strict },
            report: LoadReport::default(),
            index: HashMap::new(),
            stack: Vec::new(),
        }
    }

    fn error(&mut self, file: &str, line: usize, column: usize, text: &str, reason: String) {
        self.report.errors.push(RuleError {
            file: file.to_owned(),
            line,
            column,
            text: text.trim().to_owned(),
            reason,
        });
    }

    fn load_path(&mut self, path: &Path, from: Option<(&str, usize)>) {
        let display = path.display().to_string();
        let (efile, eline) = from.unwrap_or((&display, 0));
        let (efile, eline) = (efile.to_owned(), eline);
        if self.stack.len() >= MAX_INCLUDE_DEPTH || self.stack.iter().any(|p| p == path) {
            self.error(&efile, eline, 1, &display, "include loop or too deep".into());
            return;
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                self.error(&efile, eline, 1, &display, format!("cannot read file: {e}"));
                return;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                // Keep going: rules are ASCII in practice; odd bytes end up as U+FFFD.
                self.report.warnings.push(RuleError {
                    file: display.clone(),
                    line: 0,
                    column: 0,
                    text: String::new(),
                    reason: "file is not valid UTF-8; invalid bytes replaced".into(),
                });
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        self.report.files.push(path.to_path_buf());
        self.stack.push(path.to_path_buf());
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        self.load_text(&text, Arc::from(display.as_str()), &dir);
        self.stack.pop();
    }

    fn load_text(&mut self, text: &str, file: Arc<str>, dir: &Path) {
        let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
        let mut i = 0;
        while i < lines.len() {
            let first = lines[i];
            let lineno = i + 1;
            i += 1;
            let trimmed = first.trim_start();
            if trimmed.is_empty() {
                continue;
            }
            let (disabled, start) = if let Some(after) = trimmed.strip_prefix('#') {
                let body = after.trim_start_matches('#').trim_start();
                if !looks_like_rule(body) {
                    continue; // an ordinary comment
                }
                (true, first.len() - body.len())
            } else {
                (false, first.len() - trimmed.len())
            };

            // Build the logical line: `\` continuations (for a disabled rule, the `#` of each
            // continued line is dropped too).
            let mut logical = first[start..].to_owned();
            let mut map = LineMap::default();
            map.push(0, lineno, char_col(first, start));
            while logical.trim_end().ends_with('\\') && i < lines.len() {
                let keep = logical.trim_end().len() - 1;
                logical.truncate(keep);
                let next = lines[i];
                i += 1;
                let mut off = 0;
                if disabled {
                    let t = next.trim_start();
                    if let Some(rest) = t.strip_prefix('#') {
                        off = next.len() - rest.len();
                    }
                }
                map.push(logical.len(), i, char_col(next, off));
                logical.push_str(&next[off..]);
            }
            // Snort 3 lets a rule span lines without `\`: keep reading until the `)`, but never
            // across a blank line, a comment or the start of another rule.
            if !disabled && is_action_word(&logical) && logical.contains('(') {
                while !logical.trim_end().ends_with(')') && i < lines.len() {
                    let next = lines[i];
                    let t = next.trim_start();
                    if t.is_empty() || t.starts_with('#') || is_action_word(t) {
                        break;
                    }
                    logical.push('\n');
                    map.push(logical.len(), i + 1, 0);
                    logical.push_str(next);
                    i += 1;
                }
            }

            if disabled {
                self.report.disabled_count += 1;
                if !self.opts.include_disabled {
                    continue;
                }
            } else if !is_action_word(&logical) {
                self.directive(&logical, &file, lineno, char_col(first, start) + 1, dir);
                continue;
            }
            self.report.attempted += 1;
            let location =
                SourceLocation { file: file.clone(), line: lineno, column: char_col(first, start) + 1 };
            match parse_logical(&logical, self.vars, &self.parse_opts, location, !disabled) {
                Ok(rule) => {
                    if rule.src_set.is_empty()
                        || rule.dst_set.is_empty()
                        || rule.src_port_set.is_empty()
                        || rule.dst_port_set.is_empty()
                    {
                        self.report.warnings.push(RuleError {
                            file: file.to_string(),
                            line: lineno,
                            column: rule.location.column,
                            text: logical.chars().take(120).collect(),
                            reason: "header matches no address or port with the current \
                                     variables; the rule can never fire"
                                .into(),
                        });
                    }
                    self.add_rule(rule)
                }
                Err(f) => {
                    let e = map.error(&file, &logical, &f);
                    self.report.errors.push(e);
                }
            }
        }
    }

    /// A non-rule, non-comment line.
    fn directive(&mut self, line: &str, file: &str, lineno: usize, col: usize, dir: &Path) {
        let line = line.trim();
        let (word, rest) = match line.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (line, ""),
        };
        let fail = |reason: String| Fail::new(0, line.len(), reason);
        let result: Result<(), Fail> = match word {
            "include" => {
                if rest.is_empty() {
                    Err(fail("include needs a path".into()))
                } else {
                    let expanded = self.expand_text_vars(rest);
                    let p = Path::new(&expanded);
                    let full = if p.is_absolute() { p.to_path_buf() } else { dir.join(p) };
                    self.load_path(&full, Some((file, lineno)));
                    Ok(())
                }
            }
            "var" | "ipvar" | "portvar" => match rest.split_once(char::is_whitespace) {
                None => Err(fail(format!("{word} needs a name and a value"))),
                Some((name, value)) => {
                    let value = value.trim();
                    let r = match word {
                        "ipvar" => self.vars.define_ip(name, value),
                        "portvar" => self.vars.define_port(name, value),
                        _ => self.vars.define(name, value),
                    };
                    r.map_err(fail)
                }
            },
            w if FILTER_DIRECTIVES.contains(&w) => {
                parse_filter_directive(w, rest, self.vars).map(|f| self.report.filters.push(f)).map_err(fail)
            }
            _ if classification_value(line).is_some() => {
                let v = classification_value(line).unwrap_or_default();
                self.report.classifications.add_line(v).map_err(fail)
            }
            w if IGNORED_DIRECTIVES.contains(&w) => {
                self.report.warnings.push(RuleError {
                    file: file.to_owned(),
                    line: lineno,
                    column: col,
                    text: line.chars().take(80).collect(),
                    reason: format!("`{w}` directive ignored"),
                });
                Ok(())
            }
            _ => Err(fail("not a rule, comment or known directive".into())),
        };
        if let Err(f) = result {
            let map = LineMap::single(line, lineno, col - 1);
            self.report.errors.push(map.error(file, line, &f));
        }
    }

    /// Expands `$NAME` and `$(NAME)` text variables in an include path.
    fn expand_text_vars(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(p) = rest.find('$') {
            out.push_str(&rest[..p]);
            let after = &rest[p + 1..];
            let (name, consumed) = if let Some(inner) = after.strip_prefix('(') {
                match inner.find(')') {
                    Some(e) => (&inner[..e], e + 2),
                    None => ("", 0),
                }
            } else {
                let e = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..e], e)
            };
            match self.vars.get(name) {
                Some(VarValue::Text(v)) if !name.is_empty() => {
                    out.push_str(v);
                    rest = &after[consumed..];
                }
                _ => {
                    out.push('$');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn add_rule(&mut self, rule: Rule) {
        let id = rule.id();
        if id.1 == 0 {
            self.report.rules.push(rule);
            return;
        }
        match self.index.get(&id) {
            None => {
                self.index.insert(id, self.report.rules.len());
                self.report.rules.push(rule);
            }
            Some(&i) => {
                let old = &mut self.report.rules[i];
                if old.enabled && !rule.enabled {
                    self.report.duplicates.push(Duplicate {
                        id,
                        kept: old.location.clone(),
                        dropped: rule.location,
                    });
                } else {
                    self.report.duplicates.push(Duplicate {
                        id,
                        kept: rule.location.clone(),
                        dropped: old.location.clone(),
                    });
                    *old = rule;
                }
            }
        }
    }
}
