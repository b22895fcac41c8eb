//! Payload options and their evaluation: the cursor model with backtracking.
//!
//! A rule's payload options are compiled, in rule order, into a list of [`Op`]s, each bound to a
//! (possibly transformed) buffer at compile time. Evaluation walks the list with a [`Cursor`]:
//!
//! * **Buffer switch.** When an op's buffer differs from the cursor's, the cursor moves to the
//!   start of that buffer (selecting a sticky buffer, or a Snort 2 `http_*` content after a
//!   `pkt_data` one, starts matching at 0).
//! * **content** (Snort `uniSearchReal` semantics): the search window starts at `offset`
//!   (absolute) or `cursor + distance` (relative), clamped at 0, and extends `depth` / `within`
//!   bytes from there (to the buffer end when not given). A match leaves the cursor just after
//!   it. `startswith` = `depth:len`; `endswith` = the match must end at the buffer end.
//! * **negated content** never moves the cursor. It holds when the pattern is absent from its
//!   window. Edge cases follow Snort: a window that has *some* data but less than the pattern
//!   holds; a window with *no* data fails — except for Suricata-dialect rules, where it holds
//!   (`differences-from-snort.rst`).
//! * **Backtracking** (Snort's `detection_options` retry): when a later op fails, a content or
//!   pcre that matched is searched again for its next occurrence (start + 1) in the same window
//!   and the rest re-evaluated, until the rest succeeds or there are no occurrences left. This is
//!   a depth-first search, so `content:"a"; content:"b"; distance:0; within:1;` finds `ab` in
//!   `"a a ab"`. Only ops that something later depends on through the cursor are retried
//!   (retrying anything else cannot change the outcome). Each rule evaluation has a budget of
//!   search steps ([`SEARCH_BUDGET`]) so that chains of relative contents over repetitive data
//!   cannot go exponential; running out means "no match".
//! * **pcre** searches the buffer (relative: from the cursor — the subject starts there, so `^`
//!   anchors at the cursor); a match moves the cursor to its end.
//! * **byte_test / byte_jump / byte_extract / byte_math** read 1–8 bytes (binary, big or little
//!   endian; `dce` is taken as little endian) or 1–10 characters of a decimal / hex / octal
//!   number (`strtoul` style: leading blanks skipped, stops at the first non-digit, at least
//!   one digit) at `offset` from the buffer start or, with `relative`, from the cursor. A
//!   `bitmask` is applied and the value shifted right by the mask's trailing zero bits.
//!   byte_jump moves the cursor to `end of the read bytes + value × multiplier` (aligned up to
//!   4 with `align`; from the buffer start with `from_beginning`, from its end with `from_end`)
//!   `+ post_offset`, failing outside `[0, len]`. byte_extract stores the value (× multiplier,
//!   aligned to `align N`) in a variable and moves the cursor after the bytes read; byte_math
//!   stores `value oper rvalue` (division by zero fails) and leaves the cursor. Variables can be
//!   used as offset/depth/distance/within and by later byte options.
//! * **isdataat** `N`: absolute: byte `N` exists (`N < len`). Relative: Snort: byte
//!   `cursor + N` exists (so `!0,relative` = nothing after the cursor); Suricata:
//!   `cursor + N <= len` (`!1,relative` = nothing after the cursor).
//! * **bsize / bufferlen**: length of the buffer (`relative`: from the cursor).

use std::rc::Rc;

use memchr::memmem;

use crate::facts::{BufferId, Buffers};
use crate::pcre::CompiledPcre;
use ids_rules::CmpOp;

/// Maximum byte_extract / byte_math variables per rule.
pub(crate) const MAX_VARS: usize = 8;

/// Search steps (content / pcre attempts) allowed per rule evaluation.
pub const SEARCH_BUDGET: u32 = 20_000;

/// A buffer as the ops see it: `< BufferId::COUNT` is a plain slot, above is a transformed one.
pub(crate) type VBuf = u16;

/// A number or a variable slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    Num(i64),
    Var(u8),
}

impl Val {
    fn get(self, vars: &[i64; MAX_VARS]) -> i64 {
        match self {
            Val::Num(n) => n,
            Val::Var(i) => vars[usize::from(i) % MAX_VARS],
        }
    }
}

