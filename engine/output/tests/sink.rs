//! `OutputSet` against a real log directory: files, names, append mode, counters, errors.

mod common;

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use common::*;
use ids_output::{AlertMode, OutputError, OutputOptions, OutputSet, Zone, EVE_FILE, FAST_FILE};

/// A fresh, empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("ids-output-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn utc_options() -> OutputOptions {
    OutputOptions { utc: true, ..OutputOptions::default() }
}

#[test]
fn fast_mode_writes_alert_fast_txt_and_appends() {
    let dir = TempDir::new("fast");
    {
        let mut out = OutputSet::open(AlertMode::Fast, &dir.0, utc_options()).unwrap();
        assert_eq!(out.path(), Some(dir.0.join(FAST_FILE).as_path()));
        out.alert(&tcp_v4()).unwrap();
        out.alert(&udp_v6()).unwrap();
        out.flow(&flow_record()).unwrap(); // not EVE: ignored
        out.flush().unwrap();
        let s = out.stats();
        assert_eq!((s.alerts_seen, s.alerts_written, s.flows_written), (2, 2, 0));
    }
    {
        // A second run appends, as Snort's TextLog does.
        let mut out = OutputSet::open(AlertMode::Fast, &dir.0, utc_options()).unwrap();
        out.alert(&icmp_v4()).unwrap();
        // dropped without an explicit flush: Drop flushes
    }
    let text = std::fs::read_to_string(dir.0.join(FAST_FILE)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0],
        "11/22-04:05:06.123456 [**] [1:2000001:3] \"ET POLICY Something\" [**] \
         [Classification: Potential Corporate Privacy Violation] [Priority: 1] {TCP} 10.0.0.1:1234 -> 10.0.0.2:80"
    );
    assert!(lines[1].ends_with("{UDP} 2001:db8::1:53124 -> 2001:db8::1:0:0:53:53"), "{}", lines[1]);
    assert!(lines[2].ends_with("{ICMP} 192.168.1.5 -> 192.168.1.1"));
    assert!(!dir.0.join(EVE_FILE).exists());
}

#[test]
fn json_mode_writes_eve_json_with_flows() {
    let dir = TempDir::new("eve");
    let opts = OutputOptions { log_flows: true, ..utc_options() };
    let mut out = OutputSet::open(AlertMode::Json, &dir.0, opts).unwrap();
    out.alert(&full()).unwrap();
    out.alert(&icmp_v6()).unwrap();
    out.flow(&flow_record()).unwrap();
    out.flush().unwrap();
    let stats = out.stats();
    assert_eq!((stats.alerts_written, stats.flows_written), (2, 1));
    let text = std::fs::read_to_string(dir.0.join(EVE_FILE)).unwrap();
    assert_eq!(stats.bytes_written, text.len() as u64);
    let records: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let types: Vec<&str> = records.iter().map(|r| r["event_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["alert", "alert", "flow"]);
    assert!(records[0]["timestamp"].as_str().unwrap().ends_with("+0000"));
    // The alert line in the file is exactly the golden record's compact line.
    let golden = std::fs::read_to_string(golden_path("eve_alert_full.json")).unwrap();
    assert_eq!(text.lines().next(), golden.lines().next());
}

#[test]
fn flows_are_skipped_unless_enabled() {
    let dir = TempDir::new("noflow");
    let mut out = OutputSet::open(AlertMode::Json, &dir.0, utc_options()).unwrap();
    out.flow(&flow_record()).unwrap();
    out.flush().unwrap();
    assert_eq!(out.stats().flows_written, 0);
    assert_eq!(std::fs::read_to_string(dir.0.join(EVE_FILE)).unwrap(), "");
}

#[test]
fn none_mode_writes_nothing_but_counts() {
    let dir = TempDir::new("none");
    let mut out = OutputSet::open(AlertMode::None, &dir.0, utc_options()).unwrap();
    out.alert(&tcp_v4()).unwrap();
    out.flush().unwrap();
    assert_eq!(out.stats().alerts_seen, 1);
    assert_eq!(out.stats().alerts_written, 0);
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 0);
}

#[test]
fn missing_log_dir_is_an_error() {
    let dir = TempDir::new("missing");
    let missing = dir.0.join("nope");
    let err = OutputSet::open(AlertMode::Fast, &missing, utc_options()).err().unwrap();
    assert!(matches!(err, OutputError::LogDir { .. }), "{err}");
    // A file where the directory should be.
    let file = dir.0.join("file");
    std::fs::write(&file, "").unwrap();
    assert!(matches!(
        OutputSet::open(AlertMode::Json, &file, utc_options()),
        Err(OutputError::LogDir { .. })
    ));
}

/// A `Write` that can be inspected after the `OutputSet` took ownership of it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn console_mode_flushes_every_line() {
    let sink = Shared::default();
    let mut out = OutputSet::with_writer(AlertMode::Console, Box::new(sink.clone()), utc_options());
    out.alert(&tcp_v4()).unwrap();
    // No explicit flush: console output must already be there.
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text, std::fs::read_to_string(golden_path("fast_tcp_v4.txt")).unwrap());
}

/// A writer that always fails: errors come back from `alert`, never panic.
struct Broken;

impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(io::Error::other("disk on fire"))
    }
}

#[test]
fn write_errors_are_returned() {
    let mut out = OutputSet::with_writer(AlertMode::Console, Box::new(Broken), utc_options());
    assert!(out.alert(&tcp_v4()).is_err());
    assert_eq!(out.stats().alerts_written, 0);
    let mut out = OutputSet::with_writer(AlertMode::Json, Box::new(Broken), utc_options());
    // Buffered: the error surfaces on flush.
    out.alert(&tcp_v4()).unwrap();
    assert!(out.flush().is_err());
}

#[test]
fn utc_option_applies_to_eve_too() {
    let sink = Shared::default();
    let opts = OutputOptions {
        utc: true,
        eve: ids_output::EveOptions { zone: Zone::Fixed(7200), ..Default::default() },
        ..OutputOptions::default()
    };
    let mut out = OutputSet::with_writer(AlertMode::Json, Box::new(sink.clone()), opts);
    out.alert(&tcp_v4()).unwrap();
    out.flush().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&sink.0.lock().unwrap()).unwrap();
    assert_eq!(v["timestamp"], "2026-11-22T04:05:06.123456+0000");
}
