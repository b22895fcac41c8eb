//! `ids -R rules`: load and compile the rules, run the sensor, write the alerts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ids_detect::{CompileOptions, CompileReport, RuleSet};
use ids_inspect::SensorRules;
use ids_output::{Alert, OutputSet, OutputStats};
use ids_pipeline::{EventKey, Output};
use ids_rules::{ClassificationTable, LoadReport};

use crate::check;

/// The classification file name Snort and Suricata ship next to their rules.
const CLASSIFICATION_FILE: &str = "classification.config";

/// Rules ready to run, with how long it took to get them.
pub struct Loaded {
    pub rules: Arc<SensorRules>,
    pub load: LoadReport,
    pub compile: CompileReport,
    pub parse_time: Duration,
    pub compile_time: Duration,
    /// Classification files read, with the problems found in them.
    pub class_notes: Vec<String>,
}

/// The classification table of a run: the files given with `--classification`, else every
/// `classification.config` next to the rule files (in the rule directory, or beside a rule
/// file), then the `config classification:` lines of the rule files (later entries win).
pub fn classifications(
    given: &[PathBuf],
    rule_paths: &[PathBuf],
    notes: &mut Vec<String>,
) -> ClassificationTable {
    let mut files: Vec<PathBuf> = given.to_vec();
    if files.is_empty() {
        for p in rule_paths {
            let dir = if p.is_dir() { Some(p.as_path()) } else { p.parent() };
            let Some(dir) = dir else { continue };
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            let f = dir.join(CLASSIFICATION_FILE);
            if f.is_file() && !files.contains(&f) {
                files.push(f);
            }
        }
    }
    let mut table = ClassificationTable::new();
    for f in &files {
        match ClassificationTable::load(f) {
            Ok((t, errors)) => {
                notes.push(format!("{}: {} classifications", f.display(), t.len()));
                for e in errors {
                    notes.push(format!("{}:{}: {}", f.display(), e.line, e.reason));
                }
                table.extend(t);
            }
            Err(e) => notes.push(format!("{}: {e}", f.display())),
        }
    }
    table
}

/// Parses and compiles the rules named on the command line.
pub fn load(
    rule_paths: &[PathBuf],
    class_files: &[PathBuf],
    strict: bool,
    include_disabled: bool,
    inspect_encrypted: bool,
) -> Loaded {
    let t0 = Instant::now();
    let mut load = check::load_rules(rule_paths, strict, include_disabled);
    let mut class_notes = Vec::new();
    let mut table = classifications(class_files, rule_paths, &mut class_notes);
    table.extend(std::mem::take(&mut load.classifications));
    let parse_time = t0.elapsed();
    let t1 = Instant::now();
    let mut opts =
        CompileOptions { classifications: Some(table.clone()), include_disabled, ..Default::default() };
    // event_filter / threshold / suppress / rate_filter lines of the rule and threshold files.
    for e in ids_detect::apply_filter_directives(&load.filters, &mut opts) {
        class_notes.push(e);
    }
    // The parsed rules move into the rule set (`load.rules` is left empty: `compile.rules_in`
    // counts them), so they are held once.
    let (rs, compile) = RuleSet::compile(std::mem::take(&mut load.rules), &opts);
    let rules = Arc::new(SensorRules::new(rs, &table).inspect_encrypted(inspect_encrypted));
    let compile_time = t1.elapsed();
    Loaded { rules, load, compile, parse_time, compile_time, class_notes }
}

/// `-T`'s detection section: what the engine compiled and why it rejected the rest.
pub fn compile_text(loaded: &Loaded) -> String {
    let mut text = String::new();
    let c = &loaded.compile;
    let _ = writeln!(text, "detection compile:");
    let _ = write!(text, "  {c}");
    let _ = writeln!(text, "  rules compiled: {}", c.compiled);
    let _ = writeln!(text, "  rules rejected by the engine: {}", c.rejected.len());
    for r in c.rejected.iter().take(10) {
        let _ = writeln!(text, "    {} [{}:{}]: {}", r.location, r.gid, r.sid, r.reason);
    }
    if c.rejected.len() > 10 {
        let _ = writeln!(text, "    ... {} more", c.rejected.len() - 10);
    }
    let _ = writeln!(
        text,
        "  pcre: {} regex, {} pcre2 ({} rules need pcre2)",
        c.pcre_regex, c.pcre_pcre2, c.rules_with_pcre2
    );
    let _ = writeln!(text, "  groups: {}", c.groups.len());
    for g in c.groups.iter().filter(|g| g.rules > 0).take(15) {
        let _ = writeln!(
            text,
            "    {}: {} rules, {} patterns, {} address-indexed, {} always",
            g.name, g.rules, g.patterns, g.addr_indexed, g.always
        );
    }
    for n in &loaded.class_notes {
        let _ = writeln!(text, "  classification: {n}");
    }
    let _ = writeln!(
        text,
        "startup: parse {:.3}s, compile {:.3}s",
        loaded.parse_time.as_secs_f64(),
        loaded.compile_time.as_secs_f64()
    );
    text
}

/// What the output stage leaves behind: its counters and the first write error.
pub type OutputResult = Arc<Mutex<(OutputStats, Option<String>)>>;

/// The output stage of a detection run: alerts arrive in packet order; the packet number
/// comes from the event key (workers do not know the run-wide order).
pub struct AlertOutput {
    pub set: OutputSet,
    /// Where the counters and the first write error end up when the run finishes.
    pub result: OutputResult,
    error: Option<String>,
}

impl AlertOutput {
    pub fn new(set: OutputSet) -> (AlertOutput, OutputResult) {
        let result = Arc::new(Mutex::new((OutputStats::default(), None)));
        (AlertOutput { set, result: result.clone(), error: None }, result)
    }
}

impl Output<Alert> for AlertOutput {
    fn event(&mut self, key: &EventKey, mut alert: Alert) {
        alert.packet_number = if key.packet == u64::MAX { 0 } else { key.packet };
        if let Err(e) = self.set.alert(&alert) {
            // Keep counting; report the first failure once the run ends.
            self.error.get_or_insert_with(|| e.to_string());
        }
    }

    fn finish(&mut self) {
        if let Err(e) = self.set.flush() {
            self.error.get_or_insert_with(|| e.to_string());
        }
        if let Ok(mut r) = self.result.lock() {
            *r = (self.set.stats(), self.error.take());
        }
    }
}
