//! API conformance: for each API method a small detector uses it, and the test checks the
//! registration or verdict Snort 3 would produce.
#![allow(non_snake_case)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use ids_appid::*;

fn ctx(data: &[u8]) -> ValidateContext<'_> {
    let mut c = ValidateContext::new(data, Direction::FromResponder);
    c.src_addr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    c.dst_addr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2));
    c.src_port = 22;
    c.dst_port = 40000;
    c.flow_key = 77;
    c.packet_count = 5;
    c
}

/// Runs `validate` (a full `function Validate() ... end`) on `data` as a service detector.
fn svc(validate: &str, data: &[u8]) -> ValidateOutcome {
    let (out, diags) = run("server", "", validate, &ctx(data));
    assert!(diags.is_empty(), "{diags:#?}");
    out
}

/// Returns the value `expr` evaluates to inside validate, as a string (via client_addInfo).
fn eval(expr: &str, data: &[u8]) -> String {
    let out =
        svc(&format!("function Validate() gDetector:client_addInfo(tostring(({expr}))) return 0 end"), data);
    match out.verdicts.as_slice() {
        [Verdict::ClientInfo(s)] => s.clone(),
        v => panic!("unexpected verdicts {v:?} (status {:?})", out.status),
    }
}

// ---- packet access ----------------------------------------------------------------------

#[test]
fn packet_accessors() {
    assert_eq!(eval("gDetector:getPacketSize()", b"hello"), "5");
    assert_eq!(eval("gDetector:getPacketDir()", b""), "1");
    assert_eq!(eval("gDetector:getPktSrcPort()", b""), "22");
    assert_eq!(eval("gDetector:getPktDstPort()", b""), "40000");
    assert_eq!(eval("gDetector:getL4Protocol()", b""), "6");
    assert_eq!(eval("gDetector:getProtocolType()", b""), "6");
    assert_eq!(eval("gDetector:getPktCount()", b""), "5");
    assert_eq!(eval("gDetector:isMidStreamSession()", b""), "0");
    assert_eq!(eval("gDetector:isHttpTunnel()", b""), "false");
    assert_eq!(eval("gDetector:getHttpTunneledPort()", b""), "nil");
}

#[test]
fn addresses_print_with_intToIPv4() {
    // Snort's get_ip4_value() on x86: network-order bytes read little-endian.
    assert_eq!(eval("DC.intToIPv4(gDetector:getPktSrcAddr(), 1)", b""), "10.0.0.1");
    assert_eq!(eval("DC.intToIPv4(gDetector:getPktDstAddr(), 1)", b""), "192.168.1.2");
    assert_eq!(eval("gDetector:getPktSrcAddr()", b""), (0x0100_000au32).to_string());
}

#[test]
fn memcmp_and_matchSimplePattern() {
    assert_eq!(eval("gDetector:memcmp('SSH-', 4, 0)", b"SSH-2.0"), "0");
    assert_eq!(eval("gDetector:matchSimplePattern('2.0', 3, 4)", b"SSH-2.0"), "0");
    assert_ne!(eval("gDetector:matchSimplePattern('SSH-', 4, 5)", b"SSH-2.0"), "0");
    assert_eq!(eval("DC.checkPattern(gDetector, {'SSH', 0})", b"SSH-2.0"), "1");
}

#[test]
fn getPcreGroups_returns_groups_from_offset_with_dotall() {
    let v = eval(
        "table.concat({gDetector:getPcreGroups('^SSH-([0-9.]+)-(\\\\S+)', 0)}, '|')",
        b"SSH-2.0-OpenSSH_9\r\n",
    );
    assert_eq!(v, "SSH-2.0-OpenSSH_9|2.0|OpenSSH_9");
    assert_eq!(eval("select('#', gDetector:getPcreGroups('nomatch', 0))", b"abc"), "0");
    assert_eq!(eval("gDetector:getPcreGroups('a.b')", b"a\nb"), "a\nb");
    assert_eq!(eval("gDetector:getPcreGroups('^b', 1)", b"ab"), "nil");
    // Raw high bytes in the pattern match raw bytes.
    assert_eq!(eval("#gDetector:getPcreGroups('\\255\\254(.)', 0)", b"\xff\xfex"), "3");
}

