//! Apple PKTAP (LINKTYPE_PKTAP): a header in the capturing host's byte order (little-endian on
//! every Mac), whose first word is its length and second the DLT of the frame that follows;
//! the rest (interface name, process ids and names, ...) is skipped by the length.

use super::{fixed, le32, linktype};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const LENGTH: usize = 0; // ..4
    pub const DLT: usize = 4; // ..8
}
pub const MIN_LEN: usize = 8;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn pktap(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<MIN_LEN>(self.buf, off) else {
            self.event(DecodeEvent::PktapTruncated);
            return Step::Done;
        };
        let l = field::LENGTH;
        let d = field::DLT;
        let len = le32([h[l], h[l + 1], h[l + 2], h[l + 3]]) as usize;
        let dlt = le32([h[d], h[d + 1], h[d + 2], h[d + 3]]);
        if len < MIN_LEN || self.rest(off).len() < len {
            self.event(DecodeEvent::PktapTruncated);
            return Step::Done;
        }
        if !self.push(LayerKind::Pktap, off, len) {
            return Step::Done;
        }
        // `start_at` knows no pseudo-header link types, so PKTAP cannot nest.
        self.start_at(linktype::from_dlt(dlt), off + len)
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::layer::LayerKind;
    use crate::proto::linktype::PKTAP;
    use crate::testutil::dec as decode;
    use crate::testutil::*;

    fn pktap(dlt: u32, frame: &[u8]) -> Vec<u8> {
        let mut v = 108u32.to_le_bytes().to_vec();
        v.extend_from_slice(&dlt.to_le_bytes());
        v.extend_from_slice(&[0; 100]);
        v.extend_from_slice(frame);
        v
    }

    #[test]
    fn inner_link_types() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 63538, 53, b"q");
        for (dlt, frame) in
            [(1, eth(0x0800, &ip)), (12, ip.clone()), (0, [&2u32.to_le_bytes()[..], &ip].concat())]
        {
            let f = pktap(dlt, &frame);
            let p = decode(PKTAP, &f);
            assert!(p.events.is_empty(), "{dlt}: {:?}", p.events);
            assert_eq!(p.ports(), Some((63538, 53)));
            assert_eq!(p.layers.as_slice()[0].kind, LayerKind::Pktap);
        }
        let f = pktap(1, &eth(0x0800, &ip));
        for n in 0..108 {
            let p = decode(PKTAP, &f[..n]);
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::PktapTruncated], "{n}");
        }
        assert!(decode(PKTAP, &pktap(258, &f)).has_event(DecodeEvent::UnsupportedLinkType));
        assert!(decode(PKTAP, &with(&f, |b| b[0] = 4)).has_event(DecodeEvent::PktapTruncated));
    }
}
