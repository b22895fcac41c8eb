//! ERSPAN mirrored traffic inside GRE: type I (no header), type II (8 bytes) and type III
//! (12 bytes, plus an 8-byte platform sub-header when the O flag is set), then Ethernet.

use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

pub const TYPE2_LEN: usize = 8;
pub const TYPE3_LEN: usize = 12;
const TYPE3_PLATFORM_LEN: usize = 8;
/// Type III byte 11: O flag (platform specific sub-header present).
const TYPE3_O_FLAG: u8 = 0x01;

impl<const FULL: bool> Decoder<'_, FULL> {
    /// `has_header`: GRE sequence flag set, which distinguishes type II from type I.
    pub(crate) fn erspan2(&mut self, off: usize, has_header: bool) -> Step {
        let hlen = if has_header { TYPE2_LEN } else { 0 };
        self.erspan_with_len(off, hlen)
    }

    pub(crate) fn erspan3(&mut self, off: usize) -> Step {
        let hlen = match self.rest(off).get(TYPE3_LEN - 1) {
            Some(b) if b & TYPE3_O_FLAG != 0 => TYPE3_LEN + TYPE3_PLATFORM_LEN,
            _ => TYPE3_LEN,
        };
        self.erspan_with_len(off, hlen)
    }

    fn erspan_with_len(&mut self, off: usize, hlen: usize) -> Step {
        if self.rest(off).len() < hlen {
            self.event(DecodeEvent::ErspanTruncated);
            return Step::Done;
        }
        if !self.push(LayerKind::Erspan, off, hlen) {
            return Step::Done;
        }
        self.enter_tunnel(Step::Ethernet(off + hlen))
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn type2_and_type3() {
        let inner = eth(0x0800, &ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 7, 8, b"x"));
        let t2 = [&[0x10, 0, 0x88, 0xbe, 0, 0, 0, 1][..], &[0x10, 0, 0, 1, 0, 0, 0, 0], &inner].concat();
        let t3 = [&[0x00, 0, 0x22, 0xeb][..], &[0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], &inner].concat();
        for gre in [t2, t3] {
            let ip = ipv4_full(|h| {
                h.proto = 47;
                h.payload = gre.clone();
            });
            let p = decode(LinkType::IPV4, &ip);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!(p.ports(), Some((7, 8)));
            assert!(decode(LinkType::IPV4, &ip[..30]).has_event(DecodeEvent::ErspanTruncated));
        }
    }
}
