//! IPv6 (RFC 8200): fixed header and the extension header chain (hop-by-hop, routing,
//! fragment, destination options, AH; ESP and No Next Header end the chain).

use std::net::{IpAddr, Ipv6Addr};

use super::{be16, fixed, slice};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;
use crate::packet::{FragmentInfo, IpLayer, Transport};

mod field {
    pub const VER_TC_FLOW: usize = 0; // ..4
    pub const PAYLOAD_LEN: usize = 4; // ..6
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8; // ..24
    pub const DST: usize = 24; // ..40
}
pub const HEADER_LEN: usize = 40;
/// Extension headers walked before `ipv6_too_many_ext_headers` (Snort's default limit).
pub const MAX_EXT_HEADERS: usize = 8;

pub const NH_HOP_BY_HOP: u8 = 0;
pub const NH_ROUTING: u8 = 43;
pub const NH_FRAGMENT: u8 = 44;
pub const NH_ESP: u8 = 50;
pub const NH_AH: u8 = 51;
pub const NH_NONE: u8 = 59;
pub const NH_DEST_OPTS: u8 = 60;

pub const FRAG_HEADER_LEN: usize = 8;
pub const AH_MIN_LEN: usize = 12;

/// View of the fixed 40-byte IPv6 header.
#[derive(Clone, Copy)]
pub struct Header<'a>(&'a [u8; HEADER_LEN]);

impl<'a> Header<'a> {
    pub fn new_checked(buf: &'a [u8], off: usize) -> Option<Self> {
        fixed(buf, off).map(Header)
    }
    pub fn version(&self) -> u8 {
        self.0[field::VER_TC_FLOW] >> 4
    }
    pub fn traffic_class(&self) -> u8 {
        (self.0[field::VER_TC_FLOW] << 4) | (self.0[field::VER_TC_FLOW + 1] >> 4)
    }
    pub fn payload_len(&self) -> u16 {
        be16([self.0[field::PAYLOAD_LEN], self.0[field::PAYLOAD_LEN + 1]])
    }
    pub fn next_header(&self) -> u8 {
        self.0[field::NEXT_HEADER]
    }
    pub fn hop_limit(&self) -> u8 {
        self.0[field::HOP_LIMIT]
    }
    pub fn src(&self) -> Ipv6Addr {
        addr(self.0, field::SRC)
    }
    pub fn dst(&self) -> Ipv6Addr {
        addr(self.0, field::DST)
    }
}

fn addr(b: &[u8; HEADER_LEN], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    if let Some(s) = b.get(at..at + 16) {
        a.copy_from_slice(s);
    }
    Ipv6Addr::from(a)
}

/// Walks hop-by-hop / destination option TLVs (after the 2-byte header); `false` if one runs
/// past the header.
pub fn options_well_formed(mut opts: &[u8]) -> bool {
    while let Some((&kind, rest)) = opts.split_first() {
        if kind == 0 {
            opts = rest; // Pad1
            continue;
        }
        let Some(&len) = rest.first() else {
            return false;
        };
        match opts.get(2 + usize::from(len)..) {
            Some(r) => opts = r,
            None => return false,
        }
    }
    true
}

