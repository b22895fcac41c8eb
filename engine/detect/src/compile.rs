//! Rule compilation: AST → header match, checks, payload ops, post-match actions and the fast
//! pattern.
//!
//! A rule is rejected (reported with its file:line and a reason, never fatal) when it uses an
//! option that changes matching and that the engine cannot evaluate, a pcre no engine accepts,
//! an unknown byte_extract variable, a transform that is not implemented, or limits that could
//! hurt at match time (more than [`MAX_OPS`] payload ops, more than 8 variables...). Options
//! that do not change matching (`msg`, `reference`, `metadata`, `target`, `tag`, `filestore`,
//! `prefilter`...) are ignored.

use std::collections::HashMap;

use ids_rules::{
    BitsCombine, BitsOp, Buffer, ByteOpts, ByteTestOp, Dialect, Endian, IpSet, NumBase, NumOrVar, PortSet,
    Protocol, Rule, RuleOption,
};
use memchr::memmem;

use crate::checks::{Check, IntCmp, IntSet, IntVal, PostAction, XTrack};
use crate::facts::BufferId;
use crate::filters::FilterSpec;
use crate::ops::{Asn1Spec, ContentOp, MathOp, NumTest, Op, PcreOp, Read, TestOp, VBuf, Val, MAX_VARS};
use crate::pcre::{CompiledPcre, RegexEngine};

/// Most payload ops per rule (the evaluator recurses once per op).
pub const MAX_OPS: usize = 128;

/// Known services are compared in this spelling (`ssl` is `tls`).
pub fn canonical_service(s: &str) -> &str {
    match s {
        "ssl" => "tls",
        "http1" => "http",
        s => s,
    }
}

/// A transform of a sticky buffer (Suricata).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TransformKind {
    DotPrefix,
    ToLower,
    ToUpper,
    StripWhitespace,
    CompressWhitespace,
    UrlDecode,
    Xor(Vec<u8>),
    /// `strip_pseudo_headers`, `header_lowercase` on HTTP/1 buffers: nothing to do.
    Identity,
    /// Snort 3 `http_header:field NAME`: the value of one header (lower-case name); several
    /// lines of the same header are joined with `,`.
    HeaderField(Vec<u8>),
    /// Snort 3 `http_param:NAME`: the value of a URI query parameter (the request body is not
    /// searched).
    UriParam(Vec<u8>),
    /// Suricata `http.request_header` / `http.response_header` (multi-buffer, one `Name: value`
    /// per header): the raw header block rewritten as one `Name: value` line per header
    /// (folded lines unfolded, value trimmed), separated by `\n`. The prefilter scans the
    /// whole; the rule is evaluated on each line ([`CompiledRule::lines`]).
    HeaderLines,
}

impl TransformKind {
    fn parse(name: &str, arg: Option<&str>) -> Result<TransformKind, String> {
        Ok(match name {
            "dotprefix" => TransformKind::DotPrefix,
            "to_lowercase" => TransformKind::ToLower,
            "to_uppercase" => TransformKind::ToUpper,
            "strip_whitespace" => TransformKind::StripWhitespace,
            "compress_whitespace" => TransformKind::CompressWhitespace,
            "url_decode" => TransformKind::UrlDecode,
            "strip_pseudo_headers" | "header_lowercase" => TransformKind::Identity,
            "xor" => {
                let a = arg.ok_or("xor needs a key")?.trim().trim_matches('"');
                if a.is_empty() || a.len() % 2 != 0 || a.len() > 510 {
                    return Err(format!("invalid xor key `{a}`"));
                }
                let key = (0..a.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&a[i..i + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| format!("invalid xor key `{a}`"))?;
                TransformKind::Xor(key)
            }
            t => return Err(format!("transform `{t}` is not supported")),
        })
    }

    /// Applies the transform from `src` into `dst` (cleared first).
    pub(crate) fn apply(&self, src: &[u8], dst: &mut Vec<u8>) {
        dst.clear();
        match self {
            TransformKind::DotPrefix => {
                dst.push(b'.');
                dst.extend_from_slice(src);
            }
            TransformKind::ToLower => dst.extend(src.iter().map(u8::to_ascii_lowercase)),
            TransformKind::ToUpper => dst.extend(src.iter().map(u8::to_ascii_uppercase)),
            TransformKind::StripWhitespace => dst.extend(src.iter().filter(|b| !b.is_ascii_whitespace())),
            TransformKind::CompressWhitespace => {
                let mut prev_ws = false;
                for &b in src {
                    let ws = b.is_ascii_whitespace() || b == 0x0b;
                    if ws {
                        if !prev_ws {
                            dst.push(b' ');
                        }
                    } else {
                        dst.push(b);
                    }
                    prev_ws = ws;
                }
            }
            TransformKind::UrlDecode => {
                let mut i = 0;
                while i < src.len() {
                    let b = src[i];
                    if b == b'%' && i + 2 < src.len() {
                        let hex = |c: u8| (c as char).to_digit(16);
                        if let (Some(h), Some(l)) = (hex(src[i + 1]), hex(src[i + 2])) {
                            dst.push((h * 16 + l) as u8);
                            i += 3;
                            continue;
                        }
                    }
                    dst.push(if b == b'+' { b' ' } else { b });
                    i += 1;
                }
            }
            TransformKind::Xor(key) => {
                dst.extend(src.iter().enumerate().map(|(i, b)| b ^ key[i % key.len()]));
            }
            TransformKind::Identity => dst.extend_from_slice(src),
            TransformKind::HeaderField(name) => {
                for line in src.split(|&b| b == b'\n') {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let Some(colon) = line.iter().position(|&b| b == b':') else {
                        continue;
                    };
                    if line[..colon].trim_ascii().eq_ignore_ascii_case(name) {
                        if !dst.is_empty() {
                            dst.push(b',');
                        }
                        dst.extend_from_slice(line[colon + 1..].trim_ascii());
                    }
                }
            }
            TransformKind::HeaderLines => {
                let mut first = true;
                for line in src.split(|&b| b == b'\n') {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if line.is_empty() {
                        if first {
                            continue;
                        }
                        break;
                    }
                    if line[0] == b' ' || line[0] == b'\t' {
                        // Folded continuation of the previous header's value.
                        if !first {
                            let v = line.trim_ascii();
                            if !v.is_empty() {
                                dst.push(b' ');
                                dst.extend_from_slice(v);
                            }
                        }
                        continue;
                    }
                    let Some(colon) = line.iter().position(|&b| b == b':') else {
                        continue;
                    };
                    if !first {
                        dst.push(b'\n');
                    }
                    first = false;
                    dst.extend_from_slice(line[..colon].trim_ascii_end());
                    dst.extend_from_slice(b": ");
                    dst.extend_from_slice(line[colon + 1..].trim_ascii());
                }
            }
            TransformKind::UriParam(name) => {
                let Some(q) = src.iter().position(|&b| b == b'?') else {
                    return;
                };
                for kv in src[q + 1..].split(|&b| b == b'&') {
                    let (k, v) = match kv.iter().position(|&b| b == b'=') {
                        Some(e) => (&kv[..e], &kv[e + 1..]),
                        None => (kv, &kv[kv.len()..]),
                    };
                    if k.eq_ignore_ascii_case(name) {
                        dst.extend_from_slice(v);
                        return;
                    }
                }
            }
        }
    }
}

/// A buffer after a chain of transforms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct VBufDef {
    pub base: BufferId,
    pub chain: Vec<TransformKind>,
}

