//! The sandboxed LuaJIT state detectors run in.
//!
//! * Libraries: base (without `dofile`, `loadfile`, `load`, `loadstring`, `getfenv`, `setfenv`,
//!   `newproxy`, `module`, `coroutine`), `string` (without `dump`), `table`, `math`, `bit`, and an
//!   `os` reduced to `time`, `clock` and `difftime`. No `io`, `debug`, `ffi`, `jit`, `package`.
//!   Chunks are loaded in text mode only (LuaJIT bytecode is not safe to load).
//! * Each detector file runs in its own environment table whose metatable (`__index` = the shared
//!   globals, `__metatable` locked) hides the shared table; the environment gets private copies of
//!   the standard library tables and its own `_G`, so whatever a detector assigns or mutates stays
//!   in its environment. `require`/`dofile` only load files from the package's `libs/` folders,
//!   and load them into the caller's environment (so `DetectorCommon` is per detector).
//! * A count hook enforces an instruction budget per call and a memory growth cap per call; the
//!   state as a whole has a hard allocation limit (mlua's allocator works under LuaJIT).
//!   `pcall`/`xpcall` are wrapped so a budget or memory abort cannot be swallowed by the detector.
//!
//! Note: while a count hook is installed LuaJIT does not compile traces, so detectors run in the
//! (fast) interpreter; that is the price of a reliable instruction budget.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use mlua::chunk::ChunkMode;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};

/// Resource limits for detector code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// VM instructions allowed for one `validate`/callback call.
    pub instructions_per_call: u64,
    /// VM instructions allowed for loading one detector file and running its `init`.
    pub instructions_per_load: u64,
    /// Hard cap on the memory of one Lua state (bytes).
    pub state_memory: usize,
    /// How much one call may grow the state's memory (bytes), checked by the hook.
    pub memory_per_call: usize,
    /// Instructions between two hook checks.
    pub hook_interval: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            instructions_per_call: 5_000_000,
            instructions_per_load: 50_000_000,
            state_memory: 512 << 20,
            memory_per_call: 64 << 20,
            hook_interval: 1000,
        }
    }
}

/// Why a call was stopped by the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Abort {
    Instructions { limit: u64, location: Option<String> },
    Memory { location: Option<String> },
}

impl Abort {
    pub fn message(&self) -> String {
        match self {
            Abort::Instructions { limit, .. } => {
                format!("instruction budget exceeded ({limit} instructions)")
            }
            Abort::Memory { .. } => "memory limit exceeded".to_owned(),
        }
    }

    /// `chunk:line` where the abort hit, when the hook could see it.
    pub fn location(&self) -> Option<&str> {
        match self {
            Abort::Instructions { location, .. } | Abort::Memory { location } => location.as_deref(),
        }
    }
}

/// Shared between the hook, the `pcall` wrapper and the engine.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    armed: Cell<bool>,
    limit: Cell<u64>,
    used: Cell<u64>,
    memory_base: Cell<usize>,
    memory_per_call: Cell<usize>,
    abort: RefCell<Option<Abort>>,
}

impl Budget {
    fn set_abort(&self, abort: Abort) {
        let mut slot = self.abort.borrow_mut();
        if slot.is_none() {
            *slot = Some(abort);
        }
    }

    fn aborted(&self) -> bool {
        self.abort.borrow().is_some()
    }
}

/// A library file from `libs/`, available to `require`/`dofile`.
#[derive(Debug, Clone)]
pub struct LibSource {
    /// Chunk name used in error messages (path relative to the package root).
    pub chunk_name: String,
    pub code: String,
}

/// Runs a library file in `env` for `require` (module name) or `dofile` (a path whose file name
/// must be a library).
fn load_lib(
    lua: &Lua,
    libs: &HashMap<String, LibSource>,
    name: &str,
    env: Table,
    how: &str,
) -> mlua::Result<MultiValue> {
    let module = if how == "dofile" {
        let file = name.rsplit(['/', '\\']).next().unwrap_or("");
        file.strip_suffix(".lua").unwrap_or("")
    } else {
        name
    };
    if !valid_module_name(module) {
        return Err(mlua::Error::runtime(format!(
            "{how}: '{name}' is not allowed (only files in the package's libs/ folders)"
        )));
    }
    let Some(lib) = libs.get(module) else {
        return Err(mlua::Error::runtime(format!(
            "{how}: '{name}' not found in the package's libs/ folders"
        )));
    };
    lua.load(lib.code.as_str())
        .set_name(format!("@{}", lib.chunk_name))
        .set_mode(ChunkMode::Text)
        .set_environment(env)
        .call(module)
}