/// The detection cursor: current buffer, position in it, and the rule's variables.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor {
    pub buf: VBuf,
    pub pos: usize,
    pub vars: [i64; MAX_VARS],
}

impl Cursor {
    pub(crate) fn start() -> Self {
        Cursor { buf: BufferId::PktData as VBuf, pos: 0, vars: [0; MAX_VARS] }
    }

    /// The cursor seen from an op on buffer `b`.
    fn on(self, b: VBuf) -> Cursor {
        if self.buf == b {
            self
        } else {
            Cursor { buf: b, pos: 0, ..self }
        }
    }
}

/// The bytes of every buffer for one packet: plain slots plus transformed ones (computed by the
/// detector before evaluation).
#[derive(Clone, Copy)]
pub(crate) struct Data<'a> {
    pub base: &'a Buffers<'a>,
    pub trans: &'a [Vec<u8>],
    pub present: &'a [bool],
    /// One instance of a multi-buffer standing in for its whole (see `CompiledRule::lines`).
    pub line: Option<(VBuf, &'a [u8])>,
}

impl<'a> Data<'a> {
    pub(crate) fn get(&self, v: VBuf) -> Option<&'a [u8]> {
        if let Some((lv, l)) = self.line {
            if lv == v {
                return Some(l);
            }
        }
        let v = usize::from(v);
        if v < BufferId::COUNT {
            self.base.get(BufferId::ALL[v])
        } else {
            let t = v - BufferId::COUNT;
            if *self.present.get(t)? {
                Some(self.trans[t].as_slice())
            } else {
                None
            }
        }
    }
}

/// A numeric test with the range semantics decided at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NumTest {
    pub op: CmpOp,
    pub a: u64,
    pub b: u64,
    /// `lo<>hi` includes its bounds (Snort 2) or not (Snort 3, Suricata).
    pub inclusive: bool,
}

impl NumTest {
    pub(crate) fn new(c: &ids_rules::NumCheck, inclusive_range: bool) -> Self {
        NumTest { op: c.op, a: c.value, b: c.high.unwrap_or(c.value), inclusive: inclusive_range }
    }

    pub(crate) fn test(&self, v: u64) -> bool {
        match self.op {
            CmpOp::Eq => v == self.a,
            CmpOp::Ne => v != self.a,
            CmpOp::Lt => v < self.a,
            CmpOp::Gt => v > self.a,
            CmpOp::Le => v <= self.a,
            CmpOp::Ge => v >= self.a,
            CmpOp::Range if !self.inclusive => v > self.a && v < self.b,
            CmpOp::Range | CmpOp::RangeInclusive => v >= self.a && v <= self.b,
        }
    }
}

/// A compiled content.
pub(crate) struct ContentOp {
    pub buf: VBuf,
    /// Lower-cased when `nocase`.
    pub pat: Vec<u8>,
    pub finder: memmem::Finder<'static>,
    pub nocase: bool,
    pub negated: bool,
    pub relative: bool,
    /// offset or distance.
    pub start: Option<Val>,
    /// depth or within.
    pub span: Option<Val>,
    pub endswith: bool,
    /// Search again on failure of the rest.
    pub retry: bool,
    /// `fast_pattern:only` (Snort 2): verified, but the cursor is not moved.
    pub keep_cursor: bool,
    /// Suricata: a negated content with an empty window holds.
    pub neg_empty_holds: bool,
}

/// A compiled pcre.
pub(crate) struct PcreOp {
    pub buf: VBuf,
    pub re: CompiledPcre,
    pub negated: bool,
    pub relative: bool,
    pub retry: bool,
}

/// How a byte option reads its number.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Read {
    pub bytes: u32,
    pub little: bool,
    /// Base of a string number.
    pub string: Option<u32>,
    pub bitmask: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TestOp {
    Lt,
    Gt,
    Eq,
    Le,
    Ge,
    And,
    Xor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MathOp {
    Add,
    Sub,
    Mul,
    Div,
    Shl,
    Shr,
}

/// `asn1` arguments.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Asn1Spec {
    pub bitstring_overflow: bool,
    pub double_overflow: bool,
    pub oversize_length: Option<u32>,
    pub offset: i64,
    pub relative: bool,
}

