//! UDP (RFC 768), and the UDP-carried tunnels keyed by port: VXLAN (4789), Geneve (6081),
//! Teredo (3544), GTP-U (2152), GRE-in-UDP (4754) and AYIYA (5072).

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;
use crate::packet::{Transport, UdpDatagram};

mod field {
    pub const SRC_PORT: usize = 0; // ..2
    pub const DST_PORT: usize = 2; // ..4
    pub const LENGTH: usize = 4; // ..6
    pub const CHECKSUM: usize = 6; // ..8
}
pub const HEADER_LEN: usize = 8;

pub const PORT_VXLAN: u16 = 4789;
pub const PORT_GENEVE: u16 = 6081;
pub const PORT_TEREDO: u16 = 3544;
pub const PORT_GTP_U: u16 = 2152;
/// GRE-in-UDP (RFC 8086), destination port.
pub const PORT_GRE_IN_UDP: u16 = 4754;
pub const PORT_AYIYA: u16 = 5072;

/// View of a UDP header.
#[derive(Clone, Copy)]
pub struct Header<'a>(&'a [u8; HEADER_LEN]);

impl<'a> Header<'a> {
    pub fn new_checked(buf: &'a [u8], off: usize) -> Option<Self> {
        fixed(buf, off).map(Header)
    }
    pub fn src_port(&self) -> u16 {
        be16([self.0[field::SRC_PORT], self.0[field::SRC_PORT + 1]])
    }
    pub fn dst_port(&self) -> u16 {
        be16([self.0[field::DST_PORT], self.0[field::DST_PORT + 1]])
    }
    pub fn length(&self) -> u16 {
        be16([self.0[field::LENGTH], self.0[field::LENGTH + 1]])
    }
    pub fn checksum(&self) -> u16 {
        be16([self.0[field::CHECKSUM], self.0[field::CHECKSUM + 1]])
    }
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn udp(&mut self, off: usize, v6: bool) -> Step {
        let Some(h) = Header::new_checked(self.buf, off) else {
            self.event(DecodeEvent::UdpTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Udp, off, HEADER_LEN) {
            return Step::Done;
        }
        let avail = self.rest(off).len();
        let length = usize::from(h.length());
        let length_ok = if length == 0 && avail > usize::from(u16::MAX) {
            // Jumbogram (RFC 2675) / BIG TCP GSO packet: the length does not fit, so it is 0.
            true
        } else if length < HEADER_LEN {
            self.event(DecodeEvent::UdpBadLength);
            false
        } else if length > avail {
            // Short because of the snaplen is not the sender's fault.
            if !self.ip_truncated {
                self.event(DecodeEvent::UdpBadLength);
            }
            self.ip_truncated
        } else {
            self.clip(off + length);
            true
        };
        let payload = self.rest(off + HEADER_LEN);
        let (sp, dp) = (h.src_port(), h.dst_port());
        if sp == 0 || dp == 0 {
            self.event(DecodeEvent::UdpPortZero);
        }
        let tunnel_port = |p| matches!(p, PORT_VXLAN | PORT_GENEVE | PORT_GTP_U | PORT_GRE_IN_UDP);
        // RFC 6935 lets tunnels over IPv6 send a zero checksum.
        if v6 && h.checksum() == 0 && !tunnel_port(dp) && !tunnel_port(sp) {
            self.event(DecodeEvent::UdpIpv6ZeroChecksum);
        }
        self.pkt.transport = Transport::Udp(UdpDatagram {
            src_port: sp,
            dst_port: dp,
            length: h.length(),
            checksum: h.checksum(),
            payload,
        });
        if !length_ok {
            return Step::Done;
        }
        let inner = off + HEADER_LEN;
        if dp == PORT_VXLAN {
            self.vxlan(inner)
        } else if dp == PORT_GENEVE {
            self.geneve(inner)
        } else if dp == PORT_GTP_U || sp == PORT_GTP_U {
            self.gtp(inner)
        } else if dp == PORT_TEREDO || sp == PORT_TEREDO {
            self.teredo(inner)
        } else if dp == PORT_GRE_IN_UDP {
            self.gre_in_udp(inner)
        } else if dp == PORT_AYIYA || sp == PORT_AYIYA {
            self.ayiya(inner)
        } else {
            Step::Done
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
    fn deconstruct_and_lengths() {
        let ip = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 53, 5353, b"query");
        let p = decode(LinkType::IPV4, &ip);
        let u = p.udp().unwrap();
        assert_eq!((u.src_port, u.dst_port, u.length), (53, 5353, 13));
        assert_eq!(u.payload, b"query");
        assert_eq!(p.to_string(), "IPv4 1.1.1.1:53 -> 2.2.2.2:5353 UDP len=5");

        // UDP length shorter than the IP payload: clipped.
        let short = with(&ip, |b| b[25] = 10);
        let p = decode(LinkType::IPV4, &short);
        assert_eq!(p.udp().unwrap().payload, b"qu");
        assert!(p.events.is_empty());
        let long = with(&ip, |b| b[25] = 40);
        let p = decode(LinkType::IPV4, &long);
        assert!(p.has_event(DecodeEvent::UdpBadLength));
        assert_eq!(p.payload(), b"query");
        let tiny = with(&ip, |b| b[25] = 3);
        assert!(decode(LinkType::IPV4, &tiny).has_event(DecodeEvent::UdpBadLength));
        for n in 20..28 {
            let p = decode(LinkType::IPV4, &ip[..n]);
            assert!(p.has_event(DecodeEvent::UdpTruncated));
            assert!(!p.has_event(DecodeEvent::UdpBadLength));
        }
        let zero = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 0, 9, b"");
        assert!(decode(LinkType::IPV4, &zero).has_event(DecodeEvent::UdpPortZero));
    }

    #[test]
    fn ipv6_zero_checksum() {
        let ip = ipv6_udp(V6A, V6B, 1, 2, b"abc");
        let zero = with(&ip, |b| b[46..48].copy_from_slice(&[0, 0]));
        let p = decode(LinkType::IPV6, &zero);
        assert!(p.has_event(DecodeEvent::UdpIpv6ZeroChecksum));
        assert_eq!(p.l4_checksum_ok(), Some(false));
    }
}
