//! `ids -T`: load the rule files, report what loaded and what was rejected (grouped by reason,
//! with file:line:column examples), and say whether the configuration is usable.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

use ids_rules::{LoadOptions, LoadReport, Vars};

/// How many examples to show per rejection reason.
const EXAMPLES: usize = 3;

pub struct CheckOutcome {
    pub text: String,
    /// No rule was rejected.
    pub ok: bool,
}

/// Rule files named on the command line; a directory stands for its `*.rules` files, in name
/// order (a rule set as published).
pub fn rule_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|d| {
                    d.flatten()
                        .map(|e| e.path())
                        .filter(|f| f.extension().is_some_and(|x| x == "rules"))
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    out
}

pub fn load_rules(paths: &[PathBuf], strict: bool, include_disabled: bool) -> LoadReport {
    let mut vars = Vars::default();
    let opts = LoadOptions { strict, include_disabled, ..Default::default() };
    ids_rules::load_files(&rule_files(paths), &mut vars, &opts)
}

pub fn check(files: &[PathBuf], strict: bool, include_disabled: bool) -> CheckOutcome {
    let report = load_rules(files, strict, include_disabled);
    let mut text = String::new();
    let _ = writeln!(text, "rule files: {}", report.files.len());
    let _ = writeln!(text, "rules loaded: {}", report.rules.len());
    let _ = writeln!(text, "  enabled: {}", report.enabled_rules());
    let _ = writeln!(text, "  disabled (# lines parsed): {}", report.rules.len() - report.enabled_rules());
    if !include_disabled {
        let _ = writeln!(text, "  disabled (# lines, not parsed): {}", report.disabled_count);
    }
    let _ = writeln!(text, "rules rejected: {}", report.errors.len());
    let _ = writeln!(text, "duplicate gid:sid: {}", report.duplicates.len());
    let _ = writeln!(text, "warnings: {}", report.warnings.len());
    if !report.filters.is_empty() {
        let count =
            |k: fn(&ids_rules::FilterDirective) -> bool| report.filters.iter().filter(|f| k(f)).count();
        let _ = writeln!(
            text,
            "event filters: {} (event_filter/threshold {}, suppress {}, rate_filter {})",
            report.filters.len(),
            count(|f| matches!(f, ids_rules::FilterDirective::EventFilter { .. })),
            count(|f| matches!(f, ids_rules::FilterDirective::Suppress { .. })),
            count(|f| matches!(f, ids_rules::FilterDirective::RateFilter { .. })),
        );
    }
    let mut by_reason: BTreeMap<&str, Vec<&ids_rules::RuleError>> = BTreeMap::new();
    for e in &report.errors {
        by_reason.entry(e.reason.as_str()).or_default().push(e);
    }
    if !by_reason.is_empty() {
        let _ = writeln!(text, "rejections by reason:");
        let mut reasons: Vec<_> = by_reason.into_iter().collect();
        reasons.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        for (reason, errors) in reasons {
            let _ = writeln!(text, "  {:>6}  {reason}", errors.len());
            for e in errors.iter().take(EXAMPLES) {
                let _ = writeln!(text, "          {}:{}:{}: {}", e.file, e.line, e.column, e.text);
            }
        }
    }
    let ok = report.errors.is_empty();
    CheckOutcome { text, ok }
}