/// The registry of transformed buffers shared by all rules of a set.
#[derive(Default)]
pub(crate) struct VBufs {
    pub defs: Vec<VBufDef>,
    index: HashMap<VBufDef, VBuf>,
}

impl VBufs {
    fn intern(&mut self, base: BufferId, chain: &[TransformKind]) -> Result<VBuf, String> {
        if chain.is_empty() {
            return Ok(base as VBuf);
        }
        let def = VBufDef { base, chain: chain.to_vec() };
        if let Some(&v) = self.index.get(&def) {
            return Ok(v);
        }
        let v = BufferId::COUNT + self.defs.len();
        let v = VBuf::try_from(v).map_err(|_| "too many transformed buffers".to_owned())?;
        self.defs.push(def.clone());
        self.index.insert(def, v);
        Ok(v)
    }

    /// Display name of a vbuf.
    pub(crate) fn name(&self, v: VBuf) -> String {
        let v = usize::from(v);
        if v < BufferId::COUNT {
            BufferId::ALL[v].to_rule_buffer().name().to_owned()
        } else {
            let d = &self.defs[v - BufferId::COUNT];
            let mut s = d.base.to_rule_buffer().name().to_owned();
            for t in &d.chain {
                s.push('+');
                s.push_str(&format!("{t:?}").to_lowercase());
            }
            s
        }
    }
}

/// Header protocol selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProtoSel {
    /// Any IP packet.
    Any,
    /// ICMPv4 or ICMPv6.
    Icmp,
    /// One IP protocol number.
    Num(u8),
}

/// The header part of a rule.
#[derive(Clone, Debug)]
pub(crate) struct HeaderMatch {
    pub proto: ProtoSel,
    pub ip_version: Option<u8>,
    pub src: Option<IpSet>,
    pub dst: Option<IpSet>,
    pub sport: Option<PortSet>,
    pub dport: Option<PortSet>,
    pub bidir: bool,
    /// Service ids (interned); empty = not a service rule.
    pub services: Vec<u16>,
    /// Suricata app-layer header protocol (`alert http ...`): on TCP the rule only applies to
    /// packets of an established session, since Suricata looks at the flow's app protocol only
    /// for packets flagged `PKT_STREAM_EST` (detect.c `DetectRunSetup`), so a SYN carrying TCP
    /// Fast Open data never matches an app-layer rule.
    pub app_needs_established: bool,
}

/// The prefilter pattern of a rule.
#[derive(Clone, Debug)]
pub(crate) struct FastPat {
    pub vbuf: VBuf,
    /// Lower-cased (the automata are case-insensitive, like Snort's MPM).
    pub pat: Vec<u8>,
}

/// A compiled rule.
pub(crate) struct CompiledRule {
    pub hdr: HeaderMatch,
    pub checks: Vec<Check>,
    pub ops: Vec<Op>,
    pub post: Vec<PostAction>,
    pub threshold: Option<FilterSpec>,
    pub detection_filter: Option<FilterSpec>,
    pub fast: Option<FastPat>,
    pub noalert: bool,
    /// 0: sets flowbits or touches none, 1: sets and checks, 2: only checks — evaluation order,
    /// so that a setter matched in the same packet is seen by the checkers (Suricata orders
    /// signatures this way).
    pub flowbit_order: u8,
    pub engines: Vec<RegexEngine>,
    /// A multi-buffer (`http.request_header`): the rule is evaluated once per `\n`-separated
    /// line of this buffer and matches if one line does (Suricata's multi-buffer matching).
    pub lines: Option<VBuf>,
}

/// Shared compile-time tables (interned names, transformed buffers).
#[derive(Default)]
pub(crate) struct Interner {
    pub vbufs: VBufs,
    pub flowbits: HashMap<String, u32>,
    pub flowbit_groups: HashMap<String, Vec<u32>>,
    pub xbits: HashMap<String, u32>,
    pub flowints: HashMap<String, u32>,
    pub services: HashMap<String, u16>,
}

impl Interner {
    fn id(map: &mut HashMap<String, u32>, name: &str) -> u32 {
        let n = map.len() as u32;
        *map.entry(name.to_owned()).or_insert(n)
    }

    pub(crate) fn service(&mut self, name: &str) -> u16 {
        let name = canonical_service(&name.to_ascii_lowercase()).to_owned();
        let n = self.services.len() as u16;
        *self.services.entry(name).or_insert(n)
    }
}

