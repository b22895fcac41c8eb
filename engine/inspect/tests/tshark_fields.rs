//! Field-level agreement with tshark on the shared captures: HTTP request URI, Host and
//! User-Agent, TLS SNI, DNS query names and SSH identification lines.
//!
//! The expected values are `pcaps/fixtures/app-layer/*.tsv`, made by
//! `scripts/make-tshark-app-fixtures.py` (its header says what a record is and how tshark
//! escapes values). The engine runs with the application-layer inspector over every capture
//! listed in `captures.tsv` (one worker, checksums not checked, as tshark does not check
//! them); the values its events carry are escaped the way tshark prints them and compared as
//! multisets per capture and field. The test fails when a field agrees on less than 99% of
//! the records tshark reports, or when a capture differs in a way not listed, with the same
//! figures and a reason, in `differences.tsv` (a listed difference that no longer occurs
//! fails too, so the list stays true).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use ids_app_layer::AppEvent;
use ids_inspect::{AppLayerConfig, AppLayerInspector, AppRecord};
use ids_pipeline::{ChecksumMode, EngineConfig, EventKey, Input, Output};
use ids_testkit::{read_tsv, shared_pcaps, unlisted_differences, Differences};

fn fixtures() -> PathBuf {
    ids_testkit::fixtures().join("app-layer")
}

/// The compared fields: (fixture file, field in the fixture, name in reports).
const FIELDS: [(&str, &str, &str); 6] = [
    ("http", "uri", "http.uri"),
    ("http", "host", "http.host"),
    ("http", "user_agent", "http.user_agent"),
    ("tls", "sni", "tls.sni"),
    ("dns", "query", "dns.query"),
    ("ssh", "protocol", "ssh.protocol"),
];

/// How tshark `-T fields` prints an ASCII-decoded string (HTTP, TLS SNI, SSH): every byte
/// from 0x80 up is U+FFFD, TAB/LF/CR are written `\t`, `\n`, `\r`, everything else as it
/// is; a NUL ends the value (tshark keeps it as a C string).
fn tshark_ascii(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            0 => break,
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            0x80.. => s.push('\u{fffd}'),
            _ => s.push(char::from(b)),
        }
    }
    s
}

/// How tshark prints a DNS name: invalid UTF-8 as U+FFFD, control characters escaped as in
/// Wireshark's `format_text` (`\a \b \t \n \v \f \r`, otherwise `\ooo`), the root as `<Root>`.
fn tshark_dns_name(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "<Root>".to_string();
    }
    let mut s = String::with_capacity(bytes.len());
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '\x07' => s.push_str("\\a"),
            '\x08' => s.push_str("\\b"),
            '\t' => s.push_str("\\t"),
            '\n' => s.push_str("\\n"),
            '\x0b' => s.push_str("\\v"),
            '\x0c' => s.push_str("\\f"),
            '\r' => s.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\x7f' => s.push_str(&format!("\\{:03o}", c as u32)),
            c => s.push(c),
        }
    }
    s
}

/// Values per field name (`http.uri`, ...) for one capture.
type Values = BTreeMap<&'static str, BTreeMap<String, u64>>;

struct Collect<'a>(&'a mut Values);

impl Output<AppRecord> for Collect<'_> {
    fn event(&mut self, _: &EventKey, r: AppRecord) {
        let mut add =
            |field: &'static str, v: String| *self.0.entry(field).or_default().entry(v).or_default() += 1;
        match &r.event {
            AppEvent::HttpRequest(req) => {
                add("http.uri", tshark_ascii(&req.uri_raw));
                if let Some(h) = &req.host {
                    add("http.host", tshark_ascii(h));
                }
                if let Some(ua) = &req.user_agent {
                    add("http.user_agent", tshark_ascii(ua));
                }
            }
            AppEvent::TlsClientHello(ch) => {
                if let Some(sni) = &ch.sni {
                    add("tls.sni", tshark_ascii(sni));
                }
            }
            AppEvent::Dns(m) => {
                for q in &m.questions {
                    add("dns.query", tshark_dns_name(&q.name));
                }
            }
            AppEvent::SshBanner(b) => add("ssh.protocol", tshark_ascii(&b.line)),
            _ => {}
        }
    }
}

