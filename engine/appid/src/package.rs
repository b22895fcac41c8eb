//! Loading a detector package directory and running its detectors.
//!
//! Layout (OpenAppID's, or flat):
//!
//! ```text
//! DIR/odp/appMapping.data   or  DIR/appMapping.data
//! DIR/odp/libs/*.lua            DIR/libs/*.lua        (require/dofile only see these)
//! DIR/odp/lua/*.lua             DIR/lua/*.lua         (detectors, loaded in name order)
//! DIR/custom/libs/*.lua, DIR/custom/lua/*.lua         (user overlay, loaded after the base)
//! ```
//!
//! [`DetectorPackage::load`] runs every detector once in a *control* Lua state: the chunk, then the
//! `DetectorPackageInfo` contract, then `init(detector, {})`, recording registrations into
//! [`Registries`]. The control state is then dropped: the package is plain data (`Send + Sync`), to
//! be shared by the workers. Each worker builds its own [`DetectorRuntime`] (one Lua state per
//! worker thread) which loads only the detectors that have a `validate` function and calls their
//! `init` again with registration switched off, as Snort 3 does for its packet-thread states.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use mlua::chunk::ChunkMode;
use mlua::{Function, Table, Value};

use crate::api::{detector_object, install, DetectorInfo, DetectorKind, HostState, LogRecord};
use crate::app_info::AppInfoTable;
use crate::context::{Status, ValidateContext, ValidateOutcome};
use crate::diag::{split_location, Diagnostic, Severity};
use crate::registry::{DetectorId, Registries};
use crate::sandbox::{Abort, LibSource, Limits, RunError, Sandbox};

/// Files larger than this are skipped (Snort skips oversized detector files too).
const MAX_DETECTOR_FILE: u64 = 4 << 20;

/// One detector file's source, kept so worker states can load it without touching the disk.
#[derive(Debug, Clone)]
struct DetectorSource {
    /// Relative path, also the Lua chunk name (`@odp/lua/service_ssh.lua`).
    file: String,
    code: String,
    custom: bool,
}

/// A loaded detector package: application table, registrations and detector metadata.
#[derive(Debug, Clone)]
pub struct DetectorPackage {
    pub root: PathBuf,
    pub apps: AppInfoTable,
    pub registries: Registries,
    /// Indexed by [`DetectorId`]; detectors that failed to load stay here with `enabled == false`.
    pub detectors: Vec<DetectorInfo>,
    /// Messages detectors logged while loading.
    pub logs: Vec<LogRecord>,
    /// `VERSION=` of `version.conf`, if present.
    pub version: Option<String>,
    pub limits: Limits,
    sources: Vec<DetectorSource>,
    libs: HashMap<String, LibSource>,
}

/// Where things are in a package directory.
struct Layout {
    mapping: Option<PathBuf>,
    version: Option<PathBuf>,
    lib_dirs: Vec<PathBuf>,
    detector_dirs: Vec<(PathBuf, bool)>,
}

fn layout(root: &Path) -> Layout {
    let odp = root.join("odp");
    let custom = root.join("custom");
    let base = if odp.is_dir() { odp } else { root.to_owned() };
    let pick = |name: &str| [base.join(name), root.join(name)].into_iter().find(|p| p.is_file());
    Layout {
        mapping: pick("appMapping.data"),
        version: pick("version.conf"),
        lib_dirs: vec![base.join("libs"), custom.join("libs")],
        detector_dirs: vec![(base.join("lua"), false), (custom.join("lua"), true)],
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

/// `.lua` files of a directory, sorted by name (missing directory = none).
fn lua_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "lua"))
        .collect();
    v.sort();
    v
}

