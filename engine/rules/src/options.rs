//! Per-keyword option value parsers.
//!
//! [`parse_option`] turns one split option (`keyword[:value]`) into a [`Parsed`] item. Whether a
//! content modifier applies to the previous content, or a legacy `http_*` keyword is a modifier
//! or a sticky buffer, is decided by the rule assembler (`rule.rs`), which owns the state.
//! Small value grammars (numeric tests) use nom; comma-separated argument lists are split by hand.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::multispace0;
use nom::combinator::{map, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use crate::ast::*;
use crate::buffer::Buffer;
use crate::lexer::{decode_content, split_quoted, unquote, RawOption};

/// A content modifier of the Snort 2 / Suricata style (a separate option after the content).
#[derive(Clone, Debug, PartialEq)]
pub enum Modifier {
    /// `nocase`
    Nocase,
    /// `rawbytes`
    Rawbytes,
    /// `depth`
    Depth(NumOrVar),
    /// `offset`
    Offset(NumOrVar),
    /// `distance`
    Distance(NumOrVar),
    /// `within`
    Within(NumOrVar),
    /// `fast_pattern`
    FastPattern(FastPattern),
    /// `startswith`
    Startswith,
    /// `endswith`
    Endswith,
    /// `replace:"..."` and other kept-verbatim content modifiers.
    Extra(String, Option<String>),
}

/// What one option turned into.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// A stand-alone option.
    Opt(RuleOption),
    /// A modifier of the previous content.
    Modifier(Modifier),
    /// A keyword that selects a buffer in every dialect (`file_data`, `http.uri`...).
    Sticky(StickyBuffer),
    /// A legacy `http_*` keyword: a modifier in Snort 2/Suricata, sticky in Snort 3.
    Legacy(StickyBuffer),
}

/// Keywords recognised but kept as [`RuleOption::Other`] (the long tail of the coverage table
/// and keywords of inspectors the engine does not have yet).
pub const KNOWN_OTHER: &[&str] = &[
    "dce_iface",
    "dce_opnum",
    "sip_method",
    "sip_stat_code",
    "ber_data",
    "ber_skip",
    "rem",
    "sd_pattern",
    "regex",
    "filestore",
    "filemagic",
    "fileext",
    "filename",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesize",
    "ftpdata_command",
    "ftpbounce",
    "ipv4-csum",
    "tcpv4-csum",
    "udpv4-csum",
    "icmpv4-csum",
    "tcpv6-csum",
    "udpv6-csum",
    "icmpv6-csum",
    "igmp-csum",
    "logto",
    "session",
    "resp",
    "react",
    "activates",
    "activated_by",
    "count",
    "cvs",
    "md5",
    "sha256",
    "sha512",
    "so",
    "soid",
    "enable",
    "file_type",
    "file_meta",
    "pkt_num",
    "stream_reassemble",
    "mss",
    "wscale",
    "rpc",
    "dnp3_func",
    "dnp3_ind",
    "dnp3_obj",
    "modbus_func",
    "modbus_unit",
    "gtp_info",
    "gtp_type",
    "gtp_version",
    "lua",
    "luajit",
    "dataset",
    "datarep",
    "iprep",
    "tls.store",
    "tls_store",
    "tls_cert_notbefore",
    "tls_cert_notafter",
    "tls_cert_expired",
    "tls_cert_valid",
    "tls.subject",
    "tls.issuerdn",
    "ssh.protoversion",
    "ssh.softwareversion",
    "dns.opcode",
    "dns.rrtype",
    "krb5_msg_type",
    "krb5_err_code",
    "prefilter",
    "bypass",
    "config",
    "requires",
    "absent",
    "http2.frametype",
    "http2.errorcode",
    "http2.priority",
    "http2.window",
    "http2.size_update",
    "http2.settings",
    "http_header_test",
    "http_trailer_test",
    "http_num_headers",
    "http_num_trailers",
    "http_num_cookies",
    "http_max_header_line",
    "http_max_trailer_line",
    "http_version_match",
    "tcp.mss",
    "flow.age",
    "flow.pkts",
    "flow.bytes",
    "icmpv6.mtu",
    "tcp.flags",
];

/// Snort 3 / service buffers without a dialect twin, kept as [`Buffer::Other`].
const OTHER_BUFFERS: &[&str] = &[
    "dnp3_data",
    "modbus_data",
    "cip_data",
    "mms_data",
    "s7commplus_content",
    "http2_frame_header",
    "http2_frame_data",
    "http_trailer",
    "http_raw_trailer",
    "http_decoded_uri",
    "http_raw_header_complete",
    "tcp.hdr",
    "udp.hdr",
    "ipv4.hdr",
    "ipv6.hdr",
    "icmpv4.hdr",
    "icmpv6.hdr",
];

type R<T> = Result<T, String>;

