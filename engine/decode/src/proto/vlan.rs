//! IEEE 802.1Q / 802.1ad tags (and the pre-standard 0x9100/0x9200 QinQ outer tags).

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const TCI: usize = 0; // ..2: PCP(3) DEI(1) VID(12)
    pub const ETHERTYPE: usize = 2; // ..4
}
pub const HEADER_LEN: usize = 4;

#[derive(Clone, Copy)]
pub struct Tag<'a>(&'a [u8; HEADER_LEN]);

impl<'a> Tag<'a> {
    pub fn new_checked(buf: &'a [u8], off: usize) -> Option<Self> {
        fixed(buf, off).map(Tag)
    }
    pub fn vid(&self) -> u16 {
        be16([self.0[field::TCI], self.0[field::TCI + 1]]) & 0x0fff
    }
    pub fn ethertype(&self) -> u16 {
        be16([self.0[field::ETHERTYPE], self.0[field::ETHERTYPE + 1]])
    }
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn vlan(&mut self, off: usize) -> Step {
        let Some(tag) = Tag::new_checked(self.buf, off) else {
            self.event(DecodeEvent::VlanTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Vlan, off, HEADER_LEN) {
            return Step::Done;
        }
        let n = usize::from(self.pkt.vlan_count);
        if let Some(slot) = self.pkt.vlan.get_mut(n) {
            *slot = tag.vid();
        } else {
            self.event(DecodeEvent::VlanTooManyLayers);
        }
        self.pkt.vlan_count = self.pkt.vlan_count.saturating_add(1);
        Step::EtherType(tag.ethertype(), off + HEADER_LEN)
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
        let t = [0xa0, 0x64, 0x08, 0x00];
        let tag = Tag::new_checked(&t, 0).unwrap();
        assert_eq!(tag.vid(), 100);
        assert_eq!(tag.ethertype(), 0x0800);
    }

    #[test]
    fn qinq_and_triple_tag() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"x");
        let inner = vlan_tag(200, 0x0800, &ip);
        let outer = vlan_tag(100, 0x8100, &inner);
        let f = eth(0x88a8, &outer);
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!((p.vlan, p.vlan_count), ([100, 200], 2));
        assert_eq!(p.ports(), Some((1, 2)));

        let third = vlan_tag(300, 0x8100, &vlan_tag(400, 0x0800, &ip));
        let f = eth(0x9100, &vlan_tag(100, 0x8100, &vlan_tag(200, 0x8100, &third)));
        let p = decode(LinkType::ETHERNET, &f);
        assert_eq!((p.vlan, p.vlan_count), ([100, 200], 4));
        assert!(p.has_event(DecodeEvent::VlanTooManyLayers));
        assert!(p.ip.is_some());
    }

    #[test]
    fn truncated_at_every_length() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"x");
        let f = eth(0x8100, &vlan_tag(7, 0x0800, &ip));
        for n in 14..18 {
            let p = decode(LinkType::ETHERNET, &f[..n]);
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::VlanTruncated]);
            assert_eq!(p.vlan_count, 0);
        }
    }

    #[test]
    fn endless_tags_hit_the_layer_cap() {
        let mut f = eth(0x8100, &[]);
        for _ in 0..100 {
            f.extend_from_slice(&[0, 1, 0x81, 0x00]);
        }
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.has_event(DecodeEvent::TooManyLayers));
        assert_eq!(p.vlan_count as usize, crate::Layers::CAPACITY - 1);
    }
}
