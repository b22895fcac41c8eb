//! Internet checksums (RFC 1071), computed on demand: decoding never pays for them.

use std::net::IpAddr;

use crate::packet::{IpLayer, Packet, Transport};
use crate::proto::transport::{PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};

/// One's-complement sum of `data` as big-endian 16-bit words (odd byte padded), unfolded.
pub fn sum(data: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        if let &[a, b, c, d] = c {
            acc += u64::from(u32::from_be_bytes([a, b, c, d]));
        }
    }
    let mut rest = chunks.remainder();
    if let [a, b, tail @ ..] = rest {
        acc += u64::from(u16::from_be_bytes([*a, *b]));
        rest = tail;
    }
    if let [a] = rest {
        acc += u64::from(*a) << 8;
    }
    acc
}

/// Folds a sum to 16 bits.
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Whether `data` (checksum field included) sums to all ones, i.e. the checksum is correct.
pub fn verify(data: &[u8]) -> bool {
    fold(sum(data)) == 0xffff
}

/// Pseudo-header sum for TCP/UDP/ICMPv6 (RFC 793, RFC 8200 section 8.1).
fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u64 {
    let addrs = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => sum(&s.octets()) + sum(&d.octets()),
        (IpAddr::V6(s), IpAddr::V6(d)) => sum(&s.octets()) + sum(&d.octets()),
        _ => 0,
    };
    addrs + u64::from(proto) + len as u64
}

fn l4_ok(ip: &IpLayer<'_>, proto: u8, segment: &[u8]) -> bool {
    fold(pseudo_header(ip.src, ip.dst, proto, segment.len()) + sum(segment)) == 0xffff
}

impl Packet<'_> {
    /// IPv4 header checksum of the innermost IP header; `None` for IPv6 or no IP.
    pub fn ipv4_checksum_ok(&self) -> Option<bool> {
        let ip = self.ip.as_ref()?;
        (ip.version == 4).then(|| verify(ip.header))
    }

    /// TCP, UDP, ICMP or ICMPv6 checksum of the innermost transport (with the pseudo-header
    /// where the protocol has one). `None` when it cannot be computed: no such transport, a
    /// fragment, or a datagram cut short by the capture. A zero UDP checksum over IPv4 means
    /// "not computed" and counts as correct; over IPv6 it is invalid. IPv6 routing headers are
    /// not consulted for the final destination.
    pub fn l4_checksum_ok(&self) -> Option<bool> {
        let ip = self.ip.as_ref()?;
        if ip.fragment.is_some() || ip.total_len_truncated {
            return None;
        }
        // `ip.payload` is the whole L4 message (clipped to the IP length).
        let seg = ip.payload;
        match &self.transport {
            Transport::Tcp(_) => Some(l4_ok(ip, PROTO_TCP, seg)),
            Transport::Udp(u) => {
                if u.checksum == 0 {
                    return Some(ip.version == 4);
                }
                let len = usize::from(u.length);
                let dgram = seg.get(..len)?;
                Some(l4_ok(ip, PROTO_UDP, dgram))
            }
            Transport::Icmp(_) => Some(verify(seg)),
            Transport::Icmpv6(_) => Some(l4_ok(ip, PROTO_ICMPV6, seg)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data)), 0xddf2);
        assert_eq!(fold(sum(&data[..7])), fold(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0x00])));
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn real_ipv4_header() {
        // A captured IPv4 header (wikipedia example) with checksum b861.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
            0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(verify(&h));
        let mut bad = h;
        bad[11] ^= 1;
        assert!(!verify(&bad));
    }
}