fn read_source(root: &Path, path: &Path, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let r = rel(root, path);
    match std::fs::metadata(path) {
        Ok(m) if m.len() == 0 => return None,
        Ok(m) if m.len() > MAX_DETECTOR_FILE => {
            diags.push(Diagnostic::warning(
                &r,
                None,
                format!("skipped: file larger than {MAX_DETECTOR_FILE} bytes"),
            ));
            return None;
        }
        Err(e) => {
            diags.push(Diagnostic::error(&r, None, format!("cannot read: {e}")));
            return None;
        }
        Ok(_) => {}
    }
    match std::fs::read(path) {
        // Detector sources may hold raw bytes in string literals; Lua sees the exact bytes
        // through mlua only if they are valid UTF-8 here, so other files are reported.
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Some(s),
            Err(e) => {
                diags.push(Diagnostic::error(&r, None, format!("not valid UTF-8 text: {e}")));
                None
            }
        },
        Err(e) => {
            diags.push(Diagnostic::error(&r, None, format!("cannot read: {e}")));
            None
        }
    }
}

impl DetectorPackage {
    /// Loads `dir` with default [`Limits`]. Never fails: problems are diagnostics, and detectors
    /// that fail are disabled while the others load.
    pub fn load(dir: &Path) -> (Self, Vec<Diagnostic>) {
        Self::load_with(dir, Limits::default())
    }

    pub fn load_with(dir: &Path, limits: Limits) -> (Self, Vec<Diagnostic>) {
        let root = dir.to_owned();
        let lay = layout(&root);
        let mut diags = Vec::new();

        let apps = match &lay.mapping {
            Some(path) => match AppInfoTable::load(path) {
                Ok((t, issues)) => {
                    let r = rel(&root, path);
                    diags
                        .extend(issues.into_iter().map(|i| Diagnostic::warning(&r, Some(i.line), i.message)));
                    t
                }
                Err(e) => {
                    diags.push(Diagnostic::error(rel(&root, path), None, format!("cannot read: {e}")));
                    AppInfoTable::new()
                }
            },
            None => {
                diags.push(Diagnostic::error(
                    "appMapping.data",
                    None,
                    format!("no appMapping.data in {} (or its odp/ folder)", root.display()),
                ));
                AppInfoTable::new()
            }
        };
        let version = lay.version.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).and_then(|t| {
            t.lines().find_map(|l| l.trim().strip_prefix("VERSION=").map(|v| v.trim().to_owned()))
        });

        // First found wins, in package.path order (base libs, then custom libs).
        let mut libs = HashMap::new();
        for dir in &lay.lib_dirs {
            for path in lua_files(dir) {
                let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                    continue;
                };
                if libs.contains_key(&name) {
                    continue;
                }
                if let Some(code) = read_source(&root, &path, &mut diags) {
                    libs.insert(name, LibSource { chunk_name: rel(&root, &path), code });
                }
            }
        }

        let mut sources = Vec::new();
        for (dir, custom) in &lay.detector_dirs {
            for path in lua_files(dir) {
                if let Some(code) = read_source(&root, &path, &mut diags) {
                    sources.push(DetectorSource { file: rel(&root, &path), code, custom: *custom });
                }
            }
        }

        let mut pkg = DetectorPackage {
            root,
            apps,
            registries: Registries::default(),
            detectors: Vec::new(),
            logs: Vec::new(),
            version,
            limits,
            sources,
            libs,
        };
        pkg.run_control(&mut diags);
        (pkg, diags)
    }

    /// Runs every detector in a fresh control state and keeps what it registered.
    fn run_control(&mut self, diags: &mut Vec<Diagnostic>) {
        let sandbox = match Sandbox::new(self.limits, Rc::new(self.libs.clone())) {
            Ok(s) => s,
            Err(e) => {
                diags.push(Diagnostic::error(&self.root, None, format!("cannot create Lua state: {e}")));
                return;
            }
        };
        let apps = std::mem::take(&mut self.apps);
        sandbox.lua.set_app_data(HostState::new(true, apps));
        if let Err(e) = install(&sandbox.lua) {
            diags.push(Diagnostic::error(&self.root, None, format!("cannot install the detector API: {e}")));
            return;
        }
        let mut engine = Engine { sandbox, scratch: Vec::new() };
        for (i, src) in self.sources.iter().enumerate() {
            engine.load(DetectorId(i as u32), src, true, diags);
        }
        let mut st = engine.state();
        self.apps = std::mem::take(&mut st.apps);
        self.registries = std::mem::take(&mut st.reg);
        self.detectors = std::mem::take(&mut st.detectors);
        self.logs = std::mem::take(&mut st.logs);
    }

    pub fn detector(&self, id: DetectorId) -> Option<&DetectorInfo> {
        self.detectors.get(id.0 as usize)
    }

    /// Enabled detectors that packet states run (those with a `validate` function).
    pub fn validating_detectors(&self) -> impl Iterator<Item = &DetectorInfo> {
        self.detectors.iter().filter(|d| d.enabled && d.validate.is_some())
    }

    /// Builds the Lua state of one worker thread.
    pub fn runtime(&self) -> (DetectorRuntime, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let sandbox = match Sandbox::new(self.limits, Rc::new(self.libs.clone())) {
            Ok(s) => s,
            Err(e) => panic!("cannot create a Lua state: {e}"),
        };
        let mut host = HostState::new(false, self.apps.clone());
        host.detectors = self.detectors.clone();
        host.envs = vec![None; self.detectors.len()];
        sandbox.lua.set_app_data(host);
        install(&sandbox.lua).expect("installing the detector API in a fresh state");
        let mut engine = Engine { sandbox, scratch: Vec::new() };
        for (i, src) in self.sources.iter().enumerate() {
            let id = DetectorId(i as u32);
            if self.detectors.get(i).is_some_and(|d| d.enabled && d.validate.is_some()) {
                engine.load(id, src, false, &mut diags);
            }
        }
        for d in engine.state().detectors.iter_mut() {
            if d.validate.is_none() {
                d.enabled = false;
            }
        }
        (
            DetectorRuntime {
                engine,
                files: self.sources.iter().map(|s| s.file.clone()).collect(),
                diags: Vec::new(),
            },
            diags,
        )
    }
}

