//! IPv4 (RFC 791): header with options, fragmentation fields, length clipping.

use std::net::{IpAddr, Ipv4Addr};

use super::{be16, fixed, slice};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;
use crate::packet::{FragmentInfo, IpLayer, Transport};

#[allow(dead_code)] // CHECKSUM: verified over the whole header, see `checksum.rs`
mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const TOTAL_LEN: usize = 2; // ..4
    pub const IDENT: usize = 4; // ..6
    pub const FLAGS_FRAG: usize = 6; // ..8
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10; // ..12
    pub const SRC: usize = 12; // ..16
    pub const DST: usize = 16; // ..20
}
pub const MIN_HEADER_LEN: usize = 20;
/// Largest IP datagram; fragments reaching past it are an attack (ping of death).
pub const MAX_DATAGRAM: u32 = 65535;

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1fff;

const OPT_EOL: u8 = 0;
const OPT_NOP: u8 = 1;

/// View of the fixed 20-byte IPv4 header.
#[derive(Clone, Copy)]
pub struct Header<'a>(&'a [u8; MIN_HEADER_LEN]);

impl<'a> Header<'a> {
    pub fn new_checked(buf: &'a [u8], off: usize) -> Option<Self> {
        fixed(buf, off).map(Header)
    }
    pub fn version(&self) -> u8 {
        self.0[field::VER_IHL] >> 4
    }
    /// IHL in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(self.0[field::VER_IHL] & 0x0f) * 4
    }
    pub fn tos(&self) -> u8 {
        self.0[field::TOS]
    }
    pub fn total_len(&self) -> u16 {
        be16([self.0[field::TOTAL_LEN], self.0[field::TOTAL_LEN + 1]])
    }
    pub fn ident(&self) -> u16 {
        be16([self.0[field::IDENT], self.0[field::IDENT + 1]])
    }
    fn flags_frag(&self) -> u16 {
        be16([self.0[field::FLAGS_FRAG], self.0[field::FLAGS_FRAG + 1]])
    }
    pub fn reserved_flag(&self) -> bool {
        self.flags_frag() & FLAG_RESERVED != 0
    }
    pub fn dont_fragment(&self) -> bool {
        self.flags_frag() & FLAG_DF != 0
    }
    pub fn more_fragments(&self) -> bool {
        self.flags_frag() & FLAG_MF != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u32 {
        u32::from(self.flags_frag() & FRAG_OFFSET_MASK) * 8
    }
    pub fn ttl(&self) -> u8 {
        self.0[field::TTL]
    }
    pub fn protocol(&self) -> u8 {
        self.0[field::PROTOCOL]
    }
    pub fn src(&self) -> Ipv4Addr {
        let s = field::SRC;
        Ipv4Addr::new(self.0[s], self.0[s + 1], self.0[s + 2], self.0[s + 3])
    }
    pub fn dst(&self) -> Ipv4Addr {
        let d = field::DST;
        Ipv4Addr::new(self.0[d], self.0[d + 1], self.0[d + 2], self.0[d + 3])
    }
}