fn engine_values(path: &Path) -> Values {
    let config = EngineConfig { workers: 1, checksums: ChecksumMode::NONE, ..Default::default() };
    let mut values = Values::new();
    ids_pipeline::run(
        vec![Input::Path(path.to_path_buf())],
        &config,
        |_| AppLayerInspector::new(AppLayerConfig::default()),
        Collect(&mut values),
        None,
    );
    values
}

/// Records in `a` that are not in `b` (multiset difference), as `count×value`.
fn only_in(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> (u64, Vec<String>) {
    let mut n = 0;
    let mut list = Vec::new();
    for (v, &c) in a {
        let d = c.saturating_sub(b.get(v).copied().unwrap_or(0));
        if d > 0 {
            n += d;
            list.push(format!("{d}×{v:?}"));
        }
    }
    (n, list)
}

#[test]
fn app_layer_fields_agree_with_tshark() {
    let Some(shared) = shared_pcaps() else {
        eprintln!("../shared/pcaps not found: skipped");
        return;
    };
    let dir = fixtures();
    let captures = read_tsv(&dir.join("captures.tsv"));
    assert!(captures.len() > 1000, "captures.tsv lists {} captures", captures.len());

    // Expected multisets: path -> field -> value -> count.
    let mut expected: HashMap<String, Values> = HashMap::new();
    for (file, field, name) in FIELDS {
        for r in read_tsv(&dir.join(format!("{file}.tsv"))) {
            if r["field"] != field {
                continue;
            }
            let n: u64 = r["count"].parse().expect("count");
            *expected
                .entry(r["path"].clone())
                .or_default()
                .entry(name)
                .or_default()
                .entry(r["value"].clone())
                .or_default() += n;
        }
    }

    // Per field: (records tshark reported, of which the engine reported too, engine-only).
    let mut totals: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    // (path, field) -> (engine-only records, tshark-only records), with examples.
    let mut found = Differences::new();
    let mut examples: BTreeMap<(String, String), String> = BTreeMap::new();
    let empty = BTreeMap::new();
    for row in &captures {
        let path = &row["path"];
        let ours = engine_values(&shared.join(path));
        let theirs = expected.remove(path).unwrap_or_default();
        for (file, _, name) in FIELDS {
            // A protocol tshark reports too much of in this capture is not in the fixtures.
            if row[file] == "capped" {
                continue;
            }
            let a = ours.get(name).unwrap_or(&empty);
            let b = theirs.get(name).unwrap_or(&empty);
            let (extra, extra_list) = only_in(a, b);
            let (missing, missing_list) = only_in(b, a);
            let tshark_total: u64 = b.values().sum();
            let t = totals.entry(name).or_default();
            t.0 += tshark_total;
            t.1 += tshark_total - missing;
            t.2 += extra;
            if extra > 0 || missing > 0 {
                let key = (path.clone(), name.to_string());
                found.insert(key.clone(), (extra.to_string(), missing.to_string()));
                let mut ex: Vec<String> = Vec::new();
                ex.extend(extra_list.iter().take(3).map(|e| format!("ids only {e}")));
                ex.extend(missing_list.iter().take(3).map(|e| format!("tshark only {e}")));
                examples.insert(key, ex.join("; "));
            }
        }
    }
    assert!(expected.is_empty(), "fixture rows for captures not in captures.tsv: {:?}", expected.keys());

    let mut low = Vec::new();
    for (name, (tshark, agreed, extra)) in &totals {
        let pct = if *tshark == 0 { 100.0 } else { 100.0 * *agreed as f64 / *tshark as f64 };
        eprintln!("{name:16} tshark {tshark:6}  agreed {agreed:6} ({pct:.2}%)  ids only {extra}");
        if pct < 99.0 {
            low.push(format!("{name}: {pct:.2}%"));
        }
    }

    // The reviewed list: path field ids tshark reason (ids: engine-only records, tshark:
    // tshark-only records).
    let list = dir.join("differences.tsv");
    for (key, (ids, tshark)) in &found {
        eprintln!("{}\t{}\t{ids}\t{tshark}\t{}", key.0, key.1, examples[key]);
    }
    let problems = unlisted_differences(&found, &list);
    assert!(
        problems.is_empty() && low.is_empty(),
        "agreement below 99%: {low:?}\n{} differences not as listed in {} (path, field, ids-only records, \
         tshark-only records):\n{}",
        problems.len(),
        list.display(),
        problems.join("\n")
    );
}
