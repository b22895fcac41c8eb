//! The rule AST, shared by the Snort 2.9, Snort 3 and Suricata dialects.
//!
//! Dialect differences are normalised at parse time: content modifiers (Snort 2/Suricata
//! `depth:4; nocase;` and Snort 3 `content:"x",depth 4,nocase`) end up *inside* [`Content`], buffer
//! spellings map to one [`Buffer`] enum, and pcre buffer flags become [`Pcre::buffer`]. Sticky
//! buffer selections stay in [`Rule::options`] as [`RuleOption::Buffer`] at their position, so the
//! engine can follow the cursor model for options that carry no buffer of their own.

use std::fmt;
use std::sync::Arc;

use crate::buffer::Buffer;
use crate::net::{AddrSpec, PortSpec};
use crate::sets::{IpSet, PortSet};

/// Rule action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Action {
    Alert,
    Log,
    Pass,
    Drop,
    Reject,
    Sdrop,
    Rewrite,
    Block,
    Sblock,
    React,
    FileId,
    /// Snort 2 only (removed in Snort 3).
    Activate,
    /// Snort 2 only (removed in Snort 3).
    Dynamic,
    RejectSrc,
    RejectDst,
    RejectBoth,
}

impl Action {
    /// Parses an action keyword.
    pub fn from_keyword(s: &str) -> Option<Action> {
        Some(match s {
            "alert" => Action::Alert,
            "log" => Action::Log,
            "pass" => Action::Pass,
            "drop" => Action::Drop,
            "reject" => Action::Reject,
            "sdrop" => Action::Sdrop,
            "rewrite" => Action::Rewrite,
            "block" => Action::Block,
            "sblock" => Action::Sblock,
            "react" => Action::React,
            "file_id" => Action::FileId,
            "activate" => Action::Activate,
            "dynamic" => Action::Dynamic,
            "rejectsrc" => Action::RejectSrc,
            "rejectdst" => Action::RejectDst,
            "rejectboth" => Action::RejectBoth,
            _ => return None,
        })
    }
}

/// The protocol field of the header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// No protocol: the Snort stub form `alert ( ... )` of builtin/preprocessor rules.
    None,
    /// `ip` (any IP packet).
    Ip,
    /// `tcp`
    Tcp,
    /// `udp`
    Udp,
    /// `icmp`
    Icmp,
    /// A Suricata/Snort 3 refinement of the above or another layer (`ipv4`, `ipv6`, `icmpv6`,
    /// `tcp-pkt`, `tcp-stream`, `sctp`, `pkthdr`, `file` ...), lower-cased.
    Layer(String),
    /// An application protocol / service (`http`, `dns`, `tls`, `ssl`, `smb` ...), lower-cased.
    App(String),
}

/// Header protocols that are packet layers rather than services.
const LAYER_PROTOCOLS: &[&str] = &[
    "ipv4",
    "ip4",
    "ipv6",
    "ip6",
    "icmpv4",
    "icmpv6",
    "tcp-pkt",
    "tcp-stream",
    "sctp",
    "pkthdr",
    "ether",
    "arp",
    "igmp",
    "file",
];

impl Protocol {
    /// Parses the protocol word of a header (case-insensitive).
    pub fn from_keyword(s: &str) -> Option<Protocol> {
        let lower = s.to_ascii_lowercase();
        let ok = !lower.is_empty()
            && lower.starts_with(|c: char| c.is_ascii_alphabetic())
            && lower.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return None;
        }
        Some(match lower.as_str() {
            "ip" => Protocol::Ip,
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "icmp" => Protocol::Icmp,
            l if LAYER_PROTOCOLS.contains(&l) => Protocol::Layer(lower),
            _ => Protocol::App(lower),
        })
    }
}

/// Header direction operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `->`
    ToDst,
    /// `<>`
    Both,
    /// `=>` (Suricata: bidirectional transaction matching)
    Transactional,
}

