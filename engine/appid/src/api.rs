//! The `Detector` and `DetectorFlow` objects detectors call, with Snort 3's argument conventions.
//!
//! Argument conversion follows the C API: numbers are read like `lua_tonumber` (nil or non-numbers
//! are 0, numeric strings convert), strings like `lua_tolstring` (may hold any bytes). Registration
//! methods record into [`Registries`] only in the control state and are silent no-ops (same return
//! values) in packet states; packet methods raise a Lua error when called outside a call with a
//! packet. Methods Snort does not have, or that this engine lacks, are absent, so
//! `if gDetector.someMethod then` probes work as in Snort.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::rc::Rc;

use mlua::{Lua, MultiValue, Table, Value};

use crate::app_info::{flags, AppId, AppInfoTable, APP_ID_NONE, APP_ID_UNKNOWN};
use crate::context::{flow_flags, ValidateContext, Verdict};
use crate::registry::*;

/// Kind of detector, from `DetectorPackageInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorKind {
    /// `server = {...}`: validates server-side traffic.
    Service,
    /// `client = {...}`: client detector (pattern-only when it has no `validate`).
    Client,
}

/// What the loader learned about one detector file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectorInfo {
    pub id: DetectorId,
    /// `DetectorPackageInfo.name`.
    pub name: String,
    /// File path relative to the package root (also the Lua chunk name).
    pub file: String,
    pub kind: DetectorKind,
    /// `DetectorPackageInfo.proto` (6 or 17).
    pub proto: u8,
    pub init: String,
    pub validate: Option<String>,
    pub clean: Option<String>,
    pub minimum_matches: u32,
    /// Loaded from the `custom/` overlay.
    pub custom: bool,
    /// False once the detector failed (load, init, validate) and was disabled.
    pub enabled: bool,
}

/// A message a detector logged (`log`, `cLog`, `print`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub detector: Option<DetectorId>,
    /// `DC.logLevel`: 0 critical … 5 debug.
    pub level: u8,
    pub message: String,
}

/// Upper bound of kept log records, so a chatty detector cannot grow memory without limit.
const MAX_LOGS: usize = 10_000;
/// Upper bound of cached compiled regexes (`getPcreGroups` patterns are nearly always constants).
const MAX_REGEX_CACHE: usize = 4096;
/// Maximum elements of a length sequence (`LENGTH_SEQUENCE_CNT_MAX`).
const LENGTH_SEQUENCE_MAX: usize = 5;

/// The current call: a copy of the packet context plus what the detector reports.
pub(crate) struct CallState {
    pub data: Vec<u8>,
    pub dir: Direction,
    pub proto: u8,
    pub src_addr: IpAddr,
    pub dst_addr: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub flow_key: u64,
    pub flow_flags: u32,
    pub packet_count: u64,
    pub mid_stream: bool,
    pub http_tunnel: Option<(IpAddr, u16)>,
    pub verdicts: Vec<Verdict>,
}

impl CallState {
    pub fn new(ctx: &ValidateContext<'_>, mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.extend_from_slice(ctx.data);
        CallState {
            data: buf,
            dir: ctx.dir,
            proto: ctx.proto,
            src_addr: ctx.src_addr,
            dst_addr: ctx.dst_addr,
            src_port: ctx.src_port,
            dst_port: ctx.dst_port,
            flow_key: ctx.flow_key,
            flow_flags: ctx.flow_flags & flow_flags::LIVE,
            packet_count: ctx.packet_count,
            mid_stream: ctx.mid_stream,
            http_tunnel: ctx.http_tunnel,
            verdicts: Vec::new(),
        }
    }
}

/// Per-state data reachable from the API methods (stored as mlua app data).
pub(crate) struct HostState {
    /// Registration calls are honoured only in the control state.
    pub control: bool,
    pub apps: AppInfoTable,
    pub reg: Registries,
    pub detectors: Vec<DetectorInfo>,
    pub envs: Vec<Option<Table>>,
    pub call: Option<CallState>,
    pub logs: Vec<LogRecord>,
    /// Problems with API arguments, reported as warnings against the detector's file.
    pub api_warnings: Vec<ApiWarning>,
    regex_cache: HashMap<Vec<u8>, Option<Rc<pcre2::bytes::Regex>>>,
    chp_instances: HashSet<i64>,
    /// Detector objects by table address (the tables are kept alive in `objects`, so addresses
    /// are never reused while the state lives).
    object_ids: HashMap<usize, DetectorId>,
    objects: Vec<Table>,
    detector_meta: Option<Table>,
    flow_meta: Option<Table>,
}

impl HostState {
    pub fn new(control: bool, apps: AppInfoTable) -> Self {
        HostState {
            control,
            apps,
            reg: Registries::default(),
            detectors: Vec::new(),
            envs: Vec::new(),
            call: None,
            logs: Vec::new(),
            api_warnings: Vec::new(),
            regex_cache: HashMap::new(),
            chp_instances: HashSet::new(),
            object_ids: HashMap::new(),
            objects: Vec::new(),
            detector_meta: None,
            flow_meta: None,
        }
    }

    fn warn(&mut self, d: DetectorId, location: Option<(String, u32)>, msg: impl Into<String>) {
        if self.api_warnings.len() < MAX_LOGS {
            self.api_warnings.push(ApiWarning { detector: d, location, message: msg.into() });
        }
    }

    fn log(&mut self, d: Option<DetectorId>, level: u8, message: String) {
        if self.logs.len() < MAX_LOGS {
            self.logs.push(LogRecord { detector: d, level, message });
        }
    }

    fn kind(&self, d: DetectorId) -> DetectorKind {
        self.detectors.get(d.0 as usize).map_or(DetectorKind::Client, |i| i.kind)
    }
}

/// A bad API call, with the calling Lua chunk and line when known.
pub(crate) struct ApiWarning {
    pub detector: DetectorId,
    pub location: Option<(String, u32)>,
    pub message: String,
}

/// Chunk name and line of the Lua code calling the current API method.
fn caller(lua: &Lua) -> Option<(String, u32)> {
    lua.inspect_stack(1, |d| {
        let src = d.source().short_src.map(|s| s.into_owned())?;
        Some((src, d.current_line()? as u32))
    })
    .flatten()
}

fn warn(lua: &Lua, d: DetectorId, msg: impl Into<String>) -> mlua::Result<()> {
    let loc = caller(lua);
    state(lua)?.warn(d, loc, msg);
    Ok(())
}

// `gDetector` and the `getFlow()` result are tables whose metatable `__index` holds the methods
// (Snort uses userdata). Userdata with a `__gc` finalizer crash LuaJIT's `lua_close` when LuaJIT is
// built with assertions (as luajit-src does in debug builds); tables avoid finalizers altogether.
// A detector object is identified by its table's address.

