//! Non-payload options: header tests, flow, flowbits / xbits / flowint, app-layer facts.
//!
//! These are pure predicates of the packet, flow and state, so they are evaluated before the
//! payload ops (cheapest first) — the result is the same as Snort's left-to-right order.
//! Setters (`flowbits:set` ...) are [`PostAction`]s, applied only when the whole rule matched,
//! as Suricata's post-match list does.
//!
//! Header option semantics (Snort manual):
//! * `flags`: the packet's flags with the ignore mask removed are compared: exact (no modifier),
//!   `+` all listed set (others allowed), `*` any listed set, `!` none of the listed set.
//!   `12`/`CE` are CWR/ECE; `0` means no flags.
//! * `fragbits` (M D R) with the same modifiers; `fragoffset` compares the offset in bytes.
//! * `ttl`, `tos`, `id`, `itype`, `icode`, `icmp_id`, `icmp_seq`, `ack`, `seq`, `window`,
//!   `dsize`, `stream_size`: numeric tests; they fail when the layer is absent.
//! * `ip_proto:[!<>]N|name`, `sameip`, `ipopts:name|any`.
//! * `flow`: `established` / `not_established` / `stateless`, `to_server` / `to_client`,
//!   `only_stream` / `no_stream` (rebuilt stream vs packet), `only_frag` / `no_frag`.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::facts::{FlowFacts, PacketFacts};
use crate::ops::{Data, NumTest, VBuf};

/// Per-flow detection state: flowbits and flowints. Owned by the flow (the pipeline keeps one
/// per flow; both directions share it, as in Snort and Suricata).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowDetectState {
    bits: Vec<u64>,
    ints: Vec<(u32, i64)>,
}

impl FlowDetectState {
    /// Is flowbit `id` set?
    pub fn is_set(&self, id: u32) -> bool {
        let (w, b) = ((id / 64) as usize, id % 64);
        self.bits.get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    fn set(&mut self, id: u32, on: bool) {
        let (w, b) = ((id / 64) as usize, id % 64);
        if w >= self.bits.len() {
            if !on {
                return;
            }
            self.bits.resize(w + 1, 0);
        }
        if on {
            self.bits[w] |= 1 << b;
        } else {
            self.bits[w] &= !(1 << b);
        }
    }

    /// True when no flowbit is set.
    pub fn no_bits(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    fn int(&self, id: u32) -> Option<i64> {
        self.ints.iter().find(|(k, _)| *k == id).map(|(_, v)| *v)
    }

    fn set_int(&mut self, id: u32, v: i64) {
        match self.ints.iter_mut().find(|(k, _)| *k == id) {
            Some(e) => e.1 = v,
            None => self.ints.push((id, v)),
        }
    }
}

/// xbits tracking key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum XTrack {
    Src,
    Dst,
    Pair,
}

impl XTrack {
    pub(crate) fn key(self, p: &PacketFacts<'_>) -> (IpAddr, Option<IpAddr>) {
        match self {
            XTrack::Src => (p.src, None),
            XTrack::Dst => (p.dst, None),
            XTrack::Pair => {
                if p.src <= p.dst {
                    (p.src, Some(p.dst))
                } else {
                    (p.dst, Some(p.src))
                }
            }
        }
    }
}

/// Host/pair bits with capture-time expiry, per worker.
#[derive(Default)]
pub(crate) struct XbitTable {
    pub map: HashMap<(u32, IpAddr, Option<IpAddr>), i64>,
}

/// Most xbits kept per worker.
const MAX_XBITS: usize = 200_000;

impl XbitTable {
    fn is_set(&self, bit: u32, k: (IpAddr, Option<IpAddr>), now: i64) -> bool {
        self.map.get(&(bit, k.0, k.1)).is_some_and(|&exp| exp > now)
    }

