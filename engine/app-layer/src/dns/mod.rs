//! DNS messages (RFC 1035) over UDP and over TCP (two-byte length prefix, RFC 7766).
//!
//! # What is parsed
//! The header (id, flags, opcode, rcode), questions (name, type, class) and the answer,
//! authority and additional sections (name, type, class, TTL, data). Record data is decoded for
//! A, AAAA, NS, CNAME, PTR, DNAME, MX, TXT, SOA and SRV; other types are kept raw. Names are
//! returned as their labels joined by `.` (bytes as sent, no escaping; the root is empty).
//!
//! # Compression pointers
//! A pointer must point strictly before the start of the label run that contains it. Every jump
//! therefore lands lower than the one before, so a name cannot loop; a pointer breaking the rule
//! is rejected as `dns_pointer_loop`. Names are capped at 255 bytes (`dns_name_too_long`).
//!
//! # Limits
//! `dns_max_records` records per section; over TCP the carry-over buffer holds one message
//! (at most 65535 + 2 bytes by the protocol).
//!
//! # Anomalies
//! `dns_truncated`, `dns_pointer_loop`, `dns_label_invalid`, `dns_name_too_long`,
//! `dns_too_many_records`, `dns_rdata_invalid`, `dns_trailing_data`, `dns_gap`. Anomalies of a
//! message are also listed in its `anomalies` field; a message whose header is complete is always
//! reported, with whatever was parsed before a malformation.

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::IResult;

use crate::buf::StreamBuf;
use crate::{Anomaly, AppEvent, DatagramParser, Direction, Limits, ParseStatus, StreamParser};

/// A question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuestion {
    pub name: Vec<u8>,
    pub rtype: u16,
    pub rclass: u16,
}

/// Decoded record data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// NS, CNAME, PTR, DNAME: one domain name.
    Name(Vec<u8>),
    Mx {
        preference: u16,
        exchange: Vec<u8>,
    },
    Txt(Vec<Vec<u8>>),
    Soa {
        mname: Vec<u8>,
        rname: Vec<u8>,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: Vec<u8>,
    },
    /// Any other type, or data that did not decode.
    Other(Vec<u8>),
}

/// A resource record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsRecord {
    pub name: Vec<u8>,
    pub rtype: u16,
    pub rclass: u16,
    pub ttl: u32,
    pub data: RData,
}

/// One DNS message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsMessage {
    /// Who sent it (for UDP, as the engine decided).
    pub dir: Option<Direction>,
    pub id: u16,
    pub flags: u16,
    pub questions: Vec<DnsQuestion>,
    pub answers: Vec<DnsRecord>,
    pub authorities: Vec<DnsRecord>,
    pub additionals: Vec<DnsRecord>,
    pub anomalies: Vec<Anomaly>,
}

impl DnsMessage {
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }
    pub fn rcode(&self) -> u8 {
        (self.flags & 0x0f) as u8
    }
    /// Truncated (TC) flag.
    pub fn truncated(&self) -> bool {
        self.flags & 0x0200 != 0
    }
}

/// Type numbers with decoded data.
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const DNAME: u16 = 39;
}

/// Why a name could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NameError {
    Truncated,
    Loop,
    Label,
    TooLong,
}

impl NameError {
    fn anomaly(self) -> Anomaly {
        match self {
            NameError::Truncated => Anomaly::DnsTruncated,
            NameError::Loop => Anomaly::DnsPointerLoop,
            NameError::Label => Anomaly::DnsLabelInvalid,
            NameError::TooLong => Anomaly::DnsNameTooLong,
        }
    }
}