/// Builds the method tables and stores them in the host state. Called once per state.
pub(crate) fn install(lua: &Lua) -> mlua::Result<()> {
    let mut dm = MethodTable { lua, table: lua.create_table()?, result: Ok(()) };
    detector_methods(&mut dm);
    dm.result?;
    let dmeta = lua.create_table()?;
    dmeta.raw_set("__index", dm.table)?;
    dmeta.raw_set("__metatable", false)?;
    dmeta.raw_set("__tostring", lua.create_function(|_, _: Value| Ok("Detector"))?)?;
    let fm = lua.create_table()?;
    flow_methods(lua, &fm)?;
    let fmeta = lua.create_table()?;
    fmeta.raw_set("__index", fm)?;
    fmeta.raw_set("__metatable", false)?;
    let mut st = state(lua)?;
    st.detector_meta = Some(dmeta);
    st.flow_meta = Some(fmeta);
    Ok(())
}

/// The object passed to a detector's `init` (one per detector, reused).
pub(crate) fn detector_object(lua: &Lua, id: DetectorId) -> mlua::Result<Table> {
    let meta = {
        let st = state(lua)?;
        if let Some(t) =
            st.objects.iter().find(|t| st.object_ids.get(&(t.to_pointer() as usize)) == Some(&id))
        {
            return Ok(t.clone());
        }
        st.detector_meta.clone()
    };
    let obj = lua.create_table()?;
    obj.set_metatable(meta)?;
    let mut st = state(lua)?;
    st.object_ids.insert(obj.to_pointer() as usize, id);
    st.objects.push(obj.clone());
    Ok(obj)
}

fn flow_object(lua: &Lua) -> mlua::Result<Table> {
    let meta = state(lua)?.flow_meta.clone();
    let obj = lua.create_table()?;
    obj.set_metatable(meta)?;
    Ok(obj)
}

/// The detector a method was called on (`self`).
fn self_id(lua: &Lua, this: &Value) -> mlua::Result<DetectorId> {
    let id = match this {
        Value::Table(t) => state(lua)?.object_ids.get(&(t.to_pointer() as usize)).copied(),
        _ => None,
    };
    id.ok_or_else(|| api_error(lua, "bad argument #1 (Detector expected; call methods with ':')"))
}

struct MethodTable<'a> {
    lua: &'a Lua,
    table: Table,
    result: mlua::Result<()>,
}

/// Positional arguments after `self`, read with the C API's lenient conversions.
struct Args(Vec<Value>);

impl Args {
    fn get(&self, i: usize) -> &Value {
        self.0.get(i).unwrap_or(&Value::Nil)
    }

    /// `lua_tonumber`.
    fn num(&self, i: usize) -> f64 {
        match self.get(i) {
            Value::Integer(n) => *n as f64,
            Value::Number(n) => *n,
            Value::String(s) => {
                let s = s.to_string_lossy();
                let t = s.trim();
                t.parse::<f64>()
                    .ok()
                    .or_else(|| {
                        let (neg, hex) = match t.strip_prefix('-') {
                            Some(r) => (true, r),
                            None => (false, t),
                        };
                        let hex = hex.strip_prefix("0x").or_else(|| hex.strip_prefix("0X"))?;
                        let v = u64::from_str_radix(hex, 16).ok()? as f64;
                        Some(if neg { -v } else { v })
                    })
                    .unwrap_or(0.0)
            }
            _ => 0.0,
        }
    }

    /// `lua_tointeger` (truncation; NaN and non-numbers are 0).
    fn int(&self, i: usize) -> i64 {
        let n = self.num(i);
        if n.is_finite() {
            n as i64
        } else {
            0
        }
    }

    fn app(&self, i: usize) -> AppId {
        self.int(i) as AppId
    }

    fn legacy(&self, i: usize) -> u32 {
        self.int(i) as u32
    }

    /// `lua_tolstring`: strings and numbers, `None` otherwise.
    fn bytes(&self, i: usize) -> Option<Vec<u8>> {
        match self.get(i) {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Integer(n) => Some(n.to_string().into_bytes()),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                Some(format!("{}", *n as i64).into_bytes())
            }
            Value::Number(n) => Some(n.to_string().into_bytes()),
            _ => None,
        }
    }

    /// Non-empty string argument.
    fn nonempty(&self, i: usize) -> Option<Vec<u8>> {
        self.bytes(i).filter(|b| !b.is_empty())
    }

    fn string(&self, i: usize) -> Option<String> {
        self.bytes(i).map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

fn state(lua: &Lua) -> mlua::Result<mlua::AppDataRefMut<'_, HostState>> {
    lua.app_data_mut::<HostState>().ok_or_else(|| mlua::Error::runtime("appid: detector state missing"))
}

fn none() -> mlua::Result<MultiValue> {
    Ok(MultiValue::new())
}

fn one(lua: &Lua, v: impl mlua::IntoLua) -> mlua::Result<MultiValue> {
    Ok(MultiValue::from_vec(vec![v.into_lua(lua)?]))
}

fn num(lua: &Lua, n: f64) -> mlua::Result<MultiValue> {
    one(lua, n)
}

/// A Lua error raised by an API method, prefixed with the calling chunk and line like `error()`
/// does (errors raised from Rust carry no position otherwise).
fn api_error(lua: &Lua, msg: impl std::fmt::Display) -> mlua::Error {
    match caller(lua) {
        Some((src, line)) => mlua::Error::runtime(format!("{src}:{line}: {msg}")),
        None => mlua::Error::runtime(msg.to_string()),
    }
}

fn no_packet(lua: &Lua, method: &str) -> mlua::Error {
    api_error(lua, format!("{method}: no packet (only available while validating a packet)"))
}

/// Runs `f` on the current call, or raises the "no packet" error.
fn with_call<R>(lua: &Lua, method: &str, f: impl FnOnce(&mut CallState) -> R) -> mlua::Result<R> {
    let mut st = state(lua)?;
    match st.call.as_mut() {
        Some(c) => Ok(f(c)),
        None => {
            drop(st);
            Err(no_packet(lua, method))
        }
    }
}

/// Appends a verdict for the current call and returns Snort's status (APPID_SUCCESS = 0).
fn verdict(lua: &Lua, method: &str, v: Verdict) -> mlua::Result<MultiValue> {
    with_call(lua, method, |c| c.verdicts.push(v))?;
    num(lua, 0.0)
}

/// Runs a registration in the control state; packet states ignore it.
fn register(lua: &Lua, f: impl FnOnce(&mut HostState)) -> mlua::Result<()> {
    let mut st = state(lua)?;
    if st.control {
        f(&mut st);
    }
    Ok(())
}