/// Which of the header shapes the rule was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderForm {
    /// `action proto src sport dir dst dport ( ... )`
    Full,
    /// Snort 3 service / file rule with elided nets and ports: `alert http ( ... )`.
    ProtocolOnly,
    /// Snort stub rule of builtin/preprocessor events: `alert ( ... )`.
    Stub,
}

/// The dialect a rule appears to be written in (guessed per rule from its syntax, or forced by
/// [`crate::ParseOptions::dialect`]). Decides whether legacy `http_*` keywords modify the
/// previous content (Snort 2, Suricata) or are sticky (Snort 3), and lets the engine pick a side
/// on documented semantic splits (isdataat off-by-one, urilen inclusivity...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Snort 2.9 (also the default for classic rules with no dialect markers).
    Snort2,
    /// Snort 3.
    Snort3,
    /// Suricata (ET Open).
    Suricata,
}

/// Where a rule came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    /// File path as given/opened (`<string>` for text not read from a file).
    pub file: Arc<str>,
    /// 1-based line of the rule's first character.
    pub line: usize,
    /// 1-based column (in characters) of the rule's first character (after a disabling `#`).
    pub column: usize,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A `reference:system,id` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `cve`, `url`, `bugtraq`...
    pub system: String,
    /// The identifier / URL.
    pub id: String,
}

/// Rule metadata gathered from the options (they also stay in [`Rule::options`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleMeta {
    /// Generator id (1 unless `gid:` says otherwise).
    pub gid: u32,
    /// Signature id (0 when the rule has none, accepted only in non-strict mode).
    pub sid: u32,
    /// Revision (0 when absent).
    pub rev: u32,
    /// `msg`, unescaped.
    pub msg: Option<String>,
    /// `classtype`
    pub classtype: Option<String>,
    /// `priority`
    pub priority: Option<u32>,
    /// All `reference` options.
    pub references: Vec<Reference>,
    /// All `metadata` key/value pairs, in order (`key value` split at the first space).
    pub metadata: Vec<(String, String)>,
    /// Services: Snort 3 `service:`, or Snort 2 `metadata: service x`.
    pub services: Vec<String>,
}

/// One parsed rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The action.
    pub action: Action,
    /// Header protocol.
    pub protocol: Protocol,
    /// Header shape.
    pub header_form: HeaderForm,
    /// Source addresses, as written (`Any` for elided headers).
    pub src: AddrSpec,
    /// Source ports, as written.
    pub src_ports: PortSpec,
    /// Direction operator.
    pub direction: Direction,
    /// Destination addresses, as written.
    pub dst: AddrSpec,
    /// Destination ports, as written.
    pub dst_ports: PortSpec,
    /// `src` resolved against the variables at load time.
    pub src_set: IpSet,
    /// `src_ports` resolved.
    pub src_port_set: PortSet,
    /// `dst` resolved.
    pub dst_set: IpSet,
    /// `dst_ports` resolved.
    pub dst_port_set: PortSet,
    /// The options in rule order (content modifiers folded into their [`Content`]).
    pub options: Vec<RuleOption>,
    /// gid/sid/rev/msg/classtype/priority/references/metadata/services.
    pub meta: RuleMeta,
    /// Dialect the rule was read as.
    pub dialect: Dialect,
    /// Where the rule came from.
    pub location: SourceLocation,
    /// False when the rule came from a `#`-commented line.
    pub enabled: bool,
    /// The original rule text (continuations joined, a disabling `#` removed).
    pub text: String,
}

impl Rule {
    /// `(gid, sid)`, the rule's identity.
    pub fn id(&self) -> (u32, u32) {
        (self.meta.gid, self.meta.sid)
    }

    /// The content options, in order.
    pub fn contents(&self) -> impl Iterator<Item = &Content> {
        self.options.iter().filter_map(|o| match o {
            RuleOption::Content(c) => Some(&**c),
            _ => None,
        })
    }
}

/// A number or the name of a `byte_extract`/`byte_math` variable (`depth:len`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NumOrVar {
    /// A literal.
    Num(i64),
    /// A variable name.
    Var(String),
}

