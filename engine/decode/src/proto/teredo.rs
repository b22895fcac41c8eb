//! Teredo (RFC 4380), UDP port 3544 on either side: optional authentication and origin
//! indications, then an IPv6 packet. Port 3544 also carries Teredo's own qualification
//! traffic and unrelated protocols, so the tunnel is followed only when what follows the
//! indications is exactly one well-formed IPv6 header whose payload length fills the datagram.

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::layer::LayerKind;

/// Authentication indicator: type(2) id-len(1) auth-len(1) id auth nonce(8) confirmation(1).
const AUTH_TYPE: [u8; 2] = [0x00, 0x01];
const AUTH_FIXED_LEN: usize = 4 + 8 + 1;
/// Origin indicator: type(2) port(2) address(4).
const ORIGIN_TYPE: [u8; 2] = [0x00, 0x00];
const ORIGIN_LEN: usize = 8;

const IPV6_HEADER_LEN: usize = 40;

/// Length of the indications before the IPv6 header, if they parse.
pub fn indications_len(b: &[u8]) -> Option<usize> {
    let mut pos = 0;
    if fixed::<2>(b, pos) == Some(&AUTH_TYPE) {
        let h = fixed::<4>(b, pos)?;
        pos += AUTH_FIXED_LEN + usize::from(h[2]) + usize::from(h[3]);
    }
    if fixed::<2>(b, pos) == Some(&ORIGIN_TYPE) {
        pos += ORIGIN_LEN;
    }
    Some(pos)
}

/// Whether `b` is exactly one IPv6 packet (version 6, payload length matching).
pub fn looks_like_ipv6(b: &[u8]) -> bool {
    match fixed::<IPV6_HEADER_LEN>(b, 0) {
        Some(h) => h[0] >> 4 == 6 && usize::from(be16([h[4], h[5]])) + IPV6_HEADER_LEN == b.len(),
        None => false,
    }
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn teredo(&mut self, off: usize) -> Step {
        let rest = self.rest(off);
        let Some(ind) = indications_len(rest) else {
            return Step::Done;
        };
        if !looks_like_ipv6(rest.get(ind..).unwrap_or(&[])) {
            return Step::Done;
        }
        if !self.push(LayerKind::Teredo, off, ind) {
            return Step::Done;
        }
        self.enter_tunnel(Step::Ipv6(off + ind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn plain_origin_and_auth() {
        let inner = ipv6_udp(V6A, V6B, 7, 8, b"x");
        let origin = [0, 0, 0x12, 0x34, 1, 2, 3, 4];
        let auth = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        for prefix in [&[][..], &origin[..], &[&auth[..], &origin].concat()] {
            let t = [prefix, &inner].concat();
            assert_eq!(indications_len(&t), Some(prefix.len()));
            let p = decode(LinkType::IPV4, &ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 3544, 40000, &t));
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!((p.tunnel_depth, p.ports()), (1, Some((7, 8))));
            assert_eq!(p.ip.unwrap().version, 6);
        }
        // Not IPv6 (or length mismatch): plain UDP.
        let junk = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 40000, 3544, &[0x60; 50]);
        let p = decode(LinkType::IPV4, &junk);
        assert_eq!((p.tunnel_depth, p.ports()), (0, Some((40000, 3544))));
        let short = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 40000, 3544, &inner[..45]);
        assert_eq!(decode(LinkType::IPV4, &short).tunnel_depth, 0);
    }
}