/// One payload op.
pub(crate) enum Op {
    Content(Box<ContentOp>),
    Pcre(Box<PcreOp>),
    ByteTest {
        buf: VBuf,
        read: Read,
        offset: Val,
        relative: bool,
        negated: bool,
        op: TestOp,
        value: Val,
    },
    ByteJump {
        buf: VBuf,
        read: Read,
        offset: Val,
        relative: bool,
        multiplier: i64,
        align: bool,
        from_beginning: bool,
        from_end: bool,
        post_offset: i64,
    },
    ByteExtract {
        buf: VBuf,
        read: Read,
        offset: i64,
        relative: bool,
        multiplier: i64,
        align: i64,
        var: u8,
    },
    ByteMath {
        buf: VBuf,
        read: Read,
        offset: i64,
        relative: bool,
        op: MathOp,
        rvalue: Val,
        var: u8,
    },
    IsDataAt {
        buf: VBuf,
        negated: bool,
        offset: Val,
        relative: bool,
        /// Suricata: relative `cursor + N <= len`.
        suricata: bool,
    },
    BufferLen {
        buf: VBuf,
        test: NumTest,
        relative: bool,
    },
    /// `ber_data:type` / `ber_skip:type[,optional]` (Snort 3): walk one BER element.
    Ber {
        buf: VBuf,
        tag: u32,
        /// true: ber_skip (cursor after the element), false: ber_data (cursor at its data).
        skip: bool,
        optional: bool,
    },
    /// `base64_decode`: decodes into the `base64_data` buffer (cursor unchanged).
    Base64Decode {
        buf: VBuf,
        bytes: Option<usize>,
        offset: i64,
        relative: bool,
    },
    /// `ftpbounce`: the address of an FTP `PORT h1,h2,h3,h4,p1,p2` argument at the cursor is
    /// not the client's (the packet source).
    FtpBounce {
        buf: VBuf,
    },
    /// `asn1`: holds when a BER element from the start point is malformed as asked.
    Asn1 {
        buf: VBuf,
        spec: Asn1Spec,
    },
}

impl Op {
    /// Does this op read the cursor position (so earlier matches are worth retrying)?
    pub(crate) fn reads_cursor(&self) -> bool {
        match self {
            Op::Content(c) => c.relative,
            Op::Pcre(p) => p.relative,
            Op::ByteTest { relative, .. }
            | Op::ByteJump { relative, .. }
            | Op::ByteExtract { relative, .. }
            | Op::ByteMath { relative, .. }
            | Op::IsDataAt { relative, .. }
            | Op::BufferLen { relative, .. } => *relative,
            Op::Ber { .. } => true,
            Op::Base64Decode { relative, .. } => *relative,
            Op::Asn1 { spec, .. } => spec.relative,
            Op::FtpBounce { .. } => true,
        }
    }

    /// Does this op move the cursor (so a later relative op depends on it)?
    pub(crate) fn buf(&self) -> VBuf {
        match self {
            Op::Content(c) => c.buf,
            Op::Pcre(p) => p.buf,
            Op::ByteTest { buf, .. }
            | Op::ByteJump { buf, .. }
            | Op::ByteExtract { buf, .. }
            | Op::ByteMath { buf, .. }
            | Op::IsDataAt { buf, .. }
            | Op::BufferLen { buf, .. }
            | Op::Ber { buf, .. }
            | Op::Base64Decode { buf, .. }
            | Op::Asn1 { buf, .. }
            | Op::FtpBounce { buf } => *buf,
        }
    }
}

/// Evaluation state shared by the recursion.
pub(crate) struct Eval<'a> {
    pub data: Data<'a>,
    pub budget: u32,
    /// The `base64_data` buffer of the last `base64_decode` on the current path.
    pub b64: Option<Rc<Vec<u8>>>,
    /// The packet's source address (`ftpbounce`).
    pub src: std::net::IpAddr,
}

impl Eval<'_> {
    fn spend(&mut self) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        true
    }
}

