//! Loads rule files or directories and prints load figures and timing.
//!
//! `cargo run --release -p ids-rules --example load_rules -- ../shared/rules/etopen-suricata5-2024-04`
//! Add `--disabled` to parse `#`-commented rules too.

use std::path::PathBuf;
use std::time::Instant;

use ids_rules::{load_files, LoadOptions, Vars};

fn main() {
    let mut opts = LoadOptions::default();
    let mut files: Vec<PathBuf> = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "--disabled" {
            opts.include_disabled = true;
            continue;
        }
        let p = PathBuf::from(&arg);
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&p)
                .expect("readable directory")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "rules"))
                .collect();
            v.sort();
            files.extend(v);
        } else {
            files.push(p);
        }
    }
    let mut vars = Vars::default();
    let t = Instant::now();
    let report = load_files(&files, &mut vars, &opts);
    let elapsed = t.elapsed();
    println!(
        "{} files, {} rules parsed ({} enabled), {} disabled seen, {} errors, {} warnings, {} duplicates in {:.1} ms",
        report.files.len(),
        report.rules.len(),
        report.enabled_rules(),
        report.disabled_count,
        report.errors.len(),
        report.warnings.len(),
        report.duplicates.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    for e in report.errors.iter().take(20) {
        println!("  {e}");
    }
}
