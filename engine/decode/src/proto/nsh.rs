//! Network service header (RFC 8300), ethertype 0x894F: a 4-byte base header, a 4-byte service
//! path header, then context headers (MD type 1: four fixed words; MD type 2: variable TLVs),
//! the whole of it `length` 4-byte words long; then the packet named by the next protocol.

use super::fixed;
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const VER_FLAGS_TTL: usize = 0; // version(2) O(1) U(1) TTL high 4 bits
    pub const TTL_LENGTH: usize = 1; // TTL low 2 bits, length(6) in 4-byte words
    pub const MD_TYPE: usize = 2; // unused(4) MD type(4)
    pub const NEXT_PROTO: usize = 3;
    // SERVICE_PATH = 4..8: SPI(24) SI(8)
}
/// Base header and service path header.
pub const MIN_LEN: usize = 8;
/// MD type 1: base + service path + 16 bytes of fixed context.
const MD1_WORDS: usize = 6;

const MD_TYPE_1: u8 = 1;
const MD_TYPE_2: u8 = 2;

pub const NEXT_IPV4: u8 = 1;
pub const NEXT_IPV6: u8 = 2;
pub const NEXT_ETHERNET: u8 = 3;
pub const NEXT_NSH: u8 = 4;
pub const NEXT_MPLS: u8 = 5;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn nsh(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<MIN_LEN>(self.buf, off) else {
            self.event(DecodeEvent::NshTruncated);
            return Step::Done;
        };
        let version = h[field::VER_FLAGS_TTL] >> 6;
        let words = usize::from(h[field::TTL_LENGTH] & 0x3f);
        let md_type = h[field::MD_TYPE] & 0x0f;
        let bad = version != 0
            || words * 4 < MIN_LEN
            || (md_type == MD_TYPE_1 && words != MD1_WORDS)
            || !matches!(md_type, MD_TYPE_1 | MD_TYPE_2);
        if bad {
            self.event(DecodeEvent::NshBadHeader);
            return Step::Done;
        }
        let len = words * 4;
        if self.rest(off).len() < len {
            self.event(DecodeEvent::NshTruncated);
            return Step::Done;
        }
        if !self.push(LayerKind::Nsh, off, len) {
            return Step::Done;
        }
        let next = off + len;
        match h[field::NEXT_PROTO] {
            NEXT_IPV4 => Step::Ipv4(next),
            NEXT_IPV6 => Step::Ipv6(next),
            NEXT_ETHERNET => Step::Ethernet(next),
            // Nesting is bounded by the layer list: each NSH header is a layer.
            NEXT_NSH => self.nsh(next),
            NEXT_MPLS => Step::Mpls(next),
            _ => {
                self.event(DecodeEvent::NshUnknownPayload);
                Step::Done
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    fn nsh(words: u8, md: u8, next: u8, rest: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x0f, 0xc0 | words, md, next, 0, 0, 3, 255];
        v.extend_from_slice(rest);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn md_types_and_next_protocols() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 52229, 8000, b"begin");
        let ip6 = ipv6_udp(V6A, V6B, 1, 2, b"");
        let cases = [
            nsh(6, 1, 1, &[0; 16], &ip),
            nsh(2, 2, 1, &[], &ip),
            nsh(4, 2, 1, &[0, 1, 2, 4, 0xa, 0xb, 0xc, 0xd], &ip),
            nsh(2, 2, 3, &[], &eth(0x0800, &ip)),
            nsh(2, 2, 4, &[], &nsh(2, 2, 1, &[], &ip)),
            nsh(2, 2, 5, &[], &[&[0, 1, 1, 64][..], &ip].concat()),
        ];
        for n in cases {
            let f = eth(0x894f, &n);
            let p = decode(LinkType::ETHERNET, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!(p.ports(), Some((52229, 8000)));
            assert!(p.layers.contains(LayerKind::Nsh));
        }
        let p = decode(LinkType::ETHERNET, &eth(0x894f, &nsh(2, 2, 2, &[], &ip6)));
        assert_eq!(p.ports(), Some((1, 2)));
    }

    #[test]
    fn malformed_and_truncated() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"");
        let f = eth(0x894f, &nsh(6, 1, 1, &[0; 16], &ip));
        for n in 14..38 {
            let p = decode(LinkType::ETHERNET, &f[..n]);
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::NshTruncated], "{n}");
        }
        for bad in [nsh(5, 1, 1, &[0; 12], &ip), nsh(1, 2, 1, &[], &ip), nsh(2, 3, 1, &[], &ip)] {
            let p = decode(LinkType::ETHERNET, &eth(0x894f, &bad));
            assert!(p.has_event(DecodeEvent::NshBadHeader));
        }
        let v1 = with(&nsh(2, 2, 1, &[], &ip), |b| b[0] = 0x4f);
        assert!(decode(LinkType::ETHERNET, &eth(0x894f, &v1)).has_event(DecodeEvent::NshBadHeader));
        let p = decode(LinkType::ETHERNET, &eth(0x894f, &nsh(2, 2, 0x41, &[], &ip)));
        assert!(p.has_event(DecodeEvent::NshUnknownPayload));
    }
}
