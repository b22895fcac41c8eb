//! Cisco HDLC: address, control, then an ethertype in bytes 2..4.

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const PROTOCOL: usize = 2; // ..4
}
pub const HEADER_LEN: usize = 4;

/// Serial Line ARP (keepalives); shares its value with RARP.
const SLARP: u16 = 0x8035;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn chdlc(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<HEADER_LEN>(self.buf, off) else {
            self.event(DecodeEvent::ChdlcTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::CiscoHdlc, off, HEADER_LEN) {
            return Step::Done;
        }
        match be16([h[field::PROTOCOL], h[field::PROTOCOL + 1]]) {
            SLARP => Step::Done,
            et => Step::EtherType(et, off + HEADER_LEN),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn chdlc_ipv4_and_truncation() {
        let ip = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 5, 6, b"abc");
        let f = [&[0x0f, 0x00, 0x08, 0x00][..], &ip].concat();
        let p = decode(LinkType::C_HDLC, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((5, 6)));
        // Cisco HDLC inside a PPP_HDLC file.
        assert_eq!(decode(LinkType::PPP_HDLC, &f).ports(), Some((5, 6)));
        for n in 0..4 {
            assert!(decode(LinkType::C_HDLC, &f[..n]).has_event(DecodeEvent::ChdlcTruncated));
        }
        let slarp = [0x8f, 0x00, 0x80, 0x35, 0, 0, 0, 2];
        assert!(decode(LinkType::C_HDLC, &slarp).events.is_empty());
    }
}
