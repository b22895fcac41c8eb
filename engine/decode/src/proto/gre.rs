//! GRE: version 0 (RFC 2784 / 2890, with RFC 1701 routing tolerated) carrying an
//! ethertype-numbered payload, and version 1 (enhanced GRE, RFC 2637 PPTP) carrying PPP; also
//! GRE-in-UDP (RFC 8086, UDP port 4754).

use super::{be16, ethertype, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const FLAGS: usize = 0;
    pub const FLAGS_VERSION: usize = 1;
    pub const PROTOCOL: usize = 2; // ..4
}
pub const BASE_LEN: usize = 4;

const F_CHECKSUM: u8 = 0x80;
const F_ROUTING: u8 = 0x40;
const F_KEY: u8 = 0x20;
const F_SEQ: u8 = 0x10;
const F_STRICT_ROUTE: u8 = 0x08;
const RECURSION_MASK: u8 = 0x07;
/// Version 1: acknowledgment number present.
const F_ACK: u8 = 0x80;
const RESERVED1_MASK: u8 = 0x78;
const VERSION_MASK: u8 = 0x07;

/// RFC 1701 source route entries walked before giving up.
const MAX_SRE: usize = 16;

/// View of the 4-byte GRE base header.
#[derive(Clone, Copy)]
pub struct Header<'a>(&'a [u8; BASE_LEN]);

impl<'a> Header<'a> {
    pub fn new_checked(buf: &'a [u8], off: usize) -> Option<Self> {
        fixed(buf, off).map(Header)
    }
    pub fn flags(&self) -> u8 {
        self.0[field::FLAGS]
    }
    pub fn version(&self) -> u8 {
        self.0[field::FLAGS_VERSION] & VERSION_MASK
    }
    pub fn protocol(&self) -> u16 {
        be16([self.0[field::PROTOCOL], self.0[field::PROTOCOL + 1]])
    }
    /// Length of the v0 header with its optional checksum/offset, key and sequence words.
    pub fn v0_len(&self) -> usize {
        let f = self.flags();
        BASE_LEN
            + if f & (F_CHECKSUM | F_ROUTING) != 0 { 4 } else { 0 }
            + if f & F_KEY != 0 { 4 } else { 0 }
            + if f & F_SEQ != 0 { 4 } else { 0 }
    }
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn gre(&mut self, off: usize) -> Step {
        let Some(h) = Header::new_checked(self.buf, off) else {
            self.event(DecodeEvent::GreTruncated);
            return Step::Done;
        };
        match h.version() {
            0 => self.gre_v0(h, off),
            1 => self.gre_v1(h, off),
            _ => {
                self.event(DecodeEvent::GreBadVersion);
                Step::Done
            }
        }
    }

    /// GRE-in-UDP (RFC 8086): a GRE header right after the UDP header. Port 4754 is not
    /// reserved against other uses, so (like VXLAN) the tunnel is followed only when the
    /// header looks right: version 0, no routing, recursion or reserved bits, room for the
    /// optional fields, and a protocol type RFC 8086 carries (IPv4, IPv6, Ethernet, MPLS).
    /// Anything else stays plain UDP, without an event.
    pub(crate) fn gre_in_udp(&mut self, off: usize) -> Step {
        let Some(h) = Header::new_checked(self.buf, off) else {
            return Step::Done;
        };
        let flags1 = h.0[field::FLAGS_VERSION];
        let plausible = h.version() == 0
            && h.flags() & (F_ROUTING | F_STRICT_ROUTE | RECURSION_MASK) == 0
            && flags1 & (F_ACK | RESERVED1_MASK) == 0
            && self.rest(off).len() >= h.v0_len()
            && matches!(
                h.protocol(),
                ethertype::IPV4
                    | ethertype::IPV6
                    | ethertype::TRANSPARENT_ETHERNET
                    | ethertype::MPLS_UNICAST
                    | ethertype::MPLS_MULTICAST
            );
        if !plausible {
            return Step::Done;
        }
        self.gre_v0(h, off)
    }