/// Module names `require` accepts; anything with a path separator or a dot is refused, so only
/// files directly inside the package's `libs/` folders can be loaded.
fn valid_module_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

const STDLIB_COPIES: [&str; 5] = ["string", "table", "math", "bit", "os"];

/// A Lua state set up as described in the module docs.
pub(crate) struct Sandbox {
    pub lua: Lua,
    pub globals: Table,
    budget: Rc<Budget>,
    pub limits: Limits,
    /// Lua function building an environment's `require` and `dofile`.
    make_loaders: Function,
    /// False when mlua could not install its allocator (then only the hook bounds memory).
    pub memory_limit_enforced: bool,
}

impl Sandbox {
    pub fn new(limits: Limits, libs: Rc<HashMap<String, LibSource>>) -> mlua::Result<Self> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::BIT | StdLib::OS,
            LuaOptions::default(),
        )?;
        let memory_limit_enforced = lua.set_memory_limit(limits.state_memory).is_ok();
        let globals = lua.globals();
        for name in [
            "dofile",
            "loadfile",
            "load",
            "loadstring",
            "getfenv",
            "setfenv",
            "newproxy",
            "module",
            "coroutine",
        ] {
            globals.raw_set(name, Value::Nil)?;
        }
        globals.raw_set("require", Value::Nil)?;
        globals.raw_set("package", Value::Nil)?;
        let string: Table = globals.get("string")?;
        string.raw_set("dump", Value::Nil)?;
        let os: Table = globals.get("os")?;
        let safe_os = lua.create_table()?;
        for name in ["time", "clock", "difftime"] {
            safe_os.raw_set(name, os.get::<Value>(name)?)?;
        }
        globals.raw_set("os", safe_os)?;

        let budget = Rc::new(Budget::default());

        // pcall/xpcall wrappers: once the sandbox aborted a call, errors keep propagating.
        let b = budget.clone();
        let aborted = lua.create_function(move |_, err: Value| {
            if let Value::String(s) = &err {
                if s.as_bytes().starts_with(b"not enough memory") {
                    b.set_abort(Abort::Memory { location: None });
                }
            }
            Ok(b.aborted())
        })?;
        lua.load(
            r#"
            local aborted = ...
            local rawpcall, rawxpcall, error = pcall, xpcall, error
            local function pass(ok, ...)
                if not ok and aborted((...)) then error((...), 0) end
                return ok, ...
            end
            pcall = function(f, ...) return pass(rawpcall(f, ...)) end
            xpcall = function(f, h, ...) return pass(rawxpcall(f, h, ...)) end
            -- collectgarbage("stop") would defeat the memory cap; only harmless options remain.
            local rawcollect = collectgarbage
            collectgarbage = function(opt, arg)
                if opt == nil or opt == "collect" or opt == "count" or opt == "step" then
                    return rawcollect(opt, arg)
                end
            end
            -- The string metatable would otherwise give access to the shared string table.
            getmetatable("").__metatable = false
            "#,
        )
        .set_name("=sandbox")
        .set_mode(ChunkMode::Text)
        .call::<()>(aborted)?;

        let b = budget.clone();
        let interval = u64::from(limits.hook_interval.max(1));
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(limits.hook_interval.max(1)),
            move |lua, debug| {
                if !b.armed.get() {
                    return Ok(VmState::Continue);
                }
                let where_ = || {
                    let src = debug.source();
                    let name = src.short_src.map(|s| s.into_owned()).unwrap_or_default();
                    debug.current_line().map(|l| format!("{name}:{l}"))
                };
                if b.aborted() {
                    return Err(mlua::Error::runtime("detector aborted by the sandbox"));
                }
                b.used.set(b.used.get().saturating_add(interval));
                if b.used.get() > b.limit.get() {
                    b.set_abort(Abort::Instructions { limit: b.limit.get(), location: where_() });
                    return Err(mlua::Error::runtime("instruction budget exceeded"));
                }
                if lua.used_memory() > b.memory_base.get().saturating_add(b.memory_per_call.get()) {
                    b.set_abort(Abort::Memory { location: where_() });
                    return Err(mlua::Error::runtime("memory limit exceeded"));
                }
                Ok(VmState::Continue)
            },
        )?;

        // `require`/`dofile` are Lua closures over the environment; the Rust part only sees names.
        // (Rust closures must not capture Lua values: those are released by a finalizer during
        // lua_close, which crashes LuaJIT.)
        let load_lib = lua.create_function(move |lua, (name, env, how): (String, Table, String)| {
            load_lib(lua, &libs, &name, env, &how)
        })?;
        let make_loaders: Function = lua
            .load(
                r#"
                local load_lib = ...
                return function(env)
                    local loaded = {}
                    local builtin = { string = true, table = true, math = true, bit = true, os = true }
                    local function require(name)
                        name = tostring(name)
                        if builtin[name] then return env[name] end
                        local v = loaded[name]
                        if v ~= nil then return v end
                        v = load_lib(name, env, "require")
                        if v == nil then v = true end
                        loaded[name] = v
                        return v
                    end
                    local function dofile(path)
                        return load_lib(tostring(path), env, "dofile")
                    end
                    return require, dofile
                end
                "#,
            )
            .set_name("=sandbox")
            .set_mode(ChunkMode::Text)
            .call(load_lib)?;

        Ok(Sandbox { lua, globals, budget, limits, make_loaders, memory_limit_enforced })
    }

    /// A fresh environment for one detector file.
    pub fn new_env(&self) -> mlua::Result<Table> {
        let lua = &self.lua;
        let env = lua.create_table()?;
        for name in STDLIB_COPIES {
            let shared: Table = self.globals.get(name)?;
            let copy = lua.create_table()?;
            for pair in shared.pairs::<Value, Value>() {
                let (k, v) = pair?;
                copy.raw_set(k, v)?;
            }
            env.raw_set(name, copy)?;
        }
        env.raw_set("_G", env.clone())?;

        let (require, dofile): (Function, Function) = self.make_loaders.call(env.clone())?;
        env.raw_set("require", require)?;
        env.raw_set("dofile", dofile)?;

        let meta = lua.create_table()?;
        meta.raw_set("__index", self.globals.clone())?;
        meta.raw_set("__metatable", false)?;
        env.set_metatable(Some(meta))?;
        Ok(env)
    }

    /// Runs `f` with the budget armed. Returns the abort reason if the sandbox stopped it.
    pub fn run<R>(&self, instructions: u64, f: impl FnOnce() -> mlua::Result<R>) -> Result<R, RunError> {
        let b = &self.budget;
        *b.abort.borrow_mut() = None;
        b.used.set(0);
        b.limit.set(instructions);
        b.memory_base.set(self.lua.used_memory());
        b.memory_per_call.set(self.limits.memory_per_call);
        b.armed.set(true);
        let result = f();
        b.armed.set(false);
        let abort = b.abort.borrow_mut().take();
        match (result, abort) {
            (_, Some(abort)) => {
                // Whatever the aborted code allocated and dropped is reclaimed now, so the
                // next call starts below the cap.
                let _ = self.lua.gc_collect();
                Err(RunError::Abort(abort))
            }
            (Ok(r), None) => Ok(r),
            (Err(mlua::Error::MemoryError(m)), None) => {
                let _ = self.lua.gc_collect();
                Err(RunError::Abort(Abort::Memory { location: Some(m).filter(|m| m.contains(".lua:")) }))
            }
            (Err(e), None) => Err(RunError::Lua(e.to_string())),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Finalizers run during lua_close; a count hook firing inside them crashes LuaJIT.
        self.budget.armed.set(false);
        self.lua.remove_hook();
    }
}

