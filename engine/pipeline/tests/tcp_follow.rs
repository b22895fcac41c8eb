//! Reassembled TCP streams equal what tshark's `follow,tcp,raw` gives, byte for byte, for every
//! stream of the captures listed in `pcaps/fixtures/tcp-follow/INDEX.tsv`.
//!
//! tshark numbers streams by first appearance of each connection; the engine's flows for the
//! same address/port pair come in the same order, so the n-th tshark stream of a pair is
//! compared with the n-th engine flow of that pair. Directions are matched by endpoint, not by
//! role, since which side is the client is a guess on captures that start midstream. Bytes tshark
//! marks as missing (gaps) are in neither side's figures.

mod common;

use std::collections::HashMap;

use common::*;
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn pair_key(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

#[derive(Default)]
struct Tally {
    compared: usize,
    equal: usize,
}

#[test]
fn reassembled_streams_match_tshark_follow() {
    let Some(shared) = shared_pcaps() else {
        eprintln!("../shared/pcaps not found: skipped");
        return;
    };
    let dir = fixtures().join("tcp-follow");
    let index = read_tsv(&dir.join("INDEX.tsv"));
    assert!(index.len() >= 40, "only {} captures in the follow fixtures", index.len());
    let mut found = Differences::new();
    let mut tally = Tally::default();
    let mut explained = 0;
    for entry in &index {
        let capture = &entry["path"];
        let expected = read_tsv(&dir.join(format!("{}.tsv", capture.replace('/', "__"))));
        let input = [shared.join(capture)];
        let (_, flows) = run_flows(&input, &config(1), true);
        let mut first = Tally::default();
        let mut differences = compare(capture, &expected, &flows, &mut first);
        if !differences.is_empty() {
            // Streams split by the engine's VLAN keys or idle timeouts (tshark has neither):
            // compare again under tshark's semantics; agreement there proves the cause.
            let (_, flows) = run_flows(&input, &tshark_semantics(), true);
            let mut again = Tally::default();
            if compare(capture, &expected, &flows, &mut again).is_empty() {
                explained += 1;
                differences.clear();
                first = again;
            }
        }
        tally.compared += first.compared;
        tally.equal += first.equal;
        found.extend(differences);
    }
    eprintln!(
        "{} of {} streams equal to tshark's ({explained} captures compared after undoing VLAN/timeout splits)",
        tally.equal, tally.compared
    );
    let problems = unlisted_differences(&found, &fixtures().join("tcp-follow-differences.tsv"));
    assert!(problems.is_empty(), "{} stream differences:\n{}", problems.len(), problems.join("\n"));
}

/// Compare the engine's flows of one capture with tshark's streams; returns the differences.
fn compare(
    capture: &str,
    expected: &[HashMap<String, String>],
    flows: &[FlowRecord],
    tally: &mut Tally,
) -> Differences {
    let mut found = Differences::new();
    // Engine flows per endpoint pair, in order of start.
    let mut ours: HashMap<(String, String), Vec<&FlowRecord>> = HashMap::new();
    let mut tcp: Vec<&FlowRecord> = flows.iter().filter(|f| f.proto == 6).collect();
    tcp.sort_by_key(|f| f.start_ns);
    for f in tcp {
        ours.entry(pair_key(&endpoint(f.client), &endpoint(f.server))).or_default().push(f);
    }
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for row in expected {
        let (client, server) = (&row["client"], &row["server"]);
        let key = pair_key(client, server);
        let nth = seen.entry(key.clone()).or_default();
        let flow = ours.get(&key).and_then(|v| v.get(*nth));
        *nth += 1;
        tally.compared += 1;
        let Some(flow) = flow else {
            found.insert(
                (capture.to_string(), format!("stream {} flow", row["stream"])),
                ("missing".into(), "present".into()),
            );
            continue;
        };
        let mut ok = true;
        for (side, ep) in [("client", client), ("server", server)] {
            let got: &[u8] = if endpoint(flow.client) == *ep { &flow.streams[0] } else { &flow.streams[1] };
            if sha256(got) != row[&format!("{side}_sha256")] {
                ok = false;
                // Equal lengths with different bytes show as `N bytes (content differs)`.
                let theirs = &row[&format!("{side}_bytes")];
                let ids = if got.len().to_string() == *theirs {
                    format!("{} bytes (content differs)", got.len())
                } else {
                    format!("{} bytes", got.len())
                };
                found.insert(
                    (capture.to_string(), format!("stream {} from {side} {ep}", row["stream"])),
                    (ids, format!("{theirs} bytes")),
                );
            }
        }
        tally.equal += usize::from(ok);
    }
    found
}