    fn gre_v0(&mut self, h: Header<'_>, off: usize) -> Step {
        let flags = h.flags();
        let flags1 = h.0[field::FLAGS_VERSION];
        if flags & (F_STRICT_ROUTE | RECURSION_MASK) != 0 || flags1 & (F_ACK | RESERVED1_MASK) != 0 {
            self.event(DecodeEvent::GreBadHeader);
        }
        let mut hlen = h.v0_len();
        if flags & F_ROUTING != 0 {
            // Deprecated RFC 1701 routing: a list of source route entries ending in a null one.
            self.event(DecodeEvent::GreBadHeader);
            let mut done = false;
            for _ in 0..MAX_SRE {
                let Some(sre) = fixed::<4>(self.buf, off + hlen) else {
                    self.event(DecodeEvent::GreTruncated);
                    return Step::Done;
                };
                let (af, len) = (be16([sre[0], sre[1]]), usize::from(sre[3]));
                hlen += 4 + len;
                if af == 0 && len == 0 {
                    done = true;
                    break;
                }
            }
            if !done {
                return Step::Done;
            }
        }
        if self.rest(off).len() < hlen {
            self.event(DecodeEvent::GreTruncated);
            return Step::Done;
        }
        if !self.push(LayerKind::Gre, off, hlen) {
            return Step::Done;
        }
        let next = off + hlen;
        let step = match h.protocol() {
            // Cisco keepalive: an empty GRE packet with protocol 0.
            0 if self.rest(next).is_empty() => return Step::Done,
            ethertype::ERSPAN_2 => return self.erspan2(next, flags & F_SEQ != 0),
            ethertype::ERSPAN_3 => return self.erspan3(next),
            ethertype::WCCP => {
                // WCCPv2 puts a 4-byte redirect header before the IPv4 packet; v1 does not.
                match self.rest(next).first() {
                    Some(b) if b >> 4 == 4 => Step::Ipv4(next),
                    _ => Step::Ipv4(next + 4),
                }
            }
            et => Step::EtherType(et, next),
        };
        self.enter_tunnel(step)
    }

