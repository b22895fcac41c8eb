//! PPI, per-packet information (LINKTYPE_PPI): a little-endian header, its length field, the
//! DLT of the frame that follows, and metadata fields (skipped by the length).

use super::{fixed, le16, le32, linktype};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;
use ids_capture::LinkType;

#[allow(dead_code)] // the full layout is documentation
mod field {
    pub const VERSION: usize = 0;
    pub const FLAGS: usize = 1;
    pub const LENGTH: usize = 2; // ..4, little-endian, whole PPI header
    pub const DLT: usize = 4; // ..8, little-endian
}
pub const MIN_LEN: usize = 8;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn ppi(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<MIN_LEN>(self.buf, off) else {
            self.event(DecodeEvent::PpiTruncated);
            return Step::Done;
        };
        let len = usize::from(le16([h[field::LENGTH], h[field::LENGTH + 1]]));
        let dlt = le32([h[field::DLT], h[field::DLT + 1], h[field::DLT + 2], h[field::DLT + 3]]);
        if len < MIN_LEN || self.rest(off).len() < len {
            self.event(DecodeEvent::PpiTruncated);
            return Step::Done;
        }
        if !self.push(LayerKind::Ppi, off, len) {
            return Step::Done;
        }
        let inner = off + len;
        match linktype::from_dlt(dlt) {
            // 802.11 under PPI: the FCS/padding information lives in PPI fields that are not
            // parsed; the IP length drops a trailing FCS anyway.
            LinkType::IEEE802_11 => self.ieee80211(inner, false),
            LinkType::ETHERNET => Step::Ethernet(inner),
            _ => {
                self.event(DecodeEvent::UnsupportedLinkType);
                Step::Done
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::layer::LayerKind;
    use crate::proto::linktype::PPI;
    use crate::testutil::dec as decode;
    use crate::testutil::*;

    fn ppi(dlt: u32, fields: &[u8], frame: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0];
        v.extend_from_slice(&((8 + fields.len()) as u16).to_le_bytes());
        v.extend_from_slice(&dlt.to_le_bytes());
        v.extend_from_slice(fields);
        v.extend_from_slice(frame);
        v
    }

    #[test]
    fn ethernet_and_wlan_inside() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 30490, 30490, b"sd");
        let f = ppi(1, &[2, 0, 4, 0, 9, 9, 9, 9], &eth(0x0800, &ip));
        let p = decode(PPI, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((30490, 30490)));
        assert_eq!(p.layers.as_slice()[0].kind, LayerKind::Ppi);
        for n in 0..16 {
            let p = decode(PPI, &f[..n]);
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::PpiTruncated], "{n}");
        }
        let mut w = vec![0x08, 0x02, 0, 0];
        w.extend_from_slice(&[0; 18]);
        w.extend_from_slice(&[0, 0, 0xaa, 0xaa, 3, 0, 0, 0, 0x08, 0x00]);
        w.extend_from_slice(&ip);
        let p = decode(PPI, &ppi(105, &[], &w));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((30490, 30490)));
        let p = decode(PPI, &ppi(113, &[], &w));
        assert!(p.has_event(DecodeEvent::UnsupportedLinkType));
        // A PPI header inside PPI is not followed.
        let p = decode(PPI, &ppi(192, &[], &ppi(1, &[], &eth(0x0800, &ip))));
        assert!(p.has_event(DecodeEvent::UnsupportedLinkType));
        let p = decode(PPI, &with(&f, |b| b[2] = 7));
        assert!(p.has_event(DecodeEvent::PpiTruncated));
    }
}
