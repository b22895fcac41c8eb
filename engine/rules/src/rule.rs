//! Parsing one rule: the header (nom), the option body (hand-written splitter), and the assembly
//! of options into the normalised AST (content modifiers, buffers, metadata).

use std::sync::Arc;

use crate::ast::*;
use crate::buffer::Buffer;
use crate::error::{LineMap, RuleError};
use crate::lexer::{split_options, split_quoted, Fail, RawOption};
use crate::net::{addr_spec, port_spec, AddrSpec, PortSpec};
use crate::options::{parse_option, Modifier, Parsed};
use crate::vars::Vars;

/// Knobs for parsing a single rule.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// Force a dialect instead of guessing it per rule.
    pub dialect: Option<Dialect>,
    /// Reject unknown option keywords and rules without a `sid`.
    pub strict: bool,
}

/// Parses one rule with default options. Errors carry file `<string>` and positions within
/// `text`.
pub fn parse_rule(text: &str, vars: &Vars) -> Result<Rule, RuleError> {
    parse_rule_with(text, vars, &ParseOptions::default())
}

/// Parses one rule with explicit options.
pub fn parse_rule_with(text: &str, vars: &Vars, opts: &ParseOptions) -> Result<Rule, RuleError> {
    let map = LineMap::single(text, 1, 0);
    let loc = SourceLocation { file: Arc::from("<string>"), line: 1, column: 1 };
    parse_logical(text, vars, opts, loc, true).map_err(|f| map.error("<string>", text, &f))
}

/// Parses a logical rule line; failures are byte offsets in `text`.
pub(crate) fn parse_logical(
    text: &str,
    vars: &Vars,
    opts: &ParseOptions,
    location: SourceLocation,
    enabled: bool,
) -> Result<Rule, Fail> {
    let h = parse_header(text, vars, opts.strict)?;
    let open = h.open;
    let close = text
        .rfind(')')
        .filter(|&c| c > open)
        .ok_or_else(|| Fail::new(open, text.len() - open, "missing closing `)`"))?;
    let trailing = &text[close + 1..];
    if !trailing.trim().is_empty() {
        let lead = trailing.len() - trailing.trim_start().len();
        return Err(Fail::new(
            close + 1 + lead,
            trailing.trim().len(),
            "unexpected text after the closing `)`",
        ));
    }
    let raw = split_options(&text[open + 1..close], open + 1)?;
    let dialect = opts.dialect.unwrap_or_else(|| guess_dialect(&h.protocol, &raw));
    let (options, meta) = assemble(&raw, dialect, opts.strict)?;
    if meta.sid == 0 && opts.strict {
        return Err(Fail::new(0, text.len(), "rule has no sid"));
    }
    Ok(Rule {
        action: h.action,
        protocol: h.protocol,
        header_form: h.form,
        src: h.src,
        src_ports: h.src_ports,
        direction: h.direction,
        dst: h.dst,
        dst_ports: h.dst_ports,
        src_set: h.src_set,
        src_port_set: h.src_port_set,
        dst_set: h.dst_set,
        dst_port_set: h.dst_port_set,
        options,
        meta,
        dialect,
        location,
        enabled,
        text: text.trim_end().to_owned(),
    })
}

struct Header {
    action: Action,
    protocol: Protocol,
    form: HeaderForm,
    src: AddrSpec,
    src_ports: PortSpec,
    direction: Direction,
    dst: AddrSpec,
    dst_ports: PortSpec,
    src_set: crate::IpSet,
    src_port_set: crate::PortSet,
    dst_set: crate::IpSet,
    dst_port_set: crate::PortSet,
    /// Byte offset of the `(` opening the option body.
    open: usize,
}

fn skip_ws(text: &str, pos: usize) -> usize {
    pos + (text[pos..].len() - text[pos..].trim_start().len())
}

/// Length of the whitespace-delimited token at `pos` (for error snippets).
fn token_len(text: &str, pos: usize) -> usize {
    text[pos..].find(char::is_whitespace).unwrap_or(text.len() - pos).max(1)
}