    fn gre_v1(&mut self, h: Header<'_>, off: usize) -> Step {
        let flags = h.flags();
        let flags1 = h.0[field::FLAGS_VERSION];
        // PPTP: key present (payload length + call id), no checksum or routing.
        if flags & (F_CHECKSUM | F_ROUTING | F_STRICT_ROUTE | RECURSION_MASK) != 0
            || flags & F_KEY == 0
            || flags1 & RESERVED1_MASK != 0
            || h.protocol() != ethertype::PPP
        {
            self.event(DecodeEvent::GreBadHeader);
            return Step::Done;
        }
        let hlen =
            BASE_LEN + 4 + if flags & F_SEQ != 0 { 4 } else { 0 } + if flags1 & F_ACK != 0 { 4 } else { 0 };
        if self.rest(off).len() < hlen {
            self.event(DecodeEvent::GreTruncated);
            return Step::Done;
        }
        if !self.push(LayerKind::Gre, off, hlen) {
            return Step::Done;
        }
        if self.rest(off + hlen).is_empty() {
            return Step::Done; // acknowledgment only
        }
        self.enter_tunnel(Step::Ppp(off + hlen))
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::layer::LayerKind;
    use crate::packet::Transport;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;
    use std::net::IpAddr;

    fn outer(gre: &[u8]) -> Vec<u8> {
        eth(
            0x0800,
            &ipv4_full(|h| {
                h.src = [192, 168, 0, 1];
                h.dst = [192, 168, 0, 2];
                h.proto = 47;
                h.payload = gre.to_vec();
            }),
        )
    }

    #[test]
    fn v0_ipv4_with_key_and_seq() {
        let inner = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, 0x02, &[], b"");
        let gre = [&[0x30, 0x00, 0x08, 0x00, 0, 0, 0, 42, 0, 0, 0, 1][..], &inner].concat();
        let f = outer(&gre);
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.tunnel_depth, 1);
        assert_eq!(p.ip.unwrap().src, IpAddr::from([10, 0, 0, 1]));
        assert_eq!(p.ports(), Some((1234, 80)));
        assert_eq!(p.layers.iter().find(|l| l.kind == LayerKind::Gre).unwrap().len, 12);
        assert_eq!(
            p.to_string(),
            "tunnel 1 IPv4 10.0.0.1:1234 -> 10.0.0.2:80 TCP [S] seq=1000 ack=0 win=8192 len=0"
        );
        for n in 34..46 {
            let p = decode(LinkType::ETHERNET, &f[..n]);
            assert!(p.has_event(DecodeEvent::GreTruncated), "{n}");
            // The outer packet stays the flow view.
            assert_eq!(p.ip.unwrap().src, IpAddr::from([192, 168, 0, 1]));
            assert!(matches!(p.transport, Transport::Other { proto: 47, .. }));
        }
        for n in 46..f.len() {
            let p = decode(LinkType::ETHERNET, &f[..n]);
            assert!(!p.has_event(DecodeEvent::GreTruncated));
        }
    }

    #[test]
    fn v0_transparent_ethernet_and_checksum() {
        let inner = eth(0x86dd, &ipv6_udp(V6A, V6B, 1, 2, b"x"));
        let gre = [&[0x80, 0x00, 0x65, 0x58, 0, 0, 0, 0][..], &inner].concat();
        let p = decode(LinkType::ETHERNET, &outer(&gre));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!((p.ip.unwrap().version, p.ports()), (6, Some((1, 2))));
    }

    #[test]
    fn v1_pptp_ppp() {
        let inner = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 7, 8, b"x");
        let ppp = [&[0xff, 0x03, 0x00, 0x21][..], &inner].concat();
        let hdr = [0x30, 0x81, 0x88, 0x0b, 0, ppp.len() as u8, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0];
        let p = decode(LinkType::ETHERNET, &outer(&[&hdr[..], &ppp].concat()));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((7, 8)));
        assert_eq!(p.tunnel_depth, 1);
        // Ack-only packet.
        let p = decode(LinkType::ETHERNET, &outer(&[0x20, 0x81, 0x88, 0x0b, 0, 0, 0, 5, 0, 0, 0, 1]));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.tunnel_depth, 0);
        // No key: malformed.
        let p = decode(LinkType::ETHERNET, &outer(&[0x00, 0x01, 0x88, 0x0b, 0, 0, 0, 0]));
        assert!(p.has_event(DecodeEvent::GreBadHeader));
    }

    #[test]
    fn bad_versions_and_flags() {
        let p = decode(LinkType::ETHERNET, &outer(&[0x00, 0x02, 0x08, 0x00]));
        assert!(p.has_event(DecodeEvent::GreBadVersion));
        let inner = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 7, 8, b"x");
        let p = decode(LinkType::ETHERNET, &outer(&[&[0x01, 0x00, 0x08, 0x00][..], &inner].concat()));
        assert!(p.has_event(DecodeEvent::GreBadHeader));
        assert_eq!(p.ports(), Some((7, 8)));
        // RFC 1701 routing with one SRE then the null SRE.
        let gre =
            [&[0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0][..], &[0, 1, 0, 4, 1, 2, 3, 4], &[0, 0, 0, 0], &inner]
                .concat();
        let p = decode(LinkType::ETHERNET, &outer(&gre));
        assert!(p.has_event(DecodeEvent::GreBadHeader));
        assert_eq!(p.ports(), Some((7, 8)));
        // Keepalive.
        let p = decode(LinkType::ETHERNET, &outer(&[0, 0, 0, 0]));
        assert!(p.events.is_empty());
    }

    #[test]
    fn gre_in_udp() {
        let inner = ipv4_udp([172, 17, 0, 2], [1, 1, 1, 1], 51714, 53, b"dns");
        let f = ipv4_udp(
            [192, 168, 0, 107],
            [192, 168, 5, 1],
            50343,
            4754,
            &[&[0, 0, 0x08, 0x00][..], &inner].concat(),
        );
        let p = decode(LinkType::IPV4, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!((p.tunnel_depth, p.ports()), (1, Some((51714, 53))));
        let hop = p.tunnel_hops().next().unwrap();
        assert_eq!((hop.proto, hop.dst_port), (17, 4754));
        // With a key; and IPv6 inside.
        let inner6 = ipv6_udp(V6A, V6B, 1, 2, b"");
        let g = [&[0x20, 0, 0x86, 0xdd, 0, 0, 0, 9][..], &inner6].concat();
        let p = decode(LinkType::IPV4, &ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 9, 4754, &g));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!((p.tunnel_depth, p.ports()), (1, Some((1, 2))));
        // Not GRE-looking: plain UDP, no event.
        for g in [
            &[0x00, 0x01, 0x08, 0x00][..],
            &[0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0],
            &[0x00, 0x00, 0x12, 0x34],
            &[0x00, 0x00],
        ] {
            let p =
                decode(LinkType::IPV4, &ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 9, 4754, &[g, &inner].concat()));
            assert!(p.events.is_empty(), "{g:?}: {:?}", p.events);
            assert_eq!((p.tunnel_depth, p.ports()), (0, Some((9, 4754))), "{g:?}");
        }
        // Key flag but no room for the key.
        let p =
            decode(LinkType::IPV4, &ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 9, 4754, &[0x20, 0, 0x08, 0, 0]));
        assert!(p.events.is_empty() && p.tunnel_depth == 0);
    }
}
