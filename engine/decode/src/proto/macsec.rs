//! IEEE 802.1AE MACsec, ethertype 0x88E5: the SecTAG (TCI/AN, short length, packet number,
//! and an 8-byte SCI when the SC bit is set), then the secure data and the ICV. Only frames
//! that are integrity-protected but neither encrypted (E) nor changed (C) show their payload:
//! it starts with the inner ethertype. Encrypted frames end decoding as non-IP, no event.

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const TCI_AN: usize = 0;
    // SHORT_LENGTH = 1, PACKET_NUMBER = 2..6, SCI = 6..14 (with SC)
}
pub const SECTAG_LEN: usize = 6;
const SCI_LEN: usize = 8;

/// TCI bits: version (must be 0), SCI present, encrypted, changed text.
const TCI_VERSION: u8 = 0x80;
const TCI_SC: u8 = 0x20;
const TCI_E: u8 = 0x08;
const TCI_C: u8 = 0x04;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn macsec(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<SECTAG_LEN>(self.buf, off) else {
            self.event(DecodeEvent::MacsecTruncated);
            return Step::Done;
        };
        let tci = h[field::TCI_AN];
        let tag_len = SECTAG_LEN + if tci & TCI_SC != 0 { SCI_LEN } else { 0 };
        let avail = self.rest(off).len();
        if avail < tag_len {
            self.event(DecodeEvent::MacsecTruncated);
            return Step::Done;
        }
        if tci & (TCI_VERSION | TCI_E | TCI_C) != 0 {
            // Encrypted or modified (or a future version): opaque.
            if self.push(LayerKind::Macsec, off, tag_len) {
                self.push(LayerKind::NonIp, off + tag_len, avail - tag_len);
            }
            return Step::Done;
        }
        let Some(et) = fixed::<2>(self.buf, off + tag_len) else {
            self.event(DecodeEvent::MacsecTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Macsec, off, tag_len + 2) {
            return Step::Done;
        }
        // The ICV trails the payload; the IP length leaves it out.
        Step::EtherType(be16(*et), off + tag_len + 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn integrity_only_with_and_without_sci() {
        let ip = ipv4_udp([192, 168, 114, 1], [192, 168, 114, 2], 38582, 6666, b"123\n");
        let icv = [0x9b; 16];
        let sci = [0xca, 0xf9, 0xdf, 0x4f, 0x50, 0x9a, 0x00, 0x64];
        for (tci, sci) in [(0x20u8, &sci[..]), (0x00, &[][..])] {
            let tag = [&[tci, 34, 0, 0, 0, 0x45][..], sci, &[0x08, 0x00]].concat();
            let f = eth(0x88e5, &[&tag[..], &ip, &icv].concat());
            let p = decode(LinkType::ETHERNET, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!(p.ports(), Some((38582, 6666)));
            assert_eq!(p.payload(), b"123\n");
            assert_eq!(p.layers.as_slice()[1].kind, LayerKind::Macsec);
            for n in 14..14 + tag.len() {
                let p = decode(LinkType::ETHERNET, &f[..n]);
                assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::MacsecTruncated], "{n}");
            }
        }
    }

    #[test]
    fn encrypted_is_opaque() {
        for tci in [0x2c, 0x28, 0x24, 0xa0] {
            let f = eth(0x88e5, &[&[tci, 0, 0, 0, 0, 1][..], &[0; 8], &[0x45; 40]].concat());
            let p = decode(LinkType::ETHERNET, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert!(p.ip.is_none());
            assert_eq!(p.layers.last().unwrap().kind, LayerKind::NonIp);
        }
    }
}