/// Parses one option. `strict` rejects unknown keywords instead of keeping them as `Other`.
pub fn parse_option(opt: &RawOption<'_>, strict: bool) -> R<Parsed> {
    let name = opt.name;
    let value = opt.value;
    use RuleOption as O;
    let p = match name {
        "msg" => O::Msg(unquote(need(value, name)?)?),
        "sid" => O::Sid(positive_u32(need(value, name)?, name)?),
        "gid" => O::Gid(positive_u32(need(value, name)?, name)?),
        "rev" => O::Rev(parse_u32(need(value, name)?)?),
        "priority" => O::Priority(parse_u32(need(value, name)?)?),
        "classtype" => {
            let v = need(value, name)?.trim();
            if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(format!("invalid classtype `{v}`"));
            }
            O::Classtype(v.to_owned())
        }
        "reference" => {
            let v = need(value, name)?;
            let (sys, id) = v.split_once(',').ok_or("reference needs `system,id`")?;
            O::Reference(Reference { system: sys.trim().to_owned(), id: id.trim().to_owned() })
        }
        "metadata" => O::Metadata(parse_metadata(need(value, name)?)),
        "service" => O::Service(comma_words(need(value, name)?)),
        "content" | "uricontent" => O::Content(Box::new(parse_content(need(value, name)?)?)),
        "pcre" => O::Pcre(Box::new(parse_pcre(need(value, name)?)?)),
        // --- content modifiers (Snort 2 / Suricata style) ---
        "nocase" => return no_value(value, name).map(|_| Parsed::Modifier(Modifier::Nocase)),
        "rawbytes" => return no_value(value, name).map(|_| Parsed::Modifier(Modifier::Rawbytes)),
        "startswith" => return no_value(value, name).map(|_| Parsed::Modifier(Modifier::Startswith)),
        "endswith" => return no_value(value, name).map(|_| Parsed::Modifier(Modifier::Endswith)),
        "depth" => return Ok(Parsed::Modifier(Modifier::Depth(num_or_var(need(value, name)?)?))),
        "offset" => return Ok(Parsed::Modifier(Modifier::Offset(num_or_var(need(value, name)?)?))),
        "distance" => return Ok(Parsed::Modifier(Modifier::Distance(num_or_var(need(value, name)?)?))),
        "within" => return Ok(Parsed::Modifier(Modifier::Within(num_or_var(need(value, name)?)?))),
        "fast_pattern" => return Ok(Parsed::Modifier(Modifier::FastPattern(parse_fast_pattern(value)?))),
        "replace" => return Ok(Parsed::Modifier(Modifier::Extra(name.to_owned(), value.map(str::to_owned)))),
        // --- payload / cursor ---
        "byte_test" => O::ByteTest(parse_byte_test(need(value, name)?)?),
        "byte_jump" => O::ByteJump(parse_byte_jump(need(value, name)?)?),
        "byte_extract" => O::ByteExtract(parse_byte_extract(need(value, name)?)?),
        "byte_math" => O::ByteMath(parse_byte_math(need(value, name)?)?),
        "isdataat" => O::IsDataAt(parse_isdataat(need(value, name)?)?),
        "bsize" | "bufferlen" => {
            let v = need(value, name)?;
            let mut parts = v.split(',').map(str::trim);
            let check = num_check(parts.next().unwrap_or(""))?;
            let mut relative = false;
            for p in parts {
                match p {
                    "relative" => relative = true,
                    _ => return Err(format!("unknown {name} argument `{p}`")),
                }
            }
            O::BufferLen { check, relative }
        }
        "dsize" => O::Dsize(num_check(need(value, name)?)?),
        "urilen" => {
            let v = need(value, name)?;
            let (c, mode) = match v.split_once(',') {
                Some((c, m)) => (c, Some(m.trim())),
                None => (v, None),
            };
            let raw = match mode {
                None => None,
                Some("raw") => Some(true),
                Some("norm") => Some(false),
                Some(m) => return Err(format!("unknown urilen mode `{m}`")),
            };
            O::Urilen { check: num_check(c)?, raw }
        }
        "base64_decode" => parse_base64_decode(value)?,
        "asn1" => O::Asn1(comma_words(need(value, name)?)),
        // --- flow / state ---
        "flow" => O::Flow(parse_flow(need(value, name)?)?),
        "flowbits" => O::Flowbits(parse_flowbits(need(value, name)?)?),
        "xbits" => O::Xbits(parse_xbits(need(value, name)?)?),
        "flowint" => O::Flowint(parse_flowint(need(value, name)?)?),
        "stream_size" => parse_stream_size(need(value, name)?)?,
        "noalert" => {
            no_value(value, name)?;
            O::Noalert
        }
        // --- header tests ---
        "ttl" => O::Ttl(num_check(need(value, name)?)?),
        "tos" => O::Tos(num_check(need(value, name)?)?),
        "id" => O::IpId(num_check(need(value, name)?)?),
        "ipopts" => O::Ipopts(need(value, name)?.to_owned()),
        "ip_proto" => {
            let v = need(value, name)?;
            let op = v.chars().next().filter(|c| "!<>".contains(*c));
            let proto = v[op.map_or(0, |_| 1)..].trim();
            if proto.is_empty() {
                return Err("ip_proto needs a protocol".into());
            }
            O::IpProto { op, proto: proto.to_owned() }
        }
        "itype" => O::Itype(num_check(need(value, name)?)?),
        "icode" => O::Icode(num_check(need(value, name)?)?),
        "icmp_id" => O::IcmpId(num_check(need(value, name)?)?),
        "icmp_seq" => O::IcmpSeq(num_check(need(value, name)?)?),
        "sameip" => {
            no_value(value, name)?;
            O::Sameip
        }
        "ack" => O::Ack(num_check(need(value, name)?)?),
        "seq" => O::Seq(num_check(need(value, name)?)?),
        "window" => O::Window(num_check(need(value, name)?)?),
        "flags" => O::Flags(parse_flags(need(value, name)?)?),
        "fragbits" => O::Fragbits(parse_fragbits(need(value, name)?)?),
        "fragoffset" => O::Fragoffset(num_check(need(value, name)?)?),
        // --- thresholds / output ---
        "threshold" => O::Threshold(parse_threshold(need(value, name)?, true)?),
        "detection_filter" => O::DetectionFilter(parse_threshold(need(value, name)?, false)?),
        "target" => match need(value, name)? {
            "src_ip" => O::Target { src: true },
            "dest_ip" => O::Target { src: false },
            v => return Err(format!("target must be src_ip or dest_ip, not `{v}`")),
        },
        "tag" => O::Tag(comma_words(need(value, name)?)),
        // --- app layer ---
        "app-layer-protocol" => {
            let v = need(value, name)?;
            let (negated, v) = bang(v);
            let (proto, mode) = match v.split_once(',') {
                Some((p, m)) => (p.trim(), Some(m.trim().to_owned())),
                None => (v.trim(), None),
            };
            O::AppLayerProtocol { negated, proto: proto.to_owned(), mode }
        }
        "app-layer-event" | "decode-event" | "stream-event" => {
            let kind = match name {
                "app-layer-event" => EventKind::AppLayer,
                "decode-event" => EventKind::Decode,
                _ => EventKind::Stream,
            };
            let (negated, ev) = bang(need(value, name)?);
            O::Event { kind, negated, name: ev.trim().to_owned() }
        }
        "ssl_state" => O::SslState(negatable_list(need(value, name)?)),
        "ssl_version" => O::SslVersion(negatable_list(need(value, name)?)),
        "appid" => O::Appids(parse_appids(need(value, name)?, true)),
        "appids" => O::Appids(parse_appids(need(value, name)?, false)),
        _ => return parse_other(name, value, strict),
    };
    Ok(Parsed::Opt(p))
}

/// Buffers, transforms and the long tail.
fn parse_other(name: &str, value: Option<&str>, strict: bool) -> R<Parsed> {
    if Buffer::is_legacy_modifier(name) {
        let buffer = Buffer::from_keyword(name).unwrap_or(Buffer::Other(name.to_owned()));
        return Ok(Parsed::Legacy(StickyBuffer { buffer, arg: value.map(str::to_owned) }));
    }
    if TRANSFORMS.contains(&name) {
        return Ok(Parsed::Opt(RuleOption::Transform(Transform {
            name: name.to_owned(),
            arg: value.map(str::to_owned),
        })));
    }
    let buffer = if OTHER_BUFFERS.contains(&name) {
        Some(Buffer::Other(name.to_owned()))
    } else if value.is_none() || Buffer::from_keyword(name).is_some() {
        // Sticky buffers take no value, except a few Snort 3 ones (`http_param:"name"`,
        // `http_header:field x` handled above).
        Buffer::from_keyword_lenient(name)
    } else {
        None
    };
    if let Some(buffer) = buffer {
        if KNOWN_OTHER.contains(&name) && value.is_some() {
            // e.g. `tls.subject:"..."` (old Suricata keyword), not a buffer.
        } else {
            return Ok(Parsed::Sticky(StickyBuffer { buffer, arg: value.map(str::to_owned) }));
        }
    }
    let known = KNOWN_OTHER.contains(&name);
    if !known {
        let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if !valid {
            return Err(format!("invalid option keyword `{name}`"));
        }
        if strict {
            return Err(format!("unknown option `{name}`"));
        }
    }
    Ok(Parsed::Opt(RuleOption::Other { name: name.to_owned(), value: value.map(str::to_owned), known }))
}

fn need<'a>(value: Option<&'a str>, name: &str) -> R<&'a str> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("`{name}` needs a value")),
    }
}

fn no_value(value: Option<&str>, name: &str) -> R<()> {
    match value {
        None | Some("") => Ok(()),
        Some(v) => Err(format!("`{name}` takes no value (got `{v}`)")),
    }
}

