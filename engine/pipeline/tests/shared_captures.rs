//! Every capture under `../shared/pcaps` is read to its end without a panic, and the engine
//! counts exactly the packets tshark counts (`pcaps/fixtures/packet-counts.tsv`).

mod common;

use common::*;

#[test]
fn every_shared_capture_is_read_with_tsharks_packet_count() {
    let Some(shared) = shared_pcaps() else {
        eprintln!("../shared/pcaps not found: skipped");
        return;
    };
    let expected = read_tsv(&fixtures().join("packet-counts.tsv"));
    assert!(expected.len() > 1000, "packet-counts.tsv lists {} captures", expected.len());
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for row in &expected {
        let path = shared.join(&row["path"]);
        let (summary, _) = run_flows(std::slice::from_ref(&path), &config(1), false);
        // Link types tshark does not support stop it at the first packet; the engine reads
        // them (and counts their packets as undecodable), so there is nothing to compare.
        if row["readable"] != "true" {
            assert!(summary.failed_inputs().next().is_none(), "{}: {:?}", row["path"], summary.inputs);
            continue;
        }
        let Ok(tshark_packets) = row["packets"].parse::<u64>() else { continue };
        compared += 1;
        if summary.capture.packets != tshark_packets {
            mismatches.push(format!(
                "{}: ids read {} packets, tshark {} ({}; ids: {:?})",
                row["path"],
                summary.capture.packets,
                tshark_packets,
                row.get("note").map(String::as_str).unwrap_or(""),
                summary.inputs.first().and_then(|i| i.error.clone())
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {compared} captures differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Files tshark lists are all the captures there are: a capture added to shared/ without a
/// fixture row would go untested.
#[test]
fn fixture_lists_every_shared_capture() {
    let Some(shared) = shared_pcaps() else { return };
    let expected: std::collections::HashSet<String> =
        read_tsv(&fixtures().join("packet-counts.tsv")).into_iter().map(|r| r["path"].clone()).collect();
    let missing: Vec<String> = capture_files(&shared)
        .iter()
        .filter_map(|p| p.strip_prefix(&shared).ok()?.to_str().map(str::to_string))
        .filter(|p| !expected.contains(p))
        .collect();
    assert!(missing.is_empty(), "captures without a fixture row: {missing:?}");
}
