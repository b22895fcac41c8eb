//! VXLAN (RFC 7348), UDP port 4789: an 8-byte header then an Ethernet frame.

use super::fixed;
use crate::decoder::{Decoder, Step};
use crate::layer::LayerKind;

mod field {
    pub const FLAGS: usize = 0;
}
pub const HEADER_LEN: usize = 8;
/// "VNI present": must be set in every VXLAN packet.
const FLAG_I: u8 = 0x08;

impl<const FULL: bool> Decoder<'_, FULL> {
    /// Follows the tunnel only when the header looks like VXLAN; otherwise the datagram stays
    /// plain UDP (port 4789 is not reserved against other uses), without an event.
    pub(crate) fn vxlan(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<HEADER_LEN>(self.buf, off) else {
            return Step::Done;
        };
        if h[field::FLAGS] & FLAG_I == 0 {
            return Step::Done;
        }
        if !self.push(LayerKind::Vxlan, off, HEADER_LEN) {
            return Step::Done;
        }
        self.enter_tunnel(Step::Ethernet(off + HEADER_LEN))
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::packet::Transport;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;
    use std::net::IpAddr;

    #[test]
    fn vxlan_inner_ethernet_vlan() {
        let inner =
            eth(0x8100, &vlan_tag(5, 0x0800, &ipv4_tcp([10, 1, 1, 1], [10, 1, 1, 2], 1, 80, 0x02, &[], b"")));
        let vx = [&[0x08, 0, 0, 0, 0, 0, 100, 0][..], &inner].concat();
        let f = eth(0x0800, &ipv4_udp([192, 168, 1, 1], [192, 168, 1, 2], 55555, 4789, &vx));
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.tunnel_depth, 1);
        assert_eq!(p.vlan_count, 1);
        assert_eq!(p.ip.unwrap().src, IpAddr::from([10, 1, 1, 1]));
        assert_eq!(p.ports(), Some((1, 80)));
        // Truncated inside the inner frame: outer UDP stays the flow view.
        let p = decode(LinkType::ETHERNET, &f[..42 + 8 + 10]);
        assert!(p.has_event(DecodeEvent::EthTruncated));
        assert!(matches!(p.transport, Transport::Udp(_)));
        assert_eq!(p.ip.unwrap().src, IpAddr::from([192, 168, 1, 1]));
        // Not VXLAN-looking: plain UDP.
        let nv = ipv4_udp([192, 168, 1, 1], [192, 168, 1, 2], 1, 4789, &[0u8; 40]);
        let p = decode(LinkType::IPV4, &nv);
        assert!(p.events.is_empty() && p.tunnel_depth == 0);
    }
}