fn bang(v: &str) -> (bool, &str) {
    let v = v.trim();
    match v.strip_prefix('!') {
        Some(r) => (true, r.trim_start()),
        None => (false, v),
    }
}

/// Comma-separated words, trimmed, empties dropped.
fn comma_words(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Integer literal: decimal, `0x` hex, optional sign.
pub fn parse_int(s: &str) -> R<i64> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16)
    } else {
        body.parse::<i64>()
    }
    .map_err(|_| format!("invalid number `{t}`"))?;
    Ok(if neg { -v } else { v })
}

fn parse_u32(s: &str) -> R<u32> {
    let v = parse_int(s)?;
    u32::try_from(v).map_err(|_| format!("number out of range `{}`", s.trim()))
}

fn positive_u32(s: &str, name: &str) -> R<u32> {
    let v = parse_u32(s)?;
    if v == 0 {
        return Err(format!("{name} must be greater than 0"));
    }
    Ok(v)
}

/// byte_extract / byte_math variable names: Suricata accepts dots too (`kelihos.p2p` in ET).
fn is_var_name(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// A number or a byte_extract variable name.
pub fn num_or_var(s: &str) -> R<NumOrVar> {
    let t = s.trim();
    match parse_int(t) {
        Ok(v) => Ok(NumOrVar::Num(v)),
        Err(e) => {
            if is_var_name(t) {
                Ok(NumOrVar::Var(t.to_owned()))
            } else {
                Err(e)
            }
        }
    }
}

fn nom_uint(i: &str) -> IResult<&str, u64> {
    let (rest, digits) = alt((
        preceded(alt((tag("0x"), tag("0X"))), take_while1(|c: char| c.is_ascii_hexdigit())),
        take_while1(|c: char| c.is_ascii_digit()),
    ))
    .parse(i)?;
    let radix = if i.len() - rest.len() > digits.len() { 16 } else { 10 };
    u64::from_str_radix(digits, radix)
        .map(|v| (rest, v))
        .map_err(|_| nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Digit)))
}

/// `N`, `=N`, `!N`, `!=N`, `<N`, `>N`, `<=N`, `>=N`, `lo<>hi`, `lo<=>hi`, `lo-hi`.
fn nom_num_check(i: &str) -> IResult<&str, NumCheck> {
    let ws = multispace0;
    let prefixed = map(
        (
            alt((
                tag("!="),
                tag("<="),
                tag(">="),
                tag("=<"),
                tag("=>"),
                tag("!"),
                tag("<"),
                tag(">"),
                tag("="),
            )),
            ws,
            nom_uint,
        ),
        |(op, _, value)| NumCheck {
            op: match op {
                "!=" | "!" => CmpOp::Ne,
                "<=" | "=<" => CmpOp::Le,
                ">=" | "=>" => CmpOp::Ge,
                "<" => CmpOp::Lt,
                ">" => CmpOp::Gt,
                _ => CmpOp::Eq,
            },
            value,
            high: None,
        },
    );
    let ranged =
        map((nom_uint, opt((ws, alt((tag("<=>"), tag("<>"), tag("-"))), ws, nom_uint))), |(lo, range)| {
            match range {
                None => NumCheck { op: CmpOp::Eq, value: lo, high: None },
                Some((_, sep, _, hi)) => NumCheck {
                    op: if sep == "<=>" { CmpOp::RangeInclusive } else { CmpOp::Range },
                    value: lo,
                    high: Some(hi),
                },
            }
        });
    preceded(ws, alt((prefixed, ranged))).parse(i)
}

/// Parses a numeric test such as `dsize:>100` or `itype:10<>20`.
pub fn num_check(s: &str) -> R<NumCheck> {
    match nom_num_check(s.trim()) {
        Ok((rest, c)) if rest.trim().is_empty() => {
            if let Some(h) = c.high {
                if h < c.value {
                    return Err(format!("inverted range `{}`", s.trim()));
                }
            }
            Ok(c)
        }
        _ => Err(format!("invalid numeric test `{}`", s.trim())),
    }
}

fn parse_metadata(v: &str) -> Vec<(String, String)> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.split_once(char::is_whitespace) {
            Some((k, val)) => (k.to_owned(), val.trim().to_owned()),
            None => (item.to_owned(), String::new()),
        })
        .collect()
}

/// `content:[!]"pattern"[,snort3 sub-options]`.
pub fn parse_content(v: &str) -> R<Content> {
    let (negated, inner, rest) = split_quoted(v)?;
    let pattern = decode_content(inner)?;
    if pattern.is_empty() {
        return Err("empty content pattern".into());
    }
    let mut c = Content { pattern, negated, ..Content::default() };
    if !rest.is_empty() {
        // Snort 3: `content:"x",depth 4,nocase` — comma-separated, space between name and value.
        let subs = rest
            .strip_prefix(',')
            .ok_or_else(|| format!("unexpected text after content string: `{rest}`"))?;
        for sub in subs.split(',').map(str::trim) {
            if sub.is_empty() {
                continue;
            }
            let (k, val) = match sub.split_once(char::is_whitespace) {
                Some((k, val)) => (k, Some(val.trim())),
                None => (sub, None),
            };
            let num = |val: Option<&str>| -> R<NumOrVar> {
                num_or_var(val.ok_or_else(|| format!("content sub-option `{k}` needs a value"))?)
            };
            match k {
                "nocase" => c.nocase = true,
                "rawbytes" => c.rawbytes = true,
                "depth" => c.depth = Some(num(val)?),
                "offset" => c.offset = Some(num(val)?),
                "distance" => c.distance = Some(num(val)?),
                "within" => c.within = Some(num(val)?),
                "fast_pattern" => {
                    c.fast_pattern.get_or_insert_with(FastPattern::default);
                }
                "fast_pattern_offset" | "fast_pattern_length" => {
                    let n = match num(val)? {
                        NumOrVar::Num(n) if n >= 0 => n as u32,
                        _ => return Err(format!("`{k}` needs a non-negative number")),
                    };
                    let fp = c.fast_pattern.get_or_insert_with(FastPattern::default);
                    if k == "fast_pattern_offset" {
                        fp.offset = Some(n);
                    } else {
                        fp.length = Some(n);
                    }
                }
                "width" | "endian" => c.extra.push((k.to_owned(), val.map(str::to_owned))),
                _ => return Err(format!("unknown content sub-option `{k}`")),
            }
        }
    }
    Ok(c)
}

/// `fast_pattern`, `fast_pattern:only`, `fast_pattern:<offset>,<length>`.
fn parse_fast_pattern(value: Option<&str>) -> R<FastPattern> {
    let mut fp = FastPattern::default();
    match value.map(str::trim) {
        None | Some("") => {}
        Some("only") => fp.only = true,
        Some(v) => {
            let (o, l) = v.split_once(',').ok_or_else(|| format!("invalid fast_pattern argument `{v}`"))?;
            fp.offset = Some(parse_u32(o)?);
            fp.length = Some(parse_u32(l)?);
        }
    }
    Ok(fp)
}

