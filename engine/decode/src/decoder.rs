//! The decode loop: a small state machine over [`Step`]s, one protocol module per step.
//!
//! Each protocol module adds its step function to [`Decoder`] (an inherent `impl` in its own
//! file) and returns the next step. All positions are absolute offsets into the packet, and
//! `Decoder::buf` is always a prefix of the packet: enclosing length fields (IP total length,
//! UDP length) shrink it, so an inner layer can never read past its enclosing payload while its
//! offsets stay valid for `Packet::layers`.
//!
//! The const parameter `FULL` selects between a full decode and the dispatch-hash walk, which
//! stops at the first IP header; the compiler drops everything past that for `FULL = false`.

use ids_capture::LinkType;

use crate::event::DecodeEvent;
use crate::layer::{LayerKind, Layers};
use crate::packet::Packet;
use crate::proto::{ethertype, linktype};

/// Most tunnels followed before `tunnel_depth_exceeded`.
pub const MAX_TUNNEL_DEPTH: u8 = 8;

/// Upper bound on loop iterations; every step either pushes a layer or ends, so
/// `Layers::CAPACITY` bounds the loop already; this is a second, independent guard.
const MAX_STEPS: usize = 4 * Layers::CAPACITY;

/// What to decode next, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Done,
    Ethernet(usize),
    /// Dispatch on an ethertype (or a protocol field using ethertype values: SLL, GRE, C-HDLC).
    EtherType(u16, usize),
    /// 802.2 LLC header (802.3 frames).
    Llc(usize),
    Vlan(usize),
    Mpls(usize),
    Pppoe(usize),
    /// PPP with optional HDLC address/control bytes and a 1- or 2-byte protocol field.
    Ppp(usize),
    /// Pick IPv4 or IPv6 by the version nibble (raw IP, GTP-U payload).
    Ip(usize),
    Ipv4(usize),
    Ipv6(usize),
}

pub(crate) struct Decoder<'a, const FULL: bool> {
    /// The packet, clipped to the innermost enclosing length seen so far.
    pub(crate) buf: &'a [u8],
    pub(crate) pkt: Packet<'a>,
    /// Dispatch-hash mode: offset and expected version (4 or 6) of the first IP header.
    pub(crate) first_ip: Option<(usize, u8)>,
    /// The innermost IP datagram was cut by the capture length (so short L4 lengths are the
    /// snaplen's fault, not the sender's).
    pub(crate) ip_truncated: bool,
}

impl<'a, const FULL: bool> Decoder<'a, FULL> {
    pub(crate) fn new(link_type: LinkType, data: &'a [u8]) -> Self {
        Decoder { buf: data, pkt: Packet::new(link_type, data), first_ip: None, ip_truncated: false }
    }

    /// Runs the state machine from `step` until `Step::Done`.
    pub(crate) fn run(&mut self, mut step: Step) {
        for _ in 0..MAX_STEPS {
            step = match step {
                Step::Done => return,
                Step::Ethernet(off) => self.ethernet(off),
                Step::EtherType(et, off) => self.ethertype(et, off),
                Step::Llc(off) => self.llc(off),
                Step::Vlan(off) => self.vlan(off),
                Step::Mpls(off) => self.mpls(off),
                Step::Pppoe(off) => self.pppoe(off),
                Step::Ppp(off) => self.ppp(off),
                Step::Ip(off) => self.ip_by_version(off),
                Step::Ipv4(off) => {
                    if !FULL {
                        self.first_ip = Some((off, 4));
                        return;
                    }
                    self.ipv4(off)
                }
                Step::Ipv6(off) => {
                    if !FULL {
                        self.first_ip = Some((off, 6));
                        return;
                    }
                    self.ipv6(off)
                }
            };
        }
        if step != Step::Done {
            self.event(DecodeEvent::TooManyLayers);
        }
    }

    /// First step for a link type.
    pub(crate) fn start(&mut self, link_type: LinkType) -> Step {
        match link_type {
            linktype::PPI => self.ppi(0),
            linktype::PKTAP => self.pktap(0),
            _ => self.start_at(link_type, 0),
        }
    }

    /// First step for a frame of `link_type` at `off`: the link types that can also be the
    /// inner frame of a pseudo-header (PPI, PKTAP). Those two are not in this list, so
    /// pseudo-headers cannot nest.
    pub(crate) fn start_at(&mut self, link_type: LinkType, off: usize) -> Step {
        match link_type {
            LinkType::ETHERNET => Step::Ethernet(off),
            LinkType::RAW => Step::Ip(off),
            LinkType::IPV4 => self.raw_ip_link(4, off),
            LinkType::IPV6 => self.raw_ip_link(6, off),
            LinkType::NULL | LinkType::LOOP => self.loopback(off),
            LinkType::LINUX_SLL => self.sll(off),
            LinkType::LINUX_SLL2 => self.sll2(off),
            // libpcap and Wireshark take Cisco HDLC frames (address 0x0f/0x8f) under either
            // PPP link type: some routers' captures mix or mislabel them.
            LinkType::PPP | LinkType::PPP_HDLC => self.ppp_serial(off),
            // One direction byte (0 = received, 1 = sent) before the PPP frame.
            LinkType::PPP_WITH_DIR => {
                if self.rest(off).is_empty() {
                    self.event(DecodeEvent::PppTruncated);
                    Step::Done
                } else {
                    Step::Ppp(off + 1)
                }
            }
            LinkType::C_HDLC => self.chdlc(off),
            LinkType::IEEE802_11 => self.ieee80211(off, false),
            LinkType::IEEE802_11_RADIOTAP => self.radiotap(off),
            LinkType::NFLOG => self.nflog(off),
            linktype::FDDI => self.fddi(off),
            _ => {
                self.event(DecodeEvent::UnsupportedLinkType);
                Step::Done
            }
        }
    }

