//! IEEE 802.11 MAC frames (LINKTYPE_IEEE802_11, and the frame after radiotap or PPI).
//!
//! Only unprotected data frames carry something to decode: the MAC header (frame control,
//! duration, three addresses and sequence control; a fourth address when both ToDS and FromDS
//! are set; QoS control on QoS subtypes; HT control when a QoS frame has the +HTC/Order bit),
//! then an LLC/SNAP header naming the ethertype. Management and control frames, protected
//! (encrypted) frames, null-data frames and fragments past the first are recorded as a `wlan`
//! layer and end decoding without an event: ordinary traffic with nothing IP in it. An A-MSDU
//! decodes its first subframe.

use super::fixed;
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const FC_TYPE: usize = 0; // version(2) type(2) subtype(4), low bits first
    pub const FC_FLAGS: usize = 1;
    pub const SEQ_CTL: usize = 22; // ..24, fragment number in the low 4 bits
}
/// Frame control, duration, three addresses, sequence control.
pub const BASE_LEN: usize = 24;
const ADDR4_LEN: usize = 6;
const QOS_LEN: usize = 2;
const HT_CONTROL_LEN: usize = 4;
/// A-MSDU subframe header: destination, source, length (an 802.3 header).
const AMSDU_SUBFRAME_LEN: usize = 14;

const TYPE_DATA: u8 = 2;
/// Subtype bits of data frames: QoS (bit 3), no data body (bit 2: null, CF-ack/poll only).
const SUBTYPE_QOS: u8 = 0x08;
const SUBTYPE_NO_DATA: u8 = 0x04;

const FLAG_TO_DS: u8 = 0x01;
const FLAG_FROM_DS: u8 = 0x02;
const FLAG_MORE_FRAGMENTS: u8 = 0x04;
const FLAG_PROTECTED: u8 = 0x40;
/// +HTC (QoS data frames) / Order (others).
const FLAG_ORDER: u8 = 0x80;
/// QoS control, first byte: the body is an A-MSDU.
const QOS_AMSDU: u8 = 0x80;

/// What a data frame's MAC header says, from the fixed 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataHeader {
    /// MAC header length: addresses, QoS control and HT control included.
    pub len: usize,
    /// Offset of the QoS control field in the header (QoS subtypes only).
    pub qos_offset: Option<usize>,
    /// The body carries something (not a null-data / CF subtype, not protected, first
    /// fragment of an unfragmented MSDU).
    pub has_body: bool,
}

/// Frame type (0 management, 1 control, 2 data, 3 extension) of a frame control byte.
pub fn frame_type(fc: u8) -> u8 {
    (fc >> 2) & 0x3
}

/// Parses a data frame's fixed header; `None` for other frame types.
pub fn data_header(h: &[u8; BASE_LEN]) -> Option<DataHeader> {
    let fc = h[field::FC_TYPE];
    if fc & 0x3 != 0 || frame_type(fc) != TYPE_DATA {
        return None; // version must be 0
    }
    let subtype = fc >> 4;
    let flags = h[field::FC_FLAGS];
    let qos = subtype & SUBTYPE_QOS != 0;
    let mut len = BASE_LEN;
    if flags & (FLAG_TO_DS | FLAG_FROM_DS) == FLAG_TO_DS | FLAG_FROM_DS {
        len += ADDR4_LEN;
    }
    let qos_offset = qos.then_some(len);
    if qos {
        len += QOS_LEN;
        if flags & FLAG_ORDER != 0 {
            len += HT_CONTROL_LEN;
        }
    }
    let fragment_number = h[field::SEQ_CTL] & 0x0f;
    let has_body = subtype & SUBTYPE_NO_DATA == 0
        && flags & (FLAG_PROTECTED | FLAG_MORE_FRAGMENTS) == 0
        && fragment_number == 0;
    Some(DataHeader { len, qos_offset, has_body })
}

