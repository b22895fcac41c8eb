//! Helpers: build small detector packages in a temporary directory.
#![allow(dead_code, non_snake_case)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use ids_appid::*;

pub const MAPPING: &str = "676\tHTTP\t9\t0\t0\thttp\thttp\n\
846\tSSH\t20012\t0\t0\tssh\tssh\n\
782\tPeerCast\t20092\t100\t0\t~\tpeercast\n\
2002\tcurl\t0\t3\t0\t~\tcurl\n\
929\tYouTube\t0\t0\t100\t~\tyoutube\n";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A package directory removed on drop.
pub struct TempPkg(pub PathBuf);

impl Drop for TempPkg {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Flat layout: appMapping.data, libs/DetectorCommon.lua (the shipped one), lua/<files>.
pub fn package(files: &[(&str, &str)]) -> TempPkg {
    let dir = std::env::temp_dir().join(format!(
        "ids-appid-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(dir.join("lua")).unwrap();
    std::fs::create_dir_all(dir.join("libs")).unwrap();
    std::fs::write(dir.join("appMapping.data"), MAPPING).unwrap();
    let dc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lua-detectors/libs/DetectorCommon.lua");
    std::fs::copy(dc, dir.join("libs/DetectorCommon.lua")).unwrap();
    for (name, code) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, code).unwrap();
    }
    TempPkg(dir)
}

/// A detector file with the usual prologue; `body` defines `init_body` statements run in
/// `DetectorInit` and may define `Validate`.
pub fn detector(kind: &str, init_body: &str, rest: &str) -> String {
    format!(
        r#"require "DetectorCommon"
local DC = DetectorCommon
DetectorPackageInfo = {{
    name = "test",
    proto = DC.ipproto.tcp,
    {kind} = {{ init = "DetectorInit", validate = "Validate", clean = "Clean" }},
}}
function DetectorInit(detector, config)
    gDetector = detector
{init_body}
    return gDetector
end
function Validate() return DC.serviceStatus.nomatch end
function Clean() end
{rest}
"#
    )
}

pub fn load(files: &[(&str, &str)]) -> (TempPkg, DetectorPackage, Vec<Diagnostic>) {
    let tmp = package(files);
    let (pkg, diags) = DetectorPackage::load(&tmp.0);
    (tmp, pkg, diags)
}

/// Loads one service detector whose init runs `init_body`; asserts no errors (invalid arguments
/// that Snort ignores are warnings).
pub fn registrations(init_body: &str) -> Registries {
    let (_tmp, pkg, diags) = load(&[("lua/d.lua", &detector("server", init_body, ""))]);
    assert!(diags.iter().all(|d| d.severity == Severity::Warning), "{diags:#?}");
    assert!(pkg.detectors[0].enabled);
    pkg.registries
}

/// Loads one detector and runs its `Validate` (redefined by `validate_body`) on `ctx`.
pub fn run(
    kind: &str,
    init_body: &str,
    validate: &str,
    ctx: &ValidateContext<'_>,
) -> (ValidateOutcome, Vec<Diagnostic>) {
    let (_tmp, pkg, diags) = load(&[("lua/d.lua", &detector(kind, init_body, validate))]);
    assert!(diags.is_empty(), "{diags:#?}");
    let (mut rt, diags) = pkg.runtime();
    assert!(diags.is_empty(), "{diags:#?}");
    let out = rt.validate(DetectorId(0), ctx);
    (out, rt.take_diagnostics())
}
