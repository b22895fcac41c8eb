//! ICMP (RFC 792) and ICMPv6 (RFC 4443): type, code, and the echo-style identifier/sequence.
//! Quoted packets inside error messages are left in `payload`, not decoded.

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;
use crate::packet::{IcmpMessage, Transport};

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2; // ..4
    pub const ID: usize = 4; // ..6
    pub const SEQ: usize = 6; // ..8
}
/// Type, code and checksum: enough to report the message.
pub const MIN_LEN: usize = 4;
/// Every ICMP and ICMPv6 message has at least this much header.
pub const HEADER_LEN: usize = 8;

/// ICMPv4 messages whose second word is identifier + sequence: echo reply/request,
/// timestamp, information, address mask.
fn v4_has_id(t: u8) -> bool {
    matches!(t, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)
}

/// ICMPv6 echo request/reply.
fn v6_has_id(t: u8) -> bool {
    matches!(t, 128 | 129)
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn icmp(&mut self, off: usize, v6: bool) -> Step {
        let truncated = if v6 { DecodeEvent::Icmpv6Truncated } else { DecodeEvent::IcmpTruncated };
        let Some(h) = fixed::<MIN_LEN>(self.buf, off) else {
            self.event(truncated);
            return Step::Done;
        };
        let (icmp_type, code) = (h[field::TYPE], h[field::CODE]);
        let checksum = be16([h[field::CHECKSUM], h[field::CHECKSUM + 1]]);
        let kind = if v6 { LayerKind::Icmpv6 } else { LayerKind::Icmp };
        let full = fixed::<HEADER_LEN>(self.buf, off);
        let (id, seq) = match full {
            Some(b) if (v6 && v6_has_id(icmp_type)) || (!v6 && v4_has_id(icmp_type)) => {
                (Some(be16([b[field::ID], b[field::ID + 1]])), Some(be16([b[field::SEQ], b[field::SEQ + 1]])))
            }
            Some(_) => (None, None),
            None => {
                self.event(truncated);
                (None, None)
            }
        };
        let hlen = if full.is_some() { HEADER_LEN } else { MIN_LEN };
        if !self.push(kind, off, hlen) {
            return Step::Done;
        }
        let msg = IcmpMessage {
            icmp_type,
            code,
            checksum,
            id,
            seq,
            payload: if full.is_some() { self.rest(off + HEADER_LEN) } else { &[] },
        };
        self.pkt.transport = if v6 { Transport::Icmpv6(msg) } else { Transport::Icmp(msg) };
        Step::Done
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::packet::Transport;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn echo_v4_and_v6() {
        let ip = ipv4_icmp([1, 1, 1, 1], [2, 2, 2, 2], 8, 0, &[0x12, 0x34, 0, 7], b"ping");
        let p = decode(LinkType::IPV4, &ip);
        assert!(p.events.is_empty(), "{:?}", p.events);
        let Transport::Icmp(m) = p.transport else { panic!() };
        assert_eq!((m.icmp_type, m.code, m.id, m.seq), (8, 0, Some(0x1234), Some(7)));
        assert_eq!(m.payload, b"ping");
        assert_eq!(p.l4_checksum_ok(), Some(true));
        assert_eq!(p.to_string(), "IPv4 1.1.1.1 -> 2.2.2.2 ICMP type=8 code=0 id=4660 seq=7 len=4");
        for n in 20..28 {
            let p = decode(LinkType::IPV4, &ip[..n]);
            assert!(p.has_event(DecodeEvent::IcmpTruncated), "{n}");
            assert_eq!(matches!(p.transport, Transport::Icmp(_)), n >= 24);
        }

        let ip6 = ipv6_icmp(V6A, V6B, 128, 0, &[0, 1, 0, 2], b"ping6");
        let p = decode(LinkType::IPV6, &ip6);
        assert!(p.events.is_empty(), "{:?}", p.events);
        let Transport::Icmpv6(m) = p.transport else { panic!() };
        assert_eq!((m.icmp_type, m.id, m.seq), (128, Some(1), Some(2)));
        assert_eq!(p.l4_checksum_ok(), Some(true));
        for n in 40..48 {
            assert!(decode(LinkType::IPV6, &ip6[..n]).has_event(DecodeEvent::Icmpv6Truncated));
        }
        // Unreachable: no id.
        let ip = ipv4_icmp([1, 1, 1, 1], [2, 2, 2, 2], 3, 3, &[0; 4], &[0x45; 28]);
        let Transport::Icmp(m) = decode(LinkType::IPV4, &ip).transport else { panic!() };
        assert_eq!((m.id, m.payload.len()), (None, 28));
    }

    #[test]
    fn wrong_ip_version() {
        let ip = ipv4_full(|h| {
            h.proto = 58;
            h.payload = vec![128, 0, 0, 0, 0, 0, 0, 0];
        });
        assert!(decode(LinkType::IPV4, &ip).has_event(DecodeEvent::Ipv4Icmpv6));
        let ip = ipv6(V6A, V6B, 1, &[8, 0, 0, 0, 0, 0, 0, 0]);
        assert!(decode(LinkType::IPV6, &ip).has_event(DecodeEvent::Ipv6Icmpv4));
    }
}