impl<const FULL: bool> Decoder<'_, FULL> {
    /// An 802.11 frame at `off`; `data_pad` (radiotap flag) pads the MAC header to a multiple
    /// of 4 bytes.
    pub(crate) fn ieee80211(&mut self, off: usize, data_pad: bool) -> Step {
        let avail = self.rest(off).len();
        let Some(&fc) = self.rest(off).first() else {
            self.event(DecodeEvent::WlanTruncated);
            return Step::Done;
        };
        if frame_type(fc) != TYPE_DATA {
            // Management, control, extension: the whole frame, nothing further.
            self.push(LayerKind::Ieee80211, off, avail);
            return Step::Done;
        }
        let Some(h) = fixed::<BASE_LEN>(self.buf, off) else {
            self.event(DecodeEvent::WlanTruncated);
            return Step::Done;
        };
        let Some(d) = data_header(h) else {
            // Version other than 0: not a frame this decoder (or the standard) knows.
            self.push(LayerKind::Ieee80211, off, avail);
            return Step::Done;
        };
        let hlen = if data_pad { d.len.next_multiple_of(4) } else { d.len };
        if avail < hlen {
            self.event(DecodeEvent::WlanTruncated);
            return Step::Done;
        }
        if !d.has_body {
            self.push(LayerKind::Ieee80211, off, avail);
            return Step::Done;
        }
        if !self.push(LayerKind::Ieee80211, off, hlen) {
            return Step::Done;
        }
        let body = off + hlen;
        let amsdu = d.qos_offset.and_then(|q| self.rest(off + q).first()).is_some_and(|b| b & QOS_AMSDU != 0);
        if amsdu {
            // First A-MSDU subframe: an 802.3 header (its length field leads to LLC).
            if self.rest(body).len() < AMSDU_SUBFRAME_LEN {
                self.event(DecodeEvent::WlanTruncated);
                return Step::Done;
            }
            return Step::Ethernet(body);
        }
        // A data subtype with an empty body is as cut short as an empty LLC header.
        Step::Llc(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    /// A data frame: frame control bytes, the rest of the 24-byte header, `extra` (address 4,
    /// QoS, HT control), then LLC/SNAP and `payload` with ethertype `et`.
    pub fn wlan_data(fc: [u8; 2], extra: &[u8], et: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = fc.to_vec();
        v.extend_from_slice(&[0x2c, 0x00]);
        v.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
        v.extend_from_slice(&[0x10, 0x00]);
        v.extend_from_slice(extra);
        v.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0]);
        v.extend_from_slice(&et.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn data_frame_shapes() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, b"q");
        let cases: [([u8; 2], Vec<u8>); 5] = [
            ([0x08, 0x01], vec![]),                       // data, ToDS
            ([0x08, 0x03], vec![0; 6]),                   // data, 4 addresses
            ([0x88, 0x02], vec![0x06, 0x00]),             // QoS data, FromDS
            ([0x88, 0x81], vec![0x06, 0x00, 1, 2, 3, 4]), // QoS data +HTC
            ([0x88, 0x83], vec![0; 6 + 2 + 4]),           // QoS, 4 addresses, +HTC
        ];
        for (fc, extra) in cases {
            let f = wlan_data(fc, &extra, 0x0800, &ip);
            let p = decode(LinkType::IEEE802_11, &f);
            assert!(p.events.is_empty(), "{fc:?}: {:?}", p.events);
            assert_eq!(p.ports(), Some((1000, 53)), "{fc:?}");
            let wl = p.layers.as_slice()[0];
            assert_eq!((wl.kind, wl.len as usize), (LayerKind::Ieee80211, 24 + extra.len()));
            let hlen = 24 + extra.len();
            for n in 0..hlen {
                let p = decode(LinkType::IEEE802_11, &f[..n]);
                assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::WlanTruncated], "{n}");
            }
            for n in hlen..hlen + 8 {
                let p = decode(LinkType::IEEE802_11, &f[..n]);
                assert!(p.ip.is_none());
                assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::LlcTruncated], "{n}");
            }
        }
        let ip6 = ipv6_udp(V6A, V6B, 5353, 5353, b"");
        let p = decode(LinkType::IEEE802_11, &wlan_data([0x88, 0x01], &[0, 0], 0x86dd, &ip6));
        assert_eq!(p.ports(), Some((5353, 5353)));
    }

    #[test]
    fn non_data_and_protected_frames_end_quietly() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"");
        let frames = [
            vec![0x80, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // beacon (cut: fine)
            vec![0xd4, 0x00, 0, 0, 1, 2, 3, 4, 5, 6],                   // ACK
            wlan_data([0x88, 0x41], &[0, 0], 0x0800, &ip),              // protected
            wlan_data([0x48, 0x01], &[], 0x0800, &ip),                  // null data
            wlan_data([0x08, 0x05], &[], 0x0800, &ip),                  // more fragments
        ];
        for f in frames {
            let p = decode(LinkType::IEEE802_11, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert!(p.ip.is_none());
            assert_eq!(p.layers.last().unwrap().kind, LayerKind::Ieee80211);
        }
        assert!(decode(LinkType::IEEE802_11, &[]).has_event(DecodeEvent::WlanTruncated));
    }

    #[test]
    fn amsdu_first_subframe() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 7, 8, b"x");
        let llc = [&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00][..], &ip].concat();
        let sub =
            [&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12][..], &(llc.len() as u16).to_be_bytes(), &llc].concat();
        let mut f = wlan_data([0x88, 0x01], &[0x86, 0x00], 0, &[]);
        f.truncate(26);
        f.extend_from_slice(&sub);
        let p = decode(LinkType::IEEE802_11, &f);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((7, 8)));
        assert!(decode(LinkType::IEEE802_11, &f[..30]).has_event(DecodeEvent::WlanTruncated));
    }
}
