//! AYIYA, "anything in anything" (draft-massar-v6ops-ayiya), UDP port 5072 on either side: an
//! 8-byte header (identity length/type, signature length/hash method, authentication
//! method/opcode, next header, epoch), the identity (2^n bytes), the signature (4n bytes), then
//! an IP packet. Like the other UDP tunnels it is followed only when the header looks right:
//! opcode 1 (forward), next header IPv4 or IPv6, and a packet of that version after it.
//! Other opcodes (echo, motd, query) and malformed headers leave the datagram as plain UDP.

use super::fixed;
use crate::decoder::{Decoder, Step};
use crate::layer::LayerKind;

mod field {
    pub const ID_LEN_TYPE: usize = 0; // identity length (log2) in the high nibble
    pub const SIG_LEN_HASH: usize = 1; // signature length (words) in the high nibble
    pub const AUTH_OPCODE: usize = 2; // opcode in the low nibble
    pub const NEXT_HEADER: usize = 3;
    // EPOCH = 4..8
}
pub const BASE_LEN: usize = 8;

const OPCODE_FORWARD: u8 = 1;
const NEXT_IPV4: u8 = 4;
const NEXT_IPV6: u8 = 41;

/// Header length and inner IP version when `h` is an AYIYA forward header.
pub fn forward_header(h: &[u8; BASE_LEN]) -> Option<(usize, u8)> {
    if h[field::AUTH_OPCODE] & 0x0f != OPCODE_FORWARD {
        return None;
    }
    let version = match h[field::NEXT_HEADER] {
        NEXT_IPV4 => 4,
        NEXT_IPV6 => 6,
        _ => return None,
    };
    let identity = 1usize << (h[field::ID_LEN_TYPE] >> 4);
    let signature = usize::from(h[field::SIG_LEN_HASH] >> 4) * 4;
    Some((BASE_LEN + identity + signature, version))
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn ayiya(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<BASE_LEN>(self.buf, off) else {
            return Step::Done;
        };
        let Some((hlen, version)) = forward_header(h) else {
            return Step::Done;
        };
        match self.rest(off).get(hlen).map(|b| b >> 4) {
            Some(v) if v == version => {}
            _ => return Step::Done,
        }
        if !self.push(LayerKind::Ayiya, off, hlen) {
            return Step::Done;
        }
        let inner = off + hlen;
        self.enter_tunnel(if version == 4 { Step::Ipv4(inner) } else { Step::Ipv6(inner) })
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    fn ayiya(op_next: (u8, u8), inner: &[u8]) -> Vec<u8> {
        // 16-byte identity, 20-byte signature (SHA-1).
        let mut v = vec![0x41, 0x52, 0x10 | op_next.0, op_next.1, 0x4a, 0xf6, 0x4b, 0xfd];
        v.extend_from_slice(&[0x20; 16]);
        v.extend_from_slice(&[0x77; 20]);
        v.extend_from_slice(inner);
        v
    }

    #[test]
    fn forward_ipv6_and_ipv4() {
        let in6 = ipv6_udp(V6A, V6B, 7, 8, b"x");
        let in4 = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 0x02, &[], b"");
        for (next, inner, ports) in [(41, &in6, (7, 8)), (4, &in4, (1, 2))] {
            let a = ayiya((1, next), inner);
            let f = ipv4_udp([216, 14, 98, 22], [192, 168, 3, 101], 5072, 53796, &a);
            let p = decode(LinkType::RAW, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!((p.tunnel_depth, p.ports()), (1, Some(ports)));
            let hop = p.tunnel_hops().next().unwrap();
            assert_eq!((hop.proto, hop.src_port, hop.dst_port), (17, 5072, 53796));
        }
        // Not a forward, wrong next header, wrong inner version, too short: plain UDP.
        for a in [
            ayiya((0, 41), &in6),
            ayiya((1, 59), &in6),
            ayiya((1, 4), &in6),
            ayiya((1, 41), &[]),
            ayiya((1, 41), &in6)[..6].to_vec(),
        ] {
            let f = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 40000, 5072, &a);
            let p = decode(LinkType::RAW, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!((p.tunnel_depth, p.ports()), (0, Some((40000, 5072))));
        }
    }
}