fn val(v: &NumOrVar, vars: &HashMap<String, u8>) -> Result<Val, String> {
    match v {
        NumOrVar::Num(n) => Ok(Val::Num(*n)),
        NumOrVar::Var(name) => {
            vars.get(name).map(|&i| Val::Var(i)).ok_or_else(|| format!("unknown variable `{name}`"))
        }
    }
}

fn read_of(bytes: u32, o: &ByteOpts, what: &str) -> Result<Read, String> {
    let string = o.string.map(|b| match b {
        NumBase::Dec => 10,
        NumBase::Hex => 16,
        NumBase::Oct => 8,
    });
    let max = if string.is_some() { 10 } else { 8 };
    if (bytes == 0 && string.is_none()) || bytes > max {
        return Err(format!("{what}: cannot read {bytes} bytes (1..={max})"));
    }
    Ok(Read { bytes, little: matches!(o.endian, Endian::Little | Endian::Dce), string, bitmask: o.bitmask })
}

/// Suricata-style "pattern strength": rare bytes score higher than common ones.
fn strength(p: &[u8]) -> u32 {
    let mut seen = [false; 256];
    let mut s = 0u32;
    for &b in p {
        let w = match b {
            0x00 | 0x20 | 0xff | b'0' | b'.' | b'/' => 1,
            b if b.is_ascii_alphabetic() => 3,
            b if b.is_ascii_graphic() => 4,
            _ => 6,
        };
        s += if seen[usize::from(b)] { 1 } else { w };
        seen[usize::from(b)] = true;
    }
    s
}

fn ipopt_code(name: &str) -> Result<Option<u8>, String> {
    Ok(Some(match name {
        "any" => return Ok(None),
        "eol" => 0,
        "nop" => 1,
        "rr" => 7,
        "ts" => 68,
        "sec" => 130,
        "lsrr" | "lsrre" => 131,
        "esec" => 133,
        "satid" => 136,
        "ssrr" => 137,
        o => return Err(format!("unknown ipopts `{o}`")),
    }))
}

fn ip_proto_num(s: &str) -> Result<u8, String> {
    if let Ok(n) = s.parse::<u8>() {
        return Ok(n);
    }
    Ok(match s.to_ascii_lowercase().as_str() {
        "icmp" => 1,
        "igmp" => 2,
        "ipip" | "ipencap" => 4,
        "tcp" => 6,
        "udp" => 17,
        "ipv6" => 41,
        "rsvp" => 46,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" | "ipv6-icmp" => 58,
        "pim" => 103,
        "sctp" => 132,
        o => return Err(format!("unknown ip_proto `{o}`")),
    })
}

fn ssl_bit(s: &str, version: bool) -> Result<u8, String> {
    use crate::facts::{ssl_state as st, ssl_version as sv};
    let s = s.to_ascii_lowercase();
    Ok(if version {
        match s.as_str() {
            "sslv2" => sv::SSLV2,
            "sslv3" => sv::SSLV3,
            "tls1.0" => sv::TLS1_0,
            "tls1.1" => sv::TLS1_1,
            "tls1.2" => sv::TLS1_2,
            "tls1.3" => sv::TLS1_3,
            o => return Err(format!("unknown ssl_version `{o}`")),
        }
    } else {
        match s.as_str() {
            "client_hello" => st::CLIENT_HELLO,
            "server_hello" => st::SERVER_HELLO,
            "client_keyx" => st::CLIENT_KEYX,
            "server_keyx" => st::SERVER_KEYX,
            "unknown" => st::UNKNOWN,
            "application_data" => st::APP_DATA,
            o => return Err(format!("unknown ssl_state `{o}`")),
        }
    })
}

/// Options kept as `Other` that do not change whether a rule matches.
const NO_MATCH_EFFECT: &[&str] = &[
    "rem",
    "filestore",
    "logto",
    "session",
    "resp",
    "react",
    "activates",
    "activated_by",
    "count",
    "tls.store",
    "tls_store",
    "prefilter",
    "bypass",
    "config",
    "requires",
    "sd_pattern_log",
];

fn bits_of(names: &[String], group: Option<&str>, it: &mut Interner) -> Vec<u32> {
    // Snort 2 groups: `flowbits:isset,any,group` / `all,group` address the group's members.
    if let (Some(g), [only]) = (group, names) {
        if only == "any" || only == "all" {
            return it.flowbit_groups.get(g).cloned().unwrap_or_default();
        }
    }
    names.iter().map(|n| Interner::id(&mut it.flowbits, n)).collect()
}