/// `pcre:[!]"/pattern/flags"` or `"m{d}pattern{d}flags"`.
pub fn parse_pcre(v: &str) -> R<Pcre> {
    let (negated, v) = bang(v);
    // Strip the outer quotes *positionally*: the pattern may itself contain a bare `"`
    // (see the splitter notes), so no quote matching here.
    let body = match v.strip_prefix('"') {
        Some(r) => r.strip_suffix('"').ok_or("pcre value has no closing quote")?,
        None => v,
    };
    let (open, delim) = if let Some(r) = body.strip_prefix('m') {
        let d = r.chars().next().ok_or("empty pcre")?;
        if d.is_alphanumeric() || d.is_whitespace() || d == '\\' {
            return Err(format!("invalid pcre delimiter `{d}`"));
        }
        let close = match d {
            '{' => '}',
            '(' => ')',
            '[' => ']',
            '<' => '>',
            c => c,
        };
        (1 + d.len_utf8(), close)
    } else if body.starts_with('/') {
        (1, '/')
    } else {
        return Err("pcre must look like \"/regex/flags\"".into());
    };
    let close = body.rfind(delim).filter(|&i| i >= open).ok_or("pcre has no closing delimiter")?;
    let pattern = &body[open..close];
    let flags_text = body[close + 1..].trim_end();
    let mut p =
        Pcre { negated, pattern: pattern.to_owned(), flags_text: flags_text.to_owned(), ..Pcre::default() };
    for c in flags_text.chars() {
        let f = &mut p.flags;
        match c {
            'i' => f.caseless = true,
            's' => f.dotall = true,
            'm' => f.multiline = true,
            'x' => f.extended = true,
            'A' => f.anchored = true,
            'E' => f.dollar_endonly = true,
            'G' => f.ungreedy = true,
            'R' => f.relative = true,
            'O' => f.no_limits = true,
            c => match Buffer::from_pcre_flag(c) {
                Some(b) => {
                    if p.buffer_from_flag && p.buffer != b {
                        return Err(format!("pcre has conflicting buffer flags `{flags_text}`"));
                    }
                    p.buffer = b;
                    p.buffer_from_flag = true;
                }
                None => return Err(format!("unknown pcre flag `{c}`")),
            },
        }
    }
    Ok(p)
}

