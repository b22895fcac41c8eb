//! IEEE 802.2 LLC, and SNAP (RFC 1042) which carries an ethertype inside 802.3 frames.

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const DSAP: usize = 0;
    pub const SSAP: usize = 1;
    pub const CONTROL: usize = 2;
    pub const OUI: usize = 3; // ..6 (SNAP)
    pub const PID: usize = 6; // ..8 (SNAP)
}
pub const LLC_LEN: usize = 3;
pub const SNAP_LEN: usize = 8;

const SAP_SNAP: u8 = 0xaa;
const CONTROL_UI: u8 = 0x03;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn llc(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<LLC_LEN>(self.buf, off) else {
            self.event(DecodeEvent::LlcTruncated);
            return Step::Done;
        };
        let snap =
            h[field::DSAP] == SAP_SNAP && h[field::SSAP] == SAP_SNAP && h[field::CONTROL] == CONTROL_UI;
        if !snap {
            // Spanning tree, NetBIOS, IPX over LLC...: not IP, nothing more to decode.
            self.push(LayerKind::Llc, off, LLC_LEN);
            return Step::Done;
        }
        let Some(s) = fixed::<SNAP_LEN>(self.buf, off) else {
            self.event(DecodeEvent::LlcTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Llc, off, SNAP_LEN) {
            return Step::Done;
        }
        let oui = [s[field::OUI], s[field::OUI + 1], s[field::OUI + 2]];
        let pid = be16([s[field::PID], s[field::PID + 1]]);
        if oui == [0, 0, 0] {
            // RFC 1042 encapsulation: the PID is an ethertype.
            Step::EtherType(pid, off + SNAP_LEN)
        } else {
            // Vendor protocols (Cisco CDP/VTP/DTP, ...).
            Step::Done
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::layer::LayerKind;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn snap_carries_ipv4() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, b"hi");
        let mut llc = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
        llc.extend_from_slice(&ip);
        let f = eth(llc.len() as u16, &llc);
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((1000, 53)));
        assert!(p.layers.contains(LayerKind::Llc));
        for n in 14..22 {
            let p = decode(LinkType::ETHERNET, &f[..n]);
            assert!(p.has_event(DecodeEvent::LlcTruncated), "{n}");
        }
    }

    #[test]
    fn stp_is_plain_llc() {
        let f = eth(38, &[0x42, 0x42, 0x03, 0, 0, 0, 0, 0]);
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.events.is_empty());
        assert_eq!(p.layers.last().unwrap().kind, LayerKind::Llc);
        assert!(p.ip.is_none());
    }
}
