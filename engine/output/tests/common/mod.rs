//! Alerts and flows shared by the integration tests, and the golden-file helper.

#![allow(dead_code)] // each test binary uses a different subset

use std::net::IpAddr;
use std::path::PathBuf;

use ids_capture::Timestamp;
use ids_output::time::days_from_civil;
use ids_output::{Action, Alert, AppIds, Direction, FlowCounters, FlowEndReason, FlowRecord, FlowState};

/// 2026-11-22 04:05:06 UTC plus `nanos`.
pub fn t0(nanos: u32) -> Timestamp {
    let secs = days_from_civil(2026, 11, 22) * 86_400 + 4 * 3600 + 5 * 60 + 6;
    Timestamp::from_secs_nanos(secs, nanos)
}

pub fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

/// The brief's example: ET POLICY over TCP/IPv4.
pub fn tcp_v4() -> Alert {
    Alert {
        ts: t0(123_456_789),
        packet_number: 7,
        gid: 1,
        sid: 2_000_001,
        rev: 3,
        msg: "ET POLICY Something".into(),
        classification: Some("Potential Corporate Privacy Violation".into()),
        classtype: Some("policy-violation".into()),
        priority: 1,
        proto: 6,
        src: ip("10.0.0.1"),
        src_port: Some(1234),
        dst: ip("10.0.0.2"),
        dst_port: Some(80),
        ..Alert::default()
    }
}

pub fn udp_v6() -> Alert {
    Alert {
        ts: t0(5_000),
        gid: 1,
        sid: 2_027_863,
        rev: 2,
        msg: "ET INFO Observed DNS Query to .onion TLD".into(),
        classification: Some("Potentially Bad Traffic".into()),
        priority: 2,
        proto: 17,
        src: ip("2001:db8::1"),
        src_port: Some(53_124),
        dst: ip("2001:db8:0:0:1::53"),
        dst_port: Some(53),
        ..Alert::default()
    }
}

pub fn icmp_v4() -> Alert {
    Alert {
        ts: t0(0),
        gid: 1,
        sid: 384,
        rev: 8,
        msg: "PROTOCOL-ICMP PING".into(),
        classification: Some("Misc activity".into()),
        priority: 3,
        proto: 1,
        src: ip("192.168.1.5"),
        dst: ip("192.168.1.1"),
        ..Alert::default()
    }
}

pub fn icmp_v6() -> Alert {
    Alert {
        sid: 100_001,
        rev: 1,
        msg: "ICMPv6 echo".into(),
        classification: None,
        proto: 58,
        src: ip("fe80::1"),
        dst: ip("ff02::1"),
        ..icmp_v4()
    }
}

/// A TCP fragment: protocol known from the IP header, no transport header, no ports.
pub fn tcp_fragment() -> Alert {
    Alert {
        gid: 123,
        sid: 8,
        rev: 1,
        msg: "(defrag) fragmentation overlap".into(),
        src_port: None,
        dst_port: None,
        ..tcp_v4()
    }
}

pub fn unknown_proto() -> Alert {
    Alert { proto: 253, src_port: None, dst_port: None, msg: "experimental protocol".into(), ..tcp_v4() }
}

pub fn no_classification() -> Alert {
    Alert {
        classification: None,
        classtype: None,
        priority: 0,
        msg: "local rule".into(),
        sid: 1_000_001,
        rev: 1,
        ..tcp_v4()
    }
}

pub fn with_action(action: Action, blocked: bool) -> Alert {
    Alert { action, blocked, ..tcp_v4() }
}

pub fn with_appid() -> Alert {
    Alert {
        direction: Some(Direction::ToServer),
        appid: Some(AppIds {
            service: Some("HTTP".into()),
            client: Some("Firefox".into()),
            payload: Some("YouTube".into()),
            misc: None,
        }),
        ..tcp_v4()
    }
}

pub fn with_appid_client_only() -> Alert {
    Alert {
        direction: Some(Direction::ToClient),
        appid: Some(AppIds {
            service: Some("SSH".into()),
            client: Some("OpenSSH".into()),
            ..AppIds::default()
        }),
        ..tcp_v4()
    }
}

/// Every optional field set; the packet goes server → client so `alert.flow` is turned around.
pub fn full() -> Alert {
    Alert {
        ts: t0(123_456_789),
        packet_number: 53_381,
        gid: 1,
        sid: 2_024_056,
        rev: 4,
        msg: "ET MALWARE Win32/CryptFile2 \"Revenge\" Checkin M3".into(),
        classification: Some("Malware Command and Control Activity Detected".into()),
        classtype: Some("command-and-control".into()),
        priority: 1,
        action: Action::Drop,
        blocked: true,
        proto: 6,
        src: ip("209.53.113.5"),
        src_port: Some(80),
        dst: ip("192.168.2.14"),
        dst_port: Some(50_096),
        flow_id: Some(586_497_171_462_735),
        in_iface: Some("eth0".into()),
        vlan: vec![100, 200],
        app_proto: Some("http".into()),
        appid: Some(AppIds {
            service: Some("HTTP".into()),
            client: Some("curl".into()),
            payload: None,
            misc: Some("Revenge".into()),
        }),
        metadata: vec![
            ("attack_target".into(), "Client_Endpoint".into()),
            ("created_at".into(), "2017_03_15".into()),
            ("deployment".into(), "Perimeter".into()),
            ("deployment".into(), "Internal".into()),
            ("signature_severity".into(), "Major".into()),
        ],
        references: vec!["url,doc.emergingthreats.net/2024056".into()],
        direction: Some(Direction::ToClient),
        flow: Some(FlowCounters {
            pkts_toserver: 6,
            pkts_toclient: 8,
            bytes_toserver: 1_024,
            bytes_toclient: 9_876,
            start: t0(1_000),
        }),
        payload: Some(b"HTTP/1.1 200 OK\r\nX: \x00\xff\r\n".to_vec()),
        pcap_filename: Some("/data/pcaps/2017-04-07.pcap".into()),
    }
}

pub fn flow_record() -> FlowRecord {
    FlowRecord {
        flow_id: 586_497_171_462_735,
        in_iface: Some("eth0".into()),
        vlan: vec![100],
        proto: 6,
        src: "192.168.2.14".parse().unwrap(),
        src_port: Some(50_096),
        dst: "209.53.113.5".parse().unwrap(),
        dst_port: Some(80),
        app_proto: Some("http".into()),
        pkts_toserver: 6,
        pkts_toclient: 8,
        bytes_toserver: 1_024,
        bytes_toclient: 9_876,
        start: t0(1_000),
        end: t0(999_999_999).add_secs(64),
        state: FlowState::Closed,
        reason: FlowEndReason::Timeout,
        alerted: true,
        pcap_filename: Some("/data/pcaps/2017-04-07.pcap".into()),
    }
}

pub fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

/// Compares `actual` with the checked-in golden file; `UPDATE_GOLDEN=1` rewrites it instead.
pub fn check_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display()));
    assert_eq!(actual, expected, "output differs from {}", path.display());
}
