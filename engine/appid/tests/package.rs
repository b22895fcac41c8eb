//! The shipped package (`lua-detectors/`) loads cleanly and its detectors work; layout variants.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use ids_appid::*;

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lua-detectors")
}

#[test]
fn shipped_package_loads_without_diagnostics() {
    let (pkg, diags) = DetectorPackage::load(&shipped());
    assert!(diags.is_empty(), "{diags:#?}");
    assert!(pkg.detectors.iter().all(|d| d.enabled));
    assert_eq!(pkg.version.as_deref(), Some("1"));
    for name in [
        "HTTP",
        "HTTPS",
        "SSL",
        "DNS",
        "SSH",
        "FTP",
        "SMTP",
        "POP3",
        "IMAP",
        "Telnet",
        "RDP",
        "SMB",
        "NTP",
        "SNMP",
        "SIP",
        "RTSP",
        "BitTorrent",
        "MySQL",
        "PostgreSQL",
        "Redis",
        "MQTT",
        "QUIC",
        "DHCP",
        "LDAP",
        "Kerberos",
        "Firefox",
        "Chrome",
        "curl",
        "wget",
        "YouTube",
        "Google",
        "Facebook",
        "Dropbox",
        "GitHub",
    ] {
        assert!(pkg.apps.by_name(name).is_some(), "{name} missing from appMapping.data");
    }
    let r = &pkg.registries;
    let ssh = pkg.detectors.iter().find(|d| d.name == "SSH").unwrap();
    assert_eq!(r.service_detectors_on_port(6, 22), [ssh.id]);
    assert!(r
        .http_patterns
        .iter()
        .any(|p| p.kind == HttpPatternKind::UserAgent && p.pattern == b"curl/" && p.client == 2002));
    assert!(r.ssl_host_patterns.iter().any(|p| p.pattern == b"youtube.com" && p.app_id == 929));
    assert!(check_package(&shipped()).is_ok());
}

#[test]
fn shipped_detectors_validate_packets() {
    let (pkg, _) = DetectorPackage::load(&shipped());
    let (mut rt, diags) = pkg.runtime();
    assert!(diags.is_empty(), "{diags:#?}");
    let ssh = pkg.detectors.iter().find(|d| d.name == "SSH").unwrap().id;
    let http = pkg.detectors.iter().find(|d| d.name == "HTTP").unwrap().id;

    let banner = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3\r\n";
    let out = rt.validate(ssh, &ValidateContext::new(banner, Direction::FromResponder));
    assert_eq!(out.status, Status::Success);
    assert_eq!(
        out.verdicts,
        [Verdict::ServiceFound {
            app: 846,
            vendor: Some("OpenSSH_9.6p1".into()),
            version: Some("9.6p1".into())
        }]
    );
    assert_eq!(out.flow_flags, flow_flags::SERVICE_DETECTED);
    let out = rt.validate(ssh, &ValidateContext::new(b"220 smtp ready\r\n", Direction::FromResponder));
    assert_eq!((out.status, out.verdicts.as_slice()), (Status::NoMatch, &[Verdict::ServiceFail][..]));

    let req = ValidateContext::new(b"GET / HTTP/1.1\r\n\r\n", Direction::FromInitiator);
    assert_eq!(rt.validate(http, &req).status, Status::InProcess);
    let resp = b"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n";
    let out = rt.validate(http, &ValidateContext::new(resp, Direction::FromResponder));
    assert_eq!(
        out.verdicts,
        [Verdict::ServiceFound { app: 676, vendor: Some("nginx".into()), version: Some(String::new()) }]
    );
    // Pattern-only clients are not loaded in workers.
    let curl = pkg.detectors.iter().find(|d| d.name == "curl").unwrap().id;
    assert!(!rt.is_enabled(curl));
    assert!(rt.take_diagnostics().is_empty());
    assert!(rt.memory_limit_enforced());
    assert!(rt.shutdown().is_empty());
}

#[test]
fn odp_layout_with_custom_overlay() {
    let tmp = package(&[]);
    let root = &tmp.0;
    std::fs::create_dir_all(root.join("odp/lua")).unwrap();
    std::fs::rename(root.join("appMapping.data"), root.join("odp/appMapping.data")).unwrap();
    std::fs::rename(root.join("libs"), root.join("odp/libs")).unwrap();
    std::fs::write(root.join("odp/lua/a.lua"), detector("server", "gDetector:addPort(6, 1)", "")).unwrap();
    std::fs::create_dir_all(root.join("custom/lua")).unwrap();
    std::fs::create_dir_all(root.join("custom/libs")).unwrap();
    std::fs::write(root.join("custom/libs/Mine.lua"), "MINE = 7").unwrap();
    std::fs::write(
        root.join("custom/lua/b.lua"),
        detector("server", "require 'Mine' assert(MINE == 7) gDetector:addPort(6, 2)", ""),
    )
    .unwrap();
    std::fs::write(root.join("custom/lua/README"), "not a detector").unwrap();
    let (pkg, diags) = DetectorPackage::load(root);
    assert!(diags.is_empty(), "{diags:#?}");
    let files: Vec<_> = pkg.detectors.iter().map(|d| (d.file.as_str(), d.custom, d.enabled)).collect();
    assert_eq!(files, [("odp/lua/a.lua", false, true), ("custom/lua/b.lua", true, true)]);
    assert_eq!(pkg.apps.by_name("ssh"), Some(846));
}

#[test]
fn missing_mapping_is_an_error_but_detectors_load() {
    let tmp = package(&[("lua/a.lua", &detector("server", "", ""))]);
    std::fs::remove_file(tmp.0.join("appMapping.data")).unwrap();
    let (pkg, diags) = DetectorPackage::load(&tmp.0);
    assert_eq!(diags.len(), 1);
    assert!(diags[0].message.contains("no appMapping.data"));
    assert!(pkg.detectors[0].enabled);
}

#[test]
fn bad_mapping_rows_are_warnings_with_lines() {
    let tmp = package(&[]);
    std::fs::write(tmp.0.join("appMapping.data"), "676\tHTTP\t9\t0\t0\thttp\thttp\nbroken row\n").unwrap();
    let (pkg, diags) = DetectorPackage::load(&tmp.0);
    assert_eq!(pkg.apps.len(), 1);
    assert_eq!(diags.len(), 1);
    assert_eq!(
        (diags[0].file.to_str(), diags[0].line, diags[0].severity),
        (Some("appMapping.data"), Some(2), Severity::Warning)
    );
}

#[test]
fn workers_are_independent_states() {
    // Per-flow state kept in Lua tables lives in each worker's own state.
    let v = "function Validate() n = (n or 0) + 1; return n end";
    let (_t, pkg, _) = load(&[("lua/d.lua", &detector("server", "", v))]);
    let (mut a, _) = pkg.runtime();
    let (mut b, _) = pkg.runtime();
    let c = ValidateContext::new(b"", Direction::FromInitiator);
    assert_eq!(a.validate(DetectorId(0), &c).status, Status::Other(1));
    assert_eq!(a.validate(DetectorId(0), &c).status, Status::Other(2));
    assert_eq!(b.validate(DetectorId(0), &c).status, Status::Other(1));
}
