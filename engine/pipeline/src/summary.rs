//! The end-of-run summary, laid out like Snort's: sections of right-aligned `name: count`
//! lines, zero counts left out (except the totals a reader looks for first).

use std::fmt::{self, Write};

use ids_flow::{EndReason, ProtoClass};

use crate::run::RunSummary;

const RULE: &str = "--------------------------------------------------";

struct Section<'a> {
    out: &'a mut String,
    started: bool,
    title: &'a str,
}

impl<'a> Section<'a> {
    fn new(out: &'a mut String, title: &'a str) -> Section<'a> {
        Section { out, started: false, title }
    }

    fn header(&mut self) {
        if !self.started {
            self.started = true;
            let _ = writeln!(self.out, "{RULE}\n{}", self.title);
        }
    }

    /// A count, shown only when non-zero.
    fn count(&mut self, name: &str, value: u64) {
        if value > 0 {
            self.always(name, value);
        }
    }

    fn always(&mut self, name: &str, value: impl fmt::Display) {
        self.header();
        let _ = writeln!(self.out, "{name:>25}: {value}");
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let t = &self.totals;

        let mut s = Section::new(&mut out, "capture");
        s.always("inputs", self.inputs.len());
        s.always("packets", self.capture.packets);
        s.always("bytes", self.capture.bytes);
        s.count("snaplen_truncated", self.capture.snaplen_truncated);
        s.count("truncated_files", self.capture.truncated_file);
        s.count("bad_records", self.capture.bad_records);
        s.count("skipped_blocks", self.capture.skipped_blocks);
        s.count("failed_inputs", self.failed_inputs().count() as u64);

        let mut s = Section::new(&mut out, "decode");
        s.always("total", t.packets);
        for (name, n) in t.layer_counts() {
            s.count(name, n);
        }
        s.count("non_ip", t.non_ip);
        s.count("inner_ipv4", t.ipv4);
        s.count("inner_ipv6", t.ipv6);
        s.count("inner_tcp", t.tcp);
        s.count("inner_udp", t.udp);
        s.count("inner_icmp", t.icmp);
        s.count("inner_icmpv6", t.icmpv6);
        s.count("inner_other", t.other_transport);
        s.count("bad_ip_checksum", t.bad_checksum.ip);
        s.count("bad_tcp_checksum", t.bad_checksum.tcp);
        s.count("bad_udp_checksum", t.bad_checksum.udp);
        s.count("bad_icmp_checksum", t.bad_checksum.icmp);
        s.count("checksums_offloaded", t.checksums_auto_disabled);

        let mut s = Section::new(&mut out, "anomalies");
        for (name, n) in t.anomalies() {
            s.count(name, n);
        }

        let d = &t.defrag;
        let mut s = Section::new(&mut out, "defrag");
        for (name, n) in d.counters() {
            s.count(name, n);
        }

        let fl = &t.flow;
        let mut s = Section::new(&mut out, "flows");
        s.always("total", fl.total_created());
        for class in ProtoClass::ALL {
            s.count(class.name(), fl.created[class as usize]);
        }
        for (i, reason) in EndReason::ALL.iter().enumerate() {
            s.count(&format!("ended_{}", reason.name()), fl.ended[i]);
        }
        s.count("evicted_max_flows", fl.evicted_max_flows);
        s.count("evicted_memcap", fl.evicted_memcap);
        s.count("peak_flows", fl.peak_flows);
        s.count("peak_memory", fl.peak_memory);

        let tcp = &fl.tcp;
        let mut s = Section::new(&mut out, "tcp");
        s.count("sessions", tcp.sessions);
        s.count("handshakes", tcp.handshakes_completed);
        s.count("midstream", tcp.midstream_pickups);
        s.count("fins", tcp.fins);
        s.count("resets", tcp.resets);
        s.count("port_reuses", tcp.port_reuses);
        s.count("syn_retransmits", tcp.syn_retransmits);
        s.count("stream_bytes", t.stream_bytes);
        s.count("stream_gaps", t.stream_gaps);
        s.count("stream_gap_bytes", t.stream_gap_bytes);
        for (name, n) in t.stream.counters() {
            s.count(name, n);
        }

        let secs = self.elapsed.as_secs_f64();
        let mut s = Section::new(&mut out, "timing");
        s.always("workers", self.workers);
        s.always("seconds", format!("{secs:.3}"));
        if secs > 0.0 {
            s.always("packets_per_second", format!("{:.0}", self.capture.packets as f64 / secs));
            s.always("mbits_per_second", format!("{:.1}", self.capture.bytes as f64 * 8.0 / secs / 1e6));
        }
        out.push_str(RULE);
        out.push('\n');
        f.write_str(&out)
    }
}
