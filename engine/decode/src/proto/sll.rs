//! Linux "cooked" capture headers: SLL (LINKTYPE_LINUX_SLL, 16 bytes) and SLL2 (20 bytes).

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    // SLL
    pub const SLL_HATYPE: usize = 2; // ..4
    pub const SLL_PROTOCOL: usize = 14; // ..16
                                        // SLL2
    pub const SLL2_PROTOCOL: usize = 0; // ..2
    pub const SLL2_HATYPE: usize = 8; // ..10
}
pub const SLL_LEN: usize = 16;
pub const SLL2_LEN: usize = 20;

/// ARPHRD_NETLINK: netlink messages, never IP.
const ARPHRD_NETLINK: u16 = 824;
/// Protocol value meaning "802.2 LLC frame follows" (ETH_P_802_2).
const PROTO_802_2: u16 = 0x0004;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn sll(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<SLL_LEN>(self.buf, off) else {
            self.event(DecodeEvent::SllTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Sll, off, SLL_LEN) {
            return Step::Done;
        }
        let hatype = be16([h[field::SLL_HATYPE], h[field::SLL_HATYPE + 1]]);
        let proto = be16([h[field::SLL_PROTOCOL], h[field::SLL_PROTOCOL + 1]]);
        self.sll_payload(hatype, proto, off + SLL_LEN)
    }

    pub(crate) fn sll2(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<SLL2_LEN>(self.buf, off) else {
            self.event(DecodeEvent::SllTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Sll2, off, SLL2_LEN) {
            return Step::Done;
        }
        let hatype = be16([h[field::SLL2_HATYPE], h[field::SLL2_HATYPE + 1]]);
        let proto = be16([h[field::SLL2_PROTOCOL], h[field::SLL2_PROTOCOL + 1]]);
        self.sll_payload(hatype, proto, off + SLL2_LEN)
    }

    fn sll_payload(&mut self, hatype: u16, proto: u16, next: usize) -> Step {
        if hatype == ARPHRD_NETLINK {
            return Step::Done;
        }
        match proto {
            PROTO_802_2 => Step::Llc(next),
            // Other values below 0x0600 are Linux ETH_P_* pseudo-protocols (raw 802.3, CAN, ...),
            // not ethertypes: nothing IP to find.
            0..=0x05ff => Step::Done,
            et => Step::EtherType(et, next),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    fn sll(proto: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        v.extend_from_slice(&proto.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn sll2(proto: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = proto.to_be_bytes().to_vec();
        v.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0]);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn both_versions_carry_ip() {
        let ip = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 5, 6, b"abc");
        for (lt, f) in [(LinkType::LINUX_SLL, sll(0x0800, &ip)), (LinkType::LINUX_SLL2, sll2(0x0800, &ip))] {
            let p = decode(lt, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!(p.ports(), Some((5, 6)));
            let hdr = if lt == LinkType::LINUX_SLL { 16 } else { 20 };
            for n in 0..hdr {
                let p = decode(lt, &f[..n]);
                assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::SllTruncated]);
            }
        }
    }
}