/// `fast_pattern` with its arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FastPattern {
    /// `fast_pattern:only` (Snort 2; ignored by Suricata and removed in Snort 3).
    pub only: bool,
    /// `fast_pattern:<offset>,<length>` / `fast_pattern_offset N`.
    pub offset: Option<u32>,
    /// `fast_pattern:<offset>,<length>` / `fast_pattern_length N`.
    pub length: Option<u32>,
}

/// A `content` (or `uricontent`) match with its modifiers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Content {
    /// The bytes to match: `|hex|` decoded and `\` escapes removed.
    pub pattern: Vec<u8>,
    /// `content:!"..."`
    pub negated: bool,
    /// `nocase`
    pub nocase: bool,
    /// `rawbytes` (Snort 2: match the raw packet, not the normalised buffer).
    pub rawbytes: bool,
    /// `offset`
    pub offset: Option<NumOrVar>,
    /// `depth`
    pub depth: Option<NumOrVar>,
    /// `distance`
    pub distance: Option<NumOrVar>,
    /// `within`
    pub within: Option<NumOrVar>,
    /// `startswith` (Suricata)
    pub startswith: bool,
    /// `endswith` (Suricata)
    pub endswith: bool,
    /// `fast_pattern`
    pub fast_pattern: Option<FastPattern>,
    /// The buffer this content is matched in.
    pub buffer: Buffer,
    /// Sub-options kept but not interpreted (Snort 3 `width`, `endian`; Suricata `replace`).
    pub extra: Vec<(String, Option<String>)>,
}

/// PCRE / pcre-like options: the compile flags, separated from the Snort/Suricata flags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PcreFlags {
    /// `i`
    pub caseless: bool,
    /// `s`
    pub dotall: bool,
    /// `m`
    pub multiline: bool,
    /// `x`
    pub extended: bool,
    /// `A`
    pub anchored: bool,
    /// `E`
    pub dollar_endonly: bool,
    /// `G` (ungreedy)
    pub ungreedy: bool,
    /// `R`: relative to the end of the previous match.
    pub relative: bool,
    /// `O`: ignore the configured match limits.
    pub no_limits: bool,
}

/// A `pcre` option.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pcre {
    /// `pcre:!"..."`
    pub negated: bool,
    /// The regex between the delimiters, verbatim (escapes left for the regex engine).
    pub pattern: String,
    /// Regex and Snort flags.
    pub flags: PcreFlags,
    /// The flag letters as written (for diagnostics and round trips).
    pub flags_text: String,
    /// The buffer: from a buffer flag (`U`, `H`, `P`...) if present, else the sticky buffer in
    /// effect.
    pub buffer: Buffer,
    /// True when the buffer came from a flag letter rather than the sticky buffer.
    pub buffer_from_flag: bool,
}

/// A sticky buffer selection (`http.uri;`, Snort 3 `http_header:field user-agent;`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StickyBuffer {
    /// The buffer selected from here on.
    pub buffer: Buffer,
    /// Snort 3 arguments (`field user-agent`, `request`...).
    pub arg: Option<String>,
}

/// A Suricata transform applied to the current sticky buffer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transform {
    /// `dotprefix`, `strip_whitespace`, `to_lowercase`...
    pub name: String,
    /// Argument of `xor:"..."`, `pcrexform:"..."`, `from_base64:...`.
    pub arg: Option<String>,
}

/// Known transform keywords.
pub const TRANSFORMS: &[&str] = &[
    "dotprefix",
    "strip_whitespace",
    "compress_whitespace",
    "to_lowercase",
    "to_uppercase",
    "to_md5",
    "to_sha1",
    "to_sha256",
    "url_decode",
    "xor",
    "pcrexform",
    "from_base64",
    "header_lowercase",
    "strip_pseudo_headers",
    "domain",
    "tld",
];

/// Comparison operator of numeric tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    /// `lo<>hi`: Snort treats it as inclusive, Suricata as exclusive (see the rule-language notes).
    Range,
    /// `lo<=>hi` (Snort 3, inclusive).
    RangeInclusive,
}