#[test]
fn getSubstr_and_substrIndex() {
    assert_eq!(eval("gDetector:getSubstr(2, 3)", b"abcdef"), "cde");
    assert_eq!(eval("gDetector:getSubstr(4, 3)", b"abcdef"), "nil");
    assert_eq!(eval("gDetector:substrIndex(1, 'cd')", b"abcdcd"), "2");
    assert_eq!(eval("gDetector:substrIndex(3, 'cd')", b"abcdcd"), "4");
    assert_eq!(eval("gDetector:substrIndex(0, 'zz')", b"abcdcd"), "nil");
}

#[test]
fn htons_htonl_swap_like_x86() {
    assert_eq!(eval("gDetector:htons(0x1234)", b""), (0x3412).to_string());
    assert_eq!(eval("gDetector:htonl(0x12345678)", b""), (0x7856_3412u32).to_string());
}

#[test]
fn flow_flags_and_key() {
    let mut c = ctx(b"");
    c.flow_flags = flow_flags::SERVICE_DETECTED | flow_flags::SSL_SESSION;
    let v = r#"function Validate()
        local f = gDetector:getFlow()
        gDetector:client_addInfo(f:getFlowKey())
        gDetector:client_addInfo(tostring(f:getFlowFlag(DC.flowFlags.serviceDetected)))
        gDetector:client_addInfo(tostring(f:getFlowFlag(DC.flowFlags.sslSession)))
        f:setFlowFlag(DC.flowFlags.clientAppDetected)
        f:setFlowFlag(DC.flowFlags.gotBanner)
        f:clearFlowFlag(DC.flowFlags.serviceDetected)
        return DC.serviceStatus.inProcess
    end"#;
    let (out, diags) = run("server", "", v, &c);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(out.status, Status::InProcess);
    let infos: Vec<_> = out.verdicts.iter().map(|v| format!("{v:?}")).collect();
    // Obsolete flags (sslSession, gotBanner) are invisible, as in Snort 3.
    assert_eq!(infos, ["ClientInfo(\"77\")", "ClientInfo(\"2147483648\")", "ClientInfo(\"0\")"]);
    assert_eq!(out.flow_flags, flow_flags::CLIENT_APP_DETECTED);
}

#[test]
fn packet_methods_outside_validate_are_errors() {
    let (_t, pkg, diags) = load(&[("lua/d.lua", &detector("server", "gDetector:getPacketSize()", ""))]);
    assert!(!pkg.detectors[0].enabled);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(10), "{diags:?}");
    assert!(diags[0].message.contains("no packet"), "{diags:?}");
}

// ---- service verdicts -------------------------------------------------------------------

#[test]
fn service_verdicts_translate_legacy_ids() {
    let out = svc("function Validate() gDetector:addService(20012, 'OpenSSH', '9.6', 846) return DC.serviceStatus.success end", b"");
    assert_eq!(out.status, Status::Success);
    assert_eq!(
        out.verdicts,
        [Verdict::ServiceFound { app: 846, vendor: Some("OpenSSH".into()), version: Some("9.6".into()) }]
    );
    let out = svc("function Validate() return gDetector:service_addService(20012) end", b"");
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.verdicts, [Verdict::ServiceFound { app: 846, vendor: None, version: None }]);
    let out = svc("function Validate() gDetector:addService(4242) return 0 end", b"");
    assert_eq!(out.verdicts, [Verdict::ServiceFound { app: APP_ID_NONE, vendor: None, version: None }]);
}