/// Reads the name at `pos` of `msg`; returns it and the offset just after it (after the first
/// pointer if there is one).
fn read_name(msg: &[u8], pos: usize) -> Result<(Vec<u8>, usize), NameError> {
    let mut name = Vec::new();
    let mut p = pos;
    let mut run_start = pos;
    let mut after = None;
    loop {
        let &len = msg.get(p).ok_or(NameError::Truncated)?;
        match len >> 6 {
            0 if len == 0 => {
                return Ok((name, after.unwrap_or(p + 1)));
            }
            0 => {
                let label = msg.get(p + 1..p + 1 + usize::from(len)).ok_or(NameError::Truncated)?;
                if !name.is_empty() {
                    name.push(b'.');
                }
                name.extend_from_slice(label);
                // 255 on the wire is the length bytes plus labels: text length + 2.
                if name.len() + 2 > 255 {
                    return Err(NameError::TooLong);
                }
                p += 1 + usize::from(len);
            }
            3 => {
                let &lo = msg.get(p + 1).ok_or(NameError::Truncated)?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(lo);
                if target >= run_start {
                    return Err(NameError::Loop);
                }
                after.get_or_insert(p + 2);
                p = target;
                run_start = target;
            }
            _ => return Err(NameError::Label),
        }
    }
}

/// The name at the start of `i`, a sub-slice of `msg` (pointers may reach anywhere before).
/// The name must end inside `i`; the rest of `i` is returned.
fn name<'a>(msg: &'a [u8], i: &'a [u8]) -> Result<(&'a [u8], Vec<u8>), NameError> {
    let pos = offset(msg, i);
    let end = pos + i.len();
    let (n, next) = read_name(msg, pos)?;
    if next > end {
        return Err(NameError::Truncated);
    }
    Ok((&msg[next..end], n))
}

/// Where sub-slice `sub` starts in `msg`.
fn offset(msg: &[u8], sub: &[u8]) -> usize {
    (sub.as_ptr() as usize).saturating_sub(msg.as_ptr() as usize).min(msg.len())
}

fn fixed_rr(i: &[u8]) -> IResult<&[u8], (u16, u16, u32, &[u8])> {
    let (i, t) = be_u16(i)?;
    let (i, c) = be_u16(i)?;
    let (i, ttl) = be_u32(i)?;
    let (i, len) = be_u16(i)?;
    let (i, rd) = take(len)(i)?;
    Ok((i, (t, c, ttl, rd)))
}

/// Decodes record data; `rd` is a sub-slice of `msg` (names in it may point anywhere before).
fn rdata(msg: &[u8], rtype: u16, rd: &[u8]) -> Option<RData> {
    let whole = |r: Result<(&[u8], Vec<u8>), NameError>| r.ok().map(|(_, n)| n);
    Some(match rtype {
        rtype::A => RData::A(Ipv4Addr::from(<[u8; 4]>::try_from(rd).ok()?)),
        rtype::AAAA => RData::Aaaa(Ipv6Addr::from(<[u8; 16]>::try_from(rd).ok()?)),
        rtype::NS | rtype::CNAME | rtype::PTR | rtype::DNAME => RData::Name(whole(name(msg, rd))?),
        rtype::MX => {
            let (r, preference) = be_u16::<_, nom::error::Error<_>>(rd).ok()?;
            RData::Mx { preference, exchange: whole(name(msg, r))? }
        }
        rtype::TXT => {
            let mut v = Vec::new();
            let mut r = rd;
            while !r.is_empty() {
                let (rest, n) = be_u8::<_, nom::error::Error<_>>(r).ok()?;
                let (rest, s) = take::<_, _, nom::error::Error<_>>(n)(rest).ok()?;
                v.push(s.to_vec());
                r = rest;
            }
            RData::Txt(v)
        }
        rtype::SOA => {
            let (r, mname) = name(msg, rd).ok()?;
            let (r, rname) = name(msg, r).ok()?;
            let five = |i| -> IResult<&[u8], (u32, u32, u32, u32, u32)> {
                let (i, a) = be_u32(i)?;
                let (i, b) = be_u32(i)?;
                let (i, c) = be_u32(i)?;
                let (i, d) = be_u32(i)?;
                let (i, e) = be_u32(i)?;
                Ok((i, (a, b, c, d, e)))
            };
            let (_, (serial, refresh, retry, expire, minimum)) = five(r).ok()?;
            RData::Soa { mname, rname, serial, refresh, retry, expire, minimum }
        }
        rtype::SRV => {
            let three = |i| -> IResult<&[u8], (u16, u16, u16)> {
                let (i, a) = be_u16(i)?;
                let (i, b) = be_u16(i)?;
                let (i, c) = be_u16(i)?;
                Ok((i, (a, b, c)))
            };
            let (r, (priority, weight, port)) = three(rd).ok()?;
            RData::Srv { priority, weight, port, target: whole(name(msg, r))? }
        }
        _ => RData::Other(rd.to_vec()),
    })
}

