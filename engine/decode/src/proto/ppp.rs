//! PPP (RFC 1661) with optional HDLC-like framing (RFC 1662): `ff 03` address/control bytes may
//! be present or elided, and the protocol field may be compressed to one byte (PFC, odd value).
//! Used by the PPP, PPP_HDLC and PPP_WITH_DIR link types, PPPoE sessions and GRE v1 (PPTP).

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

const ADDRESS_ALL_STATIONS: u8 = 0xff;
const CONTROL_UI: u8 = 0x03;

pub const PROTO_IPV4: u16 = 0x0021;
pub const PROTO_IPV6: u16 = 0x0057;
pub const PROTO_MPLS_UNICAST: u16 = 0x0281;
pub const PROTO_MPLS_MULTICAST: u16 = 0x0283;

/// Cisco HDLC address bytes (unicast, broadcast): LINKTYPE_PPP_HDLC files may carry them.
const CHDLC_UNICAST: u8 = 0x0f;
const CHDLC_BROADCAST: u8 = 0x8f;

/// Parses address/control and protocol at the start of `buf`: (protocol, header length).
pub fn parse_header(buf: &[u8]) -> Option<(u16, usize)> {
    let mut len = 0;
    match buf {
        [ADDRESS_ALL_STATIONS, CONTROL_UI, ..] => len = 2,
        // A lone address byte: the frame was cut before its control byte.
        [ADDRESS_ALL_STATIONS] => return None,
        _ => {}
    }
    let first = *buf.get(len)?;
    if first & 1 == 1 {
        // Protocol-field compression: one byte, always odd.
        Some((u16::from(first), len + 1))
    } else {
        let p = fixed::<2>(buf, len)?;
        Some((be16(*p), len + 2))
    }
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn ppp(&mut self, off: usize) -> Step {
        let Some((proto, hlen)) = parse_header(self.rest(off)) else {
            self.event(DecodeEvent::PppTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Ppp, off, hlen) {
            return Step::Done;
        }
        let next = off + hlen;
        match proto {
            PROTO_IPV4 => Step::Ipv4(next),
            PROTO_IPV6 => Step::Ipv6(next),
            PROTO_MPLS_UNICAST | PROTO_MPLS_MULTICAST => Step::Mpls(next),
            // Link and network control protocols (LCP, IPCP, CHAP, ...) have the high bit set:
            // ordinary, not IP, nothing to flag.
            0x8000.. => Step::Done,
            _ => {
                self.event(DecodeEvent::PppUnsupportedProto);
                Step::Done
            }
        }
    }

    /// LINKTYPE_PPP_HDLC: PPP in HDLC framing, or Cisco HDLC frames on the same serial link.
    pub(crate) fn ppp_serial(&mut self, off: usize) -> Step {
        match self.rest(off).first() {
            Some(&CHDLC_UNICAST) | Some(&CHDLC_BROADCAST) => self.chdlc(off),
            _ => Step::Ppp(off),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn header_forms() {
        assert_eq!(parse_header(&[0xff, 0x03, 0x00, 0x21]), Some((0x21, 4)));
        assert_eq!(parse_header(&[0x00, 0x57]), Some((0x57, 2)));
        assert_eq!(parse_header(&[0x21]), Some((0x21, 1)));
        assert_eq!(parse_header(&[0xff, 0x03, 0x21]), Some((0x21, 3)));
        assert_eq!(parse_header(&[0xff, 0x03, 0x00]), None);
        assert_eq!(parse_header(&[]), None);
    }

    #[test]
    fn ppp_link_types() {
        let ip = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 5, 6, b"abc");
        let ip6 = ipv6_udp(V6A, V6B, 7, 8, b"");
        let hdlc = [&[0xff, 0x03, 0x00, 0x21][..], &ip].concat();
        assert_eq!(decode(LinkType::PPP, &hdlc).ports(), Some((5, 6)));
        assert_eq!(decode(LinkType::PPP_HDLC, &hdlc).ports(), Some((5, 6)));
        let bare6 = [&[0x00, 0x57][..], &ip6].concat();
        assert_eq!(decode(LinkType::PPP, &bare6).ports(), Some((7, 8)));
        let dir = [&[1u8][..], &hdlc].concat();
        assert_eq!(decode(LinkType::PPP_WITH_DIR, &dir).ports(), Some((5, 6)));

        let lcp = [0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4];
        let p = decode(LinkType::PPP, &lcp);
        assert!(p.events.is_empty() && p.ip.is_none());
        let vj = [0xff, 0x03, 0x00, 0x2d, 1, 1, 0, 4];
        assert!(decode(LinkType::PPP, &vj).has_event(DecodeEvent::PppUnsupportedProto));
        for n in 0..4 {
            let p = decode(LinkType::PPP, &hdlc[..n]);
            assert!(p.has_event(DecodeEvent::PppTruncated), "{n}");
        }
        assert!(decode(LinkType::PPP_WITH_DIR, &[]).has_event(DecodeEvent::PppTruncated));
    }
}
