//! PPPoE session stage (RFC 2516): a 6-byte header, then a PPP protocol field.

use super::fixed;
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    // SESSION_ID 2..4, LENGTH 4..6
}
pub const HEADER_LEN: usize = 6;
/// Header plus the 2-byte PPP protocol that every session frame carries.
const MIN_LEN: usize = HEADER_LEN + 2;

const VER_TYPE_1_1: u8 = 0x11;
const CODE_SESSION_DATA: u8 = 0x00;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn pppoe(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<MIN_LEN>(self.buf, off) else {
            self.event(DecodeEvent::PppoeTruncated);
            return Step::Done;
        };
        if h[field::VER_TYPE] != VER_TYPE_1_1 || h[field::CODE] != CODE_SESSION_DATA {
            self.event(DecodeEvent::PppoeBadHeader);
            return Step::Done;
        }
        if !self.push(LayerKind::Pppoe, off, HEADER_LEN) {
            return Step::Done;
        }
        Step::Ppp(off + HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn session_ipv4_and_ipv6() {
        let ip = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, 0x02, &[], b"");
        let f = eth(0x8864, &pppoe(0x0021, &ip));
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((1234, 80)));
        let ip6 = ipv6_udp(V6A, V6B, 1, 2, b"x");
        let p = decode(LinkType::ETHERNET, &eth(0x8864, &pppoe(0x0057, &ip6)));
        assert_eq!(p.ports(), Some((1, 2)));
        for n in 14..22 {
            let p = decode(LinkType::ETHERNET, &f[..n]);
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::PppoeTruncated]);
        }
        let mut bad = f.clone();
        bad[15] = 0x09; // PADI code in a session frame
        assert!(decode(LinkType::ETHERNET, &bad).has_event(DecodeEvent::PppoeBadHeader));
    }
}