/// Parses one DNS message. `None` only if it is shorter than the 12-byte header.
pub fn parse_message(msg: &[u8], limits: &Limits) -> Option<DnsMessage> {
    let hdr = |i| -> IResult<&[u8], [u16; 6]> {
        let mut v = [0u16; 6];
        let mut i = i;
        for x in &mut v {
            (i, *x) = be_u16(i)?;
        }
        Ok((i, v))
    };
    let (mut i, [id, flags, qd, an, ns, ar]) = hdr(msg).ok()?;
    let mut m = DnsMessage { id, flags, ..Default::default() };
    let fail = |m: &mut DnsMessage, a: Anomaly| {
        if !m.anomalies.contains(&a) {
            m.anomalies.push(a);
        }
    };
    let max = limits.dns_max_records;
    if usize::from(qd) > max || usize::from(an) > max || usize::from(ns) > max || usize::from(ar) > max {
        fail(&mut m, Anomaly::DnsTooManyRecords);
    }
    'parse: {
        for _ in 0..usize::from(qd).min(max) {
            let (r, n) = match name(msg, i) {
                Ok(x) => x,
                Err(e) => {
                    fail(&mut m, e.anomaly());
                    break 'parse;
                }
            };
            let Ok((r, (rtype, rclass))) = (|i| -> IResult<&[u8], (u16, u16)> {
                let (i, t) = be_u16(i)?;
                let (i, c) = be_u16(i)?;
                Ok((i, (t, c)))
            })(r) else {
                fail(&mut m, Anomaly::DnsTruncated);
                break 'parse;
            };
            m.questions.push(DnsQuestion { name: n, rtype, rclass });
            i = r;
        }
        for (count, section) in [(an, 0), (ns, 1), (ar, 2)] {
            for _ in 0..usize::from(count).min(max) {
                let (r, n) = match name(msg, i) {
                    Ok(x) => x,
                    Err(e) => {
                        fail(&mut m, e.anomaly());
                        break 'parse;
                    }
                };
                let Ok((r, (rtype, rclass, ttl, rd))) = fixed_rr(r) else {
                    fail(&mut m, Anomaly::DnsTruncated);
                    break 'parse;
                };
                i = r;
                let data = rdata(msg, rtype, rd).unwrap_or_else(|| {
                    fail(&mut m, Anomaly::DnsRdataInvalid);
                    RData::Other(rd.to_vec())
                });
                let rec = DnsRecord { name: n, rtype, rclass, ttl, data };
                match section {
                    0 => m.answers.push(rec),
                    1 => m.authorities.push(rec),
                    _ => m.additionals.push(rec),
                }
            }
        }
        if !i.is_empty() && m.anomalies.is_empty() {
            fail(&mut m, Anomaly::DnsTrailingData);
        }
    }
    Some(m)
}

fn emit(mut m: DnsMessage, dir: Direction, out: &mut dyn FnMut(AppEvent)) {
    m.dir = Some(dir);
    for &a in &m.anomalies {
        out(AppEvent::Anomaly(a));
    }
    out(AppEvent::Dns(Box::new(m)));
}

/// DNS over UDP: one datagram, one message.
pub struct DnsUdpParser {
    limits: Limits,
}

