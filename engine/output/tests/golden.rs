//! Golden-file tests: the exact bytes of fast lines and EVE records, checked in under
//! `tests/golden/`. `UPDATE_GOLDEN=1 cargo test -p ids-output` rewrites them (review the diff).

mod common;

use common::*;
use ids_output::{Action, Alert, EveFormatter, EveOptions, FastDialect, FastFormatter, Zone};
use serde_json::Value;

fn fast(f: FastFormatter, alerts: &[Alert]) -> String {
    let mut out = String::new();
    for a in alerts {
        f.format(a, &mut out);
    }
    out
}

const UTC: FastFormatter = FastFormatter { zone: Zone::Utc, year: false, dialect: FastDialect::Snort3 };

#[test]
fn fast_tcp_v4() {
    check_golden("fast_tcp_v4.txt", &fast(UTC, &[tcp_v4()]));
}

#[test]
fn fast_udp_v6() {
    check_golden("fast_udp_v6.txt", &fast(UTC, &[udp_v6()]));
}

#[test]
fn fast_icmp_without_ports() {
    check_golden("fast_icmp.txt", &fast(UTC, &[icmp_v4(), icmp_v6()]));
}

#[test]
fn fast_fragment_and_other_protocols() {
    check_golden("fast_fragment.txt", &fast(UTC, &[tcp_fragment(), unknown_proto()]));
}

#[test]
fn fast_drop_actions() {
    let alerts = [
        with_action(Action::Drop, true),
        with_action(Action::Drop, false),
        with_action(Action::Block, true),
        with_action(Action::Reject, true),
        with_action(Action::Reject, false),
        // An alert rule on a packet another rule dropped: Snort prints the packet's action.
        with_action(Action::Alert, true),
        with_action(Action::Pass, false),
    ];
    check_golden("fast_drop.txt", &fast(UTC, &alerts));
}

#[test]
fn fast_appid() {
    check_golden("fast_appid.txt", &fast(UTC, &[with_appid(), with_appid_client_only()]));
}

#[test]
fn fast_classification_absent() {
    check_golden("fast_no_classification.txt", &fast(UTC, &[no_classification()]));
}

#[test]
fn fast_year_flag() {
    let f = FastFormatter { year: true, ..UTC };
    check_golden("fast_year.txt", &fast(f, &[tcp_v4()]));
}

#[test]
fn fast_fixed_offset_crosses_midnight() {
    // 04:05 UTC at -05:00 is 23:05 the previous day.
    let f = FastFormatter { zone: Zone::Fixed(-5 * 3600), year: true, ..UTC };
    check_golden("fast_offset.txt", &fast(f, &[tcp_v4()]));
}

#[test]
fn fast_snort2_dialect() {
    let f = FastFormatter { dialect: FastDialect::Snort2, ..UTC };
    let alerts = [
        tcp_v4(),
        icmp_v6(),
        tcp_fragment(),
        unknown_proto(),
        with_action(Action::Drop, true),
        with_action(Action::Drop, false),
    ];
    let mut out = fast(f, &alerts);
    out.push_str(&fast(FastFormatter { year: true, ..f }, &[tcp_v4()]));
    check_golden("fast_snort2.txt", &out);
}

#[test]
fn fast_lines_are_single_lines() {
    for a in [tcp_v4(), udp_v6(), icmp_v4(), full(), tcp_fragment()] {
        let s = fast(UTC, &[a]);
        assert_eq!(s.matches('\n').count(), 1);
        assert!(s.ends_with('\n') && !s.ends_with(" \n"));
    }
}

#[test]
fn fast_non_ip_alert_has_no_addresses() {
    let a = Alert { src: None, dst: None, proto: 0, ..no_classification() };
    assert_eq!(
        fast(UTC, &[a]),
        "11/22-04:05:06.123456 [**] [1:1000001:1] \"local rule\" [**] [Priority: 0]\n"
    );
}

const EVE_UTC: EveOptions =
    EveOptions { zone: Zone::Utc, payload: true, payload_printable: true, rule_metadata: true, flow: true };

