//! GTP-U version 1 (3GPP TS 29.281), UDP port 2152: G-PDU messages carry an IP packet after the
//! header, its optional sequence/N-PDU/next-extension word and extension headers.

use super::{be16, fixed};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;

mod field {
    pub const FLAGS: usize = 0;
    pub const MSG_TYPE: usize = 1;
    pub const LENGTH: usize = 2; // ..4, bytes after the mandatory 8
                                 // TEID 4..8
}
pub const HEADER_LEN: usize = 8;
const OPTIONAL_LEN: usize = 4;

const VERSION_1: u8 = 1;
/// Protocol type 1 = GTP (0 would be GTP').
const FLAG_PT: u8 = 0x10;
const FLAG_E: u8 = 0x04;
const FLAG_S: u8 = 0x02;
const FLAG_PN: u8 = 0x01;
const MSG_G_PDU: u8 = 0xff;
const MAX_EXT_HEADERS: usize = 8;

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn gtp(&mut self, off: usize) -> Step {
        let Some(first) = self.rest(off).first() else {
            return Step::Done;
        };
        if first >> 5 != VERSION_1 || first & FLAG_PT == 0 {
            return Step::Done; // not GTPv1-U: leave it as UDP
        }
        let Some(h) = fixed::<HEADER_LEN>(self.buf, off) else {
            self.event(DecodeEvent::GtpTruncated);
            return Step::Done;
        };
        let flags = h[field::FLAGS];
        let msg_len = usize::from(be16([h[field::LENGTH], h[field::LENGTH + 1]]));
        let mut hlen = HEADER_LEN;
        if flags & (FLAG_E | FLAG_S | FLAG_PN) != 0 {
            let Some(opt) = fixed::<OPTIONAL_LEN>(self.buf, off + HEADER_LEN) else {
                self.event(DecodeEvent::GtpTruncated);
                return Step::Done;
            };
            hlen += OPTIONAL_LEN;
            let mut next_ext = if flags & FLAG_E != 0 { opt[3] } else { 0 };
            for _ in 0..MAX_EXT_HEADERS {
                if next_ext == 0 {
                    break;
                }
                // Extension: length in 4-byte units (content included), last byte = next type.
                let Some(&units) = self.rest(off + hlen).first() else {
                    self.event(DecodeEvent::GtpTruncated);
                    return Step::Done;
                };
                let len = usize::from(units) * 4;
                if len == 0 {
                    self.event(DecodeEvent::GtpBadHeader);
                    return Step::Done;
                }
                let Some(&nt) = self.rest(off + hlen).get(len - 1) else {
                    self.event(DecodeEvent::GtpTruncated);
                    return Step::Done;
                };
                hlen += len;
                next_ext = nt;
            }
        }
        if !self.push(LayerKind::Gtp, off, hlen) {
            return Step::Done;
        }
        // The message ends where its length says (when that is within the datagram).
        self.clip(off + HEADER_LEN + msg_len);
        if h[field::MSG_TYPE] != MSG_G_PDU {
            return Step::Done; // echo, error indication, end marker: signalling, no user data
        }
        match self.rest(off + hlen).first().map(|b| b >> 4) {
            Some(4) => self.enter_tunnel(Step::Ipv4(off + hlen)),
            Some(6) => self.enter_tunnel(Step::Ipv6(off + hlen)),
            _ => Step::Done, // empty, or a non-IP PDU session (Ethernet/unstructured)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::event::DecodeEvent;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    fn gtp(flags: u8, ext: &[u8], inner: &[u8]) -> Vec<u8> {
        let len = (ext.len() + inner.len()) as u16;
        let mut v = vec![flags, 0xff];
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, 1]);
        v.extend_from_slice(ext);
        v.extend_from_slice(inner);
        v
    }

    #[test]
    fn g_pdu_plain_and_with_extension() {
        let inner = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1, 80, 0x02, &[], b"");
        // PDU session container extension (0x85), 1 unit, then no more.
        let ext = [0, 0, 0, 0x85, 1, 0x10, 9, 0];
        for g in [gtp(0x30, &[], &inner), gtp(0x34, &ext, &inner)] {
            let f = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 2152, 2152, &g);
            let p = decode(LinkType::IPV4, &f);
            assert!(p.events.is_empty(), "{:?}", p.events);
            assert_eq!((p.tunnel_depth, p.ports()), (1, Some((1, 80))));
            for n in 29..f.len() {
                let p = decode(LinkType::IPV4, &f[..n]);
                let hdr = if g[0] == 0x34 { 36 + 8 } else { 36 };
                assert_eq!(p.has_event(DecodeEvent::GtpTruncated), n < hdr, "{n}");
            }
        }
        let bad = gtp(0x34, &[0, 0, 0, 0x85, 0, 0, 0, 0], &inner);
        let p = decode(LinkType::IPV4, &ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 2152, 2152, &bad));
        assert!(p.has_event(DecodeEvent::GtpBadHeader));
        // Echo request: no tunnel. GTPv2 on the port: plain UDP.
        let echo = [0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0];
        let p = decode(LinkType::IPV4, &ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 2152, 2152, &echo));
        assert!(p.events.is_empty() && p.tunnel_depth == 0);
        let v2 = [0x48, 0x20, 0, 4, 0, 0, 0, 0];
        let p = decode(LinkType::IPV4, &ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 2152, 2152, &v2));
        assert!(p.events.is_empty() && p.tunnel_depth == 0);
    }
}
