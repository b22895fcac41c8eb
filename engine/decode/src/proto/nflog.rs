//! Linux NFLOG (LINKTYPE_NFLOG): a 4-byte header (address family, version, resource id) and
//! netlink-style TLVs, each `length, type, value` padded to 4 bytes, with `length` and `type`
//! in the capturing host's byte order. The payload TLV (type 9) holds the network-layer packet;
//! the family says which (AF_INET, AF_INET6). Other TLVs (prefix, hardware header, uid, ...)
//! are skipped.

use super::{fixed, le16};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const FAMILY: usize = 0;
    // VERSION = 1, RESOURCE_ID = 2..4
}
pub const HEADER_LEN: usize = 4;
pub const TLV_HEADER_LEN: usize = 4;

/// NFULA_PAYLOAD.
const TLV_PAYLOAD: u16 = 9;
/// Netlink attribute flags (nested, net byte order) above the type number.
const TLV_TYPE_MASK: u16 = 0x3fff;

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// TLV header byte order: the host's, unknown to the reader. Attribute types are small
/// numbers (NFULA_* < 32), so whichever order makes the first type small is the host's.
pub fn little_endian(tlv: &[u8; TLV_HEADER_LEN]) -> bool {
    le16([tlv[2], tlv[3]]) & TLV_TYPE_MASK < 0x100
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn nflog(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<HEADER_LEN>(self.buf, off) else {
            self.event(DecodeEvent::NflogTruncated);
            return Step::Done;
        };
        let family = h[field::FAMILY];
        let mut pos = off + HEADER_LEN;
        let mut le = true;
        let mut first = true;
        let payload = loop {
            if self.rest(pos).is_empty() {
                // No payload TLV (logged without a packet copy): nothing to decode.
                self.push(LayerKind::Nflog, off, pos - off);
                return Step::Done;
            }
            let Some(t) = fixed::<TLV_HEADER_LEN>(self.buf, pos) else {
                self.event(DecodeEvent::NflogTruncated);
                return Step::Done;
            };
            if first {
                le = little_endian(t);
                first = false;
            }
            let read = |b: [u8; 2]| if le { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) };
            let len = usize::from(read([t[0], t[1]]));
            let kind = read([t[2], t[3]]) & TLV_TYPE_MASK;
            if len < TLV_HEADER_LEN {
                self.event(DecodeEvent::NflogBadTlv);
                return Step::Done;
            }
            if self.rest(pos).len() < len {
                self.event(DecodeEvent::NflogTruncated);
                return Step::Done;
            }
            if kind == TLV_PAYLOAD {
                break (pos, len);
            }
            // The padding after the last TLV may be missing; the loop then ends on empty.
            pos += len.next_multiple_of(4).min(self.rest(pos).len());
        };
        let (tlv, len) = payload;
        let start = tlv + TLV_HEADER_LEN;
        if !self.push(LayerKind::Nflog, off, start - off) {
            return Step::Done;
        }
        self.clip(tlv + len);
        match family {
            AF_INET => Step::Ipv4(start),
            AF_INET6 => Step::Ipv6(start),
            // Bridge and ARP families log other things; an IP packet is still recognisable.
            _ => match self.rest(start).first().map(|b| b >> 4) {
                Some(4) => Step::Ipv4(start),
                Some(6) => Step::Ipv6(start),
                _ => Step::Done,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    fn tlv(le: bool, kind: u16, value: &[u8]) -> Vec<u8> {
        let len = (value.len() + 4) as u16;
        let mut v = if le { len.to_le_bytes().to_vec() } else { len.to_be_bytes().to_vec() };
        v.extend_from_slice(&if le { kind.to_le_bytes() } else { kind.to_be_bytes() });
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn nflog(family: u8, le: bool, packet: &[u8]) -> Vec<u8> {
        let mut v = vec![family, 0, 0, 1];
        v.extend_from_slice(&tlv(le, 1, &[0x08, 0x00, 3, 0]));
        v.extend_from_slice(&tlv(le, 10, b"x"));
        v.extend_from_slice(&tlv(le, 9, packet));
        v
    }

    #[test]
    fn both_byte_orders_and_families() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, b"odd");
        let ip6 = ipv6_udp(V6A, V6B, 5, 6, b"");
        for le in [true, false] {
            let f = nflog(2, le, &ip);
            let p = decode(LinkType::NFLOG, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!(p.ports(), Some((1000, 53)));
            assert_eq!(p.layers.as_slice()[0], crate::Layer { kind: LayerKind::Nflog, offset: 0, len: 24 });
            let p = decode(LinkType::NFLOG, &nflog(10, le, &ip6));
            assert_eq!(p.ports(), Some((5, 6)));
        }
        // Unknown family, IP payload: decoded by version.
        assert_eq!(decode(LinkType::NFLOG, &nflog(7, true, &ip)).ports(), Some((1000, 53)));
        // No payload TLV.
        let f = nflog(2, true, &ip);
        let p = decode(LinkType::NFLOG, &f[..20]);
        assert!(p.events.is_empty() && p.ip.is_none());
    }

    #[test]
    fn truncated_at_every_length_and_bad_tlv() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, b"");
        let f = nflog(2, true, &ip);
        for n in 0..24 {
            let p = decode(LinkType::NFLOG, &f[..n]);
            // Ends of TLVs (the last one's padding may be missing).
            let tlv_boundary = matches!(n, 4 | 12 | 17..=20);
            assert_eq!(p.has_event(DecodeEvent::NflogTruncated), !tlv_boundary, "{n}");
            assert!(p.ip.is_none());
        }
        // Payload TLV cut inside the packet.
        assert!(decode(LinkType::NFLOG, &f[..30]).has_event(DecodeEvent::NflogTruncated));
        let p = decode(LinkType::NFLOG, &with(&f, |b| b[4] = 2));
        assert!(p.has_event(DecodeEvent::NflogBadTlv));
    }
}
