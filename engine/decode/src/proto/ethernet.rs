//! Ethernet II and IEEE 802.3 frames (the type/length field decides which).

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

#[allow(dead_code)] // the full layout is documentation; MACs are not needed
mod field {
    pub const DST: usize = 0; // ..6
    pub const SRC: usize = 6; // ..12
    pub const ETHERTYPE: usize = 12; // ..14
}
pub const HEADER_LEN: usize = 14;

/// Values up to this are 802.3 lengths; from `MIN_ETHERTYPE` on they are Ethernet II types.
const MAX_8023_LEN: u16 = 1500;
const MIN_ETHERTYPE: u16 = 0x0600;

/// View of an Ethernet header.
#[derive(Clone, Copy)]
pub struct Header<'a>(&'a [u8; HEADER_LEN]);

impl<'a> Header<'a> {
    pub fn new_checked(buf: &'a [u8], off: usize) -> Option<Self> {
        fixed(buf, off).map(Header)
    }
    pub fn ethertype(&self) -> u16 {
        be16([self.0[field::ETHERTYPE], self.0[field::ETHERTYPE + 1]])
    }
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn ethernet(&mut self, off: usize) -> Step {
        let Some(h) = Header::new_checked(self.buf, off) else {
            self.event(DecodeEvent::EthTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Ethernet, off, HEADER_LEN) {
            return Step::Done;
        }
        let et = h.ethertype();
        let next = off + HEADER_LEN;
        if et <= MAX_8023_LEN {
            Step::Llc(next)
        } else if et < MIN_ETHERTYPE {
            self.event(DecodeEvent::UnknownEthertype);
            Step::Done
        } else {
            Step::EtherType(et, next)
        }
    }
}

/// VN-Tag: 4 bytes of tag, then the next ethertype.
const VNTAG_LEN: usize = 4;
/// FabricPath: the outer header is Ethernet-like (ethertype 0x8903) plus a 2-byte FTag/TTL,
/// then the whole original Ethernet frame.
const FABRICPATH_TAG_LEN: usize = 2;
/// 802.1ah I-TAG (4 bytes), then the customer Ethernet frame.
const PBB_ITAG_LEN: usize = 4;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn vntag(&mut self, off: usize) -> Step {
        let Some(t) = fixed::<{ VNTAG_LEN + 2 }>(self.buf, off) else {
            self.event(DecodeEvent::VlanTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::VnTag, off, VNTAG_LEN + 2) {
            return Step::Done;
        }
        Step::EtherType(be16([t[VNTAG_LEN], t[VNTAG_LEN + 1]]), off + VNTAG_LEN + 2)
    }

    pub(crate) fn fabricpath(&mut self, off: usize) -> Step {
        self.ethernet_after_tag(LayerKind::FabricPath, off, FABRICPATH_TAG_LEN)
    }

    pub(crate) fn pbb(&mut self, off: usize) -> Step {
        self.ethernet_after_tag(LayerKind::Pbb, off, PBB_ITAG_LEN)
    }

    fn ethernet_after_tag(&mut self, kind: LayerKind, off: usize, len: usize) -> Step {
        if self.rest(off).len() < len {
            self.event(DecodeEvent::EthTruncated);
            return Step::Done;
        }
        if !self.push(kind, off, len) {
            return Step::Done;
        }
        Step::Ethernet(off + len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn deconstruct() {
        let f = eth(0x0800, &[]);
        let h = Header::new_checked(&f, 0).unwrap();
        assert_eq!(h.ethertype(), 0x0800);
    }

    #[test]
    fn truncated_at_every_length() {
        let f = eth(0x88cc, &[1, 2, 3]);
        for n in 0..HEADER_LEN {
            let p = decode(LinkType::ETHERNET, &f[..n]);
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::EthTruncated]);
            assert!(p.layers.is_empty());
        }
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.layers.last().unwrap().kind, LayerKind::NonIp);
    }

    #[test]
    fn vntag_fabricpath_pbb() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"x");
        let inner = eth(0x0800, &ip);
        let frames = [
            eth(0x8926, &[&[0x80, 0x01, 0, 0, 0x08, 0x00][..], &ip].concat()),
            eth(0x8903, &[&[0x00, 0x3f][..], &inner].concat()),
            eth(0x88e7, &[&[0, 0, 0, 5][..], &inner].concat()),
        ];
        for f in frames {
            let p = decode(LinkType::ETHERNET, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!(p.ports(), Some((1, 2)));
            for n in 15..18 {
                assert!(!decode(LinkType::ETHERNET, &f[..n]).events.is_empty());
            }
        }
    }

    #[test]
    fn unknown_and_gap_ethertypes() {
        let p = decode(LinkType::ETHERNET, &eth(0x1234, &[0; 30]));
        assert!(p.has_event(DecodeEvent::UnknownEthertype));
        let p = decode(LinkType::ETHERNET, &eth(1501, &[0; 30]));
        assert!(p.has_event(DecodeEvent::UnknownEthertype));
    }
}
