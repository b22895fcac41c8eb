//! TCP (RFC 9293) header and options (MSS, window scale, SACK, timestamps; RFC 7323, 2018).

use super::{be16, fixed, slice};
use crate::decoder::{Decoder, Step};
use crate::event::DecodeEvent;
use crate::layer::LayerKind;
use crate::packet::{TcpFlags, TcpSegment, Transport};

mod field {
    pub const SRC_PORT: usize = 0; // ..2
    pub const DST_PORT: usize = 2; // ..4
    pub const SEQ: usize = 4; // ..8
    pub const ACK: usize = 8; // ..12
    pub const DATA_OFF_NS: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14; // ..16
    pub const CHECKSUM: usize = 16; // ..18
    pub const URGENT: usize = 18; // ..20
}
pub const MIN_HEADER_LEN: usize = 20;

pub const OPT_EOL: u8 = 0;
pub const OPT_NOP: u8 = 1;
pub const OPT_MSS: u8 = 2;
pub const OPT_WSCALE: u8 = 3;
pub const OPT_SACK_PERMITTED: u8 = 4;
pub const OPT_SACK: u8 = 5;
pub const OPT_TIMESTAMP: u8 = 8;
/// Largest window scale shift allowed by RFC 7323.
pub const MAX_WSCALE: u8 = 14;

/// View of the fixed 20-byte TCP header.
#[derive(Clone, Copy)]
pub struct Header<'a>(&'a [u8; MIN_HEADER_LEN]);

impl<'a> Header<'a> {
    pub fn new_checked(buf: &'a [u8], off: usize) -> Option<Self> {
        fixed(buf, off).map(Header)
    }
    pub fn src_port(&self) -> u16 {
        be16([self.0[field::SRC_PORT], self.0[field::SRC_PORT + 1]])
    }
    pub fn dst_port(&self) -> u16 {
        be16([self.0[field::DST_PORT], self.0[field::DST_PORT + 1]])
    }
    pub fn seq(&self) -> u32 {
        let s = field::SEQ;
        u32::from_be_bytes([self.0[s], self.0[s + 1], self.0[s + 2], self.0[s + 3]])
    }
    pub fn ack(&self) -> u32 {
        let a = field::ACK;
        u32::from_be_bytes([self.0[a], self.0[a + 1], self.0[a + 2], self.0[a + 3]])
    }
    /// Data offset in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(self.0[field::DATA_OFF_NS] >> 4) * 4
    }
    pub fn ns(&self) -> bool {
        self.0[field::DATA_OFF_NS] & 1 != 0
    }
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.0[field::FLAGS])
    }
    pub fn window(&self) -> u16 {
        be16([self.0[field::WINDOW], self.0[field::WINDOW + 1]])
    }
    pub fn checksum(&self) -> u16 {
        be16([self.0[field::CHECKSUM], self.0[field::CHECKSUM + 1]])
    }
    pub fn urgent(&self) -> u16 {
        be16([self.0[field::URGENT], self.0[field::URGENT + 1]])
    }
}

/// What the option walk found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OptionSummary {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamp: Option<(u32, u32)>,
    /// An option with a bad length or running past the header.
    pub malformed: bool,
    pub duplicate: bool,
}

/// Walks TCP options. Known options with a wrong length count as malformed and are not used.
pub fn parse_options(mut opts: &[u8]) -> OptionSummary {
    let mut s = OptionSummary::default();
    let mut seen = 0u16;
    while let Some((&kind, rest)) = opts.split_first() {
        match kind {
            OPT_EOL => break,
            OPT_NOP => {
                opts = rest;
                continue;
            }
            _ => {}
        }
        let Some(&len) = rest.first() else {
            s.malformed = true;
            break;
        };
        let len = usize::from(len);
        let Some(opt) = opts.get(..len).filter(|_| len >= 2) else {
            s.malformed = true;
            break;
        };
        opts = opts.get(len..).unwrap_or(&[]);
        if let Some(bit) = 1u16.checked_shl(u32::from(kind)).filter(|_| kind <= OPT_TIMESTAMP) {
            if seen & bit != 0 && kind != OPT_SACK {
                s.duplicate = true;
            }
            seen |= bit;
        }
        match (kind, opt) {
            (OPT_MSS, &[_, _, a, b]) => s.mss = Some(be16([a, b])),
            (OPT_WSCALE, &[_, _, shift]) => s.window_scale = Some(shift),
            (OPT_SACK_PERMITTED, &[_, _]) => s.sack_permitted = true,
            (OPT_SACK, _) if (len - 2) % 8 == 0 && len > 2 => {}
            (OPT_TIMESTAMP, &[_, _, a0, a1, a2, a3, b0, b1, b2, b3]) => {
                s.timestamp =
                    Some((u32::from_be_bytes([a0, a1, a2, a3]), u32::from_be_bytes([b0, b1, b2, b3])))
            }
            (OPT_MSS | OPT_WSCALE | OPT_SACK_PERMITTED | OPT_SACK | OPT_TIMESTAMP, _) => s.malformed = true,
            _ => {} // other options (MPTCP, TFO, MD5, AO, ...) are skipped by length
        }
    }
    s
}