#[test]
fn service_fail_inprocess_and_friends() {
    let out = svc(
        "function Validate() gDetector:inProcessService() gDetector:service_inProcessService() \
         gDetector:failService() gDetector:service_failService() gDetector:service_analyzePayload(929) \
         gDetector:markIncompleteData() gDetector:service_addNetbiosDomain('WORKGROUP') \
         gDetector:open_addServiceApp(676) return DC.serviceStatus.nomatch end",
        b"",
    );
    assert_eq!(out.status, Status::NoMatch);
    assert_eq!(
        out.verdicts,
        [
            Verdict::ServiceInProcess,
            Verdict::ServiceInProcess,
            Verdict::ServiceFail,
            Verdict::ServiceFail,
            Verdict::ServicePayload(929),
            Verdict::ServiceIncompatible,
            Verdict::NetbiosDomain("WORKGROUP".into()),
            Verdict::ServiceFound { app: 676, vendor: None, version: None },
        ]
    );
}

// ---- client verdicts --------------------------------------------------------------------

#[test]
fn client_addApp_translates_service_and_client_ids() {
    // PeerCast's real call: client_addApp(20092, 15, 100, "", 782); row 782 has legacy 20092/100.
    let (out, diags) = run(
        "client",
        "gDetector:client_init()",
        "function Validate() gDetector:client_addApp(20092, 15, 100, '', 782) return DC.clientStatus.success end",
        &ctx(b""),
    );
    assert!(diags.is_empty());
    assert_eq!(
        out.verdicts,
        [Verdict::ClientFound { service: 782, client: 782, version: Some(String::new()) }]
    );
    let out = svc(
        "function Validate() gDetector:client_addPayload(100) gDetector:client_addUser('bob', 9) \
         gDetector:open_addClientApp(676, 2002) return 0 end",
        b"",
    );
    assert_eq!(
        out.verdicts,
        [
            Verdict::ClientPayload(929),
            Verdict::ClientUser { name: "bob".into(), service: 676 },
            Verdict::ClientFound { service: 676, client: 2002, version: None },
        ]
    );
}

#[test]
fn dynamic_host_port_app_and_future_flow() {
    let out = svc(
        "function Validate() gDetector:addHostPortAppDynamic(0, 676, '10.1.1.1', 8080, 6) \
         gDetector:createFutureFlow('10.0.0.1', 0, '10.0.0.2', 20, 6, 166, 0, 0, 166) return 0 end",
        b"",
    );
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_eq!(
        out.verdicts,
        [
            Verdict::HostPortApp { kind: 0, app: 676, ip: ip("10.1.1.1"), port: 8080, proto: 6 },
            Verdict::FutureFlow {
                client_ip: ip("10.0.0.1"),
                client_port: 0,
                server_ip: ip("10.0.0.2"),
                server_port: 20,
                proto: 6,
                service: 166,
                client: 0,
                payload: 0,
                snort_app: 166,
            },
        ]
    );
}

// ---- registration ---------------------------------------------------------------------------

#[test]
fn ports_and_service_patterns() {
    let r = registrations(
        "gDetector:init('ssh', 'Validate', 'Clean') \
         assert(gDetector:addPort(DC.ipproto.tcp, 22) == 0) \
         assert(gDetector:service_addPort(DC.ipproto.udp, 53, 0, 1) == 0) \
         assert(gDetector:addPort(1, 22) == -1) \
         assert(gDetector:addPort(6, 0) == -1) \
         gDetector:registerPattern(6, 'SSH-', 4, 0) \
         gDetector:service_registerPattern(17, 'abcdef', 3, -1)",
    );
    assert_eq!(r.service_detectors_on_port(6, 22), [DetectorId(0)]);
    assert_eq!(
        r.service_ports[1],
        PortRegistration { detector: DetectorId(0), proto: 17, port: 53, reversed: true }
    );
    assert_eq!(r.service_ports.len(), 2);
    assert_eq!(r.service_patterns[0].pattern, b"SSH-");
    assert_eq!(r.service_patterns[0].offset, Some(0));
    assert_eq!((r.service_patterns[1].pattern.as_slice(), r.service_patterns[1].offset), (&b"abc"[..], None));
}