fn eve_alert(opts: EveOptions, a: &Alert) -> String {
    let mut out = Vec::new();
    EveFormatter::new(opts).alert(a, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The compact line exactly as written (it pins the field order), then a pretty copy for review
/// (serde_json's `Value` sorts keys, so only the first line shows Suricata's order).
fn golden_json(line: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap();
    format!("{line}{}\n", serde_json::to_string_pretty(&v).unwrap())
}

#[test]
fn eve_alert_every_field() {
    let line = eve_alert(EVE_UTC, &full());
    check_golden("eve_alert_full.json", &golden_json(&line));

    let v: Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "timestamp",
        "flow_id",
        "in_iface",
        "pcap_cnt",
        "event_type",
        "vlan",
        "src_ip",
        "src_port",
        "dest_ip",
        "dest_port",
        "proto",
        "pkt_src",
        "alert",
        "appid",
        "app_proto",
        "direction",
        "flow",
        "payload",
        "payload_printable",
        "pcap_filename",
    ];
    // serde_json's Map is sorted unless `preserve_order` is on; compare as sets here, the golden
    // file pins the order.
    let mut got = keys.clone();
    got.sort_unstable();
    expected.sort_unstable();
    assert_eq!(got, expected);

    assert!(v["timestamp"].is_string());
    assert!(v["flow_id"].is_u64());
    assert!(v["pcap_cnt"].is_u64());
    assert_eq!(v["event_type"], "alert");
    assert_eq!(v["vlan"], serde_json::json!([100, 200]));
    assert!(v["src_port"].is_u64() && v["dest_port"].is_u64());
    assert_eq!(v["proto"], "TCP");
    assert_eq!(v["pkt_src"], "wire/pcap");
    assert_eq!(v["direction"], "to_client");
    let alert = &v["alert"];
    assert_eq!(alert["action"], "blocked");
    assert!(alert["gid"].is_u64() && alert["signature_id"].is_u64() && alert["rev"].is_u64());
    assert!(alert["severity"].is_u64());
    assert_eq!(alert["signature"], "ET MALWARE Win32/CryptFile2 \"Revenge\" Checkin M3");
    assert_eq!(alert["metadata"]["deployment"], serde_json::json!(["Perimeter", "Internal"]));
    assert!(alert["metadata"]["created_at"].is_array());
    let flow = &v["flow"];
    for k in ["pkts_toserver", "pkts_toclient", "bytes_toserver", "bytes_toclient", "src_port", "dest_port"] {
        assert!(flow[k].is_u64(), "{k}");
    }
    // The flow's own orientation: client first.
    assert_eq!(flow["src_ip"], "192.168.2.14");
    assert_eq!(flow["src_port"], 50_096);
    assert_eq!(v["appid"]["misc"], "Revenge");
    assert!(v["appid"].get("payload").is_none());
    assert_eq!(v["payload"], "SFRUUC8xLjEgMjAwIE9LDQpYOiAA/w0K");
    assert_eq!(v["payload_printable"], "HTTP/1.1 200 OK\r\nX: ..\r\n");
}

#[test]
fn eve_alert_minimal_icmpv6() {
    let a = Alert { packet_number: 0, ..icmp_v6() };
    let line = eve_alert(EVE_UTC, &a);
    check_golden("eve_alert_minimal.json", &golden_json(&line));
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["proto"], "IPv6-ICMP");
    assert_eq!(v["alert"]["category"], "");
    assert_eq!(v["alert"]["action"], "allowed");
    for absent in
        ["flow_id", "pcap_cnt", "src_port", "dest_port", "vlan", "flow", "app_proto", "payload", "in_iface"]
    {
        assert!(v.get(absent).is_none(), "{absent} should be absent");
    }
}

#[test]
fn eve_options_turn_fields_off() {
    let opts =
        EveOptions { payload: false, payload_printable: false, rule_metadata: false, flow: false, ..EVE_UTC };
    let v: Value = serde_json::from_str(&eve_alert(opts, &full())).unwrap();
    for absent in ["payload", "payload_printable", "flow"] {
        assert!(v.get(absent).is_none(), "{absent}");
    }
    assert!(v["alert"].get("metadata").is_none());
}

#[test]
fn eve_timestamps_follow_the_zone() {
    let opts = EveOptions { zone: Zone::Fixed(3600), ..EVE_UTC };
    let v: Value = serde_json::from_str(&eve_alert(opts, &tcp_v4())).unwrap();
    assert_eq!(v["timestamp"], "2026-11-22T05:05:06.123456+0100");
}

#[test]
fn eve_flow_record() {
    let mut out = Vec::new();
    EveFormatter::new(EVE_UTC).flow(&flow_record(), &mut out).unwrap();
    let line = String::from_utf8(out).unwrap();
    check_golden("eve_flow.json", &golden_json(&line));
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["event_type"], "flow");
    assert_eq!(v["flow"]["age"], 64);
    assert_eq!(v["flow"]["state"], "closed");
    assert_eq!(v["flow"]["reason"], "timeout");
    assert_eq!(v["flow"]["alerted"], true);
}

#[test]
fn eve_stats_record() {
    let counters = [
        ("uptime", 120u64),
        ("capture.kernel_packets", 0),
        ("decoder.pkts", 53_381),
        ("decoder.bytes", 40_127_321),
        ("decoder.ipv4", 53_000),
        ("decoder.ipv6", 381),
        ("flow.tcp", 410),
        ("flow.udp", 77),
        ("detect.alert", 12),
    ];
    let mut out = Vec::new();
    EveFormatter::new(EVE_UTC).stats(t0(0), &counters, &mut out).unwrap();
    let line = String::from_utf8(out).unwrap();
    check_golden("eve_stats.json", &golden_json(&line));
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["stats"]["decoder"]["pkts"], 53_381);
    assert_eq!(v["stats"]["detect"]["alert"], 12);
}
