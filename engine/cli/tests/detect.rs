//! `ids -R`: detection runs end to end on the sample captures with `rules/test/sample.rules`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ids() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ids"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rules() -> PathBuf {
    repo().join("rules/test/sample.rules")
}

/// A fresh log directory per run (alert files are opened for appending, as Snort does).
fn log_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ids-cli-detect-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(name: &str, extra: &[&str]) -> (Output, PathBuf) {
    let dir = log_dir(name);
    let out = ids()
        .arg("-r")
        .arg(repo().join("pcaps/sample"))
        .arg("-R")
        .arg(rules())
        .arg("-l")
        .arg(&dir)
        .args(["-U", "-y"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (out, dir)
}

#[test]
fn fast_alerts_by_default_with_golden_counts() {
    let (out, dir) = run("fast", &["-z", "1"]);
    let text = std::fs::read_to_string(dir.join("alert_fast.txt")).unwrap();
    let count = |sid: &str| text.lines().filter(|l| l.contains(&format!("[1:{sid}:"))).count();
    for (sid, n) in [
        ("9000001", 1),
        ("9000002", 1),
        ("9000003", 1),
        ("9000004", 1),
        ("9000005", 30),
        ("9000006", 0),
        ("9000007", 1),
        ("9000008", 2),
        ("9000009", 1),
        ("9000010", 0),
        ("9000011", 1),
    ] {
        assert_eq!(count(sid), n, "sid {sid}:\n{text}");
    }
    assert_eq!(text.lines().count(), 39);
    assert!(text.contains(
        "[**] [1:9000001:1] \"TEST http.uri password-ok\" [**] [Classification: Potential Corporate Privacy \
         Violation] [Priority: 1] {TCP} 192.168.0.4:54337 -> 192.254.189.169:80"
    ));
    // -y: the year is in the timestamp.
    assert!(text.lines().all(|l| l.as_bytes().get(5) == Some(&b'/')), "{text}");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("alerts: 39"), "{summary}");
    assert!(summary.contains("  1:9000005: 30"), "{summary}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("startup: rules parse"), "{stderr}");
}

#[test]
fn worker_count_does_not_change_the_alert_file() {
    let (_, one) = run("z1", &["-z", "1", "-q"]);
    let (_, two) = run("z2", &["-z", "2", "-q"]);
    let a = std::fs::read(one.join("alert_fast.txt")).unwrap();
    let b = std::fs::read(two.join("alert_fast.txt")).unwrap();
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn json_writes_eve_lines_that_parse() {
    let (_, dir) = run("json", &["-A", "json", "-q"]);
    let text = std::fs::read_to_string(dir.join("eve.json")).unwrap();
    let mut sids = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["event_type"], "alert");
        assert!(v["pcap_cnt"].as_u64().unwrap() > 0);
        sids.push(v["alert"]["signature_id"].as_u64().unwrap());
    }
    assert_eq!(sids.len(), 39);
    assert!(text.contains("\"app_proto\":\"http\""));
}

#[test]
fn none_writes_nothing() {
    let (out, dir) = run("none", &["-A", "none"]);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("alerts: 39"));
}

#[test]
fn check_reports_the_compile() {
    let out = ids().arg("-T").arg("-R").arg(rules()).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for want in
        ["detection compile:", "rules compiled: 11", "rules rejected by the engine: 0", "configuration OK"]
    {
        assert!(text.contains(want), "lacks '{want}':\n{text}");
    }
}

#[test]
fn unknown_alert_mode_is_a_usage_error() {
    let out = ids()
        .arg("-r")
        .arg(repo().join("pcaps/sample/dns.pcap"))
        .arg("-R")
        .arg(rules())
        .args(["-A", "syslog"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `--threshold`: Snort/Suricata event filtering lines limit and suppress alerts.
#[test]
fn threshold_file_limits_and_suppresses() {
    let dir = log_dir("threshold-conf");
    let conf = dir.join("threshold.config");
    std::fs::write(
        &conf,
        "# limit the stream rule, silence one, silence another only for an address it never uses\n\
         event_filter gen_id 1, sig_id 9000005, type limit, track by_rule, count 5, seconds 3600\n\
         suppress gen_id 1, sig_id 9000008\n\
         suppress gen_id 1, sig_id 9000001, track by_src, ip 203.0.113.0/24\n",
    )
    .unwrap();
    let (_, dir) = run("threshold", &["-z", "1", "-q", "--threshold", conf.to_str().unwrap()]);
    let text = std::fs::read_to_string(dir.join("alert_fast.txt")).unwrap();
    let count = |sid: &str| text.lines().filter(|l| l.contains(&format!("[1:{sid}:"))).count();
    assert_eq!((count("9000005"), count("9000008"), count("9000001")), (5, 0, 1), "{text}");
    assert_eq!(text.lines().count(), 39 - 25 - 2);
    // -T reports the directives; a bad one is an error with its position.
    let out = ids().arg("-T").arg("-R").arg(rules()).arg("--threshold").arg(&conf).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("event filters: 3 (event_filter/threshold 1, suppress 2, rate_filter 0)"),
        "{stdout}"
    );
    std::fs::write(&conf, "suppress gen_id 1, sig_id 9000008, track by_src\n").unwrap();
    let out = ids().arg("-T").arg("-R").arg(rules()).arg("--threshold").arg(&conf).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("`track` needs `ip`") && stdout.contains("threshold.config:1:"), "{stdout}");
}
