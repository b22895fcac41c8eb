//! Radiotap (LINKTYPE_IEEE802_11_RADIOTAP): a little-endian pseudo-header of radio metadata
//! whose own length field says where the 802.11 frame starts.
//!
//! Of the metadata only the Flags field matters for decoding: "FCS at end" means the frame's
//! last 4 bytes are its frame check sequence (stripped here), and "data pad" means the 802.11
//! MAC header is padded to a multiple of 4 bytes. Flags (present bit 1) follows the TSFT field
//! (bit 0, 8 bytes aligned to 8) and the chain of present words (bit 31: another word follows).

use super::{fixed, le16, le32};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const VERSION: usize = 0;
    pub const LENGTH: usize = 2; // ..4, little-endian
    pub const PRESENT: usize = 4; // ..8, little-endian; more words while bit 31 is set
}
pub const MIN_LEN: usize = 8;

const PRESENT_TSFT: u32 = 1 << 0;
const PRESENT_FLAGS: u32 = 1 << 1;
const PRESENT_EXT: u32 = 1 << 31;
const TSFT_LEN: usize = 8;

pub const FLAG_FCS: u8 = 0x10;
pub const FLAG_DATA_PAD: u8 = 0x20;
const FCS_LEN: usize = 4;

/// The Flags field of a radiotap header (`hdr` is the whole header, `length` bytes), if present.
pub fn flags(hdr: &[u8]) -> Option<u8> {
    let first = le32(*fixed::<4>(hdr, field::PRESENT)?);
    if first & PRESENT_FLAGS == 0 {
        return None;
    }
    // Skip the extended present words.
    let mut pos = field::PRESENT;
    let mut word = first;
    while word & PRESENT_EXT != 0 {
        pos += 4;
        word = le32(*fixed::<4>(hdr, pos)?);
    }
    pos += 4;
    if first & PRESENT_TSFT != 0 {
        pos = pos.next_multiple_of(TSFT_LEN) + TSFT_LEN;
    }
    hdr.get(pos).copied()
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn radiotap(&mut self, off: usize) -> Step {
        let Some(h) = fixed::<MIN_LEN>(self.buf, off) else {
            self.event(DecodeEvent::RadiotapTruncated);
            return Step::Done;
        };
        let len = usize::from(le16([h[field::LENGTH], h[field::LENGTH + 1]]));
        if h[field::VERSION] != 0 || len < MIN_LEN {
            self.event(DecodeEvent::RadiotapBadHeader);
            return Step::Done;
        }
        let Some(hdr) = super::slice(self.buf, off, len) else {
            self.event(DecodeEvent::RadiotapTruncated);
            return Step::Done;
        };
        let flags = flags(hdr).unwrap_or(0);
        if flags & FLAG_FCS != 0 {
            let Some(end) = self.buf.len().checked_sub(FCS_LEN).filter(|&e| e >= off + len) else {
                self.event(DecodeEvent::RadiotapTruncated);
                return Step::Done;
            };
            self.clip(end);
        }
        if !self.push(LayerKind::Radiotap, off, len) {
            return Step::Done;
        }
        self.ieee80211(off + len, flags & FLAG_DATA_PAD != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    fn wlan_ip(ip: &[u8]) -> Vec<u8> {
        let mut v = vec![0x08, 0x01, 0, 0];
        v.extend_from_slice(&[0; 18]);
        v.extend_from_slice(&[0x10, 0x00, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        v.extend_from_slice(ip);
        v
    }

    #[test]
    fn flags_position() {
        // No fields.
        assert_eq!(flags(&[0, 0, 8, 0, 0, 0, 0, 0]), None);
        // Flags only: right after the present word.
        assert_eq!(flags(&[0, 0, 9, 0, 2, 0, 0, 0, 0x10]), Some(0x10));
        // TSFT + flags, two present words: TSFT aligned to 8 at offset 16, flags at 24.
        let mut h = vec![0, 0, 25, 0, 3, 0, 0, 0x80, 0, 0, 0, 0];
        h.extend_from_slice(&[0; 4]);
        h.extend_from_slice(&[9; 8]);
        h.push(0x30);
        assert_eq!(flags(&h), Some(0x30));
        assert_eq!(flags(&h[..24]), None);
    }

    #[test]
    fn fcs_is_stripped_and_truncation() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, b"q");
        // Radiotap: flags present, FCS at end.
        let rt = [0u8, 0, 9, 0, 2, 0, 0, 0, FLAG_FCS];
        let f = [&rt[..], &wlan_ip(&ip), &[0xde, 0xad, 0xbe, 0xef]].concat();
        let p = decode(LinkType::IEEE802_11_RADIOTAP, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((1000, 53)));
        assert_eq!(p.payload(), b"q");
        assert_eq!(p.layers.as_slice()[0].kind, LayerKind::Radiotap);
        // FCS flag on a frame too short for it.
        let p = decode(LinkType::IEEE802_11_RADIOTAP, &[&rt[..], &[0x80, 0]].concat());
        assert!(p.has_event(DecodeEvent::RadiotapTruncated));
        // Without the FCS flag the trailing bytes are ignored by the IP length.
        let plain = [&[0u8, 0, 8, 0, 0, 0, 0, 0][..], &wlan_ip(&ip)].concat();
        assert_eq!(decode(LinkType::IEEE802_11_RADIOTAP, &plain).ports(), Some((1000, 53)));
        for n in 0..9 {
            let p = decode(LinkType::IEEE802_11_RADIOTAP, &f[..n]);
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::RadiotapTruncated], "{n}");
        }
        let p = decode(LinkType::IEEE802_11_RADIOTAP, &with(&plain, |b| b[0] = 1));
        assert!(p.has_event(DecodeEvent::RadiotapBadHeader));
        let p = decode(LinkType::IEEE802_11_RADIOTAP, &with(&plain, |b| b[2] = 4));
        assert!(p.has_event(DecodeEvent::RadiotapBadHeader));
    }

    #[test]
    fn data_pad() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 7, 8, b"");
        // QoS data (26-byte header) padded to 28.
        let mut w = vec![0x88, 0x01, 0, 0];
        w.extend_from_slice(&[0; 18]);
        w.extend_from_slice(&[0x10, 0x00, 0x00, 0x00, 0xee, 0xee]);
        w.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        w.extend_from_slice(&ip);
        let f = [&[0u8, 0, 9, 0, 2, 0, 0, 0, FLAG_DATA_PAD][..], &w].concat();
        let p = decode(LinkType::IEEE802_11_RADIOTAP, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((7, 8)));
    }
}