/// Applies one of the common byte_* flags; returns false when `word` is not one of them.
fn byte_flag(opts: &mut ByteOpts, word: &str) -> R<bool> {
    match word {
        "relative" => opts.relative = true,
        "big" => opts.endian = Endian::Big,
        "little" => opts.endian = Endian::Little,
        "dce" => opts.endian = Endian::Dce,
        "string" => {
            opts.string.get_or_insert(NumBase::Dec);
        }
        "dec" => opts.string = Some(NumBase::Dec),
        "hex" => opts.string = Some(NumBase::Hex),
        "oct" => opts.string = Some(NumBase::Oct),
        w => {
            if let Some(m) = w.strip_prefix("bitmask") {
                // The mask is hexadecimal with or without `0x` (Suricata parses it in base 16;
                // ET has `bitmask fc`).
                let m = m.trim();
                let h = m.strip_prefix("0x").or_else(|| m.strip_prefix("0X")).unwrap_or(m);
                opts.bitmask =
                    Some(u64::from_str_radix(h, 16).map_err(|_| format!("invalid bitmask `{m}`"))?);
            } else {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn args(v: &str) -> Vec<&str> {
    v.split(',').map(str::trim).collect()
}

fn nbytes(s: &str) -> R<u32> {
    parse_u32(s)
}

fn parse_byte_test(v: &str) -> R<ByteTest> {
    let a = args(v);
    if a.len() < 4 {
        return Err("byte_test needs bytes,operator,value,offset".into());
    }
    let (negated, op) = match a[1].strip_prefix('!') {
        Some("") => (true, "="), // `!` alone means "not equal"
        Some(r) => (true, r),
        None => (false, a[1]),
    };
    let op = match op.trim() {
        "<" => ByteTestOp::Lt,
        ">" => ByteTestOp::Gt,
        "=" => ByteTestOp::Eq,
        "<=" | "=<" => ByteTestOp::Le,
        ">=" | "=>" => ByteTestOp::Ge,
        "&" => ByteTestOp::And,
        "^" => ByteTestOp::Xor,
        o => return Err(format!("unknown byte_test operator `{o}`")),
    };
    let mut t = ByteTest {
        bytes: nbytes(a[0])?,
        negated,
        op,
        value: num_or_var(a[2])?,
        offset: num_or_var(a[3])?,
        opts: ByteOpts::default(),
    };
    for w in &a[4..] {
        if !byte_flag(&mut t.opts, w)? {
            return Err(format!("unknown byte_test argument `{w}`"));
        }
    }
    Ok(t)
}

fn parse_byte_jump(v: &str) -> R<ByteJump> {
    let a = args(v);
    if a.len() < 2 {
        return Err("byte_jump needs bytes,offset".into());
    }
    let mut j = ByteJump { bytes: nbytes(a[0])?, offset: num_or_var(a[1])?, ..ByteJump::default() };
    for w in &a[2..] {
        if byte_flag(&mut j.opts, w)? {
            continue;
        }
        match *w {
            "align" => j.align = true,
            "from_beginning" => j.from_beginning = true,
            "from_end" => j.from_end = true,
            w if w.starts_with("multiplier") => j.multiplier = Some(parse_u32(&w[10..])?),
            w if w.starts_with("post_offset") => j.post_offset = Some(parse_int(&w[11..])?),
            w => return Err(format!("unknown byte_jump argument `{w}`")),
        }
    }
    Ok(j)
}

fn parse_byte_extract(v: &str) -> R<ByteExtract> {
    let a = args(v);
    if a.len() < 3 {
        return Err("byte_extract needs bytes,offset,name".into());
    }
    if !is_var_name(a[2]) {
        return Err(format!("invalid byte_extract variable name `{}`", a[2]));
    }
    let mut e = ByteExtract {
        bytes: nbytes(a[0])?,
        offset: parse_int(a[1])?,
        name: a[2].to_owned(),
        ..ByteExtract::default()
    };
    for w in &a[3..] {
        if byte_flag(&mut e.opts, w)? {
            continue;
        }
        match *w {
            w if w.starts_with("multiplier") => e.multiplier = Some(parse_u32(&w[10..])?),
            w if w.starts_with("align") => e.align = Some(parse_u32(&w[5..])?),
            w => return Err(format!("unknown byte_extract argument `{w}`")),
        }
    }
    Ok(e)
}

fn parse_byte_math(v: &str) -> R<ByteMath> {
    let mut m = ByteMath::default();
    let (mut have_bytes, mut have_oper, mut have_result) = (false, false, false);
    for w in args(v) {
        let (k, val) = match w.split_once(char::is_whitespace) {
            Some((k, val)) => (k, val.trim()),
            None => (w, ""),
        };
        match k {
            "bytes" => {
                m.bytes = nbytes(val)?;
                have_bytes = true;
            }
            "offset" => m.offset = parse_int(val)?,
            "oper" => {
                if !["+", "-", "*", "/", "<<", ">>"].contains(&val) {
                    return Err(format!("unknown byte_math operator `{val}`"));
                }
                m.oper = val.to_owned();
                have_oper = true;
            }
            "rvalue" => m.rvalue = num_or_var(val)?,
            "result" => {
                m.result = val.to_owned();
                have_result = true;
            }
            "endian" => {
                byte_flag(&mut m.opts, val)?;
            }
            "string" => {
                m.opts.string = Some(match val {
                    "" | "dec" => NumBase::Dec,
                    "hex" => NumBase::Hex,
                    "oct" => NumBase::Oct,
                    b => return Err(format!("unknown byte_math string base `{b}`")),
                })
            }
            _ => {
                if !byte_flag(&mut m.opts, w)? {
                    return Err(format!("unknown byte_math argument `{w}`"));
                }
            }
        }
    }
    if !(have_bytes && have_oper && have_result) {
        return Err("byte_math needs bytes, oper and result".into());
    }
    Ok(m)
}

fn parse_isdataat(v: &str) -> R<IsDataAt> {
    let (negated, v) = bang(v);
    let a = args(v);
    let mut d = IsDataAt { negated, offset: num_or_var(a[0])?, relative: false, rawbytes: false };
    for w in &a[1..] {
        match *w {
            "relative" => d.relative = true,
            "rawbytes" => d.rawbytes = true,
            w => return Err(format!("unknown isdataat argument `{w}`")),
        }
    }
    Ok(d)
}

fn parse_base64_decode(value: Option<&str>) -> R<RuleOption> {
    let (mut bytes, mut offset, mut relative) = (None, None, false);
    if let Some(v) = value {
        for w in args(v).into_iter().filter(|w| !w.is_empty()) {
            match w.split_once(char::is_whitespace) {
                Some(("bytes", n)) => bytes = Some(parse_u32(n)?),
                Some(("offset", n)) => offset = Some(parse_u32(n)?),
                None if w == "relative" => relative = true,
                _ => return Err(format!("unknown base64_decode argument `{w}`")),
            }
        }
    }
    Ok(RuleOption::Base64Decode { bytes, offset, relative })
}

fn parse_flow(v: &str) -> R<Flow> {
    let mut f = Flow::default();
    for w in args(v) {
        match w {
            "to_server" | "from_client" => f.to_server = Some(true),
            "to_client" | "from_server" => f.to_server = Some(false),
            "established" => f.established = true,
            "not_established" => f.not_established = true,
            "stateless" => f.stateless = true,
            "only_stream" => f.only_stream = true,
            "no_stream" => f.no_stream = true,
            "only_frag" => f.only_frag = true,
            "no_frag" => f.no_frag = true,
            "" => {}
            w => return Err(format!("unknown flow argument `{w}`")),
        }
    }
    Ok(f)
}

fn bits_op(s: &str) -> R<BitsOp> {
    Ok(match s {
        "set" => BitsOp::Set,
        "unset" => BitsOp::Unset,
        "toggle" => BitsOp::Toggle,
        "isset" => BitsOp::IsSet,
        "isnotset" => BitsOp::IsNotSet,
        "noalert" => BitsOp::NoAlert,
        "reset" => BitsOp::Reset,
        "setx" => BitsOp::SetX,
        o => return Err(format!("unknown bits operation `{o}`")),
    })
}

/// `a|b|c` → (names, Any); `a&b` → (names, All).
fn bit_names(s: &str) -> R<(Vec<String>, BitsCombine)> {
    let s = s.trim();
    let (sep, combine) = if s.contains('|') {
        if s.contains('&') {
            return Err(format!("cannot mix `|` and `&` in `{s}`"));
        }
        ('|', BitsCombine::Any)
    } else {
        ('&', BitsCombine::All)
    };
    let names: Vec<String> = s.split(sep).map(|n| n.trim().to_owned()).collect();
    if names.iter().any(|n| n.is_empty()) {
        return Err(format!("empty bit name in `{s}`"));
    }
    Ok((names, combine))
}

fn parse_flowbits(v: &str) -> R<Flowbits> {
    let a = args(v);
    let op = bits_op(a[0])?;
    let (names, combine) = match a.get(1) {
        Some(n) => bit_names(n)?,
        None => (Vec::new(), BitsCombine::All),
    };
    if names.is_empty() && !matches!(op, BitsOp::NoAlert | BitsOp::Reset) {
        return Err(format!("flowbits:{} needs a bit name", a[0]));
    }
    if a.len() > 3 {
        return Err("too many flowbits arguments".into());
    }
    Ok(Flowbits { op, names, combine, group: a.get(2).map(|g| g.to_string()) })
}

fn parse_xbits(v: &str) -> R<Xbits> {
    let a = args(v);
    if a.len() < 3 {
        return Err("xbits needs op,name,track <type>".into());
    }
    let op = bits_op(a[0])?;
    let (names, combine) = bit_names(a[1])?;
    let mut track = None;
    let mut expire = None;
    for w in &a[2..] {
        match w.split_once(char::is_whitespace) {
            Some(("track", t)) => track = Some(t.trim().to_owned()),
            Some(("expire", n)) => expire = Some(parse_u32(n)?),
            _ => return Err(format!("unknown xbits argument `{w}`")),
        }
    }
    Ok(Xbits { op, names, combine, track: track.ok_or("xbits needs `track`")?, expire })
}

fn parse_flowint(v: &str) -> R<Flowint> {
    let a = args(v);
    if a.len() < 2 || a[0].is_empty() {
        return Err("flowint needs name,operation[,value]".into());
    }
    const OPS: &[&str] = &["=", "+", "-", "==", "!=", "<", ">", "<=", ">=", "isset", "isnotset", "notset"];
    if !OPS.contains(&a[1]) {
        return Err(format!("unknown flowint operation `{}`", a[1]));
    }
    let value = match a.get(2) {
        Some(v) => Some(num_or_var(v)?),
        None if a[1].ends_with("set") => None,
        None => return Err(format!("flowint `{}` needs a value", a[1])),
    };
    Ok(Flowint { name: a[0].to_owned(), op: a[1].to_owned(), value })
}

/// Snort 2 / Suricata `stream_size:side,op,N`; Snort 3 `stream_size:<range>[,direction]`.
fn parse_stream_size(v: &str) -> R<RuleOption> {
    let a = args(v);
    let (side, check) = match a.as_slice() {
        [side, op, n] => (*side, num_check(&format!("{op}{n}"))?),
        [test] => ("either", num_check(test)?),
        [test, side] if num_check(test).is_ok() => (*side, num_check(test)?),
        _ => return Err("stream_size needs side,operator,value".into()),
    };
    const SIDES: &[&str] = &["server", "client", "both", "either", "to_server", "to_client"];
    if !SIDES.contains(&side) {
        return Err(format!("unknown stream_size side `{side}`"));
    }
    Ok(RuleOption::StreamSize { side: side.to_owned(), check })
}

/// TCP flag letters in header bit order.
fn tcp_flag_bit(c: char) -> Option<u8> {
    Some(match c.to_ascii_uppercase() {
        'F' => 0x01,
        'S' => 0x02,
        'R' => 0x04,
        'P' => 0x08,
        'A' => 0x10,
        'U' => 0x20,
        'E' | '2' => 0x40,
        'C' | '1' => 0x80,
        '0' => 0,
        _ => return None,
    })
}

/// Splits a `[modifier]letters[modifier]` word; Snort accepts the modifier on either side.
fn modifier_and_letters(s: &str) -> (Option<char>, &str) {
    let s = s.trim();
    if let Some(c) = s.chars().next().filter(|c| "+*!".contains(*c)) {
        return (Some(c), &s[1..]);
    }
    if let Some(c) = s.chars().last().filter(|c| "+*!".contains(*c)) {
        return (Some(c), &s[..s.len() - 1]);
    }
    (None, s)
}

fn parse_flags(v: &str) -> R<TcpFlags> {
    let (main, mask) = match v.split_once(',') {
        Some((m, k)) => (m, Some(k)),
        None => (v, None),
    };
    let (modifier, letters) = modifier_and_letters(main);
    let bits = |s: &str| -> R<u8> {
        s.trim().chars().try_fold(0u8, |acc, c| {
            tcp_flag_bit(c).map(|b| acc | b).ok_or_else(|| format!("unknown TCP flag `{c}`"))
        })
    };
    if letters.trim().is_empty() {
        return Err("flags needs at least one flag".into());
    }
    Ok(TcpFlags {
        modifier,
        flags: bits(letters)?,
        mask: match mask {
            Some(m) => bits(m)?,
            None => 0,
        },
    })
}

fn parse_fragbits(v: &str) -> R<Fragbits> {
    let (modifier, letters) = modifier_and_letters(v);
    let mut bits = 0u8;
    for c in letters.chars() {
        bits |= match c.to_ascii_uppercase() {
            'M' => 1,
            'D' => 2,
            'R' => 4,
            c => return Err(format!("unknown fragbit `{c}`")),
        };
    }
    if letters.is_empty() {
        return Err("fragbits needs at least one bit".into());
    }
    Ok(Fragbits { modifier, bits })
}

/// `type T, track by_x, count N, seconds S` (any order; `detection_filter` has no type).
fn parse_threshold(v: &str, with_type: bool) -> R<Threshold> {
    let (mut kind, mut track, mut count, mut seconds, mut multiplier) = (None, None, None, None, None);
    for w in args(v).into_iter().filter(|w| !w.is_empty()) {
        let (k, val) = w
            .split_once(char::is_whitespace)
            .map(|(k, v)| (k, v.trim()))
            .ok_or_else(|| format!("invalid threshold argument `{w}`"))?;
        match k {
            "type" if with_type => {
                kind = Some(match val {
                    "limit" => ThresholdType::Limit,
                    "threshold" => ThresholdType::Threshold,
                    "both" => ThresholdType::Both,
                    "backoff" => ThresholdType::Backoff,
                    t => return Err(format!("unknown threshold type `{t}`")),
                })
            }
            "track" => {
                if !["by_src", "by_dst", "by_rule", "by_both", "by_flow"].contains(&val) {
                    return Err(format!("unknown track `{val}`"));
                }
                track = Some(val.to_owned())
            }
            "count" => count = Some(parse_u32(val)?),
            "seconds" => seconds = Some(parse_u32(val)?),
            "multiplier" => multiplier = Some(parse_u32(val)?),
            _ => return Err(format!("unknown threshold argument `{w}`")),
        }
    }
    if with_type && kind.is_none() {
        return Err("threshold needs `type`".into());
    }
    let backoff = kind == Some(ThresholdType::Backoff);
    Ok(Threshold {
        kind,
        track: track.ok_or("threshold needs `track`")?,
        count: count.ok_or("threshold needs `count`")?,
        // Backoff thresholds have a multiplier instead of a time window.
        seconds: if backoff { seconds.unwrap_or(0) } else { seconds.ok_or("threshold needs `seconds`")? },
        multiplier,
    })
}

/// `a,!b|c` → [(false,a),(true,b),(false,c)]
fn negatable_list(v: &str) -> Vec<(bool, String)> {
    v.split([',', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix('!') {
            Some(r) => (true, r.trim().to_owned()),
            None => (false, s.to_owned()),
        })
        .collect()
}

/// `appid: a, b c` (Snort 2: spaces, tabs or commas) / `appids:"a, b"` (Snort 3: commas).
/// Names are trimmed and any quotes removed.
fn parse_appids(v: &str, snort2: bool) -> Vec<String> {
    let unquoted: String = v.chars().filter(|&c| c != '"').collect();
    let seps: &[char] = if snort2 { &[',', ' ', '\t'] } else { &[','] };
    unquoted.split(seps).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt_of(text: &str) -> Result<Parsed, String> {
        let raw = crate::lexer::split_options(text, 0).unwrap();
        assert_eq!(raw.len(), 1, "{text}");
        parse_option(&raw[0], false)
    }

    fn ok(text: &str) -> RuleOption {
        match opt_of(text) {
            Ok(Parsed::Opt(o)) => o,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn nc(op: CmpOp, value: u64, high: Option<u64>) -> NumCheck {
        NumCheck { op, value, high }
    }

    #[test]
    fn num_checks() {
        let table = [
            ("5", nc(CmpOp::Eq, 5, None)),
            ("<5", nc(CmpOp::Lt, 5, None)),
            ("> 5", nc(CmpOp::Gt, 5, None)),
            ("<=5", nc(CmpOp::Le, 5, None)),
            (">=0x10", nc(CmpOp::Ge, 16, None)),
            ("!5", nc(CmpOp::Ne, 5, None)),
            ("!=5", nc(CmpOp::Ne, 5, None)),
            ("=5", nc(CmpOp::Eq, 5, None)),
            ("2<>10", nc(CmpOp::Range, 2, Some(10))),
            ("2 <> 10", nc(CmpOp::Range, 2, Some(10))),
            ("2<=>10", nc(CmpOp::RangeInclusive, 2, Some(10))),
            ("1-3", nc(CmpOp::Range, 1, Some(3))),
        ];
        for (input, want) in table {
            assert_eq!(num_check(input).unwrap(), want, "{input}");
        }
        for bad in ["", "x", "5<>", "10<>2", "<", "5 6"] {
            assert!(num_check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_table() {
        let c = |s: &str| match ok(s) {
            RuleOption::Content(c) => *c,
            o => panic!("{o:?}"),
        };
        let x = c(r#"content:"GET|20|/";"#);
        assert_eq!(x.pattern, b"GET /");
        assert!(!x.negated);
        let x = c(r#"content:!"a\"b";"#);
        assert!(x.negated);
        assert_eq!(x.pattern, b"a\"b");
        let x = c(r#"content:"x",depth 4,offset 2, nocase, fast_pattern;"#);
        assert_eq!(x.depth, Some(NumOrVar::Num(4)));
        assert_eq!(x.offset, Some(NumOrVar::Num(2)));
        assert!(x.nocase);
        assert_eq!(x.fast_pattern, Some(FastPattern::default()));
        let x = c(r#"content:"x",within len,distance -3,fast_pattern_offset 1,fast_pattern_length 2;"#);
        assert_eq!(x.within, Some(NumOrVar::Var("len".into())));
        assert_eq!(x.distance, Some(NumOrVar::Num(-3)));
        let fp = x.fast_pattern.unwrap();
        assert_eq!((fp.offset, fp.length), (Some(1), Some(2)));
        assert!(opt_of(r#"content:"x",bogus 4;"#).is_err());
        assert!(opt_of(r#"content:"x" y;"#).is_err());
        assert!(opt_of(r#"content:"";"#).is_err());
        assert!(opt_of(r#"content:"|4|";"#).is_err());
    }

    #[test]
    fn modifiers_table() {
        let table: Vec<(&str, Modifier)> = vec![
            ("nocase;", Modifier::Nocase),
            ("rawbytes;", Modifier::Rawbytes),
            ("depth:4;", Modifier::Depth(NumOrVar::Num(4))),
            ("offset: -2;", Modifier::Offset(NumOrVar::Num(-2))),
            ("distance:var1;", Modifier::Distance(NumOrVar::Var("var1".into()))),
            ("within:0x10;", Modifier::Within(NumOrVar::Num(16))),
            ("fast_pattern;", Modifier::FastPattern(FastPattern::default())),
            (
                "fast_pattern:only;",
                Modifier::FastPattern(FastPattern { only: true, ..FastPattern::default() }),
            ),
            (
                "fast_pattern:3,5;",
                Modifier::FastPattern(FastPattern { only: false, offset: Some(3), length: Some(5) }),
            ),
            ("startswith;", Modifier::Startswith),
            ("endswith;", Modifier::Endswith),
        ];
        for (input, want) in table {
            assert_eq!(opt_of(input).unwrap(), Parsed::Modifier(want), "{input}");
        }
        assert!(opt_of("depth;").is_err());
        assert!(opt_of("nocase:1;").is_err());
    }

    #[test]
    fn pcre_table() {
        let p = |s: &str| match ok(s) {
            RuleOption::Pcre(p) => *p,
            o => panic!("{o:?}"),
        };
        let x = p(r#"pcre:"/^GET\s+\/a;b/smiR";"#.replace(";b", "\\;b").as_str());
        assert_eq!(x.pattern, r"^GET\s+\/a\;b");
        assert!(x.flags.dotall && x.flags.multiline && x.flags.caseless && x.flags.relative);
        assert_eq!(x.buffer, Buffer::PktData);
        assert!(!x.buffer_from_flag);
        let x = p(r#"pcre:!"/x/Ui";"#);
        assert!(x.negated && x.flags.caseless);
        assert_eq!(x.buffer, Buffer::HttpUri);
        assert!(x.buffer_from_flag);
        // Bare quote inside the pattern (ET sid 2001099 style).
        let x = p(r#"pcre:"/['"]*vbscript/i";"#);
        assert_eq!(x.pattern, r#"['"]*vbscript"#);
        let x = p(r#"pcre:"m#a/b#AEGOB";"#);
        assert_eq!(x.pattern, "a/b");
        assert!(x.flags.anchored && x.flags.dollar_endonly && x.flags.ungreedy && x.flags.no_limits);
        assert_eq!(x.buffer, Buffer::RawData);
        for (flag, buf) in [
            ('I', Buffer::HttpRawUri),
            ('P', Buffer::HttpClientBody),
            ('H', Buffer::HttpHeader),
            ('D', Buffer::HttpRawHeader),
            ('M', Buffer::HttpMethod),
            ('C', Buffer::HttpCookie),
            ('K', Buffer::HttpRawCookie),
            ('S', Buffer::HttpStatCode),
            ('Y', Buffer::HttpStatMsg),
            ('W', Buffer::HttpHost),
            ('V', Buffer::HttpUserAgent),
            ('Q', Buffer::HttpServerBody),
        ] {
            assert_eq!(p(&format!("pcre:\"/a/{flag}\";")).buffer, buf, "{flag}");
        }
        assert!(opt_of(r#"pcre:"/a/J";"#).is_err());
        assert!(opt_of(r#"pcre:"abc";"#).is_err());
        assert!(opt_of(r#"pcre:"/a/UH";"#).is_err());
    }

    #[test]
    fn byte_ops_table() {
        match ok("byte_test:2,>,500,0,relative;") {
            RuleOption::ByteTest(t) => {
                assert_eq!(t.bytes, 2);
                assert_eq!(t.op, ByteTestOp::Gt);
                assert_eq!(t.value, NumOrVar::Num(500));
                assert!(t.opts.relative && !t.negated);
            }
            o => panic!("{o:?}"),
        }
        match ok("byte_test:4,!&,0x80000000,0,little,bitmask 0xff;") {
            RuleOption::ByteTest(t) => {
                assert!(t.negated);
                assert_eq!(t.op, ByteTestOp::And);
                assert_eq!(t.value, NumOrVar::Num(0x8000_0000));
                assert_eq!(t.opts.endian, Endian::Little);
                assert_eq!(t.opts.bitmask, Some(0xff));
            }
            o => panic!("{o:?}"),
        }
        match ok("byte_test:10,<=,len,0,string,dec;") {
            RuleOption::ByteTest(t) => {
                assert_eq!(t.op, ByteTestOp::Le);
                assert_eq!(t.value, NumOrVar::Var("len".into()));
                assert_eq!(t.opts.string, Some(NumBase::Dec));
            }
            o => panic!("{o:?}"),
        }
        match ok("byte_jump:4,12,relative,little,multiplier 2,align,from_beginning,post_offset -4;") {
            RuleOption::ByteJump(j) => {
                assert_eq!((j.bytes, j.multiplier, j.post_offset), (4, Some(2), Some(-4)));
                assert!(j.align && j.from_beginning && j.opts.relative);
            }
            o => panic!("{o:?}"),
        }
        match ok("byte_extract:2,0,str_len,relative,little,multiplier 4;") {
            RuleOption::ByteExtract(e) => {
                assert_eq!(e.name, "str_len");
                assert_eq!(e.multiplier, Some(4));
            }
            o => panic!("{o:?}"),
        }
        match ok("byte_math:bytes 2,offset 0,oper *,rvalue 4,result var,relative,endian little;") {
            RuleOption::ByteMath(m) => {
                assert_eq!((m.bytes, m.oper.as_str(), m.result.as_str()), (2, "*", "var"));
                assert_eq!(m.rvalue, NumOrVar::Num(4));
                assert_eq!(m.opts.endian, Endian::Little);
            }
            o => panic!("{o:?}"),
        }
        assert!(opt_of("byte_test:2,>,5;").is_err());
        assert!(opt_of("byte_test:2,~,5,0;").is_err());
        assert!(opt_of("byte_jump:2,0,sideways;").is_err());
        assert!(opt_of("byte_math:bytes 2,offset 0;").is_err());
    }

    #[test]
    fn misc_table() {
        let table: Vec<(&str, RuleOption)> = vec![
            (
                "isdataat:!1,relative;",
                RuleOption::IsDataAt(IsDataAt {
                    negated: true,
                    offset: NumOrVar::Num(1),
                    relative: true,
                    rawbytes: false,
                }),
            ),
            (
                "flow:established,to_server;",
                RuleOption::Flow(Flow { to_server: Some(true), established: true, ..Flow::default() }),
            ),
            (
                "flow:from_server,no_stream;",
                RuleOption::Flow(Flow { to_server: Some(false), no_stream: true, ..Flow::default() }),
            ),
            (
                "flowbits:isset,file.doc|file.rtf;",
                RuleOption::Flowbits(Flowbits {
                    op: BitsOp::IsSet,
                    names: vec!["file.doc".into(), "file.rtf".into()],
                    combine: BitsCombine::Any,
                    group: None,
                }),
            ),
            (
                "flowbits:noalert;",
                RuleOption::Flowbits(Flowbits {
                    op: BitsOp::NoAlert,
                    names: vec![],
                    combine: BitsCombine::All,
                    group: None,
                }),
            ),
            (
                "xbits:set,ET.x,track ip_src,expire 300;",
                RuleOption::Xbits(Xbits {
                    op: BitsOp::Set,
                    names: vec!["ET.x".into()],
                    combine: BitsCombine::All,
                    track: "ip_src".into(),
                    expire: Some(300),
                }),
            ),
            (
                "flowint:cnt,+,1;",
                RuleOption::Flowint(Flowint {
                    name: "cnt".into(),
                    op: "+".into(),
                    value: Some(NumOrVar::Num(1)),
                }),
            ),
            (
                "threshold: track by_src, type limit, seconds 60, count 1;",
                RuleOption::Threshold(Threshold {
                    kind: Some(ThresholdType::Limit),
                    track: "by_src".into(),
                    count: 1,
                    seconds: 60,
                    multiplier: None,
                }),
            ),
            (
                "detection_filter:track by_dst,count 5,seconds 10;",
                RuleOption::DetectionFilter(Threshold {
                    kind: None,
                    track: "by_dst".into(),
                    count: 5,
                    seconds: 10,
                    multiplier: None,
                }),
            ),
            ("flags:S,12;", RuleOption::Flags(TcpFlags { modifier: None, flags: 0x02, mask: 0xc0 })),
            ("flags:!AP;", RuleOption::Flags(TcpFlags { modifier: Some('!'), flags: 0x18, mask: 0 })),
            ("flags:SF+;", RuleOption::Flags(TcpFlags { modifier: Some('+'), flags: 0x03, mask: 0 })),
            ("fragbits:M+;", RuleOption::Fragbits(Fragbits { modifier: Some('+'), bits: 1 })),
            ("ttl:<5;", RuleOption::Ttl(nc(CmpOp::Lt, 5, None))),
            ("itype:>30;", RuleOption::Itype(nc(CmpOp::Gt, 30, None))),
            ("icmp_id:0;", RuleOption::IcmpId(nc(CmpOp::Eq, 0, None))),
            ("window:!512;", RuleOption::Window(nc(CmpOp::Ne, 512, None))),
            ("dsize:10<>20;", RuleOption::Dsize(nc(CmpOp::Range, 10, Some(20)))),
            ("bsize:>12;", RuleOption::BufferLen { check: nc(CmpOp::Gt, 12, None), relative: false }),
            (
                "bufferlen:<=100,relative;",
                RuleOption::BufferLen { check: nc(CmpOp::Le, 100, None), relative: true },
            ),
            (
                "urilen:5<>10,norm;",
                RuleOption::Urilen { check: nc(CmpOp::Range, 5, Some(10)), raw: Some(false) },
            ),
            ("ip_proto:!47;", RuleOption::IpProto { op: Some('!'), proto: "47".into() }),
            ("sameip;", RuleOption::Sameip),
            ("noalert;", RuleOption::Noalert),
            ("target:dest_ip;", RuleOption::Target { src: false }),
            (
                "stream_size:client,>,100;",
                RuleOption::StreamSize { side: "client".into(), check: nc(CmpOp::Gt, 100, None) },
            ),
            (
                "app-layer-protocol:!tls,final;",
                RuleOption::AppLayerProtocol {
                    negated: true,
                    proto: "tls".into(),
                    mode: Some("final".into()),
                },
            ),
            (
                "app-layer-event:http.uri_overlong;",
                RuleOption::Event {
                    kind: EventKind::AppLayer,
                    negated: false,
                    name: "http.uri_overlong".into(),
                },
            ),
            (
                "ssl_state:!client_hello,server_hello;",
                RuleOption::SslState(vec![(true, "client_hello".into()), (false, "server_hello".into())]),
            ),
            (
                "base64_decode:bytes 150,offset 0,relative;",
                RuleOption::Base64Decode { bytes: Some(150), offset: Some(0), relative: true },
            ),
            ("base64_decode;", RuleOption::Base64Decode { bytes: None, offset: None, relative: false }),
            (
                "appid: http, ftp\tsmtp ;",
                RuleOption::Appids(vec!["http".into(), "ftp".into(), "smtp".into()]),
            ),
            (
                r#"appids:"telnet, ssh ,HTTP";"#,
                RuleOption::Appids(vec!["telnet".into(), "ssh".into(), "HTTP".into()]),
            ),
            (r#"msg:"a \"b\" \; c";"#, RuleOption::Msg(r#"a "b" ; c"#.into())),
            (
                "reference:url,example.com/a,b;",
                RuleOption::Reference(Reference { system: "url".into(), id: "example.com/a,b".into() }),
            ),
            (
                "metadata:policy balanced-ips drop, service http,ruleset community;",
                RuleOption::Metadata(vec![
                    ("policy".into(), "balanced-ips drop".into()),
                    ("service".into(), "http".into()),
                    ("ruleset".into(), "community".into()),
                ]),
            ),
            ("service:http, smtp;", RuleOption::Service(vec!["http".into(), "smtp".into()])),
            ("sid: 2000001 ;", RuleOption::Sid(2_000_001)),
            (
                "dce_iface:4b324fc8-1670-01d3-1278-5a47bf6ee188;",
                RuleOption::Other {
                    name: "dce_iface".into(),
                    value: Some("4b324fc8-1670-01d3-1278-5a47bf6ee188".into()),
                    known: true,
                },
            ),
            ("dotprefix;", RuleOption::Transform(Transform { name: "dotprefix".into(), arg: None })),
        ];
        for (input, want) in table {
            assert_eq!(ok(input), want, "{input}");
        }
        for bad in [
            "sid:0;",
            "sid:abc;",
            "flow:sideways;",
            "flowbits:set;",
            "flowbits:bogus,x;",
            "threshold:type limit,count 1,seconds 2;",
            "threshold:type nope,track by_src,count 1,seconds 2;",
            "flags:Z;",
            "target:both;",
            "classtype:a b;",
            "isdataat:x y;",
            "xbits:set,a;",
            "urilen:5,sideways;",
        ] {
            assert!(opt_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn buffers_and_unknowns() {
        assert_eq!(
            opt_of("http.uri;").unwrap(),
            Parsed::Sticky(StickyBuffer { buffer: Buffer::HttpUri, arg: None })
        );
        assert_eq!(
            opt_of("http_uri;").unwrap(),
            Parsed::Legacy(StickyBuffer { buffer: Buffer::HttpUri, arg: None })
        );
        assert_eq!(
            opt_of("http_header:field user-agent;").unwrap(),
            Parsed::Legacy(StickyBuffer { buffer: Buffer::HttpHeader, arg: Some("field user-agent".into()) })
        );
        assert_eq!(
            opt_of("http2.header;").unwrap(),
            Parsed::Sticky(StickyBuffer { buffer: Buffer::Other("http2.header".into()), arg: None })
        );
        assert_eq!(
            opt_of("frobnicate:3;").unwrap(),
            Parsed::Opt(RuleOption::Other {
                name: "frobnicate".into(),
                value: Some("3".into()),
                known: false
            })
        );
        let raw = crate::lexer::split_options("frobnicate:3;", 0).unwrap();
        assert!(parse_option(&raw[0], true).is_err());
        assert!(opt_of("bad kw;").is_err());
    }
}