impl<const FULL: bool> Decoder<'_, FULL> {
    pub(crate) fn tcp(&mut self, off: usize) -> Step {
        let Some(h) = Header::new_checked(self.buf, off) else {
            self.event(DecodeEvent::TcpTruncated);
            return Step::Done;
        };
        let hlen = h.header_len();
        if hlen < MIN_HEADER_LEN {
            self.event(DecodeEvent::TcpBadDataOffset);
            return Step::Done;
        }
        let header = match slice(self.buf, off, hlen) {
            Some(header) => header,
            // Options cut by the snaplen: the fixed header still names the segment (ports,
            // flags, sequence numbers), as tcpdump and Wireshark show it; the options that were
            // captured are kept, and `tcp_truncated` says the rest is missing.
            None if self.ip_truncated => {
                self.event(DecodeEvent::TcpTruncated);
                self.rest(off)
            }
            // A data offset larger than the datagram the sender built.
            None => {
                self.event(DecodeEvent::TcpBadDataOffset);
                return Step::Done;
            }
        };
        let options_cut = header.len() < hlen;
        if !self.push(LayerKind::Tcp, off, header.len()) {
            return Step::Done;
        }
        let options = header.get(MIN_HEADER_LEN..).unwrap_or(&[]);
        let opts = parse_options(options);
        // An option running into the cut is the capture's doing, not the sender's.
        if opts.malformed && !options_cut {
            self.event(DecodeEvent::TcpBadOption);
        }
        if opts.duplicate {
            self.event(DecodeEvent::TcpDuplicateOption);
        }
        if opts.window_scale.is_some_and(|s| s > MAX_WSCALE) {
            self.event(DecodeEvent::TcpBadWindowScale);
        }

        let flags = h.flags();
        let f = flags.0 & 0x3f; // FIN..URG; ECE/CWR are ECN, not part of these checks
        if f & (TcpFlags::SYN | TcpFlags::FIN) == TcpFlags::SYN | TcpFlags::FIN {
            self.event(DecodeEvent::TcpSynFin);
        }
        if f & (TcpFlags::SYN | TcpFlags::RST) == TcpFlags::SYN | TcpFlags::RST {
            self.event(DecodeEvent::TcpSynRst);
        }
        if f == 0 {
            self.event(DecodeEvent::TcpNullScan);
        }
        let xmas = TcpFlags::FIN | TcpFlags::PSH | TcpFlags::URG;
        if f & xmas == xmas {
            self.event(DecodeEvent::TcpXmas);
        }
        if h.src_port() == 0 || h.dst_port() == 0 {
            self.event(DecodeEvent::TcpPortZero);
        }
        let payload = if options_cut { &[] } else { self.rest(off + hlen) };
        if flags.urg() && !self.ip_truncated && usize::from(h.urgent()) > payload.len() {
            self.event(DecodeEvent::TcpBadUrgentPointer);
        }

        self.pkt.transport = Transport::Tcp(TcpSegment {
            src_port: h.src_port(),
            dst_port: h.dst_port(),
            seq: h.seq(),
            ack: h.ack(),
            flags,
            ns: h.ns(),
            window: h.window(),
            checksum: h.checksum(),
            urgent: h.urgent(),
            header_len: hlen,
            options,
            payload,
            mss: opts.mss,
            window_scale: opts.window_scale,
            sack_permitted: opts.sack_permitted,
            timestamp: opts.timestamp,
        });
        Step::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::dec as decode;
    use crate::testutil::*;
    use ids_capture::LinkType;

    /// A SYN with MSS, SACK-permitted, timestamps, NOP, window scale (Linux's layout).
    const SYN_OPTS: [u8; 20] = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];

    #[test]
    fn deconstruct() {
        let ip = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 443, 0x02, &SYN_OPTS, b"");
        let p = decode(LinkType::IPV4, &ip);
        assert!(p.events.is_empty(), "{:?}", p.events);
        let t = p.tcp().unwrap();
        assert_eq!((t.src_port, t.dst_port, t.seq, t.ack), (40000, 443, 1000, 0));
        assert!(t.flags.syn() && !t.flags.ack());
        assert_eq!(t.header_len, 40);
        assert_eq!(t.mss, Some(1460));
        assert_eq!(t.window_scale, Some(7));
        assert!(t.sack_permitted);
        assert_eq!(t.timestamp, Some((1, 0)));
        assert_eq!(p.l4_checksum_ok(), Some(true));
        assert_eq!(
            p.to_string(),
            "IPv4 10.0.0.1:40000 -> 10.0.0.2:443 TCP [S] seq=1000 ack=0 win=8192 len=0"
        );
    }

    #[test]
    fn truncated_at_every_length() {
        let ip = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 0x18, &SYN_OPTS, b"GET /");
        for n in 20..ip.len() {
            let p = decode(LinkType::IPV4, &ip[..n]);
            assert!(p.has_event(DecodeEvent::Ipv4TotalLenExceedsCapture));
            assert_eq!(p.has_event(DecodeEvent::TcpTruncated), n < 60, "{n}");
            // From the fixed 20 bytes on the segment is decoded, with what options there are.
            assert_eq!(p.tcp().is_some(), n >= 40, "{n}");
            if let Some(t) = p.tcp() {
                assert_eq!((t.src_port, t.dst_port, t.header_len), (1, 2, 40));
                assert_eq!(t.options, &SYN_OPTS[..(n - 40).min(20)]);
                assert_eq!(t.mss.is_some(), n >= 44, "{n}");
                assert!(n >= 60 || t.payload.is_empty());
            }
            assert!(!p.has_event(DecodeEvent::TcpBadDataOffset));
            assert!(!p.has_event(DecodeEvent::TcpBadOption), "{n}");
        }
    }

    #[test]
    fn bad_offsets() {
        let ip = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 0x10, &[], b"");
        let p = decode(LinkType::IPV4, &with(&ip, |b| b[32] = 0x40));
        assert!(p.has_event(DecodeEvent::TcpBadDataOffset) && p.tcp().is_none());
        let p = decode(LinkType::IPV4, &with(&ip, |b| b[32] = 0xf0));
        assert!(p.has_event(DecodeEvent::TcpBadDataOffset) && p.tcp().is_none());
    }

    #[test]
    fn options_walk() {
        let s = parse_options(&SYN_OPTS);
        assert!(!s.malformed && !s.duplicate);
        assert!(parse_options(&[2, 4, 5]).malformed);
        assert!(parse_options(&[2, 3, 5, 0]).malformed);
        assert!(parse_options(&[30, 1, 0, 0]).malformed);
        assert!(parse_options(&[5, 9, 0, 0, 0, 0, 0, 0, 0]).malformed);
        assert!(!parse_options(&[5, 10, 0, 0, 0, 0, 0, 0, 0, 0]).malformed);
        assert!(parse_options(&[3, 3, 1, 3, 3, 2, 0, 0]).duplicate);
        assert!(!parse_options(&[1, 1, 0, 0xff, 0xff]).malformed);
        assert!(parse_options(&[0xfe]).malformed);
        let ip = ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0x02, &[3, 3, 15, 0], b"");
        let p = decode(LinkType::IPV4, &ip);
        assert!(p.has_event(DecodeEvent::TcpBadWindowScale));
        let ip = ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0x02, &[2, 9, 0, 0], b"");
        assert!(decode(LinkType::IPV4, &ip).has_event(DecodeEvent::TcpBadOption));
    }

    #[test]
    fn flag_anomalies() {
        let cases = [
            (0x03, DecodeEvent::TcpSynFin),
            (0x06, DecodeEvent::TcpSynRst),
            (0x00, DecodeEvent::TcpNullScan),
            (0x29, DecodeEvent::TcpXmas),
            (0x3f, DecodeEvent::TcpXmas),
        ];
        for (flags, ev) in cases {
            let ip = ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, flags, &[], b"");
            assert!(decode(LinkType::IPV4, &ip).has_event(ev), "{flags:#x}");
        }
        let ip = ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], 0, 2, 0x10, &[], b"");
        assert!(decode(LinkType::IPV4, &ip).has_event(DecodeEvent::TcpPortZero));
        let ip = ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0x30, &[], b"ab");
        let ip = with(&ip, |b| b[38..40].copy_from_slice(&[0, 9]));
        assert!(decode(LinkType::IPV4, &ip).has_event(DecodeEvent::TcpBadUrgentPointer));
        let ip = ipv4_tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0xd2, &[], b"");
        let p = decode(LinkType::IPV4, &ip);
        assert!(p.events.is_empty(), "ECN bits are no anomaly: {:?}", p.events);
    }
}
