//! The suricata-verify cases in `../shared/pcaps/suricata-verify` whose rules use classic
//! signature features: each case's pcap runs through the whole engine with its `test.rules`,
//! and the alert counts (per sid, in total, and for the address/port filters some checks use)
//! are compared with `expected_alerts.tsv`.
//!
//! The expectations follow Suricata's semantics. Where the engine deliberately follows Snort
//! or differs otherwise, the difference is listed with its reason in
//! `pcaps/fixtures/suricata-verify-differences.tsv` (a listed difference that no longer occurs
//! fails too). Arguments honoured: `-k none` (checksums; otherwise `-k auto`, Suricata's default
//! for capture files), `stream.midstream` (the engine always
//! picks up midstream sessions; cases that rely on Suricata refusing them are listed), and the
//! version gates (`filter_requires`): the expectations for the current Suricata are used.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use ids_detect::{CompileOptions, RuleSet};
use ids_inspect::{AppLayerConfig, Sensor, SensorRules};
use ids_output::Alert;
use ids_pipeline::{ChecksumMode, EngineConfig, EventKey, Input, Output};
use ids_rules::{ClassificationTable, LoadOptions, Vars};
use ids_testkit::{fixtures, read_tsv, shared, unlisted_differences_in, Differences};

struct Collect(Arc<Mutex<Vec<Alert>>>);

impl Output<Alert> for Collect {
    /// As the CLI's output stage does, the alert's packet number is that of its event.
    fn event(&mut self, key: &EventKey, mut alert: Alert) {
        alert.packet_number = key.packet;
        self.0.lock().unwrap().push(alert);
    }
}

/// Run one case: its pcap with its rules; returns the alerts, or why the case cannot run.
fn run_case(dir: &Path, pcap: &str, args: &str, classes: &ClassificationTable) -> Result<Vec<Alert>, String> {
    let report =
        ids_rules::load_files(&[dir.join("test.rules")], &mut Vars::default(), &LoadOptions::default());
    if let Some(e) = report.errors.first() {
        return Err(format!("rule rejected by the parser: {e}"));
    }
    let opts = CompileOptions { classifications: Some(classes.clone()), ..Default::default() };
    let (rules, compile) = RuleSet::compile(report.rules, &opts);
    if let Some(r) = compile.rejected.first() {
        return Err(format!("rule rejected by the engine: {r:?}"));
    }
    let rules = Arc::new(SensorRules::new(rules, classes));
    // `-k none` as the case says; otherwise Suricata's default for capture files, which the
    // engine has as `-k auto`.
    let no_checksums = args.split_whitespace().collect::<Vec<_>>().windows(2).any(|w| w == ["-k", "none"]);
    let config = if no_checksums {
        EngineConfig { workers: 1, checksums: ChecksumMode::NONE, ..Default::default() }
    } else {
        EngineConfig { workers: 1, checksum_auto: true, ..Default::default() }
    };
    let alerts = Arc::new(Mutex::new(Vec::new()));
    ids_pipeline::run(
        vec![Input::Path(dir.join(pcap))],
        &config,
        |_| Sensor::new(rules.clone(), AppLayerConfig::default()),
        Collect(alerts.clone()),
        None,
    );
    let alerts = std::mem::take(&mut *alerts.lock().unwrap());
    Ok(alerts)
}

/// Whether an alert passes a check's extra filter (`key=value;...`, EVE field names). Fields
/// the engine's alerts carry are compared; fields of EVE records the engine does not write yet
/// (`dns.queries[0].rrname`, `tx_id`, `packet`, `packet_info.*`) cannot be, and are left out of
/// the comparison (counted in `unchecked`).
fn passes(alert: &Alert, filter: &str, unchecked: &mut BTreeMap<String, usize>) -> bool {
    filter.split(';').filter(|f| !f.is_empty()).all(|f| {
        let Some((k, v)) = f.split_once('=') else { return false };
        let proto_name = match alert.proto {
            6 => "TCP",
            17 => "UDP",
            1 => "ICMP",
            58 => "IPv6-ICMP",
            _ => "",
        };
        match k {
            "src_ip" => alert.src.is_some_and(|a| a.to_string() == v),
            "dest_ip" => alert.dst.is_some_and(|a| a.to_string() == v),
            "src_port" => alert.src_port.is_some_and(|p| p.to_string() == v),
            "dest_port" => alert.dst_port.is_some_and(|p| p.to_string() == v),
            "pcap_cnt" => alert.packet_number.to_string() == v,
            "proto" => proto_name == v,
            "app_proto" => alert.app_proto.as_deref() == Some(v),
            "alert.signature" => alert.msg == v,
            "alert.action" => v == if alert.blocked { "blocked" } else { "allowed" },
            "direction" => alert
                .direction
                .is_some_and(|d| format!("{d:?}").to_lowercase().replace('_', "") == v.replace('_', "")),
            _ => {
                *unchecked.entry(k.to_string()).or_default() += 1;
                true
            }
        }
    })
}

#[test]
fn suricata_verify_alert_counts() {
    let Some(shared) = shared() else {
        eprintln!("../shared not found: skipped");
        return;
    };
    let root = shared.join("pcaps/suricata-verify");
    let (classes, _) =
        ClassificationTable::load(&shared.join("rules/etopen-suricata5-2024-04/classification.config"))
            .unwrap_or_default();
    let cases: BTreeMap<String, _> =
        read_tsv(&root.join("index.tsv")).into_iter().map(|r| (r["test"].clone(), r)).collect();
    let mut found = Differences::new();
    let (mut checks, mut passed) = (0, 0);
    let mut results: BTreeMap<String, Result<Vec<Alert>, String>> = BTreeMap::new();
    let mut unchecked: BTreeMap<String, usize> = BTreeMap::new();
    for row in read_tsv(&root.join("expected_alerts.tsv")) {
        // Version gates: use the expectations for the current Suricata.
        if row.get("filter_requires").is_some_and(|r| r.contains("lt-version")) {
            continue;
        }
        let test = &row["test"];
        let case = &cases[test];
        let outcome = results
            .entry(test.clone())
            .or_insert_with(|| run_case(&root.join(test), &row["pcap"], &case["args"], &classes));
        let sid = row["sid"].as_str();
        let filter = row.get("extra_match").map(String::as_str).unwrap_or("");
        let field = match (sid, filter) {
            ("", "") => "alerts".to_string(),
            ("", f) => format!("alerts {f}"),
            (s, "") => format!("sid {s}"),
            (s, f) => format!("sid {s} {f}"),
        };
        checks += 1;
        let ours = match outcome {
            Ok(alerts) => alerts
                .iter()
                .filter(|a| sid.is_empty() || a.sid.to_string() == sid)
                .filter(|a| passes(a, filter, &mut unchecked))
                .count()
                .to_string(),
            Err(why) => why.clone(),
        };
        if ours == row["count"] {
            passed += 1;
        } else {
            found.insert((test.clone(), field), (ours, row["count"].clone()));
        }
    }
    eprintln!("{passed} of {checks} suricata-verify checks agree; filter fields not compared: {unchecked:?}");
    for ((test, field), (ids, suricata)) in &found {
        eprintln!("{test}\t{field}\t{ids}\t{suricata}");
    }
    let problems =
        unlisted_differences_in(&found, &fixtures().join("suricata-verify-differences.tsv"), "suricata");
    assert!(
        problems.is_empty(),
        "{} checks differ from Suricata's:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
