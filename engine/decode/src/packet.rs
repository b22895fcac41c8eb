//! The decoded view of a packet handed to the rest of the engine.

use std::fmt;
use std::net::IpAddr;

use ids_capture::LinkType;

use crate::event::{DecodeEvent, DecodeEvents};
use crate::layer::Layers;

/// A decoded packet. Every slice borrows from `data`; nothing is allocated.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// The whole captured frame (for `decode_ip`, the reassembled datagram).
    pub data: &'a [u8],
    pub link_type: LinkType,
    /// 802.1Q/802.1ad ids, outer to inner; only the first `min(vlan_count, 2)` are meaningful.
    pub vlan: [u16; 2],
    /// Number of VLAN tags seen (may exceed 2; saturates at 255).
    pub vlan_count: u8,
    /// The innermost IP header (after following tunnels).
    pub ip: Option<IpLayer<'a>>,
    /// The transport layer of `ip`.
    pub transport: Transport<'a>,
    /// Number of tunnel encapsulations followed (GRE, IP-in-IP, VXLAN, Geneve, Teredo, GTP-U).
    pub tunnel_depth: u8,
    pub events: DecodeEvents,
    pub layers: Layers,
}

/// An IPv4 or IPv6 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpLayer<'a> {
    /// 4 or 6.
    pub version: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Protocol of `payload`: the IPv4 protocol field, or the final IPv6 next header (after
    /// extension headers; for a fragment, the fragment header's next header).
    pub proto: u8,
    /// TTL or hop limit.
    pub ttl: u8,
    /// TOS byte or IPv6 traffic class.
    pub tos: u8,
    /// IPv4 identification, or the IPv6 fragment header id (0 without one).
    pub id: u32,
    /// The whole IP header: IPv4 options included; IPv6 extension headers included.
    pub header: &'a [u8],
    /// Bytes after `header`, clipped to the IP total/payload length and to what was captured.
    pub payload: &'a [u8],
    /// Set when this datagram is a fragment (offset != 0 or more-fragments set).
    pub fragment: Option<FragmentInfo>,
    /// The IP length field claims more bytes than were captured.
    pub total_len_truncated: bool,
    /// Offset of the IP header in `Packet::data`.
    pub offset: usize,
}

/// Fragmentation fields of a fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentInfo {
    /// Fragment offset in bytes.
    pub offset: u32,
    pub more_fragments: bool,
    pub id: u32,
    /// IPv4 DF bit (always false for IPv6).
    pub dont_fragment: bool,
    /// Offset in `Packet::data` of the IPv6 fragment extension header (None for IPv4).
    pub ipv6_frag_header_offset: Option<usize>,
}

/// The transport layer of the innermost IP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// No IP, a fragment, or a transport header too broken to decode.
    None,
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    Icmp(IcmpMessage<'a>),
    Icmpv6(IcmpMessage<'a>),
    /// Any other protocol (also GRE or IP-in-IP whose inner packet could not be decoded, ESP).
    Other {
        proto: u8,
        payload: &'a [u8],
    },
}

/// TCP flag bits as in byte 13 of the header.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    #[inline]
    pub fn contains(self, bits: u8) -> bool {
        self.0 & bits == bits
    }
    #[inline]
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    #[inline]
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    #[inline]
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    #[inline]
    pub fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    #[inline]
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    #[inline]
    pub fn urg(self) -> bool {
        self.contains(Self::URG)
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump style: `S`, `S.`, `P.`, `F.`, `R`, `.` for a bare ACK, `none` for no flags.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(u8, char); 8] = [
            (TcpFlags::SYN, 'S'),
            (TcpFlags::FIN, 'F'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
            (TcpFlags::ACK, '.'),
        ];
        if self.0 == 0 {
            return f.write_str("none");
        }
        for (bit, c) in NAMES {
            if self.0 & bit != 0 {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TcpFlags({self})")
    }
}

/// A decoded TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// The ECN-nonce bit (RFC 3540, historic), byte 12 bit 0.
    pub ns: bool,
    pub window: u16,
    pub checksum: u16,
    pub urgent: u16,
    /// Header length in bytes (data offset * 4).
    pub header_len: usize,
    pub options: &'a [u8],
    pub payload: &'a [u8],
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// (TSval, TSecr).
    pub timestamp: Option<(u32, u32)>,
}

/// A decoded UDP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    /// The length field as sent (header included).
    pub length: u16,
    pub checksum: u16,
    /// Data after the header, clipped to `length` and to what was captured.
    pub payload: &'a [u8],
}

/// A decoded ICMP or ICMPv6 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpMessage<'a> {
    pub icmp_type: u8,
    pub code: u8,
    pub checksum: u16,
    /// Identifier of echo, timestamp, information and address-mask messages.
    pub id: Option<u16>,
    pub seq: Option<u16>,
    /// Bytes after the 8-byte header (empty when the message is shorter).
    pub payload: &'a [u8],
}