    /// LINKTYPE_IPV4 / LINKTYPE_IPV6 promise one IP version, but what a host does with the
    /// packet follows the version nibble (Linux tun devices without packet information pick
    /// the protocol by it, and so does Wireshark). A packet of the other version raises the
    /// promised version's `*_bad_version` event and is decoded as what it is.
    fn raw_ip_link(&mut self, version: u8, off: usize) -> Step {
        match (version, self.rest(off).first().map(|b| b >> 4)) {
            (4, Some(6)) => {
                self.event(DecodeEvent::Ipv4BadVersion);
                Step::Ipv6(off)
            }
            (6, Some(4)) => {
                self.event(DecodeEvent::Ipv6BadVersion);
                Step::Ipv4(off)
            }
            (4, _) => Step::Ipv4(off),
            _ => Step::Ipv6(off),
        }
    }

    #[inline]
    pub(crate) fn event(&mut self, event: DecodeEvent) {
        self.pkt.events.insert(event);
    }

    /// Records a layer; on overflow raises `too_many_layers` and returns false, and the caller
    /// stops decoding.
    #[inline]
    pub(crate) fn push(&mut self, kind: LayerKind, offset: usize, len: usize) -> bool {
        if self.pkt.layers.push(kind, offset, len) {
            true
        } else {
            self.event(DecodeEvent::TooManyLayers);
            false
        }
    }

    /// Bytes of the current region from `off` on (empty past its end).
    #[inline]
    pub(crate) fn rest(&self, off: usize) -> &'a [u8] {
        self.buf.get(off..).unwrap_or(&[])
    }

    /// Shrinks the current region to end at `end` (no-op if it is already shorter).
    #[inline]
    pub(crate) fn clip(&mut self, end: usize) {
        if let Some(b) = self.buf.get(..end) {
            self.buf = b;
        }
    }

    /// Follows a tunnel into `next`, counting the depth; refuses past `MAX_TUNNEL_DEPTH`.
    pub(crate) fn enter_tunnel(&mut self, next: Step) -> Step {
        if self.pkt.tunnel_depth >= MAX_TUNNEL_DEPTH {
            self.event(DecodeEvent::TunnelDepthExceeded);
            return Step::Done;
        }
        self.pkt.tunnel_depth += 1;
        next
    }

    /// Dispatches an ethertype-numbered payload at `off`.
    pub(crate) fn ethertype(&mut self, et: u16, off: usize) -> Step {
        match et {
            ethertype::IPV4 => Step::Ipv4(off),
            ethertype::IPV6 => Step::Ipv6(off),
            ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD | ethertype::QINQ_OLD2 => Step::Vlan(off),
            ethertype::MPLS_UNICAST | ethertype::MPLS_MULTICAST => Step::Mpls(off),
            ethertype::PPPOE_SESSION => Step::Pppoe(off),
            ethertype::PPPOE_DISCOVERY => {
                let len = self.rest(off).len();
                self.push(LayerKind::PppoeDiscovery, off, len);
                Step::Done
            }
            ethertype::ARP | ethertype::RARP => self.arp(off),
            ethertype::TRANSPARENT_ETHERNET => Step::Ethernet(off),
            ethertype::VNTAG => self.vntag(off),
            ethertype::FABRICPATH => self.fabricpath(off),
            ethertype::PBB => self.pbb(off),
            ethertype::MACSEC => self.macsec(off),
            ethertype::NSH => self.nsh(off),
            // 802.3 length field: an LLC header follows (reached from VLAN tags; Ethernet
            // handles its own type/length split).
            0..=1500 => Step::Llc(off),
            et if ethertype::is_known_non_ip(et) => {
                let len = self.rest(off).len();
                self.push(LayerKind::NonIp, off, len);
                Step::Done
            }
            _ => {
                self.event(DecodeEvent::UnknownEthertype);
                Step::Done
            }
        }
    }

    /// Raw IP: choose by version nibble.
    fn ip_by_version(&mut self, off: usize) -> Step {
        match self.rest(off).first().map(|b| b >> 4) {
            Some(4) => Step::Ipv4(off),
            Some(6) => Step::Ipv6(off),
            Some(_) => {
                self.event(DecodeEvent::IpUnknownVersion);
                Step::Done
            }
            None => {
                self.event(DecodeEvent::Ipv4Truncated);
                Step::Done
            }
        }
    }
}