/// A sandbox plus the bookkeeping to load and call detectors in it.
struct Engine {
    sandbox: Sandbox,
    scratch: Vec<u8>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Release the Lua references held in the host state while the state is still open.
        let _ = self.sandbox.lua.remove_app_data::<HostState>();
    }
}

fn field_string(t: &Table, key: &str) -> Option<String> {
    match t.raw_get::<Value>(key).ok()? {
        Value::String(s) => Some(s.to_string_lossy().to_string()),
        _ => None,
    }
}

fn abort_diag(file: &str, context: &str, abort: &Abort) -> Diagnostic {
    let (f, line) = abort
        .location()
        .and_then(|loc| {
            let probe = format!("{loc}:");
            split_location(&probe).map(|(f, l, _)| (f.to_owned(), Some(l)))
        })
        .unwrap_or_else(|| (file.to_owned(), None));
    Diagnostic::error(f, line, format!("{context}: {}; detector disabled", abort.message()))
}

fn run_error_diag(file: &str, context: &str, e: &RunError) -> Diagnostic {
    match e {
        RunError::Abort(a) => abort_diag(file, context, a),
        RunError::Lua(text) => {
            let mut d = Diagnostic::from_lua_error(Severity::Error, Path::new(file), context, text);
            // Calls of methods the API lacks are the typical breakage of a detector written for
            // another engine version; say so plainly.
            if let Some(rest) = d.message.split("attempt to call method '").nth(1) {
                if let Some(name) = rest.split('\'').next() {
                    d.message =
                        format!("{context}: unknown API method '{name}' (not provided by this engine)");
                }
            }
            d.message.push_str("; detector disabled");
            d
        }
    }
}