/// IPv6 fragment header fields: (next header, offset in bytes, M flag, identification).
pub fn parse_fragment(b: &[u8; FRAG_HEADER_LEN]) -> (u8, u32, bool, u32) {
    let off_flags = be16([b[2], b[3]]);
    (b[0], u32::from(off_flags >> 3) * 8, off_flags & 1 != 0, u32::from_be_bytes([b[4], b[5], b[6], b[7]]))
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn ipv6(&mut self, off: usize) -> Step {
        let Some(h) = Header::new_checked(self.buf, off) else {
            self.event(DecodeEvent::Ipv6Truncated);
            return Step::Done;
        };
        if h.version() != 6 {
            self.event(DecodeEvent::Ipv6BadVersion);
            return Step::Done;
        }
        if !self.push(LayerKind::Ipv6, off, HEADER_LEN) {
            return Step::Done;
        }
        if h.hop_limit() == 0 {
            self.event(DecodeEvent::Ipv6ZeroHopLimit);
        }
        if h.src().is_multicast() {
            self.event(DecodeEvent::Ipv6SrcMulticast);
        }
        if h.dst().is_unspecified() {
            self.event(DecodeEvent::Ipv6DstUnspecified);
        }

        let captured = self.rest(off + HEADER_LEN).len();
        let plen = usize::from(h.payload_len());
        let jumbo = plen == 0 && (h.next_header() == NH_HOP_BY_HOP || captured > 0xffff);
        let (len, truncated) = if jumbo {
            // Jumbogram (RFC 2675), or a Linux BIG TCP super-packet captured on the host (no
            // jumbo option, payload length 0): the capture is the datagram.
            (captured, false)
        } else if plen > captured {
            self.event(DecodeEvent::Ipv6PayloadLenExceedsCapture);
            (captured, true)
        } else {
            (plen, false)
        };
        self.clip(off + HEADER_LEN + len);

        // Extension header walk.
        let mut nh = h.next_header();
        let mut pos = off + HEADER_LEN;
        let mut seen: u8 = 0; // bit per header kind, for duplicate detection
        let mut dest_opts = 0;
        let mut fragment = None;
        let mut frag_id = 0;
        let mut complete = true; // false: stopped early, no transport decode
        let mut count = 0;
        loop {
            let kind = match nh {
                NH_HOP_BY_HOP => LayerKind::Ipv6HopByHop,
                NH_ROUTING => LayerKind::Ipv6Routing,
                NH_FRAGMENT => LayerKind::Ipv6Fragment,
                NH_DEST_OPTS => LayerKind::Ipv6DestOpts,
                NH_AH => LayerKind::Ah,
                NH_NONE => {
                    if !self.rest(pos).is_empty() {
                        self.event(DecodeEvent::Ipv6DataAfterNoNextHeader);
                    }
                    complete = false;
                    break;
                }
                _ => break, // ESP or an upper-layer protocol
            };
            if count == MAX_EXT_HEADERS {
                self.event(DecodeEvent::Ipv6TooManyExtHeaders);
                complete = false;
                break;
            }
            count += 1;
            // Order and repetition (RFC 8200 4.1): hop-by-hop only first; each header at most
            // once, except destination options (before routing and before the upper layer).
            let bit = match kind {
                LayerKind::Ipv6HopByHop => 1,
                LayerKind::Ipv6Routing => 2,
                LayerKind::Ipv6Fragment => 4,
                LayerKind::Ah => 8,
                _ => 0,
            };
            if kind == LayerKind::Ipv6DestOpts {
                dest_opts += 1;
            }
            let misplaced_hbh = kind == LayerKind::Ipv6HopByHop && pos != off + HEADER_LEN;
            if seen & bit != 0 || misplaced_hbh || dest_opts > 2 {
                self.event(DecodeEvent::Ipv6BadExtHeader);
            }
            seen |= bit;

            // Every extension header starts with next header and a length byte.
            let Some(&[next, len_byte]) = fixed::<2>(self.buf, pos) else {
                self.event(if kind == LayerKind::Ah {
                    DecodeEvent::AhTruncated
                } else {
                    DecodeEvent::Ipv6ExtHeaderTruncated
                });
                complete = false;
                break;
            };
            let len = match kind {
                LayerKind::Ipv6Fragment => FRAG_HEADER_LEN,
                LayerKind::Ah => (usize::from(len_byte) + 2) * 4,
                _ => (usize::from(len_byte) + 1) * 8,
            };
            let Some(ext) = slice(self.buf, pos, len) else {
                self.event(if kind == LayerKind::Ah {
                    DecodeEvent::AhTruncated
                } else {
                    DecodeEvent::Ipv6ExtHeaderTruncated
                });
                complete = false;
                break;
            };
            if !self.push(kind, pos, len) {
                complete = false;
                break;
            }
            let anomaly = match kind {
                LayerKind::Ipv6HopByHop | LayerKind::Ipv6DestOpts
                    if !options_well_formed(ext.get(2..).unwrap_or(&[])) =>
                {
                    Some(DecodeEvent::Ipv6BadOption)
                }
                // Routing type (byte 2) 0 is deprecated (RFC 5095).
                LayerKind::Ipv6Routing if ext.get(2) == Some(&0) => Some(DecodeEvent::Ipv6RoutingType0),
                LayerKind::Ah if len < AH_MIN_LEN => Some(DecodeEvent::AhBadLength),
                _ => None,
            };
            if let Some(e) = anomaly {
                self.event(e);
            }
            if kind == LayerKind::Ipv6Fragment {
                let Some(fh) = fixed::<FRAG_HEADER_LEN>(ext, 0) else {
                    break; // unreachable: `ext` is FRAG_HEADER_LEN long
                };
                let (_, frag_off, more, id) = parse_fragment(fh);
                frag_id = id;
                if frag_off == 0 && !more {
                    // Atomic fragment (RFC 6946): processed as a whole datagram.
                    self.event(DecodeEvent::Ipv6UselessFragHeader);
                } else {
                    fragment = Some(FragmentInfo {
                        offset: frag_off,
                        more_fragments: more,
                        id,
                        dont_fragment: false,
                        ipv6_frag_header_offset: Some(pos),
                    });
                    pos += len;
                    nh = next;
                    break;
                }
            }
            pos += len;
            nh = next;
        }

        let payload = self.rest(pos);
        if let Some(fr) = &fragment {
            if payload.is_empty() {
                self.event(DecodeEvent::FragZeroLength);
            }
            if fr.more_fragments && !truncated && payload.len() % 8 != 0 {
                self.event(DecodeEvent::Ipv6FragInvalidLength);
            }
            if fr.offset.saturating_add(payload.len() as u32) > super::ipv4::MAX_DATAGRAM {
                self.event(DecodeEvent::Ipv6FragTooLarge);
            }
        }
        self.pkt.ip = Some(IpLayer {
            version: 6,
            src: IpAddr::V6(h.src()),
            dst: IpAddr::V6(h.dst()),
            proto: nh,
            ttl: h.hop_limit(),
            tos: h.traffic_class(),
            id: frag_id,
            header: slice(self.buf, off, pos - off).unwrap_or(&[]),
            payload,
            fragment,
            total_len_truncated: truncated,
            offset: off,
        });
        self.pkt.transport = Transport::None;
        self.ip_truncated = truncated;
        if !complete || fragment.is_some() {
            return Step::Done;
        }
        self.transport(nh, pos, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn deconstruct() {
        let ip = ipv6_udp(V6A, V6B, 1000, 53, b"hello");
        let h = Header::new_checked(&ip, 0).unwrap();
        assert_eq!(h.version(), 6);
        assert_eq!(h.payload_len(), 13);
        assert_eq!(h.next_header(), 17);
        assert_eq!(h.hop_limit(), 64);
        assert_eq!(h.src(), Ipv6Addr::from(V6A));
        let p = decode(LinkType::RAW, &ip);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((1000, 53)));
        assert_eq!(p.l4_checksum_ok(), Some(true));
    }

    #[test]
    fn truncated_at_every_length() {
        let ip = ipv6_udp(V6A, V6B, 1000, 53, b"hello");
        for n in 0..ip.len() {
            let p = decode(LinkType::IPV6, &ip[..n]);
            if n < 40 {
                assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::Ipv6Truncated]);
            } else {
                assert!(p.has_event(DecodeEvent::Ipv6PayloadLenExceedsCapture));
                assert_eq!(p.has_event(DecodeEvent::UdpTruncated), n < 48);
            }
        }
    }

    #[test]
    fn big_tcp_zero_payload_len() {
        // Linux BIG TCP, captured on the host: > 64 KiB, payload length 0, no jumbo option.
        let seg = tcp(1, 2, 0x10, &[], &vec![0u8; 70_000]);
        let ip = with(&ipv6(V6A, V6B, 6, &seg), |b| b[4..6].copy_from_slice(&[0, 0]));
        let p = decode(LinkType::IPV6, &ip);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.payload().len(), 70_000);
        // Below 64 KiB a zero length is just that (trailing bytes are padding).
        let small = with(&ipv6(V6A, V6B, NH_NONE, &[0; 6]), |b| b[4..6].copy_from_slice(&[0, 0]));
        assert!(decode(LinkType::IPV6, &small).events.is_empty());
    }

    #[test]
    fn ext_header_chain() {
        // hop-by-hop (PadN) -> dest opts -> routing type 2 -> UDP
        let udp = udp(1, 2, b"data");
        let chain = [
            &[NH_DEST_OPTS, 0, 1, 4, 0, 0, 0, 0][..],
            &[NH_ROUTING, 0, 1, 4, 0, 0, 0, 0],
            &[17, 2, 2, 1, 0, 0, 0, 0],
            &[0; 16],
            &udp,
        ]
        .concat();
        let ip = ipv6(V6A, V6B, NH_HOP_BY_HOP, &chain);
        let p = decode(LinkType::IPV6, &ip);
        assert!(p.events.is_empty(), "{:?}", p.events);
        let l = p.ip.unwrap();
        assert_eq!(l.proto, 17);
        assert_eq!(l.header.len(), 40 + 8 + 8 + 24);
        assert_eq!(p.ports(), Some((1, 2)));
        let kinds: Vec<_> = p.layers.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                LayerKind::Ipv6,
                LayerKind::Ipv6HopByHop,
                LayerKind::Ipv6DestOpts,
                LayerKind::Ipv6Routing,
                LayerKind::Udp
            ]
        );
        for n in 40..ip.len() {
            let p = decode(LinkType::IPV6, &ip[..n]);
            let hdr_end = 40 + 8 + 8 + 24;
            assert_eq!(p.has_event(DecodeEvent::Ipv6ExtHeaderTruncated), n < hdr_end, "{n}");
        }
    }

    #[test]
    fn ext_header_anomalies() {
        let udp = udp(1, 2, b"");
        // hop-by-hop not first, routing type 0, bad option length
        let chain = [
            &[NH_HOP_BY_HOP, 0, 1, 9, 0, 0, 0, 0][..],
            &[NH_ROUTING, 0, 0, 0, 0, 0, 0, 0],
            &[17, 0, 0, 0, 0, 0, 0, 0],
            &udp,
        ]
        .concat();
        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_DEST_OPTS, &chain));
        assert!(p.has_event(DecodeEvent::Ipv6BadExtHeader));
        assert!(p.has_event(DecodeEvent::Ipv6BadOption));
        assert!(p.has_event(DecodeEvent::Ipv6RoutingType0));
        assert_eq!(p.ports(), Some((1, 2)));

        let mut many = Vec::new();
        for _ in 0..10 {
            many.extend_from_slice(&[NH_DEST_OPTS, 0, 1, 4, 0, 0, 0, 0]);
        }
        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_DEST_OPTS, &many));
        assert!(p.has_event(DecodeEvent::Ipv6TooManyExtHeaders));
        assert!(p.ip.is_some() && p.transport == Transport::None);

        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_NONE, b"xx"));
        assert!(p.has_event(DecodeEvent::Ipv6DataAfterNoNextHeader));
        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_NONE, b""));
        assert!(p.events.is_empty());
    }

    #[test]
    fn fragment_header() {
        let udp = udp(1, 2, &[0; 8]);
        let frag = [&[17, 0, 0x00, 0x01, 0, 0, 0x12, 0x34][..], &udp].concat();
        let ip = ipv6(V6A, V6B, NH_FRAGMENT, &frag);
        let p = decode(LinkType::IPV6, &ip);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert!(p.is_fragment() && p.transport == Transport::None);
        let l = p.ip.unwrap();
        let f = l.fragment.unwrap();
        assert_eq!((f.offset, f.more_fragments, f.id), (0, true, 0x1234));
        assert_eq!(f.ipv6_frag_header_offset, Some(40));
        assert_eq!((l.proto, l.id, l.header.len(), l.payload.len()), (17, 0x1234, 48, 16));

        // Offset 8, odd length with M set.
        let frag = [&[17, 0, 0x00, 0x09, 0, 0, 0, 1][..], &[0; 5]].concat();
        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_FRAGMENT, &frag));
        assert!(p.has_event(DecodeEvent::Ipv6FragInvalidLength));
        assert_eq!(p.ip.unwrap().fragment.unwrap().offset, 8);
        // Atomic fragment: decoded through.
        let frag = [&[17, 0, 0, 0, 0, 0, 0, 1][..], &udp].concat();
        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_FRAGMENT, &frag));
        assert!(p.has_event(DecodeEvent::Ipv6UselessFragHeader));
        assert!(!p.is_fragment());
        assert_eq!(p.ports(), Some((1, 2)));
        // Past 64 KiB.
        let frag = [&[17, 0, 0xff, 0xf8, 0, 0, 0, 1][..], &[0; 16]].concat();
        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_FRAGMENT, &frag));
        assert!(p.has_event(DecodeEvent::Ipv6FragTooLarge));
    }

    #[test]
    fn ah_then_tcp_and_esp() {
        let tcp = tcp(1, 2, 0x10, &[], b"");
        let ah = [&[6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1][..], &[0; 12], &tcp].concat();
        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_AH, &ah));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ports(), Some((1, 2)));
        assert!(p.layers.contains(LayerKind::Ah));
        let esp = [0u8, 0, 1, 0, 0, 0, 0, 1, 0xde, 0xad];
        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_ESP, &esp));
        assert!(matches!(p.transport, Transport::Other { proto: 50, .. }));
        assert!(p.layers.contains(LayerKind::Esp));
        let p = decode(LinkType::IPV6, &ipv6(V6A, V6B, NH_ESP, &esp[..4]));
        assert!(p.has_event(DecodeEvent::EspTruncated));
    }
}