/// IPv4 (or the last 32 bits of IPv6) as Snort's `get_ip4_value()` gives it on x86: the address
/// bytes in network order read as a little-endian integer, so `DC.intToIPv4(ip, 1)` prints it right.
fn ip4_value(ip: IpAddr) -> f64 {
    let b = match ip {
        IpAddr::V4(v4) => v4.octets(),
        IpAddr::V6(v6) => {
            let o = v6.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    f64::from(u32::from_le_bytes(b))
}

fn parse_ip(s: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(s).ok()?.trim().parse().ok()
}

fn to_u32(n: f64) -> u32 {
    // Lua numbers built with `bit` are signed 32-bit; go through i64 to keep the bit pattern.
    if n.is_finite() {
        n as i64 as u32
    } else {
        0
    }
}

/// ODP patterns are PCRE with raw bytes; the pcre2 crate takes `&str`, so bytes ≥ 0x80 are written
/// as `\xHH` escapes (in non-UTF mode they match the raw byte).
pub(crate) fn pcre_pattern_text(p: &[u8]) -> String {
    let mut out = String::with_capacity(p.len());
    let mut escaped = false;
    for &b in p {
        if b >= 0x80 {
            if escaped {
                out.push_str(&format!("x{b:02x}"));
            } else {
                out.push_str(&format!("\\x{b:02x}"));
            }
            escaped = false;
        } else {
            out.push(b as char);
            escaped = !escaped && b == b'\\';
        }
    }
    out
}

fn compile_regex(pattern: &[u8]) -> Option<Rc<pcre2::bytes::Regex>> {
    pcre2::bytes::RegexBuilder::new()
        .dotall(true)
        .jit_if_available(true)
        .build(&pcre_pattern_text(pattern))
        .ok()
        .map(Rc::new)
}

/// `memcmp(data + offset, pattern, len)` with bounds: out of range compares unequal (1).
fn simple_match(data: &[u8], pattern: &[u8], len: f64, offset: f64) -> i32 {
    if !(0.0..=u32::MAX as f64).contains(&len) || !(0.0..=u32::MAX as f64).contains(&offset) {
        return 1;
    }
    let (len, offset) = (len as usize, offset as usize);
    let Some(d) = data.get(offset..offset.saturating_add(len)) else { return 1 };
    let Some(p) = pattern.get(..len) else { return 1 };
    match d.cmp(p) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

/// `"I/8,R/512,..."` → sequence, with Snort's validation.
fn parse_length_sequence(count: i64, s: &[u8]) -> Option<Vec<(Direction, u16)>> {
    if count <= 0 || count as usize > LENGTH_SEQUENCE_MAX || s.is_empty() {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let items: Vec<&str> = text.split(',').collect();
    if items.len() != count as usize {
        return None;
    }
    items
        .iter()
        .map(|item| {
            let (d, len) = item.split_once('/')?;
            let dir = match d {
                "I" => Direction::FromInitiator,
                "R" => Direction::FromResponder,
                _ => return None,
            };
            let len: u16 = len.parse().ok().filter(|&l| l > 0)?;
            Some((dir, len))
        })
        .collect()
}

type Method = fn(&Lua, DetectorId, &Args) -> mlua::Result<MultiValue>;

fn add(m: &mut MethodTable<'_>, names: &[&str], f: Method) {
    if m.result.is_err() {
        return;
    }
    for name in names {
        let func = m.lua.create_function(move |lua, args: MultiValue| {
            let mut args = args.into_vec();
            let this = if args.is_empty() { Value::Nil } else { args.remove(0) };
            let id = self_id(lua, &this)?;
            f(lua, id, &Args(args))
        });
        m.result = func.and_then(|func| m.table.raw_set(*name, func));
    }
}

fn detector_methods(m: &mut MethodTable<'_>) {
    {
        // ---- packet access -------------------------------------------------------------
        add(m, &["getPacketSize"], |lua, _, _| {
            let n = with_call(lua, "getPacketSize", |c| c.data.len())?;
            num(lua, n as f64)
        });
        add(m, &["getPacketDir"], |lua, _, _| {
            let d = with_call(lua, "getPacketDir", |c| c.dir)?;
            num(lua, if d == Direction::FromInitiator { 0.0 } else { 1.0 })
        });
        add(m, &["getPktSrcAddr"], |lua, _, _| {
            let ip = with_call(lua, "getPktSrcAddr", |c| c.src_addr)?;
            num(lua, ip4_value(ip))
        });
        add(m, &["getPktDstAddr"], |lua, _, _| {
            let ip = with_call(lua, "getPktDstAddr", |c| c.dst_addr)?;
            num(lua, ip4_value(ip))
        });
        add(m, &["getPktSrcPort"], |lua, _, _| {
            let p = with_call(lua, "getPktSrcPort", |c| c.src_port)?;
            num(lua, f64::from(p))
        });
        add(m, &["getPktDstPort"], |lua, _, _| {
            let p = with_call(lua, "getPktDstPort", |c| c.dst_port)?;
            num(lua, f64::from(p))
        });
        add(m, &["getL4Protocol", "getProtocolType"], |lua, _, _| {
            let p = with_call(lua, "getL4Protocol", |c| c.proto)?;
            num(lua, f64::from(p))
        });
        // A global counter; also answers outside validate (Snort reads a peg count).
        add(m, &["getPktCount"], |lua, _, _| {
            let n = state(lua)?.call.as_ref().map_or(0, |c| c.packet_count);
            num(lua, n as f64)
        });
        add(m, &["getFlow"], |lua, _, _| {
            with_call(lua, "getFlow", |_| ())?;
            one(lua, flow_object(lua)?)
        });
        add(m, &["matchSimplePattern", "memcmp"], |lua, _, a| {
            let pattern = a.bytes(0).unwrap_or_default();
            let rc = with_call(lua, "matchSimplePattern", |c| {
                simple_match(&c.data, &pattern, a.num(1), a.num(2))
            })?;
            num(lua, f64::from(rc))
        });
        add(m, &["getPcreGroups"], |lua, d, a| {
            let pattern = a.bytes(0).unwrap_or_default();
            let offset = a.num(1);
            let mut st = state(lua)?;
            let st = &mut *st;
            let Some(call) = st.call.as_ref() else {
                return Err(no_packet(lua, "getPcreGroups"));
            };
            if st.regex_cache.len() >= MAX_REGEX_CACHE && !st.regex_cache.contains_key(&pattern) {
                st.regex_cache.clear();
            }
            let re = st.regex_cache.entry(pattern.clone()).or_insert_with(|| compile_regex(&pattern)).clone();
            let Some(re) = re else {
                let msg = format!(
                    "getPcreGroups: invalid regular expression {:?}",
                    String::from_utf8_lossy(&pattern)
                );
                st.warn(d, caller(lua), msg);
                return none();
            };
            if !(0.0..=call.data.len() as f64).contains(&offset) {
                return none();
            }
            let mut locs = re.capture_locations();
            let groups: Vec<Vec<u8>> = match re.captures_read_at(&mut locs, &call.data, offset as usize) {
                Ok(Some(_)) => {
                    let last = (0..locs.len()).rev().find(|&i| locs.get(i).is_some()).unwrap_or(0);
                    (0..=last)
                        .map(|i| locs.get(i).map_or_else(Vec::new, |(s, e)| call.data[s..e].to_vec()))
                        .collect()
                }
                _ => Vec::new(),
            };
            groups.into_iter().map(|g| lua.create_string(g).map(Value::String)).collect()
        });
        add(m, &["getSubstr"], |lua, _, a| {
            let (off, len) = (a.num(0), a.num(1));
            let s = with_call(lua, "getSubstr", |c| {
                if off < 0.0 || len < 0.0 {
                    return None;
                }
                let (off, len) = (off as usize, len as usize);
                c.data.get(off..off.checked_add(len)?).map(<[u8]>::to_vec)
            })?;
            match s {
                Some(s) => one(lua, lua.create_string(s)?),
                None => none(),
            }
        });
        add(m, &["substrIndex"], |lua, _, a| {
            let off = a.num(0);
            let needle = a.bytes(1).unwrap_or_default();
            let idx = with_call(lua, "substrIndex", |c| {
                if off < 0.0 || needle.is_empty() {
                    return None;
                }
                let off = off as usize;
                let hay = c.data.get(off..)?;
                memchr::memmem::find(hay, &needle).map(|i| i + off)
            })?;
            match idx {
                Some(i) => num(lua, i as f64),
                None => none(),
            }
        });
        add(m, &["htons"], |lua, _, a| num(lua, f64::from((a.int(0) as u16).swap_bytes())));
        add(m, &["htonl"], |lua, _, a| num(lua, f64::from(to_u32(a.num(0)).swap_bytes())));
        add(m, &["isMidStreamSession"], |lua, _, _| {
            let mid = with_call(lua, "isMidStreamSession", |c| c.mid_stream)?;
            num(lua, if mid { 1.0 } else { 0.0 })
        });
        add(m, &["isHttpTunnel"], |lua, _, _| {
            let t = with_call(lua, "isHttpTunnel", |c| c.http_tunnel.is_some())?;
            one(lua, t)
        });
        add(m, &["getHttpTunneledIp"], |lua, _, _| {
            match with_call(lua, "getHttpTunneledIp", |c| c.http_tunnel)? {
                Some((ip, _)) => num(lua, ip4_value(ip)),
                None => none(),
            }
        });
        add(m, &["getHttpTunneledPort"], |lua, _, _| {
            match with_call(lua, "getHttpTunneledPort", |c| c.http_tunnel)? {
                Some((_, port)) => num(lua, f64::from(port)),
                None => none(),
            }
        });
        add(m, &["log", "cLog"], |lua, d, a| {
            let level = a.int(0).clamp(0, 255) as u8;
            let msg = a.string(1).unwrap_or_default();
            state(lua)?.log(Some(d), level, msg);
            none()
        });

        // ---- service verdicts ----------------------------------------------------------
        add(m, &["addService", "service_addService"], |lua, _, a| {
            let app = state(lua)?.apps.appid_by_service_id(a.legacy(0));
            verdict(
                lua,
                "addService",
                Verdict::ServiceFound { app, vendor: a.string(1), version: a.string(2) },
            )
        });
        add(m, &["open_addServiceApp"], |lua, _, a| {
            verdict(
                lua,
                "open_addServiceApp",
                Verdict::ServiceFound { app: a.app(0), vendor: None, version: None },
            )
        });
        add(m, &["failService", "service_failService"], |lua, _, _| {
            verdict(lua, "failService", Verdict::ServiceFail)
        });
        add(m, &["inProcessService", "service_inProcessService"], |lua, _, _| {
            verdict(lua, "inProcessService", Verdict::ServiceInProcess)
        });
        add(
            m,
            &[
                "markIncompleteData",
                "service_markIncompleteData",
                "inCompatibleData",
                "service_inCompatibleData",
            ],
            |lua, _, _| verdict(lua, "markIncompleteData", Verdict::ServiceIncompatible),
        );
        // Snort pushes nothing here.
        add(m, &["analyzePayload", "service_analyzePayload"], |lua, _, a| {
            verdict(lua, "service_analyzePayload", Verdict::ServicePayload(a.app(0)))?;
            none()
        });
        add(m, &["service_addClient"], |lua, _, a| {
            let Some(version) = a.string(2) else { return num(lua, -1.0) };
            verdict(
                lua,
                "service_addClient",
                Verdict::ServiceClient { client: a.app(0), service: a.app(1), version },
            )
        });
        add(
            m,
            &["addAppIdDataToFlow", "service_addAppIdDataToFlow", "addDataId", "service_addDataId"],
            |lua, _, a| {
                verdict(lua, "service_addAppIdDataToFlow", Verdict::FlowData { port: a.int(0) as u16 })
            },
        );
        add(m, &["service_addNetbiosDomain"], |lua, _, a| {
            verdict(lua, "service_addNetbiosDomain", Verdict::NetbiosDomain(a.string(0).unwrap_or_default()))
        });

        // ---- client verdicts -----------------------------------------------------------
        // client_addApp(legacyService, clientType, legacyClient, version[, appId ignored])
        add(m, &["client_addApp"], |lua, _, a| {
            let (service, client) = {
                let st = state(lua)?;
                (st.apps.appid_by_service_id(a.legacy(0)), st.apps.appid_by_client_id(a.legacy(2)))
            };
            verdict(lua, "client_addApp", Verdict::ClientFound { service, client, version: a.string(3) })
        });
        add(m, &["open_addClientApp"], |lua, _, a| {
            verdict(
                lua,
                "open_addClientApp",
                Verdict::ClientFound { service: a.app(0), client: a.app(1), version: None },
            )
        });
        add(m, &["client_addInfo"], |lua, _, a| {
            verdict(lua, "client_addInfo", Verdict::ClientInfo(a.string(0).unwrap_or_default()))
        });
        add(m, &["client_addUser"], |lua, _, a| {
            let service = state(lua)?.apps.appid_by_service_id(a.legacy(1));
            verdict(
                lua,
                "client_addUser",
                Verdict::ClientUser { name: a.string(0).unwrap_or_default(), service },
            )
        });
        add(m, &["client_addPayload"], |lua, _, a| {
            let app = state(lua)?.apps.appid_by_payload_id(a.legacy(0));
            verdict(lua, "client_addPayload", Verdict::ClientPayload(app))
        });
        add(m, &["open_addPayloadApp"], |lua, _, a| {
            verdict(lua, "open_addPayloadApp", Verdict::ClientPayload(a.app(0)))
        });
        add(m, &["addHostPortAppDynamic"], |lua, d, a| {
            let Some(ip) = a.bytes(2).as_deref().and_then(parse_ip) else {
                warn(lua, d, "addHostPortAppDynamic: invalid IP address")?;
                return none();
            };
            let v = Verdict::HostPortApp {
                kind: a.int(0) as u8,
                app: a.app(1),
                ip,
                port: a.int(3) as u16,
                proto: a.int(4) as u8,
            };
            verdict(lua, "addHostPortAppDynamic", v)?;
            none()
        });
        add(m, &["createFutureFlow"], |lua, _, a| {
            let (Some(client_ip), Some(server_ip)) =
                (a.bytes(0).as_deref().and_then(parse_ip), a.bytes(2).as_deref().and_then(parse_ip))
            else {
                return none();
            };
            let v = Verdict::FutureFlow {
                client_ip,
                client_port: a.int(1) as u16,
                server_ip,
                server_port: a.int(3) as u16,
                proto: a.int(4) as u8,
                service: a.app(5),
                client: a.app(6),
                payload: a.app(7),
                snort_app: a.app(8),
            };
            verdict(lua, "createFutureFlow", v)?;
            one(lua, true)
        });

        // ---- detector bookkeeping ------------------------------------------------------
        add(m, &["init", "service_init"], |lua, d, a| {
            let env = state(lua)?.envs.get(d.0 as usize).cloned().flatten();
            let is_fn = |i: usize| -> mlua::Result<bool> {
                let (Some(env), Some(name)) = (&env, a.string(i)) else { return Ok(false) };
                Ok(matches!(env.get::<Value>(name)?, Value::Function(_)))
            };
            if is_fn(1)? && is_fn(2)? {
                one(lua, detector_object(lua, d)?)
            } else {
                warn(lua, d, "init: attempted setting validator/fini to non-function")?;
                none()
            }
        });
        add(m, &["client_init"], |_, _, _| none());
        add(m, &["getServiceID", "service_getServiceId", "client_getServiceId"], |lua, _, _| {
            num(lua, f64::from(APP_ID_UNKNOWN))
        });
        add(
            m,
            &["removePort", "service_removePort", "setServiceName", "service_setServiceName"],
            |lua, _, _| num(lua, 0.0),
        );
        add(m, &["getServiceName", "service_getServiceName"], |lua, d, _| {
            let name = state(lua)?.detectors.get(d.0 as usize).map(|i| i.name.clone()).unwrap_or_default();
            one(lua, name)
        });
        add(m, &["isCustomDetector", "service_isCustomDetector"], |lua, d, _| {
            let custom = state(lua)?.detectors.get(d.0 as usize).is_some_and(|i| i.custom);
            num(lua, if custom { 1.0 } else { 0.0 })
        });
        add(m, &["setValidator", "service_setValidator"], |lua, d, a| {
            let env = state(lua)?.envs.get(d.0 as usize).cloned().flatten();
            let name = a.string(0).unwrap_or_default();
            let ok = match &env {
                Some(env) => matches!(env.get::<Value>(name.as_str())?, Value::Function(_)),
                None => false,
            };
            if !ok {
                warn(lua, d, format!("setValidator: '{name}' is not a function"))?;
                return num(lua, -1.0);
            }
            if let Some(info) = state(lua)?.detectors.get_mut(d.0 as usize) {
                info.validate = Some(name);
            }
            num(lua, 0.0)
        });
        add(m, &["registerAppId"], |lua, d, a| {
            let app = a.app(0);
            register(lua, |st| {
                let extra = match st.kind(d) {
                    DetectorKind::Client => flags::CLIENT_ADDITIONAL,
                    DetectorKind::Service => flags::SERVICE_ADDITIONAL,
                };
                st.apps.set_flags(app, flags::ACTIVE | extra);
                st.reg.registered_apps.push(RegisteredApp { detector: d, app_id: app });
            })?;
            num(lua, 0.0)
        });
        add(m, &["open_createApp"], |lua, d, a| {
            let Some(name) = a.string(0).filter(|n| !n.is_empty()) else {
                warn(lua, d, "open_createApp: invalid application name")?;
                return num(lua, f64::from(APP_ID_NONE));
            };
            let mut st = state(lua)?;
            // Packet states only look the name up: the control state created it.
            let id = if st.control {
                st.apps.add_dynamic(&name)
            } else {
                st.apps.by_name(&name).unwrap_or(APP_ID_NONE)
            };
            num(lua, f64::from(id))
        });

        // ---- service/client selection --------------------------------------------------
        add(m, &["addPort", "service_addPort"], |lua, d, a| {
            let (proto, port, reversed) = (a.int(0), a.int(1), a.int(3) != 0);
            if (proto != 6 && proto != 17) || port <= 0 || port > 65535 {
                return num(lua, -1.0);
            }
            register(lua, |st| {
                let r = PortRegistration { detector: d, proto: proto as u8, port: port as u16, reversed };
                if !st.reg.service_ports.contains(&r) {
                    st.reg.service_ports.push(r);
                }
            })?;
            num(lua, 0.0)
        });
        add(m, &["registerPattern", "service_registerPattern"], |lua, d, a| {
            let Some(p) = fast_pattern(d, a) else { return num(lua, -1.0) };
            register(lua, |st| st.reg.service_patterns.push(p))?;
            num(lua, 0.0)
        });
        add(m, &["client_registerPattern"], |lua, d, a| {
            let Some(p) = fast_pattern(d, a) else { return num(lua, -1.0) };
            register(lua, |st| st.reg.client_patterns.push(p))?;
            num(lua, 0.0)
        });
        add(m, &["portOnlyService"], |lua, d, a| {
            let e = PortOnlyService {
                detector: d,
                app_id: a.app(0),
                port: a.int(1) as u16,
                proto: a.int(2) as u8,
            };
            register(lua, |st| {
                st.apps.set_flags(e.app_id, flags::ACTIVE);
                st.reg.port_only.push(e);
            })?;
            none()
        });
        add(m, &["AddLengthBasedDetector"], |lua, d, a| {
            let (app, proto) = (a.app(0), a.int(1));
            let seq = a.bytes(3).unwrap_or_default();
            let parsed = parse_length_sequence(a.int(2), &seq).filter(|_| proto == 6 || proto == 17);
            let Some(sequence) = parsed else {
                warn(
                    lua,
                    d,
                    format!(
                        "AddLengthBasedDetector: invalid input ({app}, {proto}, {:?})",
                        String::from_utf8_lossy(&seq)
                    ),
                )?;
                return num(lua, -1.0);
            };
            register(lua, |st| {
                st.reg.length_sequences.push(LengthSequence {
                    detector: d,
                    app_id: app,
                    proto: proto as u8,
                    sequence,
                });
            })?;
            num(lua, 0.0)
        });

        // ---- HTTP ------------------------------------------------------------------------
        add(m, &["addHttpPattern"], |lua, d, a| {
            let kind = match a.int(0) {
                1 => HttpPatternKind::Host,
                2 => HttpPatternKind::UserAgent,
                3 => HttpPatternKind::Url,
                t => {
                    warn(lua, d, format!("addHttpPattern: invalid HTTP pattern type {t}"))?;
                    return none();
                }
            };
            let Some(pattern) = a.nonempty(7) else {
                warn(lua, d, "addHttpPattern: empty pattern")?;
                return none();
            };
            register(lua, |st| {
                let p = HttpPattern {
                    detector: d,
                    kind,
                    sequence: a.int(1) as u32,
                    service: st.apps.appid_by_service_id(a.legacy(2)),
                    client: st.apps.appid_by_client_id(a.legacy(3)),
                    payload: st.apps.appid_by_payload_id(a.legacy(5)),
                    app_id: a.app(8),
                    pattern,
                };
                for id in [p.service, p.client, p.payload, p.app_id] {
                    st.apps.set_flags(id, flags::ACTIVE);
                }
                st.reg.http_patterns.push(p);
            })?;
            none()
        });
        add(m, &["open_addHttpPattern"], |lua, d, a| {
            let kind = match a.int(0) {
                1 => HttpPatternKind::Host,
                2 => HttpPatternKind::UserAgent,
                3 => HttpPatternKind::Url,
                t => {
                    warn(lua, d, format!("open_addHttpPattern: invalid HTTP pattern type {t}"))?;
                    return none();
                }
            };
            let Some(pattern) = a.nonempty(5) else { return none() };
            let p = HttpPattern {
                detector: d,
                kind,
                sequence: a.int(1) as u32,
                service: a.app(2),
                client: a.app(3),
                payload: a.app(4),
                app_id: APP_ID_NONE,
                pattern,
            };
            register(lua, |st| st.reg.http_patterns.push(p))?;
            none()
        });
        add(m, &["open_addUrlPattern"], |lua, d, a| {
            let (Some(host), Some(path), Some(scheme)) = (a.nonempty(3), a.nonempty(4), a.nonempty(5)) else {
                warn(lua, d, "open_addUrlPattern: host, path and scheme must be non-empty strings")?;
                return none();
            };
            let u = AppUrl {
                detector: d,
                service: a.app(0),
                client: a.app(1),
                payload: a.app(2),
                app_id: APP_ID_NONE,
                host,
                path,
                scheme,
                query: None,
            };
            register(lua, |st| st.reg.app_urls.push(u))?;
            none()
        });
        add(m, &["addContentTypePattern"], |lua, d, a| {
            let Some(ct) = a.nonempty(0) else {
                warn(lua, d, "addContentTypePattern: invalid HTTP header string")?;
                return none();
            };
            let app = a.app(1);
            register(lua, |st| {
                st.apps.set_flags(app, flags::ACTIVE);
                st.reg.content_types.push((d, ct, app));
            })?;
            none()
        });

        // ---- TLS / DNS / SIP / SSH / ALPN ---------------------------------------------------
        add(m, &["addSSLCertPattern"], |lua, d, a| {
            host_pattern(lua, d, a, "addSSLCertPattern", |r| &mut r.ssl_host_patterns)
        });
        add(m, &["addSSLCnamePattern"], |lua, d, a| {
            host_pattern(lua, d, a, "addSSLCnamePattern", |r| &mut r.ssl_cname_patterns)
        });
        add(m, &["addDNSHostPattern"], |lua, d, a| {
            host_pattern(lua, d, a, "addDNSHostPattern", |r| &mut r.dns_host_patterns)
        });
        add(m, &["addSipUserAgent"], |lua, d, a| {
            sip_pattern(lua, d, a, "addSipUserAgent", |r| &mut r.sip_user_agents)
        });
        add(m, &["addSipServer"], |lua, d, a| sip_pattern(lua, d, a, "addSipServer", |r| &mut r.sip_servers));
        add(m, &["addSSHPattern"], |lua, d, a| {
            let Some(p) = a.nonempty(0) else {
                warn(lua, d, "addSSHPattern: invalid SSH pattern string")?;
                return none();
            };
            let app = a.app(1);
            register(lua, |st| {
                st.apps.set_flags(app, flags::ACTIVE);
                st.reg.ssh_patterns.push((d, p, app));
            })?;
            none()
        });
        add(m, &["addAlpnToServiceMapping"], |lua, d, a| {
            let app = a.app(0);
            let Some(alpn) = a.nonempty(1) else {
                warn(lua, d, "addAlpnToServiceMapping: invalid ALPN string")?;
                return none();
            };
            register(lua, |st| {
                st.apps.set_flags(app, flags::ACTIVE);
                st.reg.alpn.push((d, alpn, app));
            })?;
            none()
        });
        add(m, &["addProcessToClientMapping"], |lua, d, a| {
            let Some(process) = a.string(1).filter(|s| !s.is_empty()) else {
                warn(lua, d, "addProcessToClientMapping: invalid process name")?;
                return none();
            };
            let e = ProcessMapping {
                detector: d,
                app_id: a.app(0),
                process,
                score: a.int(2).clamp(0, 255) as u8,
            };
            register(lua, |st| st.reg.process_mappings.push(e))?;
            none()
        });

        // ---- host caches ---------------------------------------------------------------------
        add(m, &["addHostPortApp"], |lua, d, a| {
            let Some(ip) = a.bytes(2).as_deref().and_then(parse_ip) else {
                warn(
                    lua,
                    d,
                    format!("addHostPortApp: invalid IP address {:?}", a.string(2).unwrap_or_default()),
                )?;
                return none();
            };
            let e = HostPortApp {
                detector: d,
                kind: a.int(0) as u8,
                app_id: a.app(1),
                ip,
                port: a.int(3) as u16,
                proto: a.int(4) as u8,
            };
            register(lua, |st| st.reg.host_port_apps.push(e))?;
            none()
        });
        add(m, &["addHostFirstPktApp"], |lua, d, a| {
            let text = a.string(4).unwrap_or_default();
            let (ip_text, prefix) = match text.split_once('/') {
                Some((ip, len)) => (ip.to_owned(), len.trim().parse::<u8>().ok()),
                None => (text.clone(), None),
            };
            let Some(ip) = parse_ip(ip_text.as_bytes()) else {
                warn(lua, d, format!("addHostFirstPktApp: invalid IP address {text:?}"))?;
                return none();
            };
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let e = FirstPacketApp {
                detector: d,
                service: a.app(0),
                client: a.app(1),
                payload: a.app(2),
                reinspect: a.int(3) != 0,
                ip,
                prefix_len: prefix.unwrap_or(max).min(max),
                port: a.int(5) as u16,
                proto: a.int(6) as u8,
            };
            register(lua, |st| st.reg.first_packet_apps.push(e))?;
            none()
        });

        // ---- CHP (multi-field HTTP patterns) -----------------------------------------------
        add(m, &["CHPCreateApp"], |lua, d, a| {
            let instance = (a.int(0) << CHP_INSTANCE_BITS) + (CHP_INSTANCE_MAX - 1);
            let loc = caller(lua);
            register(lua, |st| {
                if !st.chp_instances.insert(instance) {
                    st.warn(
                        d,
                        loc,
                        format!(
                            "CHPCreateApp: more than one CHP for appId {} - use CHPMultiCreateApp",
                            a.int(0)
                        ),
                    );
                    return;
                }
                st.reg.chp_apps.push(ChpApp {
                    detector: d,
                    instance,
                    app_type_flags: a.int(1) as u32,
                    num_matches: a.int(2) as i32,
                });
            })?;
            none()
        });
        add(m, &["CHPMultiCreateApp"], |lua, d, a| {
            let app = a.int(0);
            let mut st = state(lua)?;
            if !st.control {
                return none();
            }
            let Some(instance) = (0..CHP_INSTANCE_MAX)
                .map(|i| (app << CHP_INSTANCE_BITS) + i)
                .find(|i| !st.chp_instances.contains(i))
            else {
                st.warn(
                    d,
                    caller(lua),
                    format!("CHPMultiCreateApp: more than {CHP_INSTANCE_MAX} CHP for appId {app}"),
                );
                return none();
            };
            st.chp_instances.insert(instance);
            st.reg.chp_apps.push(ChpApp {
                detector: d,
                instance,
                app_type_flags: a.int(1) as u32,
                num_matches: a.int(2) as i32,
            });
            drop(st);
            num(lua, instance as f64)
        });
        add(m, &["CHPAddAction"], |lua, d, a| {
            let instance = (a.int(0) << CHP_INSTANCE_BITS) + (CHP_INSTANCE_MAX - 1);
            chp_action(lua, d, a, instance, "CHPAddAction")
        });
        add(m, &["CHPMultiAddAction"], |lua, d, a| chp_action(lua, d, a, a.int(0), "CHPMultiAddAction"));

        // Methods sharing one implementation that differs by table.
        add(m, &["addPortPatternService"], |lua, d, a| port_pattern(lua, d, a, true));
        add(m, &["addPortPatternClient"], |lua, d, a| port_pattern(lua, d, a, false));
        add(m, &["registerClientDetectorCallback"], |lua, d, a| callback(lua, d, a, true));
        add(m, &["registerServiceDetectorCallback"], |lua, d, a| callback(lua, d, a, false));
        add(m, &["addAppUrl"], |lua, d, a| app_url(lua, d, a, false));
        add(m, &["addRTMPUrl"], |lua, d, a| app_url(lua, d, a, true));
    }
}

/// `(proto, pattern, size, position[, appId])` → fast pattern; `None` for an invalid protocol.
fn fast_pattern(d: DetectorId, a: &Args) -> Option<FastPattern> {
    let proto = a.int(0);
    if !(0..=255).contains(&proto) {
        return None;
    }
    let mut pattern = a.bytes(1).unwrap_or_default();
    let size = a.num(2);
    if size >= 0.0 && (size as usize) < pattern.len() {
        pattern.truncate(size as usize);
    }
    let position = a.int(3);
    Some(FastPattern {
        detector: d,
        proto: if proto == 6 { 6 } else { 17 },
        pattern,
        offset: u32::try_from(position).ok(),
        app_id: a.app(4),
        port: 0,
    })
}

fn port_pattern(lua: &Lua, d: DetectorId, a: &Args, service: bool) -> mlua::Result<MultiValue> {
    let (proto, app) = (a.int(0), a.app(4));
    let name = if service { "addPortPatternService" } else { "addPortPatternClient" };
    let Some(pattern) = a.nonempty(2).filter(|_| app > APP_ID_NONE && (proto == 6 || proto == 17)) else {
        warn(lua, d, format!("{name}: invalid input"))?;
        return none();
    };
    let p = FastPattern {
        detector: d,
        proto: proto as u8,
        pattern,
        offset: u32::try_from(a.int(3)).ok(),
        app_id: app,
        // Snort ignores the port for clients.
        port: if service { a.int(1) as u16 } else { 0 },
    };
    register(lua, |st| {
        st.apps.set_flags(app, flags::ACTIVE);
        if service {
            st.reg.port_pattern_services.push(p);
        } else {
            st.reg.port_pattern_clients.push(p);
        }
    })?;
    none()
}

fn callback(lua: &Lua, d: DetectorId, a: &Args, client: bool) -> mlua::Result<MultiValue> {
    let app = a.app(0);
    let Some(function) = a.string(1).filter(|s| !s.is_empty()) else {
        warn(lua, d, "register callback: missing function name")?;
        return none();
    };
    register(lua, |st| {
        st.reg.callbacks.push(DetectorCallback { detector: d, app_id: app, function, client })
    })?;
    none()
}

/// `addAppUrl` (legacy ids translated) / `addRTMPUrl` (ids as given):
/// `(svc, cli, cliType, pay, payType, host, path, scheme, query, appId)`.
fn app_url(lua: &Lua, d: DetectorId, a: &Args, rtmp: bool) -> mlua::Result<MultiValue> {
    let name = if rtmp { "addRTMPUrl" } else { "addAppUrl" };
    let (Some(host), Some(path), Some(scheme)) = (a.nonempty(5), a.nonempty(6), a.nonempty(7)) else {
        warn(lua, d, format!("{name}: host, path and scheme must be non-empty strings"))?;
        return none();
    };
    let query = a.nonempty(8);
    register(lua, |st| {
        let (service, client, payload) = if rtmp {
            (a.app(0), a.app(1), a.app(3))
        } else {
            (
                st.apps.appid_by_service_id(a.legacy(0)),
                st.apps.appid_by_client_id(a.legacy(1)),
                st.apps.appid_by_payload_id(a.legacy(3)),
            )
        };
        let u = AppUrl { detector: d, service, client, payload, app_id: a.app(9), host, path, scheme, query };
        for id in [u.service, u.client, u.payload, u.app_id] {
            st.apps.set_flags(id, flags::ACTIVE);
        }
        if rtmp {
            st.reg.rtmp_urls.push(u);
        } else {
            st.reg.app_urls.push(u);
        }
    })?;
    none()
}

fn host_pattern(
    lua: &Lua,
    d: DetectorId,
    a: &Args,
    name: &str,
    table: fn(&mut Registries) -> &mut Vec<HostPattern>,
) -> mlua::Result<MultiValue> {
    let Some(pattern) = a.nonempty(2) else {
        warn(lua, d, format!("{name}: invalid host pattern string"))?;
        return none();
    };
    let p =
        HostPattern { detector: d, target: PatternTarget::from_type(a.int(0)), app_id: a.app(1), pattern };
    register(lua, |st| {
        st.apps.set_flags(p.app_id, flags::ACTIVE);
        table(&mut st.reg).push(p);
    })?;
    none()
}

fn sip_pattern(
    lua: &Lua,
    d: DetectorId,
    a: &Args,
    name: &str,
    table: fn(&mut Registries) -> &mut Vec<SipPattern>,
) -> mlua::Result<MultiValue> {
    let (Some(version), Some(pattern)) = (a.string(1), a.bytes(2)) else {
        warn(lua, d, format!("{name}: invalid version or pattern string"))?;
        return none();
    };
    let p = SipPattern { detector: d, client: a.app(0), version, pattern };
    register(lua, |st| {
        st.apps.set_flags(p.client, flags::ACTIVE);
        table(&mut st.reg).push(p);
    })?;
    none()
}

/// `(appIdOrInstance, isKey, fieldId, pattern, actionType, actionData)`.
fn chp_action(lua: &Lua, d: DetectorId, a: &Args, instance: i64, name: &str) -> mlua::Result<MultiValue> {
    let (field, action) = (a.int(2), a.int(4));
    let Some(pattern) = a.nonempty(3).filter(|_| (0..=8).contains(&field) && (0..=15).contains(&action))
    else {
        warn(lua, d, format!("{name}: invalid field type, pattern or action type"))?;
        return none();
    };
    let loc = caller(lua);
    register(lua, |st| {
        if !st.chp_instances.contains(&instance) {
            st.warn(d, loc, format!("{name}: no CHP application for instance {instance}"));
            return;
        }
        st.reg.chp_actions.push(ChpAction {
            detector: d,
            instance,
            key_pattern: a.int(1) != 0,
            field: field as u8,
            pattern,
            action: action as u8,
            action_data: a.nonempty(5),
        });
    })?;
    none()
}

/// `DetectorFlow` methods; they act on the current call's flow (`self` is not needed).
fn flow_methods(lua: &Lua, t: &Table) -> mlua::Result<()> {
    let flags_arg = |args: &MultiValue| to_u32(Args(args.iter().skip(1).cloned().collect()).num(0));
    t.raw_set(
        "setFlowFlag",
        lua.create_function(move |lua, args: MultiValue| {
            let f = flags_arg(&args) & flow_flags::LIVE;
            with_call(lua, "setFlowFlag", |c| c.flow_flags |= f)?;
            none()
        })?,
    )?;
    t.raw_set(
        "clearFlowFlag",
        lua.create_function(move |lua, args: MultiValue| {
            let f = flags_arg(&args) & flow_flags::LIVE;
            with_call(lua, "clearFlowFlag", |c| c.flow_flags &= !f)?;
            none()
        })?,
    )?;
    t.raw_set(
        "getFlowFlag",
        lua.create_function(move |lua, args: MultiValue| {
            let f = flags_arg(&args);
            let v = with_call(lua, "getFlowFlag", |c| c.flow_flags & f)?;
            num(lua, f64::from(v))
        })?,
    )?;
    t.raw_set(
        "getFlowKey",
        lua.create_function(|lua, _: MultiValue| {
            let k = with_call(lua, "getFlowKey", |c| c.flow_key)?;
            one(lua, k.to_string())
        })?,
    )?;
    Ok(())
}

/// Every `Detector` method this engine provides (for `check` and the docs).
pub const DETECTOR_METHODS: &[&str] = &[
    "getPacketSize",
    "getPacketDir",
    "getPktSrcAddr",
    "getPktDstAddr",
    "getPktSrcPort",
    "getPktDstPort",
    "getL4Protocol",
    "getProtocolType",
    "getPktCount",
    "getFlow",
    "matchSimplePattern",
    "memcmp",
    "getPcreGroups",
    "getSubstr",
    "substrIndex",
    "htons",
    "htonl",
    "isMidStreamSession",
    "isHttpTunnel",
    "getHttpTunneledIp",
    "getHttpTunneledPort",
    "log",
    "cLog",
    "addService",
    "service_addService",
    "open_addServiceApp",
    "failService",
    "service_failService",
    "inProcessService",
    "service_inProcessService",
    "markIncompleteData",
    "service_markIncompleteData",
    "inCompatibleData",
    "service_inCompatibleData",
    "analyzePayload",
    "service_analyzePayload",
    "service_addClient",
    "addAppIdDataToFlow",
    "service_addAppIdDataToFlow",
    "addDataId",
    "service_addDataId",
    "service_addNetbiosDomain",
    "client_addApp",
    "open_addClientApp",
    "client_addInfo",
    "client_addUser",
    "client_addPayload",
    "open_addPayloadApp",
    "addHostPortAppDynamic",
    "createFutureFlow",
    "init",
    "service_init",
    "client_init",
    "getServiceID",
    "service_getServiceId",
    "client_getServiceId",
    "removePort",
    "service_removePort",
    "setServiceName",
    "service_setServiceName",
    "getServiceName",
    "service_getServiceName",
    "isCustomDetector",
    "service_isCustomDetector",
    "setValidator",
    "service_setValidator",
    "registerAppId",
    "open_createApp",
    "addPort",
    "service_addPort",
    "registerPattern",
    "service_registerPattern",
    "client_registerPattern",
    "addPortPatternService",
    "addPortPatternClient",
    "portOnlyService",
    "AddLengthBasedDetector",
    "registerClientDetectorCallback",
    "registerServiceDetectorCallback",
    "addHttpPattern",
    "open_addHttpPattern",
    "addAppUrl",
    "addRTMPUrl",
    "open_addUrlPattern",
    "addContentTypePattern",
    "addSSLCertPattern",
    "addSSLCnamePattern",
    "addDNSHostPattern",
    "addSipUserAgent",
    "addSipServer",
    "addSSHPattern",
    "addAlpnToServiceMapping",
    "addProcessToClientMapping",
    "addHostPortApp",
    "addHostFirstPktApp",
    "CHPCreateApp",
    "CHPMultiCreateApp",
    "CHPAddAction",
    "CHPMultiAddAction",
];

/// `DetectorFlow` methods.
pub const FLOW_METHODS: &[&str] = &["setFlowFlag", "clearFlowFlag", "getFlowFlag", "getFlowKey"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcre_escapes_high_bytes() {
        assert_eq!(pcre_pattern_text(b"a\xffb"), "a\\xffb");
        assert_eq!(pcre_pattern_text(b"\\\xff"), "\\xff");
        assert_eq!(pcre_pattern_text(b"\\\\\xff"), "\\\\\\xff");
        let re = compile_regex(b"^\xff(.)").unwrap();
        assert!(re.is_match(b"\xff\n").unwrap());
    }

    #[test]
    fn simple_match_is_bounds_checked() {
        assert_eq!(simple_match(b"SSH-2.0", b"SSH-", 4.0, 0.0), 0);
        assert_eq!(simple_match(b"SSH-2.0", b"2.0", 3.0, 4.0), 0);
        assert_eq!(simple_match(b"SSH", b"SSH-", 4.0, 0.0), 1);
        assert_eq!(simple_match(b"SSH-", b"SSH-", 4.0, 1.0), 1);
        assert_eq!(simple_match(b"ABC", b"ABD", 3.0, 0.0), -1);
        assert_eq!(simple_match(b"ABC", b"AB", 3.0, 0.0), 1);
        assert_eq!(simple_match(b"ABC", b"AB", -1.0, 0.0), 1);
    }

    #[test]
    fn length_sequences_follow_snort_validation() {
        use Direction::*;
        assert_eq!(
            parse_length_sequence(3, b"I/8,R/512,I/1024"),
            Some(vec![(FromInitiator, 8), (FromResponder, 512), (FromInitiator, 1024)])
        );
        assert_eq!(parse_length_sequence(2, b"I/8,R/512,I/1024"), None);
        assert_eq!(parse_length_sequence(1, b"X/8"), None);
        assert_eq!(parse_length_sequence(1, b"I/0"), None);
        assert_eq!(parse_length_sequence(6, b"I/1,I/1,I/1,I/1,I/1,I/1"), None);
    }
}