impl Engine {
    fn state(&self) -> mlua::AppDataRefMut<'_, HostState> {
        self.sandbox.lua.app_data_mut::<HostState>().expect("host state installed at creation")
    }

    /// Loads one detector file and runs its `init`; returns whether it is enabled. The detector's
    /// description lives in the host state (`detectors[id]`): in the control state
    /// (`control == true`) it is filled from `DetectorPackageInfo` before `init` runs (so API
    /// methods see the detector's kind and name); packet states get the control state's copy.
    fn load(
        &mut self,
        id: DetectorId,
        src: &DetectorSource,
        control: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        {
            let mut st = self.state();
            let idx = id.0 as usize;
            if st.detectors.len() <= idx {
                let placeholder = DetectorInfo {
                    id,
                    name: String::new(),
                    file: src.file.clone(),
                    kind: DetectorKind::Client,
                    proto: 0,
                    init: String::new(),
                    validate: None,
                    clean: None,
                    minimum_matches: 0,
                    custom: src.custom,
                    enabled: false,
                };
                st.detectors.resize(idx + 1, placeholder);
            }
        }
        let result = self.try_load(id, src, control, diags);
        self.drain_warnings(diags);
        match result {
            Ok(()) => {
                self.state().detectors[id.0 as usize].enabled = true;
                true
            }
            Err(d) => {
                diags.push(d);
                self.disable(id);
                false
            }
        }
    }

    fn try_load(
        &mut self,
        id: DetectorId,
        src: &DetectorSource,
        control: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> Result<(), Diagnostic> {
        let file = src.file.as_str();
        let lua_err = |ctx: &str, e: mlua::Error| run_error_diag(file, ctx, &RunError::Lua(e.to_string()));
        let env = self.sandbox.new_env().map_err(|e| lua_err("environment", e))?;
        {
            let mut st = self.state();
            if st.envs.len() <= id.0 as usize {
                st.envs.resize(id.0 as usize + 1, None);
            }
            st.envs[id.0 as usize] = Some(env.clone());
        }
        let lua = &self.sandbox.lua;
        let budget = self.sandbox.limits.instructions_per_load;
        self.sandbox
            .run(budget, || {
                lua.load(src.code.as_str())
                    .set_name(format!("@{file}"))
                    .set_mode(ChunkMode::Text)
                    .set_environment(env.clone())
                    .exec()
            })
            .map_err(|e| run_error_diag(file, "load", &e))?;

        if control {
            let mut info = self.state().detectors[id.0 as usize].clone();
            self.read_package_info(&env, file, &mut info, diags)?;
            self.state().detectors[id.0 as usize] = info;
        }

        let init_name = self.state().detectors[id.0 as usize].init.clone();
        let init: Function = match env.get::<Value>(init_name.as_str()) {
            Ok(Value::Function(f)) => f,
            _ => {
                return Err(Diagnostic::error(
                    file,
                    None,
                    format!("init function '{init_name}' is not defined"),
                ))
            }
        };
        let detector = detector_object(lua, id).map_err(|e| lua_err("init", e))?;
        let config = lua.create_table().map_err(|e| lua_err("init", e))?;
        self.sandbox
            .run(budget, || init.call::<Value>((detector, config)))
            .map_err(|e| run_error_diag(file, "init", &e))?;
        Ok(())
    }

    /// Checks the `DetectorPackageInfo` contract and fills `info`.
    fn read_package_info(
        &self,
        env: &Table,
        file: &str,
        info: &mut DetectorInfo,
        diags: &mut Vec<Diagnostic>,
    ) -> Result<(), Diagnostic> {
        let missing = |what: &str| Diagnostic::error(file, None, format!("DetectorPackageInfo: {what}"));
        let Ok(Value::Table(pi)) = env.raw_get::<Value>("DetectorPackageInfo") else {
            return Err(missing("not defined (a table with name, proto and client or server)"));
        };
        info.name = field_string(&pi, "name").ok_or_else(|| missing("missing string field 'name'"))?;
        info.proto = match pi.raw_get::<Value>("proto") {
            Ok(Value::Integer(n)) => n as u8,
            Ok(Value::Number(n)) => n as u8,
            _ => return Err(missing("missing number field 'proto'")),
        };
        if info.proto != 6 && info.proto != 17 {
            diags.push(Diagnostic::warning(
                file,
                None,
                format!("DetectorPackageInfo: proto {} is neither tcp (6) nor udp (17)", info.proto),
            ));
        }
        let (kind, sub) = match (pi.raw_get::<Value>("client"), pi.raw_get::<Value>("server")) {
            (Ok(Value::Table(t)), _) => (DetectorKind::Client, t),
            (_, Ok(Value::Table(t))) => (DetectorKind::Service, t),
            _ => return Err(missing("needs a 'client' or a 'server' table")),
        };
        info.kind = kind;
        info.init = field_string(&sub, "init").ok_or_else(|| missing("missing 'init' function name"))?;
        info.clean = field_string(&sub, "clean");
        info.validate = field_string(&sub, "validate");
        info.minimum_matches = match sub.raw_get::<Value>("minimum_matches") {
            Ok(Value::Integer(n)) => n.max(0) as u32,
            Ok(Value::Number(n)) => n.max(0.0) as u32,
            _ => 0,
        };
        if let Some(v) = &info.validate {
            if !matches!(env.get::<Value>(v.as_str()), Ok(Value::Function(_))) {
                if kind == DetectorKind::Service {
                    return Err(missing(&format!("validate function '{v}' is not defined")));
                }
                diags.push(Diagnostic::warning(
                    file,
                    None,
                    format!("validate function '{v}' is not defined; pattern-only client"),
                ));
                info.validate = None;
            }
        } else if kind == DetectorKind::Service {
            return Err(missing("server table has no 'validate' function name"));
        }
        Ok(())
    }

    /// Takes a detector out: its environment is emptied (so whatever it allocated can be
    /// collected) and, in the control state, its registrations are dropped.
    fn disable(&mut self, id: DetectorId) {
        let env = {
            let mut st = self.state();
            if st.control {
                st.reg.remove_detector(id);
            }
            if let Some(d) = st.detectors.get_mut(id.0 as usize) {
                d.enabled = false;
            }
            st.envs.get_mut(id.0 as usize).and_then(Option::take)
        };
        if let Some(env) = env {
            let keys: Vec<Value> =
                env.pairs::<Value, Value>().filter_map(|p| p.ok().map(|(k, _)| k)).collect();
            for k in keys {
                let _ = env.raw_set(k, Value::Nil);
            }
        }
        let _ = self.sandbox.lua.gc_collect();
    }

    fn drain_warnings(&mut self, diags: &mut Vec<Diagnostic>) {
        let mut st = self.state();
        let warnings = std::mem::take(&mut st.api_warnings);
        for w in warnings {
            let file = st.detectors.get(w.detector.0 as usize).map(|d| d.file.clone());
            let (f, line) = match w.location {
                Some((f, l)) => (f, Some(l)),
                None => (file.unwrap_or_default(), None),
            };
            diags.push(Diagnostic::warning(f, line, w.message));
        }
    }
}