/// Case-insensitive search of a lower-cased `pat` in `hay`.
fn find_nocase(hay: &[u8], pat: &[u8]) -> Option<usize> {
    let (&first, rest) = pat.split_first()?;
    if hay.len() < pat.len() {
        return None;
    }
    let last_start = hay.len() - pat.len();
    let upper = first.to_ascii_uppercase();
    let mut i = 0;
    while i <= last_start {
        let found = if upper != first {
            memchr::memchr2(first, upper, &hay[i..=last_start])
        } else {
            memchr::memchr(first, &hay[i..=last_start])
        };
        let at = i + found?;
        if hay[at + 1..at + pat.len()].eq_ignore_ascii_case(rest) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

impl ContentOp {
    fn find(&self, hay: &[u8]) -> Option<usize> {
        if self.nocase {
            find_nocase(hay, &self.pat)
        } else {
            self.finder.find(hay)
        }
    }

    fn matches_at(&self, hay: &[u8], at: usize) -> bool {
        match hay.get(at..at + self.pat.len()) {
            Some(s) if self.nocase => s.eq_ignore_ascii_case(&self.pat),
            Some(s) => s == self.pat.as_slice(),
            None => false,
        }
    }
}

enum Window {
    /// Search `[start, end)`.
    Search(usize, usize),
    /// Some data, less than the pattern.
    Short,
    /// No data at all.
    Empty,
}

fn window(c: &ContentOp, len: usize, cur: &Cursor) -> Window {
    let len = len as i64;
    let plen = c.pat.len() as i64;
    let start = c.start.map_or(0, |v| v.get(&cur.vars));
    let mut pos = if c.relative { (cur.pos as i64).saturating_add(start) } else { start };
    if pos < 0 {
        pos = 0;
    }
    let avail = len - pos;
    let depth = match c.span.map(|v| v.get(&cur.vars)) {
        Some(d) if d > 0 && d < avail => d,
        _ => avail,
    };
    if pos.saturating_add(plen) > len || plen > depth {
        return if depth > 0 { Window::Short } else { Window::Empty };
    }
    Window::Search(pos as usize, (pos + depth) as usize)
}

/// Reads a number; returns (value, bytes consumed).
fn read_num(data: &[u8], at: i64, r: &Read) -> Option<(u64, usize)> {
    if at < 0 {
        return None;
    }
    let at = at as usize;
    // Suricata: `0` bytes with `string` reads the number from the rest of the buffer.
    let n = if r.bytes == 0 { data.len().saturating_sub(at).min(20) } else { r.bytes as usize };
    let bytes = data.get(at..at.checked_add(n)?)?;
    let (mut v, used) = match r.string {
        None => {
            let mut v: u64 = 0;
            if r.little {
                for &b in bytes.iter().rev() {
                    v = (v << 8) | u64::from(b);
                }
            } else {
                for &b in bytes {
                    v = (v << 8) | u64::from(b);
                }
            }
            (v, n)
        }
        Some(base) => {
            let mut i = 0;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b'+' {
                i += 1;
            }
            if base == 16
                && i + 1 < bytes.len()
                && bytes[i] == b'0'
                && (bytes[i + 1] | 0x20) == b'x'
                && bytes.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit())
            {
                i += 2;
            }
            let digits_start = i;
            let mut v: u64 = 0;
            while i < bytes.len() {
                let d = match (bytes[i] as char).to_digit(base) {
                    Some(d) => d,
                    None => break,
                };
                v = v.wrapping_mul(u64::from(base)).wrapping_add(u64::from(d));
                i += 1;
            }
            if i == digits_start {
                return None;
            }
            (v, i)
        }
    };
    if let Some(mask) = r.bitmask {
        v &= mask;
        if mask != 0 {
            v >>= mask.trailing_zeros();
        }
    }
    Some((v, used))
}

fn base_pos(relative: bool, cur: &Cursor, off: i64) -> i64 {
    if relative {
        (cur.pos as i64).saturating_add(off)
    } else {
        off
    }
}

/// Evaluates `ops[i..]` from `cur`; true when every op holds (with backtracking).
pub(crate) fn run(ops: &[Op], i: usize, cur: Cursor, ev: &mut Eval<'_>) -> bool {
    let Some(op) = ops.get(i) else {
        return true;
    };
    // `base64_data` lives in the evaluation (set by `base64_decode`), not in the packet.
    let holder: Option<Rc<Vec<u8>>>;
    let data: &[u8] = if op.buf() == BufferId::Base64Data as VBuf {
        holder = ev.b64.clone();
        match &holder {
            Some(h) => h.as_slice(),
            None => return false,
        }
    } else {
        match ev.data.get(op.buf()) {
            Some(d) => d,
            None => return false,
        }
    };
    let cur = cur.on(op.buf());
    let len = data.len();
    match op {
        Op::Content(c) => {
            if !ev.spend() {
                return false;
            }
            let win = window(c, len, &cur);
            if c.negated {
                let holds = match win {
                    Window::Short => true,
                    Window::Empty => c.neg_empty_holds,
                    Window::Search(s, e) => {
                        if c.endswith {
                            !(e == len && c.matches_at(data, len - c.pat.len()) && len - c.pat.len() >= s)
                        } else {
                            c.find(&data[s..e]).is_none()
                        }
                    }
                };
                return holds && run(ops, i + 1, cur, ev);
            }
            let Window::Search(s, e) = win else {
                return false;
            };
            if c.endswith {
                let at = len - c.pat.len();
                if e != len || at < s || !c.matches_at(data, at) {
                    return false;
                }
                let next = if c.keep_cursor { cur } else { Cursor { pos: len, ..cur } };
                return run(ops, i + 1, next, ev);
            }
            let mut from = s;
            loop {
                let Some(found) = c.find(&data[from..e]) else {
                    return false;
                };
                let at = from + found;
                let next = if c.keep_cursor { cur } else { Cursor { pos: at + c.pat.len(), ..cur } };
                if run(ops, i + 1, next, ev) {
                    return true;
                }
                if !c.retry || !ev.spend() {
                    return false;
                }
                from = at + 1;
                if from + c.pat.len() > e {
                    return false;
                }
            }
        }
        Op::Pcre(p) => {
            if !ev.spend() {
                return false;
            }
            let base = if p.relative { cur.pos.min(len) } else { 0 };
            let subject = &data[base..];
            if p.negated {
                return match p.re.find_at(subject, 0) {
                    Ok(None) => run(ops, i + 1, cur, ev),
                    _ => false,
                };
            }
            let mut from = 0;
            loop {
                let (ms, me) = match p.re.find_at(subject, from) {
                    Ok(Some(m)) => m,
                    _ => return false,
                };
                if run(ops, i + 1, Cursor { pos: base + me, ..cur }, ev) {
                    return true;
                }
                if !p.retry || !ev.spend() {
                    return false;
                }
                from = ms + 1;
                if from > subject.len() {
                    return false;
                }
            }
        }
        Op::ByteTest { read, offset, relative, negated, op, value, .. } => {
            let at = base_pos(*relative, &cur, offset.get(&cur.vars));
            let Some((v, _)) = read_num(data, at, read) else {
                return false;
            };
            let cmp = value.get(&cur.vars) as u64;
            let r = match op {
                TestOp::Lt => v < cmp,
                TestOp::Gt => v > cmp,
                TestOp::Eq => v == cmp,
                TestOp::Le => v <= cmp,
                TestOp::Ge => v >= cmp,
                TestOp::And => v & cmp != 0,
                TestOp::Xor => v ^ cmp != 0,
            };
            r != *negated && run(ops, i + 1, cur, ev)
        }
        Op::ByteJump {
            read,
            offset,
            relative,
            multiplier,
            align,
            from_beginning,
            from_end,
            post_offset,
            ..
        } => {
            let at = base_pos(*relative, &cur, offset.get(&cur.vars));
            let Some((v, used)) = read_num(data, at, read) else {
                return false;
            };
            let mut jump = (v as i64).saturating_mul(*multiplier);
            if *align && jump % 4 != 0 {
                jump = jump.saturating_add(4 - jump.rem_euclid(4));
            }
            let origin = if *from_beginning {
                0
            } else if *from_end {
                len as i64
            } else {
                at.saturating_add(used as i64)
            };
            let pos = origin.saturating_add(jump).saturating_add(*post_offset);
            if pos < 0 || pos > len as i64 {
                return false;
            }
            run(ops, i + 1, Cursor { pos: pos as usize, ..cur }, ev)
        }
        Op::ByteExtract { read, offset, relative, multiplier, align, var, .. } => {
            let at = base_pos(*relative, &cur, *offset);
            let Some((v, used)) = read_num(data, at, read) else {
                return false;
            };
            let mut v = (v as i64).saturating_mul(*multiplier);
            if *align > 1 && v % *align != 0 {
                v = v.saturating_add(*align - v.rem_euclid(*align));
            }
            let mut next = cur;
            next.vars[usize::from(*var) % MAX_VARS] = v;
            next.pos = (at as usize).saturating_add(used).min(len);
            run(ops, i + 1, next, ev)
        }
        Op::ByteMath { read, offset, relative, op, rvalue, var, .. } => {
            let at = base_pos(*relative, &cur, *offset);
            let Some((v, _)) = read_num(data, at, read) else {
                return false;
            };
            let (l, r) = (v as i64, rvalue.get(&cur.vars));
            let res = match op {
                MathOp::Add => l.wrapping_add(r),
                MathOp::Sub => l.wrapping_sub(r),
                MathOp::Mul => l.wrapping_mul(r),
                MathOp::Div => match l.checked_div(r) {
                    Some(x) => x,
                    None => return false,
                },
                MathOp::Shl => l.checked_shl(u32::try_from(r).unwrap_or(64)).unwrap_or(0),
                MathOp::Shr => l.checked_shr(u32::try_from(r).unwrap_or(64)).unwrap_or(0),
            };
            let mut next = cur;
            next.vars[usize::from(*var) % MAX_VARS] = res;
            run(ops, i + 1, next, ev)
        }
        Op::IsDataAt { negated, offset, relative, suricata, .. } => {
            let n = offset.get(&cur.vars);
            let at = base_pos(*relative, &cur, n);
            let has =
                if *relative && *suricata { at >= 0 && at <= len as i64 } else { at >= 0 && at < len as i64 };
            has != *negated && run(ops, i + 1, cur, ev)
        }
        Op::BufferLen { test, relative, .. } => {
            let l = if *relative { len.saturating_sub(cur.pos) } else { len };
            test.test(l as u64) && run(ops, i + 1, cur, ev)
        }
        Op::Base64Decode { bytes, offset, relative, .. } => {
            let at = base_pos(*relative, &cur, *offset);
            if at < 0 || at as usize >= len {
                return false;
            }
            let src = &data[at as usize..];
            let src = &src[..bytes.unwrap_or(src.len()).min(src.len())];
            let decoded = base64_decode(src);
            if decoded.is_empty() {
                return false;
            }
            let old = ev.b64.replace(Rc::new(decoded));
            if run(ops, i + 1, cur, ev) {
                return true;
            }
            ev.b64 = old;
            false
        }
        Op::FtpBounce { .. } => {
            let mut nums = [0u32; 4];
            let mut p = cur.pos;
            while p < len && data[p] == b' ' {
                p += 1;
            }
            for (k, n) in nums.iter_mut().enumerate() {
                let start = p;
                while p < len && data[p].is_ascii_digit() && p - start < 3 {
                    *n = *n * 10 + u32::from(data[p] - b'0');
                    p += 1;
                }
                if p == start || *n > 255 || (k < 3 && data.get(p) != Some(&b',')) {
                    return false;
                }
                p += 1;
            }
            let addr = std::net::IpAddr::from([nums[0] as u8, nums[1] as u8, nums[2] as u8, nums[3] as u8]);
            addr != ev.src && run(ops, i + 1, cur, ev)
        }
        Op::Asn1 { spec, .. } => {
            let start = base_pos(spec.relative, &cur, spec.offset);
            start >= 0
                && (start as usize) < len
                && asn1_bad(data, start as usize, spec)
                && run(ops, i + 1, cur, ev)
        }
        Op::Ber { tag, skip, optional, .. } => match ber_element(data, cur.pos) {
            Some((t, data_at, end)) if t == *tag => {
                let pos = if *skip { end } else { data_at };
                run(ops, i + 1, Cursor { pos, ..cur }, ev)
            }
            _ if *optional => run(ops, i + 1, cur, ev),
            _ => false,
        },
    }
}

/// Lenient base64 (Snort `base64_decode`): whitespace skipped, stops at the first other
/// non-alphabet byte or `=`.
fn base64_decode(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() * 3 / 4);
    let (mut acc, mut nbits) = (0u32, 0u32);
    for &c in src {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => break,
        };
        acc = (acc << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((acc >> nbits) as u8);
        }
    }
    out
}