    fn set(&mut self, bit: u32, k: (IpAddr, Option<IpAddr>), expire_at: i64, now: i64) {
        if self.map.len() >= MAX_XBITS {
            self.map.retain(|_, e| *e > now);
            if self.map.len() >= MAX_XBITS {
                return;
            }
        }
        self.map.insert((bit, k.0, k.1), expire_at);
    }
}

/// `flowint` comparison / assignment operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntVal {
    Num(i64),
    Var(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntCmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    IsSet,
    NotSet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntSet {
    Assign,
    Add,
    Sub,
}

/// A non-payload test.
#[derive(Clone, Debug)]
pub(crate) enum Check {
    Flow {
        established: Option<bool>,
        to_server: Option<bool>,
        stream: Option<bool>,
        frag: Option<bool>,
    },
    Ttl(NumTest),
    Tos(NumTest),
    IpId(NumTest),
    /// `None` = any option present.
    Ipopts(Option<u8>),
    IpProto {
        op: Option<char>,
        proto: u8,
    },
    Itype(NumTest),
    Icode(NumTest),
    IcmpId(NumTest),
    IcmpSeq(NumTest),
    Sameip,
    Ack(NumTest),
    Seq(NumTest),
    Window(NumTest),
    Flags {
        modifier: Option<char>,
        flags: u8,
        mask: u8,
    },
    Fragbits {
        modifier: Option<char>,
        bits: u8,
    },
    Fragoffset(NumTest),
    Dsize(NumTest),
    /// Length of a buffer (urilen).
    BufLen {
        buf: VBuf,
        test: NumTest,
    },
    /// 0 client, 1 server, 2 both, 3 either.
    StreamSize {
        side: u8,
        test: NumTest,
    },
    AppProto {
        negated: bool,
        proto: String,
    },
    Event {
        negated: bool,
        name: String,
    },
    /// (negated, bit) pairs, OR-ed.
    SslState(Vec<(bool, u8)>),
    SslVersion(Vec<(bool, u8)>),
    Appids(Vec<String>),
    Flowbits {
        set: bool,
        bits: Vec<u32>,
        any: bool,
    },
    Xbits {
        set: bool,
        bits: Vec<u32>,
        any: bool,
        track: XTrack,
    },
    Flowint {
        id: u32,
        cmp: IntCmp,
        val: IntVal,
    },
    DceIface {
        uuid: u128,
        version: Option<NumTest>,
    },
    DceOpnum(Vec<(u16, u16)>),
    /// A code `< 10` matches the class (`2` = 2xx).
    SipStatCode(Vec<u16>),
}

/// Applied after a full match.
#[derive(Clone, Debug)]
pub(crate) enum PostAction {
    FlowbitsSet(Vec<u32>),
    FlowbitsUnset(Vec<u32>),
    FlowbitsToggle(Vec<u32>),
    FlowbitsReset,
    XbitsSet { bits: Vec<u32>, track: XTrack, expire_s: u32 },
    XbitsUnset { bits: Vec<u32>, track: XTrack },
    XbitsToggle { bits: Vec<u32>, track: XTrack, expire_s: u32 },
    Flowint { id: u32, op: IntSet, val: IntVal },
}

fn modifier_test(value: u8, want: u8, modifier: Option<char>) -> bool {
    match modifier {
        None => value == want,
        Some('+') => value & want == want,
        Some('*') => want == 0 || value & want != 0,
        Some('!') => value & want == 0,
        Some(_) => false,
    }
}

/// Everything a check may look at.
pub(crate) struct CheckEnv<'a, 'b> {
    pub pkt: &'a PacketFacts<'a>,
    pub flow: &'a FlowFacts<'a>,
    pub state: Option<&'b FlowDetectState>,
    pub xbits: &'b XbitTable,
    pub data: Data<'a>,
    pub now: i64,
}

impl Check {
    /// Rough cost rank: cheap header tests first.
    pub(crate) fn cost(&self) -> u8 {
        match self {
            Check::Flowbits { .. } | Check::Flowint { .. } => 2,
            Check::Xbits { .. } | Check::Appids(_) | Check::AppProto { .. } | Check::Event { .. } => 3,
            Check::BufLen { .. } => 1,
            _ => 0,
        }
    }

    pub(crate) fn eval(&self, e: &CheckEnv<'_, '_>) -> bool {
        let p = e.pkt;
        match self {
            Check::Flow { established, to_server, stream, frag } => {
                established.is_none_or(|want| e.flow.established == want)
                    && to_server.is_none_or(|want| e.flow.has_flow && e.flow.to_server == want)
                    && stream.is_none_or(|want| p.is_rebuilt_stream == want)
                    && frag.is_none_or(|want| p.is_reassembled_frag == want)
            }
            Check::Ttl(t) => t.test(u64::from(p.ttl)),
            Check::Tos(t) => t.test(u64::from(p.tos)),
            Check::IpId(t) => t.test(u64::from(p.ip_id)),
            Check::Ipopts(o) => match o {
                None => !p.ip_options.is_empty(),
                Some(code) => p.ip_options.contains(code),
            },
            Check::IpProto { op, proto } => match op {
                None => p.proto == *proto,
                Some('!') => p.proto != *proto,
                Some('<') => p.proto < *proto,
                Some('>') => p.proto > *proto,
                Some(_) => false,
            },
            Check::Itype(t) => p.icmp.is_some_and(|i| t.test(u64::from(i.itype))),
            Check::Icode(t) => p.icmp.is_some_and(|i| t.test(u64::from(i.icode))),
            Check::IcmpId(t) => p.icmp.is_some_and(|i| t.test(u64::from(i.id))),
            Check::IcmpSeq(t) => p.icmp.is_some_and(|i| t.test(u64::from(i.seq))),
            Check::Sameip => p.src == p.dst,
            Check::Ack(t) => p.tcp.is_some_and(|x| t.test(u64::from(x.ack))),
            Check::Seq(t) => p.tcp.is_some_and(|x| t.test(u64::from(x.seq))),
            Check::Window(t) => p.tcp.is_some_and(|x| t.test(u64::from(x.window))),
            Check::Flags { modifier, flags, mask } => {
                p.tcp.is_some_and(|x| modifier_test(x.flags & !mask, *flags, *modifier))
            }
            Check::Fragbits { modifier, bits } => {
                let v = u8::from(p.mf) | (u8::from(p.df) << 1) | (u8::from(p.reserved_bit) << 2);
                modifier_test(v, *bits, *modifier)
            }
            Check::Fragoffset(t) => t.test(u64::from(p.frag_offset) * 8),
            Check::Dsize(t) => t.test(u64::from(p.payload_len)),
            Check::BufLen { buf, test } => e.data.get(*buf).is_some_and(|d| test.test(d.len() as u64)),
            Check::StreamSize { side, test } => {
                let (c, s) = (e.flow.client_bytes, e.flow.server_bytes);
                e.flow.has_flow
                    && match side {
                        0 => test.test(c),
                        1 => test.test(s),
                        2 => test.test(c) && test.test(s),
                        _ => test.test(c) || test.test(s),
                    }
            }
            Check::AppProto { negated, proto } => {
                let is = match e.flow.app_proto {
                    Some(a) => crate::compile::canonical_service(a) == proto.as_str(),
                    None => proto == "unknown" || proto == "failed",
                };
                is != *negated
            }
            Check::Event { negated, name } => p.events.iter().any(|ev| ev == name) != *negated,
            Check::SslState(items) => items.iter().any(|(neg, bit)| (e.flow.ssl_state & bit != 0) != *neg),
            Check::SslVersion(items) => {
                items.iter().any(|(neg, bit)| (e.flow.ssl_version & bit != 0) != *neg)
            }
            Check::Appids(names) => {
                e.flow.appids.iter().any(|a| names.iter().any(|n| n.eq_ignore_ascii_case(a)))
            }
            Check::Flowbits { set, bits, any } => {
                let is = |b: &u32| e.state.is_some_and(|s| s.is_set(*b));
                match (set, any) {
                    (true, false) => bits.iter().all(is),
                    (true, true) => bits.iter().any(is),
                    (false, false) => !bits.iter().any(is),
                    (false, true) => !bits.iter().all(is),
                }
            }
            Check::Xbits { set, bits, any, track } => {
                let k = track.key(p);
                let is = |b: &u32| e.xbits.is_set(*b, k, e.now);
                match (set, any) {
                    (true, false) => bits.iter().all(is),
                    (true, true) => bits.iter().any(is),
                    (false, false) => !bits.iter().any(is),
                    (false, true) => !bits.iter().all(is),
                }
            }
            Check::DceIface { uuid, version } => e
                .flow
                .dce_iface
                .is_some_and(|(u, v)| u == *uuid && version.as_ref().is_none_or(|t| t.test(u64::from(v)))),
            Check::DceOpnum(ranges) => {
                e.flow.dce_opnum.is_some_and(|op| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&op)))
            }
            Check::SipStatCode(codes) => e
                .flow
                .sip_stat_code
                .is_some_and(|s| codes.iter().any(|&c| s == c || (c < 10 && s / 100 == c))),
            Check::Flowint { id, cmp, val } => {
                let cur = e.state.and_then(|s| s.int(*id));
                let rhs = match val {
                    IntVal::Num(n) => Some(*n),
                    IntVal::Var(v) => e.state.and_then(|s| s.int(*v)),
                };
                match (cmp, cur, rhs) {
                    (IntCmp::IsSet, c, _) => c.is_some(),
                    (IntCmp::NotSet, c, _) => c.is_none(),
                    (_, None, _) | (_, _, None) => false,
                    (IntCmp::Eq, Some(a), Some(b)) => a == b,
                    (IntCmp::Ne, Some(a), Some(b)) => a != b,
                    (IntCmp::Lt, Some(a), Some(b)) => a < b,
                    (IntCmp::Gt, Some(a), Some(b)) => a > b,
                    (IntCmp::Le, Some(a), Some(b)) => a <= b,
                    (IntCmp::Ge, Some(a), Some(b)) => a >= b,
                }
            }
        }
    }
}

