//! Malicious and broken detectors are contained: each is disabled with a diagnostic naming its
//! file and line, and the other detectors keep working.

mod common;

use common::*;
use ids_appid::*;

const GOOD: &str = r#"require "DetectorCommon"
local DC = DetectorCommon
DetectorPackageInfo = { name = "good", proto = DC.ipproto.tcp,
    server = { init = "I", validate = "V", clean = "C" } }
function I(d) gDetector = d; gDetector:addPort(6, 22) end
function V()
    if gDetector:matchSimplePattern("SSH-", 4, 0) == 0 then
        gDetector:addService(20012, "", "")
        return DC.serviceStatus.success
    end
    return DC.serviceStatus.nomatch
end
function C() end
"#;

fn bad(init_body: &str, validate_body: &str) -> String {
    format!(
        r#"require "DetectorCommon"
DetectorPackageInfo = {{ name = "bad", proto = 6, server = {{ init = "I", validate = "V", clean = "C" }} }}
function I(d)
    gDetector = d
    {init_body}
end
function V()
    {validate_body}
    return 0
end
function C() end
"#
    )
}

fn limits() -> Limits {
    Limits {
        instructions_per_call: 1_000_000,
        instructions_per_load: 2_000_000,
        memory_per_call: 16 << 20,
        ..Limits::default()
    }
}

/// Loads `a_bad.lua` (first) and `good.lua`; returns the package and its diagnostics.
fn load_pair(bad_code: &str) -> (TempPkg, DetectorPackage, Vec<Diagnostic>) {
    let tmp = package(&[("lua/a_bad.lua", bad_code), ("lua/good.lua", GOOD)]);
    let (pkg, diags) = DetectorPackage::load_with(&tmp.0, limits());
    (tmp, pkg, diags)
}

fn assert_good_works(pkg: &DetectorPackage) {
    let good = pkg.detectors.iter().find(|d| d.name == "good").expect("good detector");
    assert!(good.enabled);
    assert_eq!(pkg.registries.service_detectors_on_port(6, 22), [good.id]);
    let (mut rt, _) = pkg.runtime();
    let out = rt.validate(good.id, &ValidateContext::new(b"SSH-2.0-x", Direction::FromResponder));
    assert_eq!(out.status, Status::Success);
    assert_eq!(
        out.verdicts,
        [Verdict::ServiceFound { app: 846, vendor: Some(String::new()), version: Some(String::new()) }]
    );
}