#[test]
fn client_patterns_and_minimum_matches() {
    let code = r#"require "DetectorCommon"
DetectorPackageInfo = { name = "c", proto = 6,
    client = { init = "I", validate = "V", clean = "C", minimum_matches = 2 } }
function I(d) gDetector = d
    gDetector:client_registerPattern(6, "GET /channel/", 13, 0, 782)
    gDetector:client_registerPattern(6, "pcp\n", 4, 0)
    gDetector:registerAppId(782, 0)
end
function V() return 10 end
function C() end"#;
    let (_t, pkg, diags) = load(&[("lua/c.lua", code)]);
    assert!(diags.is_empty(), "{diags:?}");
    let d = &pkg.detectors[0];
    assert_eq!((d.kind, d.minimum_matches, d.validate.as_deref()), (DetectorKind::Client, 2, Some("V")));
    let r = &pkg.registries;
    assert_eq!(r.client_patterns.len(), 2);
    assert_eq!(r.client_patterns[0].app_id, 782);
    assert_eq!(r.client_patterns[1].pattern, b"pcp\n");
    assert_eq!(r.registered_apps, [RegisteredApp { detector: DetectorId(0), app_id: 782 }]);
    assert!(pkg.apps.get(782).unwrap().flags & app_flags::CLIENT_ADDITIONAL != 0);
}

#[test]
fn http_patterns_translate_legacy_ids() {
    let r = registrations(
        "gDetector:addHttpPattern(2, 5, 9, 3, 1, 0, 0, 'curl/', 2002) \
         gDetector:addHttpPattern(1, 0, 0, 0, 0, 100, 0, 'youtube.com', 929) \
         gDetector:addHttpPattern(3, 0, 0, 0, 0, 100, 0, 'youtube.com/watch', 929) \
         gDetector:addHttpPattern(7, 0, 0, 0, 0, 100, 0, 'bad type', 929)",
    );
    let h = &r.http_patterns;
    assert_eq!(h.len(), 3);
    assert_eq!(
        (h[0].kind, h[0].sequence, h[0].service, h[0].client, h[0].app_id),
        (HttpPatternKind::UserAgent, 5, 676, 2002, 2002)
    );
    assert_eq!(
        (h[1].kind, h[1].payload, h[1].pattern.as_slice()),
        (HttpPatternKind::Host, 929, &b"youtube.com"[..])
    );
    assert_eq!(h[2].kind, HttpPatternKind::Url);
}

#[test]
fn invalid_arguments_warn_with_line() {
    let (_t, pkg, diags) = load(&[(
        "lua/d.lua",
        &detector("server", "    gDetector:addHttpPattern(7, 0, 0, 0, 0, 0, 0, 'x', 1)", ""),
    )]);
    assert!(pkg.detectors[0].enabled);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!((diags[0].severity, diags[0].line), (Severity::Warning, Some(10)));
    assert!(diags[0].message.contains("invalid HTTP pattern type 7"));
}

#[test]
fn app_urls_rtmp_and_content_types() {
    let r = registrations(
        "gDetector:addAppUrl(0, 0, 0, 100, 0, 'www.youtube.com', '/watch', 'http:', 'v=', 929) \
         gDetector:addAppUrl(0, 0, 0, 100, 0, 'www.youtube.com', '', 'http:', '', 929) \
         gDetector:addRTMPUrl(0, 0, 0, 929, 0, 'rtmp.example.com', '/live', 'rtmp:', '', 929) \
         gDetector:open_addUrlPattern(676, 0, 929, 'yt.example', '/', 'http:') \
         gDetector:addContentTypePattern('video/mp4', 929)",
    );
    assert_eq!(r.app_urls.len(), 2);
    let u = &r.app_urls[0];
    assert_eq!(
        (u.payload, u.app_id, u.host.as_slice(), u.path.as_slice()),
        (929, 929, &b"www.youtube.com"[..], &b"/watch"[..])
    );
    assert_eq!(u.query.as_deref(), Some(&b"v="[..]));
    assert_eq!(r.app_urls[1].service, 676);
    assert_eq!(r.rtmp_urls.len(), 1);
    assert_eq!(r.rtmp_urls[0].payload, 929);
    assert_eq!(r.content_types, [(DetectorId(0), b"video/mp4".to_vec(), 929)]);
}