/// Snort `asn1` checks over the BER elements from `at` (constructed ones are entered): a BIT
/// STRING whose unused-bits count is > 7 or that is empty, a REAL longer than 256 bytes (double
/// overflow), an element whose length exceeds `oversize_length` or the data.
fn asn1_bad(data: &[u8], at: usize, spec: &Asn1Spec) -> bool {
    let mut p = at;
    let mut steps = 0;
    while p < data.len() && steps < 256 {
        steps += 1;
        let tag = data[p];
        let Some(&first) = data.get(p + 1) else {
            return false;
        };
        let (len, hdr) = if first & 0x80 == 0 {
            (u64::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 8 || p + 2 + n > data.len() {
                // Indefinite or truncated length: an oversized length by definition.
                return spec.oversize_length.is_some();
            }
            (data[p + 2..p + 2 + n].iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)), 2 + n)
        };
        if spec.oversize_length.is_some_and(|max| len > u64::from(max)) {
            return true;
        }
        let body = p + hdr;
        let number = tag & 0x1f;
        if spec.bitstring_overflow
            && number == 3
            && tag & 0x20 == 0
            && (len == 0 || data.get(body).is_some_and(|&u| u > 7))
        {
            return true;
        }
        if spec.double_overflow && number == 9 && len > 256 {
            return true;
        }
        p = if tag & 0x20 != 0 { body } else { body.saturating_add(len as usize) };
    }
    false
}