/// The detectors of one worker thread, ready to validate packets.
pub struct DetectorRuntime {
    engine: Engine,
    files: Vec<String>,
    diags: Vec<Diagnostic>,
}

impl DetectorRuntime {
    /// Whether `id` is loaded here and not disabled.
    pub fn is_enabled(&self, id: DetectorId) -> bool {
        self.engine.state().detectors.get(id.0 as usize).is_some_and(|d| d.enabled)
    }

    /// Calls the detector's `validate` for one packet.
    pub fn validate(&mut self, id: DetectorId, ctx: &ValidateContext<'_>) -> ValidateOutcome {
        let name = self.engine.state().detectors.get(id.0 as usize).and_then(|d| d.validate.clone());
        match name {
            Some(name) => self.call(id, &name, ctx),
            None => self.refused(id, ctx),
        }
    }

    fn refused(&self, id: DetectorId, ctx: &ValidateContext<'_>) -> ValidateOutcome {
        ValidateOutcome {
            detector: id,
            status: Status::ENull,
            verdicts: Vec::new(),
            flow_flags: ctx.flow_flags,
            disabled: true,
        }
    }

    /// Calls a named function of the detector (its `validate`, or a registered callback) with a
    /// packet context. A Lua error or a sandbox abort disables the detector in this worker and
    /// yields `Status::ENull` (how Snort treats a failing `validate`); the diagnostic is kept for
    /// [`DetectorRuntime::take_diagnostics`].
    pub fn call(&mut self, id: DetectorId, function: &str, ctx: &ValidateContext<'_>) -> ValidateOutcome {
        let (env, enabled) = {
            let st = self.engine.state();
            let env = st.envs.get(id.0 as usize).cloned().flatten();
            (env, st.detectors.get(id.0 as usize).is_some_and(|d| d.enabled))
        };
        let Some(env) = env.filter(|_| enabled) else { return self.refused(id, ctx) };
        let buf = std::mem::take(&mut self.engine.scratch);
        self.engine.state().call = Some(crate::api::CallState::new(ctx, buf));
        let budget = self.engine.sandbox.limits.instructions_per_call;
        let result = self.engine.sandbox.run(budget, || match env.get::<Value>(function)? {
            Value::Function(f) => f.call::<Value>(()),
            _ => Err(mlua::Error::runtime(format!("'{function}' is not a function"))),
        });
        let call = self.engine.state().call.take().expect("call state set above");
        self.engine.scratch = call.data;
        let file = self.files.get(id.0 as usize).cloned().unwrap_or_default();
        let mut diags = Vec::new();
        self.engine.drain_warnings(&mut diags);
        let outcome = match result {
            Ok(v) => {
                let code = match v {
                    Value::Integer(n) => n as i32,
                    Value::Number(n) => n as i32,
                    _ => Status::ENull.code(),
                };
                ValidateOutcome {
                    detector: id,
                    status: Status::from_code(code),
                    verdicts: call.verdicts,
                    flow_flags: call.flow_flags,
                    disabled: false,
                }
            }
            Err(e) => {
                diags.push(run_error_diag(&file, function, &e));
                self.engine.disable(id);
                ValidateOutcome {
                    detector: id,
                    status: Status::ENull,
                    verdicts: Vec::new(),
                    flow_flags: ctx.flow_flags,
                    disabled: true,
                }
            }
        };
        self.diags.extend(diags);
        outcome
    }