#[test]
fn tls_dns_sip_ssh_alpn_registrations() {
    let r = registrations(
        "gDetector:addSSLCertPattern(0, 929, 'youtube.com') \
         gDetector:addSSLCertPattern(1, 2002, 'client.example') \
         gDetector:addSSLCnamePattern(0, 929, 'Google LLC') \
         gDetector:addDNSHostPattern(0, 929, 'youtube.com') \
         gDetector:addSipUserAgent(2002, '1.0', 'Linphone') \
         gDetector:addSipServer(2002, '', 'Asterisk') \
         gDetector:addSSHPattern('PuTTY', 2002) \
         gDetector:addAlpnToServiceMapping(676, 'http/1.1') \
         gDetector:addProcessToClientMapping(2002, 'curl', 80) \
         gDetector:addSSLCertPattern(0, 929, '')",
    );
    assert_eq!(r.ssl_host_patterns.len(), 2);
    assert_eq!(r.ssl_host_patterns[0].target, PatternTarget::Payload);
    assert_eq!(r.ssl_host_patterns[1].target, PatternTarget::Client);
    assert_eq!(r.ssl_cname_patterns[0].pattern, b"Google LLC");
    assert_eq!(r.dns_host_patterns[0].app_id, 929);
    assert_eq!(r.sip_user_agents[0].version, "1.0");
    assert_eq!(r.sip_servers[0].pattern, b"Asterisk");
    assert_eq!(r.ssh_patterns, [(DetectorId(0), b"PuTTY".to_vec(), 2002)]);
    assert_eq!(r.alpn, [(DetectorId(0), b"http/1.1".to_vec(), 676)]);
    assert_eq!(r.process_mappings[0].score, 80);
}

#[test]
fn host_caches_port_only_and_length_sequences() {
    let r = registrations(
        "gDetector:addHostPortApp(0, 676, '10.1.2.3', 8080, 6) \
         gDetector:addHostPortApp(0, 676, '2001:db8::1', 443, 6) \
         gDetector:addHostFirstPktApp(676, 0, 0, 1, '10.0.0.0/8', 80, 6) \
         gDetector:portOnlyService(846, 2222, 6) \
         gDetector:portOnlyService(846, 0, 47) \
         assert(gDetector:AddLengthBasedDetector(846, 6, 3, 'I/8,R/512,I/1024') == 0) \
         assert(gDetector:AddLengthBasedDetector(846, 6, 2, 'I/8') == -1)",
    );
    assert_eq!(r.host_port_apps.len(), 2);
    assert_eq!(r.host_port_apps[1].ip, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!((r.first_packet_apps[0].prefix_len, r.first_packet_apps[0].reinspect), (8, true));
    assert_eq!(r.port_only.iter().map(|p| (p.port, p.proto)).collect::<Vec<_>>(), [(2222, 6), (0, 47)]);
    assert_eq!(
        r.length_sequences[0].sequence,
        [(Direction::FromInitiator, 8), (Direction::FromResponder, 512), (Direction::FromInitiator, 1024)]
    );
}

#[test]
fn chp_single_and_multi_instances() {
    let r = registrations(
        "gDetector:CHPCreateApp(929, 0, 1) \
         gDetector:CHPAddAction(929, 1, 1, 'youtube.com', 0, '') \
         local h1 = gDetector:CHPMultiCreateApp(676, 0, 2) \
         local h2 = gDetector:CHPMultiCreateApp(676, 0, 2) \
         assert(h1 == 676 * 128 and h2 == 676 * 128 + 1, tostring(h1)) \
         gDetector:CHPMultiAddAction(h2, 0, 0, 'Mozilla', 1, 'v')",
    );
    assert_eq!(
        r.chp_apps.iter().map(|a| a.instance).collect::<Vec<_>>(),
        [929 * 128 + 127, 676 * 128, 676 * 128 + 1]
    );
    assert_eq!(r.chp_actions.len(), 2);
    assert_eq!(
        (r.chp_actions[0].field, r.chp_actions[0].key_pattern, r.chp_actions[0].action_data.as_deref()),
        (1, true, None)
    );
    assert_eq!(
        (r.chp_actions[1].instance, r.chp_actions[1].action_data.as_deref()),
        (676 * 128 + 1, Some(&b"v"[..]))
    );
}

#[test]
fn declarative_port_patterns_callbacks_and_dynamic_apps() {
    let r = registrations(
        "gDetector:addPortPatternService(6, 7000, 'MAGIC', 0, 846) \
         gDetector:addPortPatternClient(17, 9, 'HELLO', -1, 2002) \
         gDetector:registerClientDetectorCallback(2002, 'Validate') \
         gDetector:registerServiceDetectorCallback(846, 'Validate') \
         local id = gDetector:open_createApp('My Custom App') \
         assert(id == 2000000, tostring(id)) \
         assert(gDetector:open_createApp('http') == 676)",
    );
    assert_eq!((r.port_pattern_services[0].port, r.port_pattern_services[0].app_id), (7000, 846));
    assert_eq!((r.port_pattern_clients[0].port, r.port_pattern_clients[0].offset), (0, None));
    assert_eq!(r.callbacks.len(), 2);
    assert!(r.callbacks[0].client && !r.callbacks[1].client);
}

#[test]
fn bookkeeping_methods() {
    let r = registrations(
        "assert(gDetector:getServiceName() == 'test') \
         assert(gDetector:isCustomDetector() == 0) \
         assert(gDetector:service_getServiceId() == -1) \
         assert(gDetector:setServiceName('x') == 0 and gDetector:removePort(22) == 0) \
         assert(gDetector:setValidator('Nope') == -1) \
         assert(gDetector:service_setValidator('Validate') == 0) \
         assert(gDetector:init('x', 'Validate', 'Clean') == gDetector) \
         assert(gDetector.AFAddApp == nil and gDetector.addAppUrlRegex == nil)",
    );
    assert!(r.service_ports.is_empty());
}

#[test]
fn custom_overlay_loads_after_base_and_reports_custom() {
    let tmp = package(&[
        ("lua/a.lua", &detector("server", "", "")),
        ("custom/lua/b.lua", &detector("server", "assert(gDetector:isCustomDetector() == 1)", "")),
    ]);
    let (pkg, diags) = DetectorPackage::load(&tmp.0);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        pkg.detectors.iter().map(|d| (d.file.as_str(), d.custom)).collect::<Vec<_>>(),
        [("lua/a.lua", false), ("custom/lua/b.lua", true)]
    );
}

