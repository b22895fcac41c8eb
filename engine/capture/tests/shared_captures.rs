//! Reads every file of the shared real-capture collection (`/work/shared/pcaps`) to the end.
//!
//! Capture files (by extension) must open and read without error; everything else (results,
//! rules, scripts) must be rejected as `NotACapture`. Packet counts of a sample are checked
//! against `capinfos -c`. Set `IDS_CAPTURE_COUNTS=1` (with `--nocapture`) to print every file's
//! count for a full comparison with tshark.

use std::path::{Path, PathBuf};

use ids_capture::{expand_inputs, open, CaptureError, CaptureStats};

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps")
}

fn is_capture_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".pcap", ".pcapng", ".cap", ".dmp"].iter().any(|ext| name.ends_with(ext))
}

/// `capinfos -c -M` counts (Wireshark 4.x) for a sample covering pcap/pcapng, both byte orders,
/// nanosecond files and several link types.
const EXPECTED: &[(&str, u64)] = &[
    ("arkime/pcap/80211http.pcap", 26),
    ("arkime/pcap/CVE-2018-6794.pcap", 33),
    ("arkime/pcap/IKEv1.pcap", 309),
    ("ndpi/pcap/ndpi_match_string_subprotocol__error.pcapng", 14),
    ("zeek/Traces/smb/smb2-zero-byte-error-ioctl.pcapng", 180),
    ("ndpi/pcap/nfsv3.pcap", 128),
    ("tcpdump/pcap/quic_vn.pcap", 25),
];

#[test]
fn every_shared_capture_reads_to_the_end() {
    let dir = shared_dir();
    if !dir.is_dir() {
        println!("note: {} not present, skipping", dir.display());
        return;
    }
    let dump = std::env::var_os("IDS_CAPTURE_COUNTS").is_some();
    let files = expand_inputs(std::slice::from_ref(&dir)).expect("expand shared dir");
    let (mut captures, mut others, mut packets) = (0u64, 0u64, 0u64);
    let mut anomalies = CaptureStats::default();
    let mut failures = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&dir).unwrap_or(path).to_string_lossy().into_owned();
        let mut src = match open(path) {
            Ok(src) => src,
            Err(CaptureError::NotACapture { .. }) if !is_capture_name(path) => {
                others += 1;
                continue;
            }
            Err(e) => {
                failures.push(format!("{rel}: open: {e}"));
                continue;
            }
        };
        if !is_capture_name(path) {
            failures.push(format!("{rel}: opened as a capture but its name says otherwise"));
        }
        loop {
            match src.next_packet() {
                Ok(Some(p)) => assert!(p.data.len() <= p.orig_len as usize),
                Ok(None) => break,
                Err(e) => {
                    failures.push(format!("{rel}: read: {e}"));
                    break;
                }
            }
        }
        let s = src.stats();
        captures += 1;
        packets += s.packets;
        anomalies.snaplen_truncated += s.snaplen_truncated;
        anomalies.truncated_file += s.truncated_file;
        anomalies.skipped_blocks += s.skipped_blocks;
        anomalies.bad_records += s.bad_records;
        anomalies.caplen_over_snaplen += s.caplen_over_snaplen;
        if dump {
            println!("{rel}\t{}\t{:?}", s.packets, s);
        }
        if let Some((_, want)) = EXPECTED.iter().find(|(name, _)| *name == rel) {
            if s.packets != *want {
                failures.push(format!("{rel}: {} packets, capinfos says {want}", s.packets));
            }
        }
    }
    println!("{captures} captures, {packets} packets, {others} other files; anomalies: {anomalies:?}");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(captures > 1000, "only {captures} captures found");
}