/// Runs a nom parser at `pos`, requiring whitespace after the parsed item.
fn field<'a, O>(
    text: &'a str,
    pos: usize,
    what: &str,
    parser: fn(&'a str) -> nom::IResult<&'a str, O>,
) -> Result<(O, usize), Fail> {
    let bad = || Fail::new(pos, token_len(text, pos), format!("invalid {what}"));
    let (rest, v) = parser(&text[pos..]).map_err(|_| bad())?;
    let end = text.len() - rest.len();
    if !rest.starts_with(char::is_whitespace) && !rest.starts_with('(') {
        return Err(bad());
    }
    Ok((v, end))
}

fn parse_header(text: &str, vars: &Vars, strict: bool) -> Result<Header, Fail> {
    let mut pos = skip_ws(text, 0);
    let word_end =
        |p: usize| p + text[p..].find(|c: char| c.is_whitespace() || c == '(').unwrap_or(text.len() - p);
    let end = word_end(pos);
    let action = Action::from_keyword(&text[pos..end])
        .ok_or_else(|| Fail::new(pos, (end - pos).max(1), format!("unknown action `{}`", &text[pos..end])))?;
    pos = skip_ws(text, end);
    let any = |form, protocol, open| Header {
        action,
        protocol,
        form,
        src: AddrSpec::Any,
        src_ports: PortSpec::Any,
        direction: Direction::ToDst,
        dst: AddrSpec::Any,
        dst_ports: PortSpec::Any,
        src_set: crate::IpSet::any(),
        src_port_set: crate::PortSet::any(),
        dst_set: crate::IpSet::any(),
        dst_port_set: crate::PortSet::any(),
        open,
    };
    if text[pos..].starts_with('(') {
        return Ok(any(HeaderForm::Stub, Protocol::None, pos));
    }
    let end = word_end(pos);
    if end == pos {
        return Err(Fail::new(pos, 1, "expected a protocol or `(`"));
    }
    let protocol = Protocol::from_keyword(&text[pos..end])
        .ok_or_else(|| Fail::new(pos, end - pos, format!("invalid protocol `{}`", &text[pos..end])))?;
    pos = skip_ws(text, end);
    if text[pos..].starts_with('(') {
        return Ok(any(HeaderForm::ProtocolOnly, protocol, pos));
    }
    if pos >= text.len() {
        return Err(Fail::new(0, text.len(), "rule header ends early"));
    }

    let resolve_addr = |spec: &AddrSpec, at: usize, what: &str| {
        let set = vars.resolve_addr(spec).map_err(|e| Fail::new(at, token_len(text, at), e))?;
        // `!$HOME_NET` with HOME_NET=any is empty: a configuration matter, not a syntax error,
        // so it is only fatal in strict mode (the loader warns otherwise).
        if set.is_empty() && strict {
            return Err(Fail::new(at, token_len(text, at), format!("{what} address matches nothing")));
        }
        Ok(set)
    };
    let resolve_ports = |spec: &PortSpec, at: usize, what: &str| {
        let set = vars.resolve_ports(spec).map_err(|e| Fail::new(at, token_len(text, at), e))?;
        if set.is_empty() && strict {
            return Err(Fail::new(at, token_len(text, at), format!("{what} port list matches nothing")));
        }
        Ok(set)
    };

    let src_at = pos;
    let (src, end) = field(text, pos, "source address", addr_spec)?;
    let src_set = resolve_addr(&src, src_at, "source")?;
    pos = skip_ws(text, end);
    let sp_at = pos;
    let (src_ports, end) = field(text, pos, "source port", port_spec)?;
    let src_port_set = resolve_ports(&src_ports, sp_at, "source")?;
    pos = skip_ws(text, end);
    let direction = match text.get(pos..pos + 2) {
        Some("->") => Direction::ToDst,
        Some("<>") => Direction::Both,
        Some("=>") => Direction::Transactional,
        _ => return Err(Fail::new(pos, token_len(text, pos), "expected direction `->` or `<>`")),
    };
    pos = skip_ws(text, pos + 2);
    let dst_at = pos;
    let (dst, end) = field(text, pos, "destination address", addr_spec)?;
    let dst_set = resolve_addr(&dst, dst_at, "destination")?;
    pos = skip_ws(text, end);
    let dp_at = pos;
    let (dst_ports, end) = field(text, pos, "destination port", port_spec)?;
    let dst_port_set = resolve_ports(&dst_ports, dp_at, "destination")?;
    pos = skip_ws(text, end);
    if !text[pos..].starts_with('(') {
        return Err(Fail::new(pos, token_len(text, pos), "expected `(` after the rule header"));
    }
    Ok(Header {
        action,
        protocol,
        form: HeaderForm::Full,
        src,
        src_ports,
        direction,
        dst,
        dst_ports,
        src_set,
        src_port_set,
        dst_set,
        dst_port_set,
        open: pos,
    })
}