/// A numeric test: `N`, `<N`, `>=N`, `!N`, `lo<>hi`...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NumCheck {
    /// The operator.
    pub op: CmpOp,
    /// The value, or the low bound of a range.
    pub value: u64,
    /// The high bound of a range.
    pub high: Option<u64>,
}

/// Integer encoding of the byte_* options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    /// Network order (default).
    #[default]
    Big,
    /// `little`
    Little,
    /// `dce`: taken from the DCE/RPC header.
    Dce,
}

/// Base of a `string` number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum NumBase {
    Dec,
    Hex,
    Oct,
}

/// Flags shared by byte_test / byte_jump / byte_extract / byte_math.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ByteOpts {
    /// `relative`
    pub relative: bool,
    /// `big`/`little`/`dce`
    pub endian: Endian,
    /// `string[,dec|hex|oct]`
    pub string: Option<NumBase>,
    /// `bitmask 0x..`
    pub bitmask: Option<u64>,
}

/// byte_test operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ByteTestOp {
    Lt,
    Gt,
    Eq,
    Le,
    Ge,
    And,
    Xor,
}

/// `byte_test:bytes,[!]op,value,offset[,flags]`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ByteTest {
    /// Number of bytes to read.
    pub bytes: u32,
    /// `!` before the operator.
    pub negated: bool,
    /// The operator.
    pub op: ByteTestOp,
    /// Value compared with.
    pub value: NumOrVar,
    /// Offset read from.
    pub offset: NumOrVar,
    /// Flags.
    pub opts: ByteOpts,
}

/// `byte_jump:bytes,offset[,flags]`
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ByteJump {
    /// Bytes to read.
    pub bytes: u32,
    /// Offset read from.
    pub offset: NumOrVar,
    /// Flags.
    pub opts: ByteOpts,
    /// `multiplier N`
    pub multiplier: Option<u32>,
    /// `align`
    pub align: bool,
    /// `from_beginning`
    pub from_beginning: bool,
    /// `from_end`
    pub from_end: bool,
    /// `post_offset N`
    pub post_offset: Option<i64>,
}

impl Default for NumOrVar {
    fn default() -> Self {
        NumOrVar::Num(0)
    }
}

/// `byte_extract:bytes,offset,name[,flags]`
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ByteExtract {
    /// Bytes to read.
    pub bytes: u32,
    /// Offset read from.
    pub offset: i64,
    /// Variable name.
    pub name: String,
    /// Flags.
    pub opts: ByteOpts,
    /// `multiplier N`
    pub multiplier: Option<u32>,
    /// `align N`
    pub align: Option<u32>,
}

/// `byte_math:bytes N,offset N,oper X,rvalue V,result NAME[,flags]`
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ByteMath {
    /// Bytes to read.
    pub bytes: u32,
    /// Offset read from.
    pub offset: i64,
    /// `+ - * / << >>`
    pub oper: String,
    /// Right operand.
    pub rvalue: NumOrVar,
    /// Result variable.
    pub result: String,
    /// Flags.
    pub opts: ByteOpts,
}

/// `isdataat:[!]N[,relative][,rawbytes]`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IsDataAt {
    /// `!`
    pub negated: bool,
    /// Position.
    pub offset: NumOrVar,
    /// `relative`
    pub relative: bool,
    /// `rawbytes`
    pub rawbytes: bool,
}

/// `flow:` arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flow {
    /// `to_server`/`from_client` → `Some(true)`, `to_client`/`from_server` → `Some(false)`.
    pub to_server: Option<bool>,
    /// `established`
    pub established: bool,
    /// `not_established`
    pub not_established: bool,
    /// `stateless`
    pub stateless: bool,
    /// `only_stream`
    pub only_stream: bool,
    /// `no_stream`
    pub no_stream: bool,
    /// `only_frag`
    pub only_frag: bool,
    /// `no_frag`
    pub no_frag: bool,
}

