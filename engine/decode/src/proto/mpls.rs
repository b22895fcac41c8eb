//! MPLS label stacks (RFC 3032). The payload type is not signalled: explicit-null labels say
//! IPv4 (0) or IPv6 (2); otherwise the first nibble after the stack is used: 4 and 6 are IP, 0 is
//! a pseudowire control word (RFC 4385) followed by Ethernet.

use super::fixed;
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

pub const ENTRY_LEN: usize = 4;
/// Deeper stacks are not seen in practice; stop there rather than walk a packet of labels.
pub const MAX_LABELS: usize = 16;
pub const CONTROL_WORD_LEN: usize = 4;

const LABEL_IPV4_EXPLICIT_NULL: u32 = 0;
const LABEL_IPV6_EXPLICIT_NULL: u32 = 2;

/// One label stack entry: label(20) TC(3) S(1) TTL(8).
#[derive(Clone, Copy)]
pub struct Entry(u32);

impl Entry {
    pub fn new(b: &[u8; ENTRY_LEN]) -> Entry {
        Entry(u32::from_be_bytes(*b))
    }
    pub fn label(self) -> u32 {
        self.0 >> 12
    }
    pub fn bottom_of_stack(self) -> bool {
        self.0 & 0x100 != 0
    }
    /// Labels that must never be on the wire: implicit null (3) and the unassigned special
    /// values 4-6 and 8-12.
    pub fn is_bad(self) -> bool {
        matches!(self.label(), 3..=6 | 8..=12)
    }
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn mpls(&mut self, off: usize) -> Step {
        let mut pos = off;
        let mut last = None;
        for _ in 0..MAX_LABELS {
            let Some(b) = fixed::<ENTRY_LEN>(self.buf, pos) else {
                self.event(DecodeEvent::MplsTruncated);
                return Step::Done;
            };
            let e = Entry::new(b);
            if e.is_bad() {
                self.event(DecodeEvent::MplsBadLabel);
            }
            pos += ENTRY_LEN;
            if e.bottom_of_stack() {
                last = Some(e.label());
                break;
            }
        }
        let Some(label) = last else {
            self.event(DecodeEvent::TooManyLayers);
            return Step::Done;
        };
        if !self.push(LayerKind::Mpls, off, pos - off) {
            return Step::Done;
        }
        match label {
            LABEL_IPV4_EXPLICIT_NULL => return Step::Ipv4(pos),
            LABEL_IPV6_EXPLICIT_NULL => return Step::Ipv6(pos),
            _ => {}
        }
        match self.rest(pos).first().map(|b| b >> 4) {
            Some(4) => Step::Ipv4(pos),
            Some(6) => Step::Ipv6(pos),
            Some(0) => {
                if self.rest(pos).len() < CONTROL_WORD_LEN {
                    self.event(DecodeEvent::MplsTruncated);
                    return Step::Done;
                }
                if !self.push(LayerKind::PwControlWord, pos, CONTROL_WORD_LEN) {
                    return Step::Done;
                }
                Step::Ethernet(pos + CONTROL_WORD_LEN)
            }
            Some(_) => {
                self.event(DecodeEvent::MplsUnknownPayload);
                Step::Done
            }
            None => {
                self.event(DecodeEvent::MplsTruncated);
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

    fn label(l: u32, bos: bool) -> [u8; 4] {
        ((l << 12) | (u32::from(bos) << 8) | 64).to_be_bytes()
    }

    #[test]
    fn deconstruct() {
        let e = Entry::new(&label(16001, true));
        assert_eq!((e.label(), e.bottom_of_stack()), (16001, true));
        assert!(Entry::new(&label(3, true)).is_bad());
        assert!(!Entry::new(&label(1, false)).is_bad());
    }

    #[test]
    fn stack_then_ipv4_ipv6_and_pseudowire() {
        let ip = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 5, 6, b"abc");
        let stack = [label(100, false), label(200, true)].concat();
        let f = eth(0x8847, &[&stack[..], &ip].concat());
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((5, 6)));
        assert_eq!(p.layers.iter().find(|l| l.kind == LayerKind::Mpls).unwrap().len, 8);
        for n in 14..22 {
            let p = decode(LinkType::ETHERNET, &f[..n]);
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::MplsTruncated]);
        }

        // Explicit null IPv6 decides even if the nibble would not.
        let ip6 = ipv6_udp(V6A, V6B, 7, 8, b"");
        let p = decode(LinkType::ETHERNET, &eth(0x8847, &[&label(2, true)[..], &ip6].concat()));
        assert_eq!(p.ports(), Some((7, 8)));

        // Pseudowire: control word then a whole Ethernet frame.
        let inner = eth(0x0800, &ip);
        let pw = [&label(300, true)[..], &[0, 0, 0, 0], &inner].concat();
        let p = decode(LinkType::ETHERNET, &eth(0x8847, &pw));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((5, 6)));
        assert!(p.layers.contains(LayerKind::PwControlWord));

        let junk = [&label(300, true)[..], &[0x95, 0, 0, 0]].concat();
        let p = decode(LinkType::ETHERNET, &eth(0x8847, &junk));
        assert!(p.has_event(DecodeEvent::MplsUnknownPayload));
        let bad = [&label(3, true)[..], &ip].concat();
        assert!(decode(LinkType::ETHERNET, &eth(0x8847, &bad)).has_event(DecodeEvent::MplsBadLabel));
        let mut deep = Vec::new();
        for _ in 0..40 {
            deep.extend_from_slice(&label(100, false));
        }
        let p = decode(LinkType::ETHERNET, &eth(0x8847, &deep));
        assert!(p.has_event(DecodeEvent::TooManyLayers));
    }
}
