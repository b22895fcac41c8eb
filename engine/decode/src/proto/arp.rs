//! ARP / RARP: recognised and length-checked, not decoded further.

use super::fixed;
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
}
pub const FIXED_LEN: usize = 8;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn arp(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<FIXED_LEN>(self.buf, off) else {
            self.event(DecodeEvent::ArpTruncated);
            return Step::Done;
        };
        // Sender and target hardware + protocol addresses.
        let len = FIXED_LEN + 2 * (usize::from(h[field::HLEN]) + usize::from(h[field::PLEN]));
        if self.rest(off).len() < len {
            self.event(DecodeEvent::ArpTruncated);
        }
        self.push(LayerKind::Arp, off, len.min(self.rest(off).len()));
        Step::Done
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::layer::LayerKind;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn arp_request() {
        let arp = [0, 1, 8, 0, 6, 4, 0, 1, 1, 2, 3, 4, 5, 6, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2];
        let f = eth(0x0806, &arp);
        let p = decode(LinkType::ETHERNET, &f);
        assert!(p.events.is_empty());
        assert_eq!(p.layers.last().unwrap().kind, LayerKind::Arp);
        assert!(p.ip.is_none());
        for n in 14..f.len() {
            assert!(decode(LinkType::ETHERNET, &f[..n]).has_event(DecodeEvent::ArpTruncated));
        }
    }
}
