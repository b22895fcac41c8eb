//! Test support shared by the data-driven suites: where the shared captures and rule sets are,
//! the TSV fixture tables, and the discipline of reviewed difference lists.
//!
//! A suite that compares the engine with an oracle (tshark, Suricata's expectations) collects
//! the figures where the two differ as [`Differences`] and checks them with
//! [`unlisted_differences`] against a TSV that lists each expected difference with its reason.
//! A difference that is not listed fails the suite, and so does a listed one that no longer
//! occurs, so the list stays true.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// `../shared` beside the repository, when it is there (CI and developers have it).
pub fn shared() -> Option<PathBuf> {
    let dir = repo().join("../shared");
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// `../shared/pcaps`, when it is there.
pub fn shared_pcaps() -> Option<PathBuf> {
    shared().map(|s| s.join("pcaps")).filter(|p| p.is_dir())
}

/// `../shared/rules`, when it is there.
pub fn shared_rules() -> Option<PathBuf> {
    shared().map(|s| s.join("rules")).filter(|p| p.is_dir())
}

/// The repository's fixture directory, `pcaps/fixtures`.
pub fn fixtures() -> PathBuf {
    repo().join("pcaps/fixtures")
}

/// Rows of a TSV table as maps from column name to value; `#` lines are comments, the first
/// other line names the columns.
pub fn read_tsv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let Some(header) = lines.next() else { return Vec::new() };
    let columns: Vec<&str> = header.split('\t').collect();
    lines
        .map(|line| columns.iter().map(|c| c.to_string()).zip(line.split('\t').map(str::to_string)).collect())
        .collect()
}

/// Figures where the engine and its oracle differ: (subject, field) → (ids value, oracle value).
pub type Differences = BTreeMap<(String, String), (String, String)>;

/// Check differences found against a reviewed list (a TSV with columns path, field, ids, and
/// the oracle's column named `oracle_column`, plus a reason): every difference must be listed
/// with the same figures, and every listed difference must still occur. Returns the problems,
/// one line each.
pub fn unlisted_differences_in(found: &Differences, list: &Path, oracle_column: &str) -> Vec<String> {
    let listed: Differences = if list.exists() {
        read_tsv(list)
            .into_iter()
            .map(|r| ((r["path"].clone(), r["field"].clone()), (r["ids"].clone(), r[oracle_column].clone())))
            .collect()
    } else {
        Differences::new()
    };
    let mut problems = Vec::new();
    for (key @ (path, field), (ids, oracle)) in found {
        match listed.get(key) {
            Some(figures) if figures == &(ids.clone(), oracle.clone()) => {}
            Some((l_ids, l_oracle)) => problems.push(format!(
                "{path}\t{field}\t{ids}\t{oracle}\t(listed as ids {l_ids}, {oracle_column} {l_oracle})"
            )),
            None => problems.push(format!("{path}\t{field}\t{ids}\t{oracle}\t(not listed)")),
        }
    }
    for (key @ (path, field), (ids, oracle)) in &listed {
        if !found.contains_key(key) {
            problems.push(format!("{path}\t{field}\t{ids}\t{oracle}\t(listed, but the figures now agree)"));
        }
    }
    problems
}

/// [`unlisted_differences_in`] for lists whose oracle is tshark (column `tshark`).
pub fn unlisted_differences(found: &Differences, list: &Path) -> Vec<String> {
    unlisted_differences_in(found, list, "tshark")
}

/// Capture files under a directory, by extension, in path order.
pub fn capture_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if is_capture_name(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

pub fn is_capture_name(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".pcap", ".pcapng", ".cap", ".trace", ".dump", ".dmp"].iter().any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_differences_must_match_and_still_occur() {
        let dir = std::env::temp_dir().join(format!("ids-testkit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let list = dir.join("d.tsv");
        std::fs::write(&list, "# c\npath\tfield\tids\ttshark\treason\na\tx\t1\t2\twhy\nb\ty\t3\t4\twhy\n")
            .unwrap();
        let mut found = Differences::new();
        found.insert(("a".into(), "x".into()), ("1".into(), "2".into()));
        found.insert(("c".into(), "z".into()), ("5".into(), "6".into()));
        let problems = unlisted_differences(&found, &list);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("c\tz") && p.ends_with("(not listed)")));
        assert!(problems.iter().any(|p| p.starts_with("b\ty") && p.contains("now agree")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
