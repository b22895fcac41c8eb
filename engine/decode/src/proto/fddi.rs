//! FDDI (LINKTYPE_FDDI): frame control, destination and source addresses, then 802.2 LLC for
//! LLC frames; SMT and MAC frames carry nothing IP.

use super::fixed;
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

#[allow(dead_code)] // the full layout is documentation; addresses are not needed
mod field {
    pub const FRAME_CONTROL: usize = 0;
    pub const DST: usize = 1; // ..7
    pub const SRC: usize = 7; // ..13
}
pub const HEADER_LEN: usize = 13;

/// Frame control class/format bits of LLC frames, asynchronous and synchronous.
const FC_MASK: u8 = 0xf0;
const FC_LLC_ASYNC: u8 = 0x50;
const FC_LLC_SYNC: u8 = 0xd0;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn fddi(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<HEADER_LEN>(self.buf, off) else {
            self.event(DecodeEvent::FddiTruncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Fddi, off, HEADER_LEN) {
            return Step::Done;
        }
        match h[field::FRAME_CONTROL] & FC_MASK {
            FC_LLC_ASYNC | FC_LLC_SYNC => Step::Llc(off + HEADER_LEN),
            _ => Step::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::linktype::FDDI;
    use crate::testutil::dec as decode;
    use crate::testutil::*;

    #[test]
    fn llc_snap_ipv4_and_truncation() {
        let ip = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, 0x10, &[], b"");
        let mut f = vec![0x50, 0, 4, 0, 0x82, 0xa7, 0xaa, 0, 4, 0, 0x83, 0xa7, 0xaa];
        f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        f.extend_from_slice(&ip);
        let p = decode(FDDI, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((1234, 80)));
        assert_eq!(p.layers.as_slice()[0].kind, LayerKind::Fddi);
        for n in 0..HEADER_LEN {
            let p = decode(FDDI, &f[..n]);
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::FddiTruncated], "{n}");
        }
        for n in HEADER_LEN + 1..HEADER_LEN + 8 {
            assert!(decode(FDDI, &f[..n]).has_event(DecodeEvent::LlcTruncated), "{n}");
        }
        // SMT frame: nothing further, no event.
        let p = decode(FDDI, &with(&f, |b| b[0] = 0x41));
        assert!(p.events.is_empty() && p.ip.is_none());
    }
}
