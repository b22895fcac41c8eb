//! IP defragmentation over the shared captures that carry fragments: the engine rebuilds the
//! datagrams tshark rebuilds (`pcaps/fixtures/fragments.tsv`). Differences are listed with
//! their reason in `pcaps/fixtures/fragment-differences.tsv`.

mod common;

use common::*;

#[test]
fn reassembled_datagrams_match_tshark() {
    let Some(shared) = shared_pcaps() else {
        eprintln!("../shared/pcaps not found: skipped");
        return;
    };
    let expected = read_tsv(&fixtures().join("fragments.tsv"));
    assert!(expected.len() >= 20);
    let mut found = Differences::new();
    let (mut total_ours, mut total_theirs) = (0, 0);
    for row in &expected {
        let path = &row["path"];
        let (summary, _) = run_flows(&[shared.join(path)], &config(1), false);
        let theirs: u64 = row["ipv4_reassembled"].parse::<u64>().unwrap_or(0)
            + row["ipv6_reassembled"].parse::<u64>().unwrap_or(0);
        let ours = summary.totals.reassembled_datagrams;
        total_ours += ours;
        total_theirs += theirs;
        if ours != theirs {
            found.insert((path.clone(), "reassembled".into()), (ours.to_string(), theirs.to_string()));
        }
    }
    eprintln!("reassembled datagrams: ids {total_ours}, tshark {total_theirs}");
    let problems = unlisted_differences(&found, &fixtures().join("fragment-differences.tsv"));
    assert!(problems.is_empty(), "{} defragmentation differences:\n{}", problems.len(), problems.join("\n"));
}