/// Load-time failure: the bad detector is disabled with one error at `line` mentioning `what`.
fn assert_contained_at_load(bad_code: &str, line: Option<u32>, what: &str) {
    let (_t, pkg, diags) = load_pair(bad_code);
    assert!(!pkg.detectors[0].enabled, "{diags:?}");
    let errors: Vec<_> = diags.iter().filter(|d| d.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{diags:#?}");
    assert_eq!(errors[0].file.to_str(), Some("lua/a_bad.lua"), "{diags:#?}");
    assert_eq!(errors[0].line, line, "{diags:#?}");
    assert!(errors[0].message.contains(what), "{diags:#?}");
    assert_good_works(&pkg);
}

/// Validate-time failure: disabled in the worker with a diagnostic, the good one unaffected.
fn assert_contained_at_validate(validate_body: &str, line: Option<u32>, what: &str) {
    let (_t, pkg, diags) = load_pair(&bad("gDetector:addPort(6, 23)", validate_body));
    assert!(diags.is_empty(), "{diags:#?}");
    let (mut rt, _) = pkg.runtime();
    let out = rt.validate(DetectorId(0), &ValidateContext::new(b"x", Direction::FromResponder));
    assert_eq!((out.status, out.disabled), (Status::ENull, true));
    let diags = rt.take_diagnostics();
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!((diags[0].file.to_str(), diags[0].line), (Some("lua/a_bad.lua"), line), "{diags:#?}");
    assert!(diags[0].message.contains(what), "{diags:#?}");
    assert!(!rt.is_enabled(DetectorId(0)));
    // Disabled for good: no further calls reach it.
    let again = rt.validate(DetectorId(0), &ValidateContext::new(b"x", Direction::FromResponder));
    assert!(again.disabled && rt.take_diagnostics().is_empty());
    let out = rt.validate(DetectorId(1), &ValidateContext::new(b"SSH-2.0", Direction::FromResponder));
    assert_eq!(out.status, Status::Success);
    assert_good_works(&pkg);
}

#[test]
fn infinite_loop_in_init() {
    assert_contained_at_load(&bad("while true do end", ""), Some(5), "instruction budget exceeded");
}

#[test]
fn infinite_loop_at_top_level_hidden_behind_pcall() {
    let code = "while true do pcall(function() while true do end end) end\n";
    let (_t, pkg, diags) = load_pair(code);
    assert!(!pkg.detectors[0].enabled);
    assert!(
        diags.iter().any(|d| d.message.contains("instruction budget exceeded") && d.line == Some(1)),
        "{diags:#?}"
    );
    assert_good_works(&pkg);
}

#[test]
fn infinite_loop_in_validate() {
    assert_contained_at_validate("while true do end", Some(8), "instruction budget exceeded");
}

#[test]
fn memory_hog_in_init() {
    let (_t, pkg, diags) =
        load_pair(&bad("hog = {} for i = 1, 1e8 do hog[i] = string.rep('x', 64) .. i end", ""));
    assert!(!pkg.detectors[0].enabled);
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("memory limit exceeded") && d.file.to_str() == Some("lua/a_bad.lua")),
        "{diags:#?}"
    );
    assert_good_works(&pkg);
}

#[test]
fn memory_hog_in_validate_one_huge_string() {
    // A single allocation above the state's hard cap fails inside string.rep (no hook runs there).
    assert_contained_at_validate(
        "local s = string.rep('x', 1024 * 1024 * 1024)",
        None,
        "memory limit exceeded",
    );
}

#[test]
fn memory_hog_in_validate_many_tables() {
    assert_contained_at_validate(
        "hog = hog or {} for i = 1, 1e8 do hog[#hog + 1] = string.rep('x', 4096) .. i end",
        Some(8),
        "memory limit exceeded",
    );
}

#[test]
fn os_execute_is_absent() {
    assert_contained_at_load(
        &bad("os.execute('touch /tmp/pwned')", ""),
        Some(5),
        "attempt to call field 'execute'",
    );
}

#[test]
fn io_open_is_absent() {
    assert_contained_at_load(&bad("io.open('/etc/passwd')", ""), Some(5), "attempt to index global 'io'");
}

#[test]
fn require_outside_libs_is_refused() {
    // (`require "os"` is allowed: it returns the reduced `os` table.)
    for name in ["../../../etc/passwd", "io", "debug", "ffi", "nonexistent_module", "a.b"] {
        let code = bad(&format!("require '{name}'"), "");
        let (_t, pkg, diags) = load_pair(&code);
        assert!(!pkg.detectors[0].enabled, "{name}: {diags:#?}");
        assert!(diags.iter().any(|d| d.message.contains("require")), "{name}: {diags:#?}");
        assert_good_works(&pkg);
    }
    let (_t, pkg, _) = load_pair(&bad("dofile('/etc/passwd')", ""));
    assert!(!pkg.detectors[0].enabled);
    let (_t, pkg, _) = load_pair(&bad("loadstring('return 1')()", ""));
    assert!(!pkg.detectors[0].enabled);
}

#[test]
fn error_in_init() {
    assert_contained_at_load(&bad("error('boom')", ""), Some(5), "init: boom");
}

#[test]
fn error_in_init_drops_its_registrations() {
    let (_t, pkg, _) = load_pair(&bad(
        "gDetector:addPort(6, 22) gDetector:addSSLCertPattern(0, 1, 'x.com') error('late')",
        "",
    ));
    assert!(pkg.registries.ssl_host_patterns.is_empty());
    assert_good_works(&pkg);
}