/// flowbits / xbits operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BitsOp {
    Set,
    Unset,
    Toggle,
    IsSet,
    IsNotSet,
    NoAlert,
    Reset,
    SetX,
}

/// How several bit names combine (`a|b`, `a&b`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitsCombine {
    /// Every bit (`&`, and the single-name case).
    All,
    /// Any bit (`|`).
    Any,
}

/// `flowbits:op[,names[,group]]`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flowbits {
    /// The operation.
    pub op: BitsOp,
    /// Bit names (empty for `noalert`/`reset`).
    pub names: Vec<String>,
    /// How the names combine.
    pub combine: BitsCombine,
    /// Snort 2 group name.
    pub group: Option<String>,
}

/// `xbits:op,name,track ip_src|ip_dst|ip_pair|tx[,expire N]`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Xbits {
    /// The operation.
    pub op: BitsOp,
    /// Bit names.
    pub names: Vec<String>,
    /// How the names combine.
    pub combine: BitsCombine,
    /// `ip_src`, `ip_dst`, `ip_pair`, `tx`.
    pub track: String,
    /// `expire N` seconds.
    pub expire: Option<u32>,
}

/// `flowint:name,op[,value]`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flowint {
    /// Counter name.
    pub name: String,
    /// `=`, `+`, `-`, `==`, `!=`, `<`, `>`, `<=`, `>=`, `isset`, `isnotset`/`notset`.
    pub op: String,
    /// Operand (number or another counter).
    pub value: Option<NumOrVar>,
}

/// Threshold type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ThresholdType {
    Limit,
    Threshold,
    Both,
    Backoff,
}

/// `threshold:` / `detection_filter:` (the latter has no type).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Threshold {
    /// `type` (None for detection_filter).
    pub kind: Option<ThresholdType>,
    /// `track by_src|by_dst|by_rule|by_both|by_flow`.
    pub track: String,
    /// `count N`
    pub count: u32,
    /// `seconds N`
    pub seconds: u32,
    /// `multiplier N` (backoff).
    pub multiplier: Option<u32>,
}

/// `flags:[+*!]FSRPAUCE0[,mask]` — bits in TCP header order (F=0x01 ... C/CWR=0x80).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TcpFlags {
    /// `+` (all of these and any others), `*` (any of these), `!` (none of these); `None` = exact.
    pub modifier: Option<char>,
    /// Flags to test.
    pub flags: u8,
    /// Flags to ignore.
    pub mask: u8,
}

/// `fragbits:[+*!]MDR`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fragbits {
    /// Modifier as in [`TcpFlags`].
    pub modifier: Option<char>,
    /// M=1 (more fragments), D=2 (don't fragment), R=4 (reserved).
    pub bits: u8,
}

/// Kinds of engine event keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `app-layer-event`
    AppLayer,
    /// `decode-event`
    Decode,
    /// `stream-event`
    Stream,
}

