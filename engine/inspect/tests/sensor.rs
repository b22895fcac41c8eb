//! The sensor (application layer + detection) on the repository's sample captures with
//! `rules/test/sample.rules`: which rules fire how often, and that the worker count does not
//! change the alerts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ids_detect::{CompileOptions, RuleSet};
use ids_inspect::{AppLayerConfig, Sensor, SensorRules, SensorStats};
use ids_output::Alert;
use ids_pipeline::{EngineConfig, EventKey, Input, Output};
use ids_rules::{ClassificationTable, LoadOptions, Vars};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rules() -> Arc<SensorRules> {
    let dir = repo().join("rules/test");
    let report =
        ids_rules::load_files(&[dir.join("sample.rules")], &mut Vars::default(), &LoadOptions::default());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let (classes, errors) = ClassificationTable::load(&dir.join("classification.config")).unwrap();
    assert!(errors.is_empty());
    let opts = CompileOptions { classifications: Some(classes.clone()), ..Default::default() };
    let (rs, compile) = RuleSet::compile(report.rules, &opts);
    assert!(compile.rejected.is_empty(), "{:?}", compile.rejected);
    Arc::new(SensorRules::new(rs, &classes))
}

struct Collect(Arc<Mutex<Vec<(EventKey, Alert)>>>);

impl Output<Alert> for Collect {
    fn event(&mut self, key: &EventKey, alert: Alert) {
        self.0.lock().unwrap().push((*key, alert));
    }
}

fn run(capture: &str, workers: usize) -> (Vec<(EventKey, Alert)>, SensorStats) {
    let rules = rules();
    let alerts = Arc::new(Mutex::new(Vec::new()));
    let stats = Arc::new(Mutex::new(SensorStats::default()));
    let config = EngineConfig { workers, ..Default::default() };
    ids_pipeline::run(
        vec![Input::Path(repo().join("pcaps/sample").join(capture))],
        &config,
        |_| Sensor::with_stats(rules.clone(), AppLayerConfig::default(), stats.clone()),
        Collect(alerts.clone()),
        None,
    );
    let alerts = std::mem::take(&mut *alerts.lock().unwrap());
    let stats = stats.lock().unwrap().clone();
    (alerts, stats)
}

fn by_sid(alerts: &[(EventKey, Alert)]) -> BTreeMap<u32, usize> {
    let mut m = BTreeMap::new();
    for (_, a) in alerts {
        *m.entry(a.sid).or_default() += 1;
    }
    m
}

#[test]
fn http_request_and_response_buffers() {
    let (alerts, stats) = run("http_auth.pcap", 1);
    // One SYN; the one request matches uri (two spellings), host and header; the response
    // matches the status code.
    let want =
        BTreeMap::from([(9000001, 1), (9000002, 1), (9000003, 1), (9000008, 1), (9000009, 1), (9000011, 1)]);
    assert_eq!(by_sid(&alerts), want);
    assert_eq!(stats.alerts, 6);
    assert_eq!(stats.by_sid.get(&(1, 9000001)), Some(&1));

    let uri = alerts.iter().map(|(_, a)| a).find(|a| a.sid == 9000001).unwrap();
    assert_eq!(uri.msg, "TEST http.uri password-ok");
    assert_eq!(uri.classification.as_deref(), Some("Potential Corporate Privacy Violation"));
    assert_eq!(uri.classtype.as_deref(), Some("policy-violation"));
    assert_eq!(uri.priority, 1);
    assert_eq!(uri.app_proto.as_deref(), Some("http"));
    assert_eq!(uri.dst_port, Some(80));
    assert_eq!(uri.direction, Some(ids_output::Direction::ToServer));
    assert!(uri.flow_id.is_some() && uri.flow.is_some());

    // The response is reported the way it travelled: server to client.
    let status = alerts.iter().map(|(_, a)| a).find(|a| a.sid == 9000009).unwrap();
    assert_eq!(status.src_port, Some(80));
    assert_eq!(status.direction, Some(ids_output::Direction::ToClient));
    assert_eq!(status.priority, 3, "no classtype, no priority: 3");

    let header = alerts.iter().map(|(_, a)| a).find(|a| a.sid == 9000011).unwrap();
    assert_eq!(header.references, vec!["url,example.com/basic".to_string()]);
}