/// One BER element at `at`: (tag, start of its data, end of the element).
fn ber_element(data: &[u8], at: usize) -> Option<(u32, usize, usize)> {
    let tag = u32::from(*data.get(at)?);
    let mut p = at + 1;
    let first = *data.get(p)?;
    p += 1;
    let len = if first & 0x80 == 0 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut l = 0usize;
        for _ in 0..n {
            l = (l << 8) | usize::from(*data.get(p)?);
            p += 1;
        }
        l
    };
    let end = p.checked_add(len)?;
    if end > data.len() {
        return None;
    }
    Some((tag, p, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nocase_search() {
        assert_eq!(find_nocase(b"xxHeLLo", b"hello"), Some(2));
        assert_eq!(find_nocase(b"hell", b"hello"), None);
        assert_eq!(find_nocase(b"1a2", b"2"), Some(2));
        assert_eq!(find_nocase(b"", b"a"), None);
    }

    #[test]
    fn numbers() {
        let r = |bytes, little, string, bitmask| Read { bytes, little, string, bitmask };
        assert_eq!(read_num(b"\x01\x02", 0, &r(2, false, None, None)), Some((0x0102, 2)));
        assert_eq!(read_num(b"\x01\x02", 0, &r(2, true, None, None)), Some((0x0201, 2)));
        assert_eq!(read_num(b"\x01\x02", 1, &r(2, true, None, None)), None);
        assert_eq!(read_num(b"\x01\x02", -1, &r(1, true, None, None)), None);
        assert_eq!(read_num(b" 123x", 0, &r(5, false, Some(10), None)), Some((123, 4)));
        assert_eq!(read_num(b"0x1f", 0, &r(4, false, Some(16), None)), Some((0x1f, 4)));
        assert_eq!(read_num(b"777", 0, &r(3, false, Some(8), None)), Some((0o777, 3)));
        assert_eq!(read_num(b"abc", 0, &r(3, false, Some(10), None)), None);
        assert_eq!(read_num(b"\xf0", 0, &r(1, false, None, Some(0xf0))), Some((0xf, 1)));
    }

    #[test]
    fn ber() {
        assert_eq!(ber_element(b"\x30\x03abc", 0), Some((0x30, 2, 5)));
        assert_eq!(ber_element(b"\x30\x81\x02ab", 0), Some((0x30, 3, 5)));
        assert_eq!(ber_element(b"\x30\x05ab", 0), None);
    }
}
