//! Packet builders for unit tests (tests may allocate; the decoder does not).

use crate::checksum::{fold, sum};

pub const V6A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const V6B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// Copy of `b` changed by `f`.
pub fn with(b: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = b.to_vec();
    f(&mut v);
    v
}

pub fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// A 4-byte VLAN tag followed by `payload` (put it after an 0x8100 ethertype).
pub fn vlan_tag(id: u16, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub fn pppoe(ppp_proto: u16, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() + 2) as u16;
    let mut v = vec![0x11, 0x00, 0x12, 0x34];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&ppp_proto.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub struct Ipv4Spec {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub proto: u8,
    pub ttl: u8,
    pub id: u16,
    pub flags_frag: u16,
    pub options: Vec<u8>,
    pub payload: Vec<u8>,
}

/// IPv4 packet with a correct header checksum, customised by `f`.
pub fn ipv4_full(f: impl FnOnce(&mut Ipv4Spec)) -> Vec<u8> {
    let mut s = Ipv4Spec {
        src: [10, 0, 0, 1],
        dst: [10, 0, 0, 2],
        proto: 17,
        ttl: 64,
        id: 1,
        flags_frag: 0,
        options: Vec::new(),
        payload: Vec::new(),
    };
    f(&mut s);
    let hlen = 20 + s.options.len();
    assert!(hlen % 4 == 0);
    let total = (hlen + s.payload.len()) as u16;
    let mut v = vec![0x40 | (hlen / 4) as u8, 0];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&s.id.to_be_bytes());
    v.extend_from_slice(&s.flags_frag.to_be_bytes());
    v.extend_from_slice(&[s.ttl, s.proto, 0, 0]);
    v.extend_from_slice(&s.src);
    v.extend_from_slice(&s.dst);
    v.extend_from_slice(&s.options);
    let c = !fold(sum(&v));
    v[10..12].copy_from_slice(&c.to_be_bytes());
    v.extend_from_slice(&s.payload);
    v
}

pub fn ipv6(src: [u8; 16], dst: [u8; 16], next_header: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.extend_from_slice(&[next_header, 64]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(payload);
    v
}

/// UDP header + payload with an arbitrary non-zero checksum.
pub fn udp(sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = sp.to_be_bytes().to_vec();
    v.extend_from_slice(&dp.to_be_bytes());
    v.extend_from_slice(&((payload.len() + 8) as u16).to_be_bytes());
    v.extend_from_slice(&[0x12, 0x34]);
    v.extend_from_slice(payload);
    v
}

/// TCP header (seq 1000, ack 0, window 8192) with `opts` padded to a multiple of 4.
pub fn tcp(sp: u16, dp: u16, flags: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut o = opts.to_vec();
    while o.len() % 4 != 0 {
        o.push(0);
    }
    let hlen = 20 + o.len();
    let mut v = sp.to_be_bytes().to_vec();
    v.extend_from_slice(&dp.to_be_bytes());
    v.extend_from_slice(&1000u32.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(&[((hlen / 4) as u8) << 4, flags, 0x20, 0x00, 0, 0, 0, 0]);
    v.extend_from_slice(&o);
    v.extend_from_slice(payload);
    v
}

fn set_l4_checksum(src: &[u8], dst: &[u8], proto: u8, seg: &mut [u8], at: usize) {
    seg[at..at + 2].copy_from_slice(&[0, 0]);
    let acc = sum(src) + sum(dst) + u64::from(proto) + seg.len() as u64 + sum(seg);
    let mut c = !fold(acc);
    if c == 0 && proto == 17 {
        c = 0xffff;
    }
    seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

pub fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut seg = udp(sp, dp, payload);
    set_l4_checksum(&src, &dst, 17, &mut seg, 6);
    ipv4_full(|h| {
        h.src = src;
        h.dst = dst;
        h.proto = 17;
        h.payload = seg;
    })
}

pub fn ipv4_tcp(
    src: [u8; 4],
    dst: [u8; 4],
    sp: u16,
    dp: u16,
    flags: u8,
    opts: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut seg = tcp(sp, dp, flags, opts, payload);
    set_l4_checksum(&src, &dst, 6, &mut seg, 16);
    ipv4_full(|h| {
        h.src = src;
        h.dst = dst;
        h.proto = 6;
        h.payload = seg;
    })
}

/// ICMP message: type, code, checksum, `rest` (4 bytes), payload.
pub fn ipv4_icmp(src: [u8; 4], dst: [u8; 4], t: u8, code: u8, rest: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut m = vec![t, code, 0, 0];
    m.extend_from_slice(rest);
    m.extend_from_slice(payload);
    let c = !fold(sum(&m));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4_full(|h| {
        h.src = src;
        h.dst = dst;
        h.proto = 1;
        h.payload = m;
    })
}

pub fn ipv6_udp(src: [u8; 16], dst: [u8; 16], sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut seg = udp(sp, dp, payload);
    set_l4_checksum(&src, &dst, 17, &mut seg, 6);
    ipv6(src, dst, 17, &seg)
}

pub fn ipv6_icmp(src: [u8; 16], dst: [u8; 16], t: u8, code: u8, rest: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut m = vec![t, code, 0, 0];
    m.extend_from_slice(rest);
    m.extend_from_slice(payload);
    set_l4_checksum(&src, &dst, 58, &mut m, 2);
    ipv6(src, dst, 58, &m)
}

/// `decode` for tests: leaks the bytes so that a packet built inline can be decoded in one
/// expression (`decode(lt, &eth(..))`). Never used by the fuzz loops.
pub fn dec(link_type: ids_capture::LinkType, bytes: &[u8]) -> crate::Packet<'static> {
    let leaked: &'static [u8] = Box::leak(bytes.to_vec().into_boxed_slice());
    crate::decode(link_type, leaked)
}