/// Compiles one rule. `Err` carries the reason for the report.
pub(crate) fn compile_rule(rule: &Rule, it: &mut Interner) -> Result<CompiledRule, String> {
    let suricata = rule.dialect == Dialect::Suricata;
    let snort2 = rule.dialect == Dialect::Snort2;
    // `lo<>hi` includes its bounds in Snort 2 only (Snort 3 RangeCheck and Suricata exclude).
    let incl = snort2;

    let mut checks: Vec<Check> = Vec::new();
    let mut post: Vec<PostAction> = Vec::new();
    let mut ops: Vec<Op> = Vec::new();
    let mut flow_stream: Option<bool> = None;

    // --- header ---
    let (proto, ip_version, app) = match &rule.protocol {
        Protocol::None => return Err("stub rule without a header (builtin event rule)".into()),
        Protocol::Ip => (ProtoSel::Any, None, None),
        Protocol::Tcp => (ProtoSel::Num(6), None, None),
        Protocol::Udp => (ProtoSel::Num(17), None, None),
        Protocol::Icmp => (ProtoSel::Icmp, None, None),
        Protocol::Layer(l) => match l.as_str() {
            "ipv4" | "ip4" => (ProtoSel::Any, Some(4), None),
            "ipv6" | "ip6" => (ProtoSel::Any, Some(6), None),
            "icmpv4" => (ProtoSel::Num(1), None, None),
            "icmpv6" => (ProtoSel::Num(58), None, None),
            "tcp-pkt" => {
                flow_stream = Some(false);
                (ProtoSel::Num(6), None, None)
            }
            "tcp-stream" => {
                flow_stream = Some(true);
                (ProtoSel::Num(6), None, None)
            }
            "sctp" => (ProtoSel::Num(132), None, None),
            "igmp" => (ProtoSel::Num(2), None, None),
            "pkthdr" => (ProtoSel::Any, None, None),
            l => return Err(format!("header protocol `{l}` is not supported")),
        },
        Protocol::App(a) => (ProtoSel::Any, None, Some(a.clone())),
    };
    let mut services: Vec<u16> = Vec::new();
    if let Some(a) = &app {
        services.push(it.service(a));
    }
    for s in &rule.meta.services {
        let id = it.service(s);
        if !services.contains(&id) {
            services.push(id);
        }
    }
    let opt_set = |s: &IpSet| if s.is_any() { None } else { Some(s.clone()) };
    let opt_ports = |s: &PortSet| if s.is_any() { None } else { Some(s.clone()) };
    let hdr = HeaderMatch {
        proto,
        ip_version,
        src: opt_set(&rule.src_set),
        dst: opt_set(&rule.dst_set),
        sport: opt_ports(&rule.src_port_set),
        dport: opt_ports(&rule.dst_port_set),
        bidir: rule.direction != ids_rules::Direction::ToDst,
        services,
        app_needs_established: suricata && app.is_some(),
    };

    // --- options ---
    let mut vars: HashMap<String, u8> = HashMap::new();
    let mut sticky_base = BufferId::PktData;
    // The buffer the parser attributes to contents after the sticky selection (differs from
    // `sticky_base` for `http_param`, which is derived from the URI).
    let mut sticky_rule_buf = BufferId::PktData;
    let mut chain: Vec<TransformKind> = Vec::new();
    let mut sticky: VBuf = BufferId::PktData as VBuf;
    let mut cursor_buf: VBuf = sticky;
    let mut threshold = None;
    let mut detection_filter = None;
    let mut noalert = false;
    let mut engines = Vec::new();
    let mut fp_explicit: Option<(usize, usize, usize)> = None; // (op index, offset, len)
    let mut fp_only: Option<usize> = None;
    let (mut sets_bits, mut checks_bits) = (false, false);

    let buf_id = |b: &Buffer| -> Result<BufferId, String> {
        if header_lines_dir(b).is_some() {
            return Ok(BufferId::HttpRawHeader);
        }
        BufferId::from_rule_buffer(b).ok_or_else(|| format!("buffer `{}` is not supported", b.name()))
    };
    let mut lines: Option<VBuf> = None;
    let mut lines_dir: Option<bool> = None;
    let mut inspects_dns_query = false;
    let new_var = |vars: &mut HashMap<String, u8>, name: &str| -> Result<u8, String> {
        let n = vars.len();
        if let Some(&i) = vars.get(name) {
            return Ok(i);
        }
        if n >= MAX_VARS {
            return Err(format!("more than {MAX_VARS} byte_extract/byte_math variables"));
        }
        vars.insert(name.to_owned(), n as u8);
        Ok(n as u8)
    };

    for opt in &rule.options {
        use RuleOption as O;
        match opt {
            O::Msg(_)
            | O::Sid(_)
            | O::Gid(_)
            | O::Rev(_)
            | O::Classtype(_)
            | O::Priority(_)
            | O::Reference(_)
            | O::Metadata(_)
            | O::Service(_)
            | O::Target { .. }
            | O::Tag(_) => {}
            O::Noalert => noalert = true,
            O::Buffer(sb) => {
                sticky_base = buf_id(&sb.buffer)?;
                sticky_rule_buf = sticky_base;
                inspects_dns_query |= sticky_base == BufferId::DnsQuery;
                chain.clear();
                if let Some(to_server) = header_lines_dir(&sb.buffer) {
                    if lines_dir.is_some_and(|d| d != to_server) {
                        return Err("more than one http.request_header/http.response_header".into());
                    }
                    chain.push(TransformKind::HeaderLines);
                    lines_dir = Some(to_server);
                }
                let arg = sb.arg.as_deref().map(|a| a.trim().trim_matches('"').trim());
                match (sticky_base, arg) {
                    (BufferId::HttpHeader | BufferId::HttpRawHeader, Some(a)) if a.starts_with("field") => {
                        let name = a["field".len()..].trim();
                        if name.is_empty() {
                            return Err("http_header:field needs a header name".into());
                        }
                        chain.push(TransformKind::HeaderField(name.to_ascii_lowercase().into_bytes()));
                    }
                    (BufferId::HttpParam, Some(a)) if !a.is_empty() => {
                        // Snort 3 `http_param:"name"`: the value of a query parameter.
                        let name = a.split(',').next().unwrap_or(a).trim().trim_matches('"');
                        sticky_base = BufferId::HttpUri;
                        chain.push(TransformKind::UriParam(name.as_bytes().to_vec()));
                    }
                    (BufferId::HttpParam, _) => return Err("http_param needs a parameter name".into()),
                    _ => {}
                }
                sticky = it.vbufs.intern(sticky_base, &chain)?;
                cursor_buf = sticky;
            }
            O::Transform(t) => {
                let tk = TransformKind::parse(&t.name, t.arg.as_deref())?;
                if chain.first() == Some(&TransformKind::HeaderLines)
                    && !matches!(
                        tk,
                        TransformKind::ToLower | TransformKind::ToUpper | TransformKind::Identity
                    )
                {
                    return Err(format!("transform `{}` on http.request_header/response_header", t.name));
                }
                chain.push(tk);
                sticky = it.vbufs.intern(sticky_base, &chain)?;
                cursor_buf = sticky;
            }
            O::Content(c) => {
                let mut b = buf_id(&c.buffer)?;
                if c.rawbytes && !suricata && b == BufferId::PktData {
                    b = BufferId::RawData;
                }
                let vbuf = if b == sticky_rule_buf { sticky } else { b as VBuf };
                if chain.first() == Some(&TransformKind::HeaderLines) && vbuf == sticky {
                    if lines.is_some_and(|l| l != vbuf) {
                        return Err("more than one http.request_header/http.response_header".into());
                    }
                    lines = Some(vbuf);
                } else if b == BufferId::HttpRawHeader && lines_dir.is_some() {
                    return Err("http_raw_header mixed with http.request_header/response_header".into());
                }
                let relative = c.distance.is_some() || c.within.is_some();
                if relative && (c.offset.is_some() || c.depth.is_some()) {
                    return Err("content mixes offset/depth with distance/within".into());
                }
                let plen = c.pattern.len() as i64;
                for (what, v) in [("depth", &c.depth), ("within", &c.within)] {
                    if let Some(NumOrVar::Num(n)) = v {
                        if *n != 0 && *n < plen {
                            return Err(format!("{what} {n} is less than the content length {plen}"));
                        }
                    }
                }
                let (start, span) = if relative {
                    (c.distance.as_ref(), c.within.as_ref())
                } else {
                    (c.offset.as_ref(), c.depth.as_ref())
                };
                let start = start.map(|v| val(v, &vars)).transpose()?;
                let span = match span.map(|v| val(v, &vars)).transpose()? {
                    None if c.startswith => Some(Val::Num(plen)),
                    s => s,
                };
                let pat: Vec<u8> = if c.nocase { c.pattern.to_ascii_lowercase() } else { c.pattern.clone() };
                let idx = ops.len();
                if let Some(fp) = &c.fast_pattern {
                    if fp_explicit.is_none() && !c.negated {
                        let off = fp.offset.unwrap_or(0) as usize;
                        let len = fp.length.map_or(c.pattern.len(), |l| l as usize);
                        fp_explicit = Some((idx, off, len));
                        if fp.only && !suricata && c.offset.is_none() && c.depth.is_none() && !relative {
                            fp_only = Some(idx);
                        }
                    }
                }
                ops.push(Op::Content(Box::new(ContentOp {
                    buf: vbuf,
                    finder: memmem::Finder::new(&pat).into_owned(),
                    pat,
                    nocase: c.nocase,
                    negated: c.negated,
                    relative,
                    start,
                    span,
                    endswith: c.endswith,
                    retry: false,
                    keep_cursor: false,
                    neg_empty_holds: suricata,
                })));
                cursor_buf = vbuf;
            }
            O::Pcre(p) => {
                let vbuf = if p.buffer_from_flag { buf_id(&p.buffer)? as VBuf } else { sticky };
                let (re, engine) = CompiledPcre::compile(p)?;
                engines.push(engine);
                ops.push(Op::Pcre(Box::new(PcreOp {
                    buf: vbuf,
                    re,
                    negated: p.negated,
                    relative: p.flags.relative,
                    retry: false,
                })));
                cursor_buf = vbuf;
            }
            O::ByteTest(t) => {
                let buf = if t.opts.relative { cursor_buf } else { sticky };
                ops.push(Op::ByteTest {
                    buf,
                    read: read_of(t.bytes, &t.opts, "byte_test")?,
                    offset: val(&t.offset, &vars)?,
                    relative: t.opts.relative,
                    negated: t.negated,
                    op: match t.op {
                        ByteTestOp::Lt => TestOp::Lt,
                        ByteTestOp::Gt => TestOp::Gt,
                        ByteTestOp::Eq => TestOp::Eq,
                        ByteTestOp::Le => TestOp::Le,
                        ByteTestOp::Ge => TestOp::Ge,
                        ByteTestOp::And => TestOp::And,
                        ByteTestOp::Xor => TestOp::Xor,
                    },
                    value: val(&t.value, &vars)?,
                });
            }
            O::ByteJump(j) => {
                let buf = if j.opts.relative { cursor_buf } else { sticky };
                ops.push(Op::ByteJump {
                    buf,
                    read: read_of(j.bytes, &j.opts, "byte_jump")?,
                    offset: val(&j.offset, &vars)?,
                    relative: j.opts.relative,
                    multiplier: i64::from(j.multiplier.unwrap_or(1)),
                    align: j.align,
                    from_beginning: j.from_beginning,
                    from_end: j.from_end,
                    post_offset: j.post_offset.unwrap_or(0),
                });
                cursor_buf = buf;
            }
            O::ByteExtract(x) => {
                let buf = if x.opts.relative { cursor_buf } else { sticky };
                let read = read_of(x.bytes, &x.opts, "byte_extract")?;
                let var = new_var(&mut vars, &x.name)?;
                ops.push(Op::ByteExtract {
                    buf,
                    read,
                    offset: x.offset,
                    relative: x.opts.relative,
                    multiplier: i64::from(x.multiplier.unwrap_or(1)),
                    align: i64::from(x.align.unwrap_or(0)),
                    var,
                });
                cursor_buf = buf;
            }
            O::ByteMath(m) => {
                let buf = if m.opts.relative { cursor_buf } else { sticky };
                let read = read_of(m.bytes, &m.opts, "byte_math")?;
                let rvalue = val(&m.rvalue, &vars)?;
                let var = new_var(&mut vars, &m.result)?;
                let op = match m.oper.as_str() {
                    "+" => MathOp::Add,
                    "-" => MathOp::Sub,
                    "*" => MathOp::Mul,
                    "/" => MathOp::Div,
                    "<<" => MathOp::Shl,
                    ">>" => MathOp::Shr,
                    o => return Err(format!("unknown byte_math operator `{o}`")),
                };
                ops.push(Op::ByteMath {
                    buf,
                    read,
                    offset: m.offset,
                    relative: m.opts.relative,
                    op,
                    rvalue,
                    var,
                });
            }
            O::IsDataAt(d) => {
                let mut buf = if d.relative { cursor_buf } else { sticky };
                if d.rawbytes && !suricata && buf == BufferId::PktData as VBuf {
                    buf = BufferId::RawData as VBuf;
                }
                ops.push(Op::IsDataAt {
                    buf,
                    negated: d.negated,
                    offset: val(&d.offset, &vars)?,
                    relative: d.relative,
                    suricata,
                });
            }
            O::BufferLen { check, relative } => {
                let buf = if *relative { cursor_buf } else { sticky };
                ops.push(Op::BufferLen { buf, test: NumTest::new(check, incl), relative: *relative });
            }
            O::Dsize(c) => checks.push(Check::Dsize(NumTest::new(c, incl))),
            O::Urilen { check, raw } => {
                // Snort defaults to the raw URI, Suricata to the normalised one.
                let raw = raw.unwrap_or(!suricata);
                let b = if raw { BufferId::HttpRawUri } else { BufferId::HttpUri };
                checks.push(Check::BufLen { buf: b as VBuf, test: NumTest::new(check, incl) });
            }
            O::Flow(f) => {
                let established = if f.established {
                    Some(true)
                } else if f.not_established {
                    Some(false)
                } else {
                    None
                };
                let stream = if f.only_stream {
                    Some(true)
                } else if f.no_stream {
                    Some(false)
                } else {
                    None
                };
                let frag = if f.only_frag {
                    Some(true)
                } else if f.no_frag {
                    Some(false)
                } else {
                    None
                };
                checks.push(Check::Flow { established, to_server: f.to_server, stream, frag });
            }
            O::Flowbits(fb) => {
                let bits = bits_of(&fb.names, fb.group.as_deref(), it);
                if let Some(g) = &fb.group {
                    if matches!(fb.op, BitsOp::Set | BitsOp::SetX) {
                        let members = it.flowbit_groups.entry(g.clone()).or_default();
                        for b in &bits {
                            if !members.contains(b) {
                                members.push(*b);
                            }
                        }
                    }
                }
                let any = fb.combine == BitsCombine::Any;
                match fb.op {
                    BitsOp::Set | BitsOp::SetX => {
                        sets_bits = true;
                        post.push(PostAction::FlowbitsSet(bits))
                    }
                    BitsOp::Unset => {
                        sets_bits = true;
                        post.push(PostAction::FlowbitsUnset(bits))
                    }
                    BitsOp::Toggle => {
                        sets_bits = true;
                        post.push(PostAction::FlowbitsToggle(bits))
                    }
                    BitsOp::Reset => post.push(PostAction::FlowbitsReset),
                    BitsOp::IsSet => {
                        checks_bits = true;
                        checks.push(Check::Flowbits { set: true, bits, any })
                    }
                    BitsOp::IsNotSet => {
                        checks_bits = true;
                        checks.push(Check::Flowbits { set: false, bits, any })
                    }
                    BitsOp::NoAlert => noalert = true,
                }
            }
            O::Xbits(x) => {
                let track = match x.track.as_str() {
                    "ip_src" => XTrack::Src,
                    "ip_dst" => XTrack::Dst,
                    "ip_pair" => XTrack::Pair,
                    t => return Err(format!("xbits track `{t}` is not supported")),
                };
                let bits: Vec<u32> = x.names.iter().map(|n| Interner::id(&mut it.xbits, n)).collect();
                let any = x.combine == BitsCombine::Any;
                let expire_s = x.expire.unwrap_or(3600);
                match x.op {
                    BitsOp::Set | BitsOp::SetX => post.push(PostAction::XbitsSet { bits, track, expire_s }),
                    BitsOp::Unset => post.push(PostAction::XbitsUnset { bits, track }),
                    BitsOp::Toggle => post.push(PostAction::XbitsToggle { bits, track, expire_s }),
                    BitsOp::IsSet => checks.push(Check::Xbits { set: true, bits, any, track }),
                    BitsOp::IsNotSet => checks.push(Check::Xbits { set: false, bits, any, track }),
                    BitsOp::NoAlert => noalert = true,
                    BitsOp::Reset => return Err("xbits reset is not supported".into()),
                }
            }
            O::Flowint(f) => {
                let id = Interner::id(&mut it.flowints, &f.name);
                let v = match &f.value {
                    None => IntVal::Num(0),
                    Some(NumOrVar::Num(n)) => IntVal::Num(*n),
                    Some(NumOrVar::Var(n)) => IntVal::Var(Interner::id(&mut it.flowints, n)),
                };
                let cmp = |c| Check::Flowint { id, cmp: c, val: v };
                match f.op.as_str() {
                    "=" => post.push(PostAction::Flowint { id, op: IntSet::Assign, val: v }),
                    "+" => post.push(PostAction::Flowint { id, op: IntSet::Add, val: v }),
                    "-" => post.push(PostAction::Flowint { id, op: IntSet::Sub, val: v }),
                    "==" => checks.push(cmp(IntCmp::Eq)),
                    "!=" => checks.push(cmp(IntCmp::Ne)),
                    "<" => checks.push(cmp(IntCmp::Lt)),
                    ">" => checks.push(cmp(IntCmp::Gt)),
                    "<=" => checks.push(cmp(IntCmp::Le)),
                    ">=" => checks.push(cmp(IntCmp::Ge)),
                    "isset" => checks.push(cmp(IntCmp::IsSet)),
                    _ => checks.push(cmp(IntCmp::NotSet)),
                }
            }
            O::StreamSize { side, check } => {
                let side = match side.as_str() {
                    "client" | "to_server" => 0,
                    "server" | "to_client" => 1,
                    "both" => 2,
                    _ => 3,
                };
                checks.push(Check::StreamSize { side, test: NumTest::new(check, incl) });
            }
            O::Ttl(c) => checks.push(Check::Ttl(NumTest::new(c, incl))),
            O::Tos(c) => checks.push(Check::Tos(NumTest::new(c, incl))),
            O::IpId(c) => checks.push(Check::IpId(NumTest::new(c, incl))),
            O::Ipopts(o) => checks.push(Check::Ipopts(ipopt_code(o.trim())?)),
            O::IpProto { op, proto } => checks.push(Check::IpProto { op: *op, proto: ip_proto_num(proto)? }),
            O::Itype(c) => checks.push(Check::Itype(NumTest::new(c, incl))),
            O::Icode(c) => checks.push(Check::Icode(NumTest::new(c, incl))),
            O::IcmpId(c) => checks.push(Check::IcmpId(NumTest::new(c, incl))),
            O::IcmpSeq(c) => checks.push(Check::IcmpSeq(NumTest::new(c, incl))),
            O::Sameip => checks.push(Check::Sameip),
            O::Ack(c) => checks.push(Check::Ack(NumTest::new(c, incl))),
            O::Seq(c) => checks.push(Check::Seq(NumTest::new(c, incl))),
            O::Window(c) => checks.push(Check::Window(NumTest::new(c, incl))),
            O::Flags(f) => checks.push(Check::Flags { modifier: f.modifier, flags: f.flags, mask: f.mask }),
            O::Fragbits(f) => checks.push(Check::Fragbits { modifier: f.modifier, bits: f.bits }),
            O::Fragoffset(c) => checks.push(Check::Fragoffset(NumTest::new(c, incl))),
            O::Threshold(t) => threshold = Some(FilterSpec::from_rule(t)?),
            O::DetectionFilter(t) => detection_filter = Some(FilterSpec::from_rule(t)?),
            O::AppLayerProtocol { negated, proto, mode } => {
                if mode.as_deref().is_some_and(|m| m != "either" && m != "final") {
                    return Err(format!(
                        "app-layer-protocol mode `{}` is not supported",
                        mode.as_deref().unwrap_or("")
                    ));
                }
                let p = canonical_service(&proto.to_ascii_lowercase()).to_owned();
                checks.push(Check::AppProto { negated: *negated, proto: p });
            }
            O::Event { negated, name, .. } => {
                checks.push(Check::Event { negated: *negated, name: name.clone() });
            }
            O::SslState(items) => checks.push(Check::SslState(
                items.iter().map(|(n, s)| Ok((*n, ssl_bit(s, false)?))).collect::<Result<_, String>>()?,
            )),
            O::SslVersion(items) => checks.push(Check::SslVersion(
                items.iter().map(|(n, s)| Ok((*n, ssl_bit(s, true)?))).collect::<Result<_, String>>()?,
            )),
            O::Appids(names) => checks.push(Check::Appids(names.clone())),
            O::Base64Decode { bytes, offset, relative } => {
                let buf = if *relative { cursor_buf } else { sticky };
                ops.push(Op::Base64Decode {
                    buf,
                    bytes: bytes.map(|b| b as usize),
                    offset: i64::from(offset.unwrap_or(0)),
                    relative: *relative,
                });
            }
            O::Asn1(words) => {
                let mut a = Asn1Spec::default();
                for w in words {
                    let mut it2 = w.split_whitespace();
                    match (it2.next(), it2.next()) {
                        (Some("bitstring_overflow"), None) => a.bitstring_overflow = true,
                        (Some("double_overflow"), None) => a.double_overflow = true,
                        (Some("print"), None) => {}
                        (Some("oversize_length"), Some(n)) => {
                            a.oversize_length =
                                Some(n.parse().map_err(|_| format!("invalid asn1 length `{n}`"))?)
                        }
                        (Some("absolute_offset"), Some(n)) => {
                            a.offset = n.parse().map_err(|_| format!("invalid asn1 offset `{n}`"))?
                        }
                        (Some("relative_offset"), Some(n)) => {
                            a.offset = n.parse().map_err(|_| format!("invalid asn1 offset `{n}`"))?;
                            a.relative = true;
                        }
                        _ => return Err(format!("unknown asn1 argument `{w}`")),
                    }
                }
                let buf = if a.relative { cursor_buf } else { sticky };
                ops.push(Op::Asn1 { buf, spec: a });
            }
            O::Other { name, value, .. } => match name.as_str() {
                n if NO_MATCH_EFFECT.contains(&n) => {}
                "ber_data" | "ber_skip" => {
                    let v = value.as_deref().unwrap_or("");
                    let mut parts = v.split(',').map(str::trim);
                    let t = parts.next().unwrap_or("");
                    let tag = parse_u32_any(t).ok_or_else(|| format!("invalid {name} type `{t}`"))?;
                    let optional = parts.any(|p| p == "optional");
                    ops.push(Op::Ber { buf: cursor_buf, tag, skip: name == "ber_skip", optional });
                }
                "sip_method" => {
                    // Matches when the request method is one of the listed ones.
                    let v = value.as_deref().unwrap_or("");
                    let alts: Vec<String> = v.split(',').map(|m| regex::escape(m.trim())).collect();
                    let text = format!("pcre:\"/^(?:{})$/\";", alts.join("|"));
                    let p = ids_rules::parse_rule(
                        &format!("alert tcp any any -> any any ({text} sid:1;)"),
                        &Default::default(),
                    )
                    .map_err(|e| e.to_string())?;
                    if let Some(O::Pcre(pc)) = p.options.first() {
                        let (re, engine) = CompiledPcre::compile(pc)?;
                        engines.push(engine);
                        ops.push(Op::Pcre(Box::new(PcreOp {
                            buf: BufferId::SipMethod as VBuf,
                            re,
                            negated: false,
                            relative: false,
                            retry: false,
                        })));
                    }
                }
                "dce_iface" => {
                    let v = value.as_deref().unwrap_or("");
                    let mut parts = v.split(',').map(str::trim);
                    // Snort 2 `dce_iface:UUID[,<ver][,any_frag]`, Snort 3 `dce_iface:uuid UUID[,version <ver]`.
                    let first = parts.next().unwrap_or("");
                    let first = first.strip_prefix("uuid").unwrap_or(first).trim();
                    let hex: String = first.chars().filter(|c| *c != '-').collect();
                    if hex.len() != 32 {
                        return Err(format!("invalid dce_iface uuid `{v}`"));
                    }
                    let uuid = u128::from_str_radix(&hex, 16)
                        .map_err(|_| format!("invalid dce_iface uuid `{v}`"))?;
                    let mut version = None;
                    for p in parts {
                        if p == "any_frag" {
                            continue;
                        }
                        let p = p.strip_prefix("version").unwrap_or(p).trim();
                        let c = ids_rules::NumCheck {
                            op: match p.chars().next() {
                                Some('<') => ids_rules::CmpOp::Lt,
                                Some('>') => ids_rules::CmpOp::Gt,
                                Some('!') => ids_rules::CmpOp::Ne,
                                _ => ids_rules::CmpOp::Eq,
                            },
                            value: p
                                .trim_start_matches(['<', '>', '!', '='])
                                .trim()
                                .parse()
                                .map_err(|_| format!("invalid dce_iface version `{p}`"))?,
                            high: None,
                        };
                        version = Some(NumTest::new(&c, false));
                    }
                    checks.push(Check::DceIface { uuid, version });
                }
                "dce_opnum" => {
                    let v = value.as_deref().unwrap_or("").trim_matches('"');
                    let mut ranges = Vec::new();
                    for p in v.split(',').map(str::trim) {
                        let (lo, hi) = p.split_once('-').unwrap_or((p, p));
                        let lo: u16 = lo.trim().parse().map_err(|_| format!("invalid dce_opnum `{v}`"))?;
                        let hi: u16 = hi.trim().parse().map_err(|_| format!("invalid dce_opnum `{v}`"))?;
                        ranges.push((lo.min(hi), lo.max(hi)));
                    }
                    checks.push(Check::DceOpnum(ranges));
                }
                "ftpbounce" => ops.push(Op::FtpBounce { buf: cursor_buf }),
                "sip_stat_code" => {
                    let v = value.as_deref().unwrap_or("");
                    let codes = v
                        .split(',')
                        .map(|c| c.trim().parse::<u16>().map_err(|_| format!("invalid sip_stat_code `{v}`")))
                        .collect::<Result<Vec<u16>, String>>()?;
                    checks.push(Check::SipStatCode(codes));
                }
                n => return Err(format!("option `{n}` is not supported")),
            },
        }
    }
    if let Some(s) = flow_stream {
        checks.push(Check::Flow { established: None, to_server: None, stream: Some(s), frag: None });
    }
    if let Some(d) = lines_dir {
        // `http.request_header` inspects requests, `http.response_header` responses.
        checks.push(Check::Flow { established: None, to_server: Some(d), stream: None, frag: None });
    }
    if suricata && inspects_dns_query {
        // Suricata's `dns.query` is the question of a request only; the application layer also
        // fills it from the question section a response repeats.
        checks.push(Check::Flow { established: None, to_server: Some(true), stream: None, frag: None });
    }
    if ops.len() > MAX_OPS {
        return Err(format!("more than {MAX_OPS} payload options"));
    }

    // Retry only where a later op depends on the cursor.
    let mut later_reads = false;
    for op in ops.iter_mut().rev() {
        match op {
            Op::Content(c) if !c.negated => c.retry = later_reads,
            Op::Pcre(p) if !p.negated => p.retry = later_reads,
            _ => {}
        }
        later_reads |= op.reads_cursor();
    }

    // --- fast pattern ---
    let fast = pick_fast(&ops, fp_explicit);
    if let (Some(i), Some(_)) = (fp_only, &fast) {
        if fp_explicit.map(|f| f.0) == Some(i) {
            if let Some(Op::Content(c)) = ops.get_mut(i) {
                c.keep_cursor = true;
            }
        }
    }

    checks.sort_by_key(Check::cost);
    let flowbit_order = match (sets_bits, checks_bits) {
        (_, false) => 0,
        (true, true) => 1,
        (false, true) => 2,
    };
    Ok(CompiledRule {
        hdr,
        checks,
        ops,
        post,
        threshold,
        detection_filter,
        fast,
        noalert,
        flowbit_order,
        engines,
        lines,
    })
}

