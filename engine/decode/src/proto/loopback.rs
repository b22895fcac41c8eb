//! BSD loopback encapsulation (LINKTYPE_NULL and LINKTYPE_LOOP): a 4-byte address family.
//!
//! NULL stores the family in the byte order of the machine that captured, LOOP in network order;
//! files move between machines, so both orders are accepted for both link types. IPv6's value
//! differs between BSDs (24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin).

use super::fixed;
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

pub const HEADER_LEN: usize = 4;

const AF_INET: u32 = 2;
const AF_INET6_BSD: u32 = 24;
const AF_INET6_FREEBSD: u32 = 28;
const AF_INET6_DARWIN: u32 = 30;

/// The family, whichever byte order makes it a small number.
pub fn family(h: &[u8; HEADER_LEN]) -> u32 {
    let le = u32::from_le_bytes(*h);
    if le <= 0xffff {
        le
    } else {
        u32::from_be_bytes(*h)
    }
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn loopback(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<HEADER_LEN>(self.buf, off) else {
            self.event(DecodeEvent::NullTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Loopback, off, HEADER_LEN) {
            return Step::Done;
        }
        let next = off + HEADER_LEN;
        match family(h) {
            AF_INET => Step::Ipv4(next),
            AF_INET6_BSD | AF_INET6_FREEBSD | AF_INET6_DARWIN => Step::Ipv6(next),
            _ => {
                self.event(DecodeEvent::NullUnknownFamily);
                Step::Done
            }
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
    fn both_byte_orders_and_v6_values() {
        let ip4 = ipv4_udp([127, 0, 0, 1], [127, 0, 0, 1], 1, 2, b"");
        let ip6 = ipv6_udp(V6A, V6B, 3, 4, b"");
        for lt in [LinkType::NULL, LinkType::LOOP] {
            for fam in [2u32.to_le_bytes(), 2u32.to_be_bytes()] {
                let f = [&fam[..], &ip4].concat();
                let p = decode(lt, &f);
                assert!(p.events.is_empty(), "{:?}", p.events);
                assert_eq!(p.ports(), Some((1, 2)));
            }
            for v in [24u32, 28, 30] {
                for fam in [v.to_le_bytes(), v.to_be_bytes()] {
                    let p = decode(lt, &[&fam[..], &ip6].concat());
                    assert_eq!(p.ports(), Some((3, 4)));
                }
            }
            let p = decode(lt, &[&7u32.to_le_bytes()[..], &ip4].concat());
            assert!(p.has_event(DecodeEvent::NullUnknownFamily));
            for n in 0..4 {
                let p = decode(lt, &ip4[..n]);
                assert!(p.has_event(DecodeEvent::NullTruncated));
            }
        }
    }
}