/// A typed rule option.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleOption {
    /// `msg`
    Msg(String),
    /// `sid`
    Sid(u32),
    /// `gid`
    Gid(u32),
    /// `rev`
    Rev(u32),
    /// `classtype`
    Classtype(String),
    /// `priority`
    Priority(u32),
    /// `reference`
    Reference(Reference),
    /// `metadata` (key, value) pairs.
    Metadata(Vec<(String, String)>),
    /// Snort 3 `service:a,b`.
    Service(Vec<String>),
    /// `content` / `uricontent`, with modifiers (boxed: it is by far the largest variant).
    Content(Box<Content>),
    /// `pcre` (boxed, as `Content`).
    Pcre(Box<Pcre>),
    /// A sticky buffer selection.
    Buffer(StickyBuffer),
    /// A transform of the current sticky buffer.
    Transform(Transform),
    /// `byte_test`
    ByteTest(ByteTest),
    /// `byte_jump`
    ByteJump(ByteJump),
    /// `byte_extract`
    ByteExtract(ByteExtract),
    /// `byte_math`
    ByteMath(ByteMath),
    /// `isdataat`
    IsDataAt(IsDataAt),
    /// `bsize` (Suricata) / `bufferlen` (Snort 3): length of the current buffer.
    BufferLen {
        /// The length test.
        check: NumCheck,
        /// Snort 3 `relative`.
        relative: bool,
    },
    /// `dsize`
    Dsize(NumCheck),
    /// `urilen:N[,raw|norm]`
    Urilen {
        /// The length test.
        check: NumCheck,
        /// `raw` (true) or `norm` (false); `None` when not given.
        raw: Option<bool>,
    },
    /// `flow`
    Flow(Flow),
    /// `flowbits`
    Flowbits(Flowbits),
    /// `xbits`
    Xbits(Xbits),
    /// `flowint`
    Flowint(Flowint),
    /// `ttl`
    Ttl(NumCheck),
    /// `tos` (`!` → `Ne`)
    Tos(NumCheck),
    /// `id`
    IpId(NumCheck),
    /// `ipopts:rr|eol|nop|ts|sec|esec|lsrr|lsrre|ssrr|satid|any`
    Ipopts(String),
    /// `ip_proto:[!<>]name|N` (kept textual: names like `igmp` are allowed).
    IpProto {
        /// `!`, `<`, `>` or `None`.
        op: Option<char>,
        /// Protocol number or name.
        proto: String,
    },
    /// `itype`
    Itype(NumCheck),
    /// `icode`
    Icode(NumCheck),
    /// `icmp_id`
    IcmpId(NumCheck),
    /// `icmp_seq`
    IcmpSeq(NumCheck),
    /// `sameip`
    Sameip,
    /// `ack`
    Ack(NumCheck),
    /// `seq`
    Seq(NumCheck),
    /// `window`
    Window(NumCheck),
    /// `flags`
    Flags(TcpFlags),
    /// `fragbits`
    Fragbits(Fragbits),
    /// `fragoffset`
    Fragoffset(NumCheck),
    /// `threshold`
    Threshold(Threshold),
    /// `detection_filter`
    DetectionFilter(Threshold),
    /// `target:src_ip|dest_ip` (true = source is the target).
    Target {
        /// `src_ip` → true, `dest_ip` → false.
        src: bool,
    },
    /// `tag:session|host,...` (arguments kept as words).
    Tag(Vec<String>),
    /// `noalert` (Suricata standalone keyword).
    Noalert,
    /// `stream_size:server|client|both|either,op,N`
    StreamSize {
        /// Direction word.
        side: String,
        /// The test.
        check: NumCheck,
    },
    /// `app-layer-protocol:[!]name[,mode]`
    AppLayerProtocol {
        /// `!`
        negated: bool,
        /// Protocol name.
        proto: String,
        /// `final`, `original`, `either`, `to_server`, `to_client`.
        mode: Option<String>,
    },
    /// `app-layer-event`, `decode-event`, `stream-event`
    Event {
        /// Which keyword.
        kind: EventKind,
        /// `!`
        negated: bool,
        /// Event name (`http.uri_overlong`, `ipv4.trunc_pkt`...).
        name: String,
    },
    /// `ssl_state:[!]state,...`
    SslState(Vec<(bool, String)>),
    /// `ssl_version:[!]ver,...`
    SslVersion(Vec<(bool, String)>),
    /// `base64_decode[:bytes N,offset N,relative]`
    Base64Decode {
        /// `bytes N`
        bytes: Option<u32>,
        /// `offset N`
        offset: Option<u32>,
        /// `relative`
        relative: bool,
    },
    /// `asn1:` arguments as words.
    Asn1(Vec<String>),
    /// `appid` (Snort 2) / `appids` (Snort 3): application names, trimmed, unquoted.
    Appids(Vec<String>),
    /// A keyword kept untyped. `known` says whether it is a recognised keyword of some dialect
    /// (`dce_iface`, `filestore`...) or an unknown one (rejected in strict mode).
    Other {
        /// The keyword.
        name: String,
        /// The raw value after `:`, trimmed.
        value: Option<String>,
        /// Recognised keyword (true) or unknown (false).
        known: bool,
    },
}
