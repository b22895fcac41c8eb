//! Dispatch from an IP payload to its transport or tunnel decoder, plus IPsec in IPv4
//! (AH is walked through to the protected protocol; ESP ends decoding).

use super::fixed;
use super::ipv6::{AH_MIN_LEN, NH_AH, NH_ESP};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;
use crate::packet::Transport;

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_IPIP: u8 = 4;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_IPV6: u8 = 41;
pub const PROTO_GRE: u8 = 47;
pub const PROTO_ICMPV6: u8 = 58;

/// ESP: SPI and sequence number, then encrypted data.
const ESP_HEADER_LEN: usize = 8;
/// AH headers stacked in IPv4 that are walked (a loop guard; real traffic has one).
const MAX_AH: usize = 4;

impl<const FULL: bool> Decoder<'_, FULL> {
    /// Decodes the payload of the innermost IP header: `proto` at `off`.
    pub(crate) fn transport(&mut self, mut proto: u8, mut off: usize, v6: bool) -> Step {
        if !v6 {
            // IPv6 walks AH with its other extension headers; IPv4 has no such chain.
            for _ in 0..MAX_AH {
                if proto != NH_AH {
                    break;
                }
                let Some(&[next, len_byte]) = fixed::<2>(self.buf, off) else {
                    self.event(DecodeEvent::AhTruncated);
                    return Step::Done;
                };
                let len = (usize::from(len_byte) + 2) * 4;
                if len < AH_MIN_LEN {
                    self.event(DecodeEvent::AhBadLength);
                }
                if self.rest(off).len() < len {
                    self.event(DecodeEvent::AhTruncated);
                    return Step::Done;
                }
                if !self.push(LayerKind::Ah, off, len) {
                    return Step::Done;
                }
                proto = next;
                off += len;
                if let Some(ip) = &mut self.pkt.ip {
                    // The IP view describes the protected protocol, like IPv6 does.
                    ip.proto = proto;
                    ip.payload = self.buf.get(off..).unwrap_or(&[]);
                }
            }
        }
        let payload = self.rest(off);
        match proto {
            PROTO_TCP => self.tcp(off),
            PROTO_UDP => self.udp(off, v6),
            PROTO_ICMP => {
                if v6 {
                    self.event(DecodeEvent::Ipv6Icmpv4);
                }
                self.icmp(off, false)
            }
            PROTO_ICMPV6 => {
                if !v6 {
                    self.event(DecodeEvent::Ipv4Icmpv6);
                }
                self.icmp(off, true)
            }
            PROTO_GRE => {
                self.pkt.transport = Transport::Other { proto, payload };
                self.gre(off)
            }
            PROTO_IPIP => {
                self.pkt.transport = Transport::Other { proto, payload };
                self.enter_tunnel(Step::Ipv4(off))
            }
            PROTO_IPV6 => {
                self.pkt.transport = Transport::Other { proto, payload };
                self.enter_tunnel(Step::Ipv6(off))
            }
            NH_ESP => {
                self.pkt.transport = Transport::Other { proto, payload };
                if payload.len() < ESP_HEADER_LEN {
                    self.event(DecodeEvent::EspTruncated);
                } else {
                    self.push(LayerKind::Esp, off, ESP_HEADER_LEN);
                }
                Step::Done
            }
            _ => {
                self.pkt.transport = Transport::Other { proto, payload };
                Step::Done
            }
        }
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

    #[test]
    fn ipv4_ah_then_udp() {
        let ah = [&[17, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1][..], &[0; 12], &udp(9, 10, b"x")].concat();
        let ip = ipv4_full(|h| {
            h.proto = 51;
            h.payload = ah.clone();
        });
        let p = decode(LinkType::IPV4, &ip);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((9, 10)));
        assert_eq!(p.ip.unwrap().proto, 17);
        assert!(p.layers.contains(LayerKind::Ah));
        for n in 20..44 {
            assert!(decode(LinkType::IPV4, &ip[..n]).has_event(DecodeEvent::AhTruncated));
        }
    }

    #[test]
    fn other_protocols_keep_payload() {
        let ip = ipv4_full(|h| {
            h.proto = 89;
            h.payload = b"ospf".to_vec();
        });
        let p = decode(LinkType::IPV4, &ip);
        assert_eq!(p.transport, Transport::Other { proto: 89, payload: b"ospf" });
        assert!(p.events.is_empty());
    }
}