/// A failed sandboxed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The Lua code raised an error (text as mlua formats it).
    Lua(String),
    /// The sandbox stopped the code.
    Abort(Abort),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> Sandbox {
        let mut libs = HashMap::new();
        libs.insert(
            "Lib".to_owned(),
            LibSource { chunk_name: "libs/Lib.lua".into(), code: "LIBVAL = 42".into() },
        );
        let limits = Limits { instructions_per_call: 200_000, memory_per_call: 8 << 20, ..Limits::default() };
        Sandbox::new(limits, Rc::new(libs)).unwrap()
    }

    fn eval(sb: &Sandbox, env: &Table, code: &str) -> Result<Value, RunError> {
        sb.run(sb.limits.instructions_per_call, || {
            sb.lua.load(code).set_name("@t.lua").set_mode(ChunkMode::Text).set_environment(env.clone()).eval()
        })
    }

    #[test]
    fn lua51_semantics_and_bit() {
        let sb = sandbox();
        let env = sb.new_env().unwrap();
        let v = eval(
            &sb,
            &env,
            "local t = {1,2,3}; return table.concat({_VERSION, bit.band(0xff, 0x0f), bit.lshift(1, 31), #t, \
             select('#', unpack(t)), 7/2, math.floor(-3.5), tostring(2^53)}, ',')",
        )
        .unwrap();
        assert_eq!(v.to_string().unwrap(), "Lua 5.1,15,-2147483648,3,3,3.5,-4,9.007199254741e+15");
        // setfenv exists in the VM (the sandbox only hides it from detectors).
        let raw = Lua::new();
        assert!(raw.load("return setfenv(function() return x end, {x = 1})()").eval::<i32>().unwrap() == 1);
    }

    #[test]
    fn dangerous_globals_are_absent() {
        let sb = sandbox();
        let env = sb.new_env().unwrap();
        for name in
            ["io", "debug", "ffi", "jit", "dofile_x", "loadstring", "load", "getfenv", "setfenv", "package"]
        {
            let v = eval(&sb, &env, &format!("return {name} == nil")).unwrap();
            assert_eq!(v, Value::Boolean(true), "{name}");
        }
        assert_eq!(
            eval(&sb, &env, "return os.execute == nil and os.time ~= nil").unwrap(),
            Value::Boolean(true)
        );
        assert_eq!(eval(&sb, &env, "return string.dump == nil").unwrap(), Value::Boolean(true));
        assert_eq!(eval(&sb, &env, "return getmetatable('')").unwrap(), Value::Boolean(false));
        assert_eq!(eval(&sb, &env, "return getmetatable(_G)").unwrap(), Value::Boolean(false));
    }

    #[test]
    fn require_is_limited_to_libs_and_per_environment() {
        let sb = sandbox();
        let a = sb.new_env().unwrap();
        let b = sb.new_env().unwrap();
        assert_eq!(eval(&sb, &a, "require 'Lib'; return LIBVAL").unwrap(), Value::Integer(42));
        assert_eq!(eval(&sb, &b, "return LIBVAL").unwrap(), Value::Nil);
        assert_eq!(eval(&sb, &a, "return require('bit') == bit").unwrap(), Value::Boolean(true));
        for bad in ["../secret", "/etc/passwd", "a.b", "Missing"] {
            assert!(matches!(eval(&sb, &a, &format!("require '{bad}'")), Err(RunError::Lua(_))), "{bad}");
        }
        assert!(eval(&sb, &a, "dofile('/etc/passwd')").is_err());
        assert!(eval(&sb, &a, "dofile('libs/Lib.lua'); return LIBVAL").is_ok());
    }

    #[test]
    fn budget_stops_loops_even_under_pcall() {
        let sb = sandbox();
        let env = sb.new_env().unwrap();
        let r = eval(&sb, &env, "while true do end");
        assert!(matches!(r, Err(RunError::Abort(Abort::Instructions { .. }))), "{r:?}");
        let r = eval(&sb, &env, "while true do pcall(function() while true do end end) end");
        assert!(matches!(r, Err(RunError::Abort(Abort::Instructions { .. }))), "{r:?}");
        // The state is usable afterwards.
        assert_eq!(eval(&sb, &env, "return 1 + 1").unwrap(), Value::Integer(2));
    }

    #[test]
    fn memory_growth_is_capped() {
        let sb = sandbox();
        let env = sb.new_env().unwrap();
        let r = sb.run(u64::MAX, || {
            let code = "t = {} for i = 1, 1e7 do t[i] = string.rep('x', 100) .. i end";
            sb.lua.load(code).set_mode(ChunkMode::Text).set_environment(env.clone()).exec()
        });
        assert!(matches!(r, Err(RunError::Abort(Abort::Memory { .. }))), "{r:?}");
        let r = eval(&sb, &env, "local s = string.rep('x', 600 * 1024 * 1024)");
        assert!(matches!(r, Err(RunError::Abort(Abort::Memory { .. }))), "{r:?}");
    }
}