impl PostAction {
    pub(crate) fn apply(
        &self,
        state: Option<&mut FlowDetectState>,
        xbits: &mut XbitTable,
        pkt: &PacketFacts<'_>,
        now: i64,
    ) {
        const NS: i64 = 1_000_000_000;
        match self {
            PostAction::XbitsSet { bits, track, expire_s } => {
                let k = track.key(pkt);
                for b in bits {
                    xbits.set(*b, k, now.saturating_add(i64::from(*expire_s) * NS), now);
                }
            }
            PostAction::XbitsUnset { bits, track } => {
                let k = track.key(pkt);
                for b in bits {
                    xbits.map.remove(&(*b, k.0, k.1));
                }
            }
            PostAction::XbitsToggle { bits, track, expire_s } => {
                let k = track.key(pkt);
                for b in bits {
                    if xbits.is_set(*b, k, now) {
                        xbits.map.remove(&(*b, k.0, k.1));
                    } else {
                        xbits.set(*b, k, now.saturating_add(i64::from(*expire_s) * NS), now);
                    }
                }
            }
            _ => {
                let Some(s) = state else {
                    return;
                };
                match self {
                    PostAction::FlowbitsSet(bits) => bits.iter().for_each(|b| s.set(*b, true)),
                    PostAction::FlowbitsUnset(bits) => bits.iter().for_each(|b| s.set(*b, false)),
                    PostAction::FlowbitsToggle(bits) => {
                        for b in bits {
                            let on = s.is_set(*b);
                            s.set(*b, !on);
                        }
                    }
                    PostAction::FlowbitsReset => s.bits.iter_mut().for_each(|w| *w = 0),
                    PostAction::Flowint { id, op, val } => {
                        let rhs = match val {
                            IntVal::Num(n) => Some(*n),
                            IntVal::Var(v) => s.int(*v),
                        };
                        let Some(rhs) = rhs else {
                            return;
                        };
                        let cur = s.int(*id);
                        let v = match op {
                            IntSet::Assign => rhs,
                            IntSet::Add => cur.unwrap_or(0).saturating_add(rhs),
                            IntSet::Sub => cur.unwrap_or(0).saturating_sub(rhs),
                        };
                        s.set_int(*id, v);
                    }
                    _ => {}
                }
            }
        }
    }
}