fn pick_fast(ops: &[Op], explicit: Option<(usize, usize, usize)>) -> Option<FastPat> {
    if let Some((i, off, len)) = explicit {
        if let Some(Op::Content(c)) = ops.get(i).filter(|o| o.buf() != BufferId::Base64Data as VBuf) {
            let end = off.saturating_add(len).min(c.pat.len());
            let off = off.min(end);
            let pat = if end > off { &c.pat[off..end] } else { &c.pat[..] };
            return Some(FastPat { vbuf: c.buf, pat: pat.to_ascii_lowercase() });
        }
    }
    let mut best: Option<(u32, &ContentOp)> = None;
    for op in ops {
        if let Op::Content(c) = op {
            // base64_data exists only during evaluation; it cannot feed the prefilter.
            if c.negated || c.buf == BufferId::Base64Data as VBuf {
                continue;
            }
            let s = strength(&c.pat);
            if best.is_none_or(|(bs, _)| s > bs) {
                best = Some((s, c));
            }
        }
    }
    best.map(|(_, c)| FastPat { vbuf: c.buf, pat: c.pat.to_ascii_lowercase() })
}

pub(crate) fn parse_u32_any(s: &str) -> Option<u32> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// `Some(true)` for Suricata's `http.request_header`, `Some(false)` for `http.response_header`
/// (the parser keeps both as [`Buffer::Other`]).
fn header_lines_dir(b: &Buffer) -> Option<bool> {
    match b {
        Buffer::Other(n) if n == "http.request_header" => Some(true),
        Buffer::Other(n) if n == "http.response_header" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms() {
        let t = |k: TransformKind, s: &[u8]| {
            let mut v = Vec::new();
            k.apply(s, &mut v);
            v
        };
        assert_eq!(t(TransformKind::DotPrefix, b"a.com"), b".a.com");
        assert_eq!(t(TransformKind::ToLower, b"AbC"), b"abc");
        assert_eq!(t(TransformKind::StripWhitespace, b" a b\t"), b"ab");
        assert_eq!(t(TransformKind::CompressWhitespace, b"a  \t b"), b"a b");
        assert_eq!(t(TransformKind::UrlDecode, b"%41+b%2"), b"A b%2");
        assert_eq!(t(TransformKind::Xor(vec![1]), b"\x00\x01"), b"\x01\x00");
    }

    #[test]
    fn strength_prefers_rare_bytes() {
        assert!(strength(b"|\x01\x9a") > strength(b"\x00\x00\x00"));
        assert!(strength(b"evil.exe") > strength(b"GET "));
    }
}