#[test]
fn callbacks_run_through_call() {
    let (_t, pkg, diags) = load(&[(
        "lua/d.lua",
        &detector(
            "client",
            "gDetector:registerClientDetectorCallback(2002, 'OnApp')",
            "function OnApp() gDetector:client_addInfo('cb') return 0 end",
        ),
    )]);
    assert!(diags.is_empty());
    let cb = &pkg.registries.callbacks[0];
    let (mut rt, _) = pkg.runtime();
    let out = rt.call(cb.detector, &cb.function, &ctx(b""));
    assert_eq!(out.verdicts, [Verdict::ClientInfo("cb".into())]);
}

#[test]
fn registration_is_ignored_in_worker_states() {
    // init runs again in every worker; registrations there must not matter (and must not fail).
    let (_t, pkg, _) = load(&[(
        "lua/d.lua",
        &detector("server", "gDetector:addPort(6, 22) gDetector:addSSLCertPattern(0, 1, 'x')", ""),
    )]);
    let (mut rt, diags) = pkg.runtime();
    assert!(diags.is_empty());
    assert!(rt.is_enabled(DetectorId(0)));
    assert_eq!(rt.validate(DetectorId(0), &ctx(b"")).status, Status::NoMatch);
}

#[test]
fn log_records_messages() {
    let (_t, pkg, _) = load(&[(
        "lua/d.lua",
        &detector("server", "gDetector:log(DC.logLevel.warning, 'hi') gDetector:cLog(4, 'there')", ""),
    )]);
    let msgs: Vec<_> = pkg.logs.iter().map(|l| (l.level, l.message.as_str())).collect();
    assert_eq!(msgs, [(2, "hi"), (4, "there")]);
}
