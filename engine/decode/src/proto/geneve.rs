//! Geneve (RFC 8926), UDP port 6081: 8-byte header plus options, then an ethertype payload
//! (0x6558 for Ethernet).

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::layer::LayerKind;

mod field {
    pub const VER_OPTLEN: usize = 0;
    pub const PROTOCOL: usize = 2; // ..4
}
pub const BASE_LEN: usize = 8;

impl<const FULL: bool> Decoder<'_, FULL> {
    /// Like VXLAN, a malformed header leaves the datagram as plain UDP.
    pub(crate) fn geneve(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<BASE_LEN>(self.buf, off) else {
            return Step::Done;
        };
        if h[field::VER_OPTLEN] >> 6 != 0 {
            return Step::Done;
        }
        let hlen = BASE_LEN + usize::from(h[field::VER_OPTLEN] & 0x3f) * 4;
        if self.rest(off).len() < hlen {
            return Step::Done;
        }
        if !self.push(LayerKind::Geneve, off, hlen) {
            return Step::Done;
        }
        let et = be16([h[field::PROTOCOL], h[field::PROTOCOL + 1]]);
        self.enter_tunnel(Step::EtherType(et, off + hlen))
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn geneve_with_option() {
        let inner = eth(0x0800, &ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 7, 8, b"x"));
        let gen = [&[0x01, 0, 0x65, 0x58, 0, 0, 1, 0][..], &[0, 1, 2, 0], &inner].concat();
        let p = decode(LinkType::IPV4, &ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 999, 6081, &gen));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!((p.tunnel_depth, p.ports()), (1, Some((7, 8))));
    }
}