/// Keywords only Snort 3 has.
const SNORT3_ONLY: &[&str] = &[
    "service",
    "rem",
    "bufferlen",
    "js_data",
    "vba_data",
    "http_param",
    "http_raw_body",
    "http_raw_request",
    "http_raw_status",
    "http_version",
    "http_true_ip",
    "http_trailer",
    "http_raw_trailer",
    "regex",
    "ber_data",
    "ber_skip",
    "appids",
    "raw_data",
];

/// Keywords only Suricata has (dotted keywords are Suricata too).
const SURICATA_ONLY: &[&str] = &[
    "bsize",
    "startswith",
    "endswith",
    "xbits",
    "flowint",
    "noalert",
    "app-layer-protocol",
    "app-layer-event",
    "decode-event",
    "stream-event",
    "dns_query",
    "tls_sni",
    "ja3_hash",
    "ja3s_hash",
    "tls_cert_subject",
    "tls_cert_issuer",
    "http_user_agent",
    "http_host",
    "http_start",
    "http_header_names",
    "http_accept",
    "http_content_type",
    "http_protocol",
    "http_referer",
    "ssh_proto",
    "filestore",
    "filemagic",
];

/// Guesses the dialect from syntax markers. What matters most is whether legacy `http_*`
/// keywords are content modifiers (Snort 2, Suricata) or sticky buffers (Snort 3); Snort 3 is
/// recognised by content sub-options (`content:"x",depth 4`), Snort 3-only keywords, a legacy
/// keyword with an argument (`http_header:field x`) or one that comes before any content (which
/// Snort 2 and Suricata reject, so it can only be a sticky buffer).
fn guess_dialect(proto: &Protocol, raw: &[RawOption<'_>]) -> Dialect {
    let mut seen_content = false;
    let mut suricata = matches!(proto, Protocol::Layer(_));
    for o in raw {
        match o.name {
            "content" | "uricontent" => {
                if let Some(Ok((_, _, rest))) = o.value.map(split_quoted) {
                    if !rest.is_empty() {
                        return Dialect::Snort3;
                    }
                }
                seen_content = true;
            }
            n if Buffer::is_legacy_modifier(n) && (o.value.is_some() || !seen_content) => {
                return Dialect::Snort3;
            }
            n if SNORT3_ONLY.contains(&n) => return Dialect::Snort3,
            n if n.contains('.') || SURICATA_ONLY.contains(&n) => suricata = true,
            _ => {}
        }
    }
    if suricata || matches!(proto, Protocol::App(_)) {
        Dialect::Suricata
    } else {
        Dialect::Snort2
    }
}

/// Builds the option list: attaches modifiers to the previous content, tracks the sticky
/// buffer, and gathers the metadata.
fn assemble(
    raw: &[RawOption<'_>],
    dialect: Dialect,
    strict: bool,
) -> Result<(Vec<RuleOption>, RuleMeta), Fail> {
    let mut options: Vec<RuleOption> = Vec::with_capacity(raw.len());
    let mut meta = RuleMeta { gid: 1, ..RuleMeta::default() };
    let mut cur_buf = Buffer::PktData;
    let mut last_content: Option<usize> = None;
    let (mut have_sid, mut have_gid, mut have_rev) = (false, false, false);

    for o in raw {
        let fail = |reason: String| Fail::new(o.offset, o.text.len(), reason);
        let parsed = parse_option(o, strict).map_err(fail)?;
        // The content a modifier applies to.
        let target = |options: &mut Vec<RuleOption>, what: &str| -> Result<usize, Fail> {
            match last_content {
                Some(i) if matches!(options.get(i), Some(RuleOption::Content(_))) => Ok(i),
                _ => Err(fail(format!("`{what}` without a preceding content"))),
            }
        };
        match parsed {
            Parsed::Opt(opt) => {
                let opt = match opt {
                    RuleOption::Content(mut c) => {
                        c.buffer = if o.name == "uricontent" { Buffer::HttpUri } else { cur_buf.clone() };
                        last_content = Some(options.len());
                        RuleOption::Content(c)
                    }
                    RuleOption::Pcre(mut p) => {
                        if !p.buffer_from_flag {
                            p.buffer = cur_buf.clone();
                        }
                        RuleOption::Pcre(p)
                    }
                    RuleOption::Sid(v) => {
                        if std::mem::replace(&mut have_sid, true) {
                            return Err(fail("duplicate sid".into()));
                        }
                        meta.sid = v;
                        opt
                    }
                    RuleOption::Gid(v) => {
                        if std::mem::replace(&mut have_gid, true) {
                            return Err(fail("duplicate gid".into()));
                        }
                        meta.gid = v;
                        opt
                    }
                    RuleOption::Rev(v) => {
                        if std::mem::replace(&mut have_rev, true) {
                            return Err(fail("duplicate rev".into()));
                        }
                        meta.rev = v;
                        opt
                    }
                    RuleOption::Msg(ref m) => {
                        meta.msg = Some(m.clone());
                        opt
                    }
                    RuleOption::Classtype(ref c) => {
                        meta.classtype = Some(c.clone());
                        opt
                    }
                    RuleOption::Priority(p) => {
                        meta.priority = Some(p);
                        opt
                    }
                    RuleOption::Reference(ref r) => {
                        meta.references.push(r.clone());
                        opt
                    }
                    RuleOption::Metadata(ref kv) => {
                        for (k, v) in kv {
                            if k == "service" {
                                meta.services.push(v.clone());
                            }
                        }
                        meta.metadata.extend(kv.iter().cloned());
                        opt
                    }
                    RuleOption::Service(ref s) => {
                        meta.services.extend(s.iter().cloned());
                        opt
                    }
                    other => other,
                };
                options.push(opt);
            }
            Parsed::Sticky(sb) => {
                cur_buf = sb.buffer.clone();
                options.push(RuleOption::Buffer(sb));
            }
            Parsed::Legacy(sb) => {
                if dialect == Dialect::Snort3 || sb.arg.is_some() {
                    cur_buf = sb.buffer.clone();
                    options.push(RuleOption::Buffer(sb));
                } else {
                    let i = target(&mut options, o.name)?;
                    if let Some(RuleOption::Content(c)) = options.get_mut(i) {
                        c.buffer = sb.buffer;
                    }
                }
            }
            Parsed::Modifier(m) => {
                let i = target(&mut options, o.name)?;
                let Some(RuleOption::Content(c)) = options.get_mut(i) else {
                    unreachable!("target() checked the index holds a content");
                };
                apply_modifier(c, m).map_err(|e| fail(e.to_owned()))?;
            }
        }
    }
    Ok((options, meta))
}

fn apply_modifier(c: &mut Content, m: Modifier) -> Result<(), &'static str> {
    // Setting a positional modifier twice is a rule bug both Snort and Suricata reject.
    fn set(slot: &mut Option<NumOrVar>, v: NumOrVar, dup: &'static str) -> Result<(), &'static str> {
        if slot.replace(v).is_some() {
            return Err(dup);
        }
        Ok(())
    }
    match m {
        Modifier::Nocase => c.nocase = true,
        Modifier::Rawbytes => c.rawbytes = true,
        Modifier::Startswith => c.startswith = true,
        Modifier::Endswith => c.endswith = true,
        Modifier::Depth(v) => set(&mut c.depth, v, "duplicate depth")?,
        Modifier::Offset(v) => set(&mut c.offset, v, "duplicate offset")?,
        Modifier::Distance(v) => set(&mut c.distance, v, "duplicate distance")?,
        Modifier::Within(v) => set(&mut c.within, v, "duplicate within")?,
        Modifier::FastPattern(fp) => {
            if c.fast_pattern.replace(fp).is_some() {
                return Err("duplicate fast_pattern");
            }
        }
        Modifier::Extra(k, v) => c.extra.push((k, v)),
    }
    Ok(())
}
