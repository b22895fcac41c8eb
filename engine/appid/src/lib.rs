//! OpenAppID-style application identification: the Lua detector package and its runtime.
//!
//! This crate is the foundation the identification pipeline builds on:
//!
//! * [`AppInfoTable`] reads `appMapping.data` (ids, names, legacy ids, Snort service keys).
//! * [`DetectorPackage::load`] reads a package directory (OpenAppID's `odp/` + `custom/` layout or a
//!   flat one), runs every detector once in a sandboxed *control* LuaJIT state and records what
//!   their `init` functions registered into [`Registries`] (ports, fast patterns, HTTP/TLS/DNS/SIP/
//!   SSH patterns, URLs, length sequences, host-port apps, CHP patterns...).
//! * [`DetectorPackage::runtime`] builds a worker's own Lua state; [`DetectorRuntime::validate`]
//!   calls a detector's `validate` for one packet ([`ValidateContext`]) and returns its [`Status`]
//!   and the [`Verdict`]s it declared (`addService`, `client_addApp`, ...).
//! * [`check_package`] is the library side of `ids appid check DIR`.
//!
//! The Lua API follows Snort 3's `lua_detector_api.cc` (method names, argument order, legacy-id
//! translation, return values); see `api.rs`. The sandbox (no `os`/`io`/`debug`/`ffi`, `require`
//! limited to the package's `libs/`, per-file environments, instruction and memory budgets) is
//! described in `sandbox.rs`. Detectors that fail or overrun are disabled with a [`Diagnostic`]
//! naming file and line; the others carry on.

mod api;
mod app_info;
mod check;
mod context;
mod diag;
mod package;
mod registry;
mod sandbox;

pub use api::{DetectorInfo, DetectorKind, LogRecord, DETECTOR_METHODS, FLOW_METHODS};
pub use app_info::{
    flags as app_flags, AppId, AppInfo, AppInfoTable, MappingIssue, APP_ID_NONE, APP_ID_UNKNOWN,
    DYNAMIC_APPID_MIN,
};
pub use check::{check_package, check_package_with, Report};
pub use context::{flow_flags, Status, ValidateContext, ValidateOutcome, Verdict};
pub use diag::{Diagnostic, Severity};
pub use package::{DetectorPackage, DetectorRuntime};
pub use registry::*;
pub use sandbox::{Abort, Limits};
