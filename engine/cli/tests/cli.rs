//! The `ids` binary as users run it: flags, exit status, summary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn ids() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ids"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample() -> PathBuf {
    repo().join("pcaps/sample/http_auth.pcap")
}

/// The summary without its timing section (which varies from run to run) and without the
/// peaks (per-worker maxima, summed: they depend on how flows are split between workers).
fn counters(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    let before_timing = text.split("timing").next().unwrap_or_default();
    before_timing.lines().filter(|l| !l.contains("peak_")).collect::<Vec<_>>().join("\n")
}

#[test]
fn reads_the_readme_sample_and_prints_a_summary() {
    let out = ids().arg("-r").arg(sample()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for line in ["packets: 33", "handshakes: 1", "stream_bytes: 18376", "packets_per_second"] {
        assert!(text.contains(line), "summary lacks '{line}':\n{text}");
    }
}

#[test]
fn quiet_prints_nothing() {
    let out = ids().arg("-q").arg("-r").arg(sample()).output().unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn worker_count_does_not_change_the_counters() {
    let run = |z: &str| ids().args(["-z", z, "-r"]).arg(repo().join("pcaps/sample")).output().unwrap();
    let one = run("1");
    let three = run("3");
    assert!(one.status.success() && three.status.success());
    assert_eq!(counters(&one.stdout), counters(&three.stdout));
}

#[test]
fn reads_gzip_from_standard_input() {
    let raw = std::fs::read(sample()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    let gz = gz.finish().unwrap();
    let mut child = ids().args(["-r", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(&gz).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("packets: 33"));
}

#[test]
fn stops_after_count_packets() {
    let out = ids().args(["-n", "5", "-r"]).arg(sample()).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("packets: 5\n"));
}

#[test]
fn an_unreadable_input_is_reported_and_the_others_still_run() {
    let out = ids().arg("-r").arg(repo().join("README.md")).arg("-r").arg(sample()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("README.md"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("packets: 33"));
}

#[test]
fn usage_errors_exit_with_2() {
    assert_eq!(ids().output().unwrap().status.code(), Some(2));
    assert_eq!(ids().args(["-k", "sometimes", "-r"]).arg(sample()).output().unwrap().status.code(), Some(2));
}

/// Acceptance: every capture under ../shared/pcaps is processed with exit status 0, in one run
/// with several workers.
#[test]
fn every_shared_capture_runs_with_exit_status_0() {
    let shared = repo().join("../shared/pcaps");
    if !shared.is_dir() {
        eprintln!("../shared/pcaps not found: skipped");
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![shared];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            let name = p.file_name().unwrap().to_string_lossy().to_lowercase();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".pcap") || name.ends_with(".pcapng") || name.ends_with(".cap") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 1000);
    let mut cmd = ids();
    cmd.args(["-q", "-z", "2", "-k", "none"]);
    for f in &files {
        cmd.arg("-r").arg(f);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
}

#[test]
fn test_mode_reports_rejections_with_position_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("ids-cli-T-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("local.rules");
    std::fs::write(
        &file,
        "alert tcp any any -> any 80 (msg:\"good\"; content:\"GET\"; sid:1;)\n\
         alert tcp any any -> any 8a0 (msg:\"bad port\"; content:\"x\"; sid:2;)\n\
         alert udp any any -> any 53 (msg:\"also good\"; content:\"|01 00|\"; sid:3;)\n",
    )
    .unwrap();
    let out = ids().args(["-T", "-R"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("rules loaded: 2"), "{text}");
    assert!(text.contains("rules rejected: 1"), "{text}");
    assert!(text.contains("local.rules:2:"), "the rejection names file and line:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn test_mode_loads_a_shared_rule_set() {
    let set = repo().join("../shared/rules/snort3-community");
    if !set.is_dir() {
        return;
    }
    let out = ids().args(["-T", "-R"]).arg(&set).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("rules loaded: 4017"));
}

/// `-k auto` (the default) notices checksum offload in a capture and verifies nothing; `-k all`
/// drops the offloaded packets from tracking, as Snort does.
#[test]
fn checksum_auto_mode_detects_offload() {
    let capture = repo().join("../shared/pcaps/suricata-verify/bug-1045/smtpsuricataflowbitsFN.pcap");
    if !capture.exists() {
        return;
    }
    let auto = ids().arg("-r").arg(&capture).output().unwrap();
    let auto = String::from_utf8_lossy(&auto.stdout);
    assert!(auto.contains("checksums_offloaded: 1"), "{auto}");
    assert!(!auto.contains("bad_tcp_checksum"), "{auto}");
    let all = ids().args(["-k", "all", "-r"]).arg(&capture).output().unwrap();
    let all = String::from_utf8_lossy(&all.stdout);
    assert!(all.contains("bad_tcp_checksum: 3"), "{all}");
    assert!(!all.contains("checksums_offloaded"), "{all}");
}
