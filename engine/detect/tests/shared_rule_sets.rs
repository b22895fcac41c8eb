//! Compiles every rule of the shared sets (`shared/rules/*`, disabled rules included) and checks
//! the compiled share: 100 % of the Snort community sets, ≥ 99 % of ET Open. Prints the figures,
//! grouped rejection reasons and the parse + compile time (`cargo test -- --nocapture`; the
//! release timing is `cargo run --release --example ruleset_bench`). Skipped with a note when the
//! shared directory is absent.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ids_detect::{CompileOptions, CompileReport, RuleSet};
use ids_rules::{load_files, LoadOptions, Vars};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rules");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("note: {} not found; shared rule set tests skipped", p.display());
        None
    }
}

fn compile_set(name: &str) -> Option<CompileReport> {
    let dir = shared()?.join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    files.sort();
    let t = Instant::now();
    let rep = load_files(
        &files,
        &mut Vars::default(),
        &LoadOptions { include_disabled: true, ..Default::default() },
    );
    let parsed = t.elapsed();
    let opts = CompileOptions { include_disabled: true, ..CompileOptions::default() };
    let (rs, report) = RuleSet::compile(rep.rules, &opts);
    println!(
        "[{name}] parse {:.0} ms + compile {:.0} ms | {report}",
        parsed.as_secs_f64() * 1000.0,
        report.elapsed.as_secs_f64() * 1000.0
    );
    for r in report.rejected.iter().take(8) {
        println!("      e.g. {} sid {}: {}", r.location, r.sid, r.reason);
    }
    assert_eq!(rs.len(), report.compiled);
    Some(report)
}

#[test]
fn snort3_community_compiles_fully() {
    if let Some(r) = compile_set("snort3-community") {
        assert!(r.rejected.is_empty(), "{r}");
    }
}

#[test]
fn snort2_community_compiles_fully() {
    if let Some(r) = compile_set("snort2-community-2021") {
        assert!(r.rejected.is_empty(), "{r}");
    }
}

#[test]
fn snort2_preprocessor_rules_are_event_rules() {
    if let Some(r) = compile_set("snort2-preproc-2.9.6") {
        assert!(r.event_rules >= 420, "{r}");
    }
}

#[test]
fn suricata_builtin_is_reported() {
    if let Some(r) = compile_set("suricata-builtin") {
        assert!(r.compiled > 0, "{r}");
    }
}

#[test]
fn et_open_compiles_99_percent() {
    if let Some(r) = compile_set("etopen-suricata5-2024-04") {
        assert!(r.compiled_percent() >= 99.0, "{r}");
        let big: Vec<_> = r.groups.iter().filter(|g| g.always > 50).collect();
        println!("groups with more than 50 always-evaluated rules: {big:?}");
    }
}