    /// Diagnostics produced since the last call (failed validates, bad API arguments).
    pub fn take_diagnostics(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.diags)
    }

    /// Messages detectors logged.
    pub fn take_logs(&mut self) -> Vec<LogRecord> {
        std::mem::take(&mut self.engine.state().logs)
    }

    /// Whether the state's hard memory cap is enforced by the allocator (true under LuaJIT with
    /// mlua's allocator; when false only the per-call growth check of the hook applies).
    pub fn memory_limit_enforced(&self) -> bool {
        self.engine.sandbox.memory_limit_enforced
    }

    /// Bytes currently used by this worker's Lua state.
    pub fn used_memory(&self) -> usize {
        self.engine.sandbox.lua.used_memory()
    }

    /// Calls every loaded detector's `clean` function (Snort does this at shutdown).
    pub fn shutdown(mut self) -> Vec<Diagnostic> {
        let targets: Vec<(DetectorId, String)> = {
            let st = self.engine.state();
            st.detectors
                .iter()
                .filter(|d| d.enabled)
                .filter_map(|d| d.clean.clone().map(|c| (d.id, c)))
                .collect()
        };
        let mut diags = std::mem::take(&mut self.diags);
        for (id, clean) in targets {
            let env = self.engine.state().envs.get(id.0 as usize).cloned().flatten();
            let Some(env) = env else { continue };
            let Ok(Value::Function(f)) = env.get::<Value>(clean.as_str()) else { continue };
            let ud = match detector_object(&self.engine.sandbox.lua, id) {
                Ok(ud) => ud,
                Err(_) => continue,
            };
            let budget = self.engine.sandbox.limits.instructions_per_call;
            if let Err(e) = self.engine.sandbox.run(budget, || f.call::<Value>(ud)) {
                diags.push(run_error_diag(&self.files[id.0 as usize], "clean", &e));
            }
        }
        diags
    }
}