impl DnsUdpParser {
    pub fn new(limits: Limits) -> Self {
        DnsUdpParser { limits }
    }
}

impl DatagramParser for DnsUdpParser {
    fn parse_datagram(&mut self, dir: Direction, data: &[u8], out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        match parse_message(data, &self.limits) {
            Some(m) => {
                let ok = m.anomalies.is_empty();
                emit(m, dir, out);
                if ok {
                    ParseStatus::Ok
                } else {
                    ParseStatus::Error
                }
            }
            None => {
                out(AppEvent::Anomaly(Anomaly::DnsTruncated));
                ParseStatus::Error
            }
        }
    }
}

#[derive(Default)]
struct TcpHalf {
    buf: StreamBuf,
    /// Bytes left to skip of a message a gap cut into.
    skip: u64,
    dead: bool,
}

/// DNS over TCP: messages with a two-byte length prefix, any number per segment, split anywhere.
pub struct DnsTcpParser {
    limits: Limits,
    halves: [TcpHalf; 2],
}

impl DnsTcpParser {
    pub fn new(limits: Limits) -> Self {
        DnsTcpParser { limits, halves: Default::default() }
    }

    fn step(&mut self, dir: Direction, input: &[u8], out: &mut dyn FnMut(AppEvent)) -> usize {
        let mut pos = 0;
        loop {
            let h = &mut self.halves[dir.index()];
            if h.skip > 0 {
                let n = usize::try_from(h.skip).unwrap_or(usize::MAX).min(input.len() - pos);
                h.skip -= n as u64;
                pos += n;
            }
            let rest = &input[pos..];
            let Ok((r, len)) = nom::number::streaming::be_u16::<_, nom::error::Error<_>>(rest) else {
                return pos;
            };
            let Ok((_, msg)) = nom::bytes::streaming::take::<_, _, nom::error::Error<_>>(len)(r) else {
                return pos;
            };
            pos += 2 + usize::from(len);
            match parse_message(msg, &self.limits) {
                Some(m) => emit(m, dir, out),
                None => out(AppEvent::Anomaly(Anomaly::DnsTruncated)),
            }
        }
    }

    fn status(&self, dir: Direction) -> ParseStatus {
        let h = &self.halves[dir.index()];
        if h.dead {
            ParseStatus::Error
        } else if h.buf.len() == 0 && h.skip == 0 {
            ParseStatus::Ok
        } else {
            ParseStatus::NeedMore
        }
    }
}

impl StreamParser for DnsTcpParser {
    fn parse(&mut self, dir: Direction, data: &[u8], out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        let d = dir.index();
        if self.halves[d].dead {
            return ParseStatus::Error;
        }
        let mut buf = std::mem::take(&mut self.halves[d].buf);
        // One whole message always fits, so the step always makes progress on a full buffer.
        let _ = buf.run(data, 65535 + 2, |s| self.step(dir, s, out));
        self.halves[d].buf = buf;
        self.status(dir)
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut dyn FnMut(AppEvent)) -> ParseStatus {
        let h = &mut self.halves[dir.index()];
        if h.dead {
            return ParseStatus::Error;
        }
        out(AppEvent::Anomaly(Anomaly::DnsGap));
        let pending = h.buf.len() as u64;
        if h.skip > 0 {
            if len <= h.skip {
                h.skip -= len;
            } else {
                h.dead = true;
            }
        } else if pending >= 2 {
            // The length of the cut message is known: drop it and continue after it.
            let p = h.buf.pending();
            let total = 2 + u64::from(u16::from_be_bytes([p[0], p[1]]));
            let left = total.saturating_sub(pending);
            h.buf.clear();
            if len <= left {
                h.skip = left - len;
            } else {
                h.dead = true;
            }
        } else {
            h.dead = true;
        }
        self.status(dir)
    }

    fn end(&mut self, dir: Direction, _out: &mut dyn FnMut(AppEvent)) {
        self.halves[dir.index()].buf.clear();
    }
}

#[cfg(test)]
mod tests;