/// Walks IPv4 options; `false` if one has a length below 2 or runs past the header.
pub fn options_well_formed(mut opts: &[u8]) -> bool {
    while let Some((&kind, rest)) = opts.split_first() {
        match kind {
            OPT_EOL => return true,
            OPT_NOP => opts = rest,
            _ => {
                let Some(&len) = rest.first() else {
                    return false;
                };
                let len = usize::from(len);
                if len < 2 {
                    return false;
                }
                match opts.get(len..) {
                    Some(r) => opts = r,
                    None => return false,
                }
            }
        }
    }
    true
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn ipv4(&mut self, off: usize) -> Step {
        let Some(h) = Header::new_checked(self.buf, off) else {
            self.event(DecodeEvent::Ipv4Truncated);
            return Step::Done;
        };
        if h.version() != 4 {
            self.event(DecodeEvent::Ipv4BadVersion);
            return Step::Done;
        }
        let hlen = h.header_len();
        if hlen < MIN_HEADER_LEN {
            self.event(DecodeEvent::Ipv4HeaderLenTooSmall);
            return Step::Done;
        }
        let Some(header) = slice(self.buf, off, hlen) else {
            self.event(DecodeEvent::Ipv4Truncated);
            return Step::Done;
        };
        if !self.push(LayerKind::Ipv4, off, hlen) {
            return Step::Done;
        }
        if hlen > MIN_HEADER_LEN && !options_well_formed(header.get(MIN_HEADER_LEN..).unwrap_or(&[])) {
            self.event(DecodeEvent::Ipv4BadOption);
        }

        let captured = self.rest(off).len();
        let total = usize::from(h.total_len());
        let mut length_ok = true;
        let (len, truncated) = if total == 0 {
            // TSO/GSO super-packets captured on the sending host (and Linux BIG TCP) carry a
            // zero total length; what was captured is the datagram.
            (captured, false)
        } else if total < hlen {
            self.event(DecodeEvent::Ipv4TotalLenTooSmall);
            length_ok = false;
            (hlen, false)
        } else if total > captured {
            self.event(DecodeEvent::Ipv4TotalLenExceedsCapture);
            (captured, true)
        } else {
            (total, false)
        };
        // Everything inside this datagram ends at its length (drops Ethernet padding).
        self.clip(off + len);
        let payload = self.rest(off + hlen);

        if h.ttl() == 0 {
            self.event(DecodeEvent::Ipv4ZeroTtl);
        }
        if h.reserved_flag() {
            self.event(DecodeEvent::Ipv4ReservedFlag);
        }
        let frag_offset = h.frag_offset();
        let mf = h.more_fragments();
        let df = h.dont_fragment();
        if df && (mf || frag_offset != 0) {
            self.event(DecodeEvent::Ipv4BadFragBits);
        }
        let fragment = if frag_offset != 0 || mf {
            let data_len = len.saturating_sub(hlen);
            if data_len == 0 && length_ok {
                self.event(DecodeEvent::FragZeroLength);
            }
            let claimed = total.saturating_sub(hlen) as u32;
            if frag_offset.saturating_add(claimed) > MAX_DATAGRAM {
                self.event(DecodeEvent::Ipv4FragTooLarge);
            }
            Some(FragmentInfo {
                offset: frag_offset,
                more_fragments: mf,
                id: u32::from(h.ident()),
                dont_fragment: df,
                ipv6_frag_header_offset: None,
            })
        } else {
            None
        };

        let proto = h.protocol();
        self.pkt.ip = Some(IpLayer {
            version: 4,
            src: IpAddr::V4(h.src()),
            dst: IpAddr::V4(h.dst()),
            proto,
            ttl: h.ttl(),
            tos: h.tos(),
            id: u32::from(h.ident()),
            header,
            payload,
            fragment,
            total_len_truncated: truncated,
            offset: off,
        });
        self.pkt.transport = Transport::None;
        self.ip_truncated = truncated;
        if !length_ok || fragment.is_some() {
            // A fragment goes to defragmentation first; a datagram shorter than its own
            // header has no trustworthy payload.
            return Step::Done;
        }
        self.transport(proto, off + hlen, false)
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
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, b"hello");
        let h = Header::new_checked(&ip, 0).unwrap();
        assert_eq!(h.version(), 4);
        assert_eq!(h.header_len(), 20);
        assert_eq!(usize::from(h.total_len()), ip.len());
        assert_eq!(h.protocol(), 17);
        assert_eq!(h.ttl(), 64);
        assert_eq!(h.src(), Ipv4Addr::new(10, 0, 0, 1));
        assert!(!h.more_fragments() && h.frag_offset() == 0);

        let p = decode(LinkType::RAW, &ip);
        assert!(p.events.is_empty(), "{:?}", p.events);
        let l = p.ip.unwrap();
        assert_eq!(l.header.len(), 20);
        assert_eq!(l.payload.len(), 13);
        assert_eq!(p.ipv4_checksum_ok(), Some(true));
        assert_eq!(p.l4_checksum_ok(), Some(true));
    }

    #[test]
    fn truncated_at_every_length() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, b"hello");
        for n in 0..ip.len() {
            let p = decode(LinkType::IPV4, &ip[..n]);
            if n < 20 {
                assert_eq!(p.events.iter().collect::<Vec<_>>(), [DecodeEvent::Ipv4Truncated]);
                assert!(p.ip.is_none());
            } else {
                assert!(p.has_event(DecodeEvent::Ipv4TotalLenExceedsCapture), "{n}");
                assert!(p.ip.unwrap().total_len_truncated);
                assert_eq!(p.has_event(DecodeEvent::UdpTruncated), n < 28, "{n}");
                assert_eq!(p.l4_checksum_ok(), None);
            }
        }
    }

    #[test]
    fn header_and_total_length_errors() {
        let ip = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"hello");
        let p = decode(LinkType::IPV4, &with(&ip, |b| b[0] = 0x44));
        assert!(p.has_event(DecodeEvent::Ipv4HeaderLenTooSmall) && p.ip.is_none());
        let p = decode(LinkType::IPV4, &with(&ip, |b| b[0] = 0x65));
        assert!(p.has_event(DecodeEvent::Ipv4BadVersion) && p.ip.is_none());
        let p = decode(LinkType::IPV4, &with(&ip, |b| b[0] = 0x4f));
        assert!(p.has_event(DecodeEvent::Ipv4Truncated));
        let p = decode(LinkType::IPV4, &with(&ip, |b| b[2..4].copy_from_slice(&[0, 10])));
        assert!(p.has_event(DecodeEvent::Ipv4TotalLenTooSmall));
        assert!(p.ip.is_some() && p.transport == Transport::None);
        // Padding after the datagram is not payload.
        let padded = [&ip[..], &[0u8; 10]].concat();
        let p = decode(LinkType::IPV4, &padded);
        assert!(p.events.is_empty());
        assert_eq!(p.payload(), b"hello");
        // Total length 0: TSO, take what was captured.
        let p = decode(LinkType::IPV4, &with(&ip, |b| b[2..4].copy_from_slice(&[0, 0])));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.payload(), b"hello");
    }

    #[test]
    fn options_walk() {
        assert!(options_well_formed(&[1, 1, 0, 0]));
        assert!(options_well_formed(&[7, 7, 4, 0, 0, 0, 0, 0]));
        assert!(!options_well_formed(&[7, 9, 4, 0, 0, 0, 0, 0]));
        assert!(!options_well_formed(&[7, 1, 0, 0]));
        assert!(!options_well_formed(&[1, 1, 1, 0x44]));
        let ip = ipv4_full(|h| {
            h.options = vec![0x94, 0x04, 0, 0]; // router alert
            h.proto = 17;
            h.payload = udp(1, 2, b"");
        });
        let p = decode(LinkType::IPV4, &ip);
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ip.unwrap().header.len(), 24);
        assert_eq!(p.ipv4_checksum_ok(), Some(true));
        let ip = ipv4_full(|h| {
            h.options = vec![0x44, 0x0c, 5, 0];
            h.payload = udp(1, 2, b"");
        });
        assert!(decode(LinkType::IPV4, &ip).has_event(DecodeEvent::Ipv4BadOption));
    }

    #[test]
    fn fragments_stop_at_ip() {
        let first = ipv4_full(|h| {
            h.flags_frag = 0x2000;
            h.id = 77;
            h.payload = udp(1, 2, &[0; 16]);
        });
        let p = decode(LinkType::IPV4, &first);
        assert!(p.is_fragment() && p.transport == Transport::None);
        let f = p.ip.unwrap().fragment.unwrap();
        assert_eq!((f.offset, f.more_fragments, f.id), (0, true, 77));
        assert!(p.events.is_empty(), "{:?}", p.events);

        let later = ipv4_full(|h| {
            h.flags_frag = 0x0003;
            h.payload = vec![0; 8];
        });
        let p = decode(LinkType::IPV4, &later);
        assert_eq!(p.ip.unwrap().fragment.unwrap().offset, 24);
        assert!(!p.ip.unwrap().fragment.unwrap().more_fragments);

        let pod = ipv4_full(|h| {
            h.flags_frag = 0x1fff;
            h.payload = vec![0; 64];
        });
        assert!(decode(LinkType::IPV4, &pod).has_event(DecodeEvent::Ipv4FragTooLarge));
        let df_mf = ipv4_full(|h| {
            h.flags_frag = 0x6000;
            h.payload = vec![0; 8];
        });
        assert!(decode(LinkType::IPV4, &df_mf).has_event(DecodeEvent::Ipv4BadFragBits));
        let empty = ipv4_full(|h| h.flags_frag = 0x2001);
        assert!(decode(LinkType::IPV4, &empty).has_event(DecodeEvent::FragZeroLength));
        // DF alone is not a fragment.
        let df = ipv4_full(|h| {
            h.flags_frag = 0x4000;
            h.payload = udp(1, 2, b"");
        });
        let p = decode(LinkType::IPV4, &df);
        assert!(!p.is_fragment() && p.ports() == Some((1, 2)));
    }

    #[test]
    fn ttl_and_reserved_flag() {
        let ip = ipv4_full(|h| {
            h.ttl = 0;
            h.flags_frag = 0x8000;
            h.payload = udp(1, 2, b"");
        });
        let p = decode(LinkType::IPV4, &ip);
        assert!(p.has_event(DecodeEvent::Ipv4ZeroTtl));
        assert!(p.has_event(DecodeEvent::Ipv4ReservedFlag));
    }
}