#[test]
fn smtp_stream_content_and_flowbits() {
    let (alerts, _) = run("smtp.pcap", 1);
    // 30 segments carry "RCPT To:" (tshark agrees); each is its own stream chunk, so 30
    // alerts, not 60 (the raw segments are not inspected for payload). The flowbit setter
    // is silent, its checker fires once; the checker of a bit never set does not.
    let want = BTreeMap::from([(9000005, 30), (9000007, 1), (9000008, 1)]);
    assert_eq!(by_sid(&alerts), want);
    let reply = alerts.iter().map(|(_, a)| a).find(|a| a.sid == 9000007).unwrap();
    assert_eq!(reply.src_port, Some(25));
}

#[test]
fn dns_query_per_message() {
    let (alerts, _) = run("dns.pcap", 1);
    // www.example.com is asked once; the answer repeats the question, but Suricata's dns.query
    // (the rule's dialect) inspects requests only.
    assert_eq!(by_sid(&alerts), BTreeMap::from([(9000004, 1)]));
    let a = &alerts[0].1;
    assert_eq!((a.proto, a.dst_port, a.app_proto.as_deref()), (17, Some(53), Some("dns")));
}

#[test]
fn workers_do_not_change_the_alerts() {
    for capture in ["http_auth.pcap", "smtp.pcap", "dns.pcap"] {
        let (one, s1) = run(capture, 1);
        let (two, s2) = run(capture, 2);
        let (three, _) = run(capture, 3);
        assert_eq!(one, two, "{capture}");
        assert_eq!(one, three, "{capture}");
        assert_eq!((s1.alerts, s1.units, s1.rules_evaluated), (s2.alerts, s2.units, s2.rules_evaluated));
    }
}

/// Runs `rules_text` over a capture with one worker; alerts per sid.
fn run_rules(capture: &Path, rules_text: &str, inspect_encrypted: bool) -> BTreeMap<u32, usize> {
    let report = ids_rules::load_str(rules_text, "test.rules", &mut Vars::default(), &LoadOptions::default());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let (rs, compile) = RuleSet::compile(report.rules, &CompileOptions::default());
    assert!(compile.rejected.is_empty(), "{:?}", compile.rejected);
    let rules =
        Arc::new(SensorRules::new(rs, &ClassificationTable::new()).inspect_encrypted(inspect_encrypted));
    let alerts = Arc::new(Mutex::new(Vec::new()));
    ids_pipeline::run(
        vec![Input::Path(capture.to_path_buf())],
        &EngineConfig { workers: 1, ..Default::default() },
        |_| Sensor::new(rules.clone(), AppLayerConfig::default()),
        Collect(alerts.clone()),
        None,
    );
    let alerts = alerts.lock().unwrap();
    by_sid(&alerts)
}

/// Once both sides of a TLS connection switched to encrypted records, content rules no longer
/// see its payload (Suricata's `encryption-handling: default`), unless asked to; the TLS
/// buffers and the handshake's clear-text records are still inspected.
#[test]
fn encrypted_tls_payload_is_not_content_inspected_by_default() {
    let Some(pcaps) = ids_testkit::shared_pcaps() else {
        eprintln!("skipped: ../shared/pcaps not present");
        return;
    };
    let capture = pcaps.join("ndpi/pcap/443-curl.pcap");
    // Application-data record headers (TLS 1.2 record version), the ClientHello's handshake
    // record header, and the SNI.
    let rules = "alert tcp any any -> any any (msg:\"appdata\"; flow:established; content:\"|17 03 03|\"; sid:1;)\n\
                 alert tcp any any -> any any (msg:\"hello\"; flow:established,to_server; content:\"|16 03 01|\"; depth:3; sid:2;)\n\
                 alert tls any any -> any any (msg:\"sni\"; tls.sni; content:\"ntop.org\"; sid:3;)";
    let default = run_rules(&capture, rules, false);
    let all = run_rules(&capture, rules, true);
    assert_eq!(default.get(&2), Some(&1), "{default:?}");
    assert_eq!(default.get(&3), Some(&1), "{default:?}");
    assert_eq!(all.get(&2), Some(&1), "{all:?}");
    let encrypted_chunks = all.get(&1).copied().unwrap_or(0);
    assert!(encrypted_chunks > 2, "{all:?}");
    // Only the chunks sent before the client's switch carry application-data records (the
    // server's encrypted handshake in TLS 1.3).
    assert!(default.get(&1).copied().unwrap_or(0) < encrypted_chunks, "{default:?} vs {all:?}");
}