impl<'a> Packet<'a> {
    /// An empty decode result for `data`: no layers, no IP.
    pub fn new(link_type: LinkType, data: &'a [u8]) -> Packet<'a> {
        Packet {
            data,
            link_type,
            vlan: [0; 2],
            vlan_count: 0,
            ip: None,
            transport: Transport::None,
            tunnel_depth: 0,
            events: DecodeEvents::EMPTY,
            layers: Layers::new(),
        }
    }

    /// (source, destination) ports of TCP or UDP.
    #[inline]
    pub fn ports(&self) -> Option<(u16, u16)> {
        match &self.transport {
            Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
            Transport::Udp(u) => Some((u.src_port, u.dst_port)),
            _ => None,
        }
    }

    /// Whether the innermost IP datagram is a fragment (needs defragmentation first).
    #[inline]
    pub fn is_fragment(&self) -> bool {
        matches!(&self.ip, Some(ip) if ip.fragment.is_some())
    }

    #[inline]
    pub fn has_event(&self, event: DecodeEvent) -> bool {
        self.events.contains(event)
    }

    /// The first VLAN id (outermost), if any.
    #[inline]
    pub fn outer_vlan(&self) -> Option<u16> {
        (self.vlan_count > 0).then_some(self.vlan[0])
    }

    pub fn tcp(&self) -> Option<&TcpSegment<'a>> {
        match &self.transport {
            Transport::Tcp(t) => Some(t),
            _ => None,
        }
    }

    pub fn udp(&self) -> Option<&UdpDatagram<'a>> {
        match &self.transport {
            Transport::Udp(u) => Some(u),
            _ => None,
        }
    }

    /// Application payload: TCP/UDP data, ICMP data after the header, or the raw payload of other
    /// protocols. Empty when there is no transport.
    pub fn payload(&self) -> &'a [u8] {
        match self.transport {
            Transport::None => &[],
            Transport::Tcp(t) => t.payload,
            Transport::Udp(u) => u.payload,
            Transport::Icmp(i) | Transport::Icmpv6(i) => i.payload,
            Transport::Other { payload, .. } => payload,
        }
    }
}

impl Transport<'_> {
    /// Short protocol name for dumps.
    pub fn name(&self) -> &'static str {
        match self {
            Transport::None => "none",
            Transport::Tcp(_) => "TCP",
            Transport::Udp(_) => "UDP",
            Transport::Icmp(_) => "ICMP",
            Transport::Icmpv6(_) => "ICMPv6",
            Transport::Other { .. } => "other",
        }
    }
}

/// Writes `addr:port`, bracketing IPv6 addresses.
fn endpoint(f: &mut fmt::Formatter<'_>, addr: IpAddr, port: u16) -> fmt::Result {
    match addr {
        IpAddr::V4(a) => write!(f, "{a}:{port}"),
        IpAddr::V6(a) => write!(f, "[{a}]:{port}"),
    }
}

impl fmt::Display for Packet<'_> {
    /// One-line summary for `-v` dumps, e.g.
    /// `IPv4 10.0.0.1:1234 -> 10.0.0.2:80 TCP [S] seq=1 ack=0 win=512 len=0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for v in self.vlan.iter().take(usize::from(self.vlan_count)) {
            write!(f, "vlan {v} ")?;
        }
        if self.tunnel_depth > 0 {
            write!(f, "tunnel {} ", self.tunnel_depth)?;
        }
        let Some(ip) = &self.ip else {
            let last = self.layers.last().map_or("?", |l| l.kind.name());
            write!(f, "{} {} len={}", self.link_type, last, self.data.len())?;
            return self.fmt_events(f);
        };
        write!(f, "IPv{} ", ip.version)?;
        match (&self.transport, self.ports()) {
            (_, Some((sp, dp))) => {
                endpoint(f, ip.src, sp)?;
                f.write_str(" -> ")?;
                endpoint(f, ip.dst, dp)?;
            }
            _ => write!(f, "{} -> {}", ip.src, ip.dst)?,
        }
        match &self.transport {
            Transport::Tcp(t) => write!(
                f,
                " TCP [{}] seq={} ack={} win={} len={}",
                t.flags,
                t.seq,
                t.ack,
                t.window,
                t.payload.len()
            )?,
            Transport::Udp(u) => write!(f, " UDP len={}", u.payload.len())?,
            Transport::Icmp(i) | Transport::Icmpv6(i) => {
                write!(f, " {} type={} code={}", self.transport.name(), i.icmp_type, i.code)?;
                if let (Some(id), Some(seq)) = (i.id, i.seq) {
                    write!(f, " id={id} seq={seq}")?;
                }
                write!(f, " len={}", i.payload.len())?;
            }
            Transport::Other { proto, payload } => write!(f, " proto={proto} len={}", payload.len())?,
            Transport::None => {
                write!(f, " proto={}", ip.proto)?;
                if let Some(fr) = &ip.fragment {
                    write!(
                        f,
                        " frag id={} off={}{}",
                        fr.id,
                        fr.offset,
                        if fr.more_fragments { " MF" } else { "" }
                    )?;
                }
                write!(f, " len={}", ip.payload.len())?;
            }
        }
        if ip.total_len_truncated {
            f.write_str(" (truncated)")?;
        }
        self.fmt_events(f)
    }
}

impl Packet<'_> {
    fn fmt_events(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.events.is_empty() {
            return Ok(());
        }
        f.write_str(" !")?;
        for (i, e) in self.events.iter().enumerate() {
            f.write_str(if i == 0 { "" } else { "," })?;
            f.write_str(e.name())?;
        }
        Ok(())
    }
}