#[test]
fn error_in_validate() {
    assert_contained_at_validate("local t = nil; local x = t.field", Some(8), "attempt to index local 't'");
}

#[test]
fn unknown_api_method_is_named() {
    assert_contained_at_load(
        &bad("gDetector:AFAddApp(1, 2, 3)", ""),
        Some(5),
        "unknown API method 'AFAddApp'",
    );
}

#[test]
fn syntax_error_reports_file_and_line() {
    assert_contained_at_load(
        "DetectorPackageInfo = {\n  name = 'x',\n  proto = = 6 }\n",
        Some(3),
        "unexpected symbol",
    );
}

#[test]
fn missing_package_info_fields() {
    assert_contained_at_load(
        "DetectorPackageInfo = { name = 'x', proto = 6 }\n",
        None,
        "needs a 'client' or a 'server' table",
    );
    assert_contained_at_load(
        "DetectorPackageInfo = { proto = 6, server = {} }\n",
        None,
        "missing string field 'name'",
    );
    assert_contained_at_load("x = 1\n", None, "DetectorPackageInfo: not defined");
    assert_contained_at_load(
        "DetectorPackageInfo = { name = 'x', proto = 6, server = { init = 'I', validate = 'Nope' } }\nfunction I() end\n",
        None,
        "validate function 'Nope' is not defined",
    );
}

#[test]
fn redefining_globals_does_not_leak() {
    // The bad detector clobbers every shared name it can reach; the good one (loaded after it,
    // in the same Lua state) must not notice.
    let clobber = "string.sub = nil; string.format = nil; table.insert = nil; bit.band = nil; \
                   print = nil; pcall = nil; require = nil; DetectorCommon.serviceStatus.success = 99; \
                   _G.gDetector = nil; rawset(_G, 'DetectorCommon', nil); \
                   local ok = pcall(function() getmetatable('').__index.rep = nil end); \
                   setmetatable(_G, nil)";
    let (_t, pkg, diags) = load_pair(&bad(clobber, ""));
    // setmetatable on the protected environment errors: the bad detector is disabled.
    assert!(!pkg.detectors[0].enabled, "{diags:#?}");
    assert_good_works(&pkg);

    let clobber_ok = "string.sub = nil; table.insert = nil; bit.band = nil; print = nil; \
                      DetectorCommon.serviceStatus.success = 99; _G.gDetector = nil";
    let (_t, pkg, diags) = load_pair(&bad(clobber_ok, ""));
    assert!(diags.is_empty(), "{diags:#?}");
    assert!(pkg.detectors[0].enabled);
    assert_good_works(&pkg);
}

#[test]
fn check_reports_everything_with_file_and_line() {
    let tmp = package(&[
        ("lua/a_syntax.lua", "x = = 1\n"),
        ("lua/b_noinfo.lua", "-- nothing here\n\nDetectorPackageInfo = { name = 'n', proto = 6 }\n"),
        (
            "lua/c_unknown.lua",
            &bad("if gDetector.AFAddApp then gDetector:AFAddApp(1,2,3) end", "gDetector:noSuchMethod()"),
        ),
        ("lua/good.lua", GOOD),
    ]);
    let report = check_package_with(&tmp.0, limits());
    let text = report.to_string();
    assert!(text.contains("lua/a_syntax.lua:1: error:"), "{text}");
    assert!(
        text.contains("lua/b_noinfo.lua:3: error: DetectorPackageInfo: needs a 'client' or a 'server' table"),
        "{text}"
    );
    assert!(text.contains("lua/c_unknown.lua:8: error: unknown API method 'noSuchMethod'"), "{text}");
    assert!(!text.contains("AFAddApp"), "guarded probes are fine: {text}");
    assert_eq!((report.detectors, report.enabled, report.errors()), (4, 2, 3), "{text}");
    assert!(!report.is_ok());
}
