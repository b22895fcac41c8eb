//! Zero-copy packet decoding for `ids`: link, network, tunnel and transport layers, and the
//! decoder anomalies found on the way.
//!
//! # Contract
//!
//! [`decode`], [`decode_ip`] and [`dispatch_hash`] never panic and never fail, whatever the
//! bytes: whatever could be decoded is in the returned [`Packet`], and every malformation is a
//! named [`DecodeEvent`] in `packet.events`. Headers are read through views that check their
//! length once (`proto::fixed`) and then read constant offsets of a fixed-size array; variable
//! parts go through `get`. Numbers from the wire are combined with checked or saturating
//! arithmetic. Nothing is allocated per packet: [`Packet`] borrows from the input and keeps its
//! layer list in a fixed-size array.
//!
//! # What is decoded
//!
//! - Link types: Ethernet (Ethernet II, 802.3 with LLC/SNAP), Linux SLL and SLL2, raw IP
//!   (RAW, IPV4, IPV6; the latter two follow the version nibble, flagging a mismatch), BSD
//!   loopback (NULL, LOOP; both byte orders), PPP (PPP, PPP_HDLC, PPP_WITH_DIR; Cisco HDLC
//!   frames under PPP and PPP_HDLC are recognised by their address byte), Cisco HDLC, FDDI,
//!   IEEE 802.11 data frames (alone, under radiotap with its FCS and padding flags, or under
//!   PPI), NFLOG (either TLV byte order), PPI and PKTAP (with the inner link types above).
//!   Others raise `unsupported_link_type`.
//! - Inside: 802.1Q/802.1ad/QinQ tags, VN-Tag, FabricPath, 802.1ah, MACsec (integrity-only
//!   frames; encrypted ones are opaque), NSH (MD types 1 and 2), MPLS label stacks (IPv4/IPv6
//!   payloads, Ethernet pseudowires with a control word), PPPoE sessions, ARP (length-checked
//!   only), IPv4 with options, IPv6 with extension headers (hop-by-hop, routing, fragment,
//!   destination options, AH; ESP and No Next Header end the chain), TCP with options (a header
//!   whose options the snaplen cut is still decoded, with `tcp_truncated`), UDP, ICMP, ICMPv6.
//! - Tunnels, followed to the innermost IP header (at most [`MAX_TUNNEL_DEPTH`]): GRE v0 (with
//!   transparent Ethernet bridging, ERSPAN II/III and WCCP) and v1 (PPTP), IP-in-IP (4, 41),
//!   VXLAN (UDP 4789), Geneve (UDP 6081), Teredo (UDP 3544, only when the payload is exactly
//!   one IPv6 packet), GTP-U (UDP 2152), GRE-in-UDP (UDP 4754) and AYIYA (UDP 5072). The
//!   UDP-keyed tunnels are followed only when their header looks valid; otherwise the datagram
//!   stays plain UDP, without an event.
//!
//! `Packet::ip` is the innermost IP header and `Packet::transport` its transport. If an inner
//! packet cannot be decoded the outer one stays the view (with the tunnel as its transport,
//! e.g. `Transport::Other { proto: 47, .. }` for GRE). Fragments stop decoding at the IP layer;
//! reassembled datagrams go through [`decode_ip`].
//!
//! Checksums are not verified while decoding; [`Packet::ipv4_checksum_ok`] and
//! [`Packet::l4_checksum_ok`] compute them on demand.

mod checksum;
mod decoder;
mod event;
mod layer;
mod packet;
mod proto;
mod tunnel;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

use ids_capture::LinkType;

pub use decoder::MAX_TUNNEL_DEPTH;
pub use event::{DecodeEvent, DecodeEvents, DecodeEventsIter};
pub use layer::{Layer, LayerKind, Layers};
pub use packet::{FragmentInfo, IcmpMessage, IpLayer, Packet, TcpFlags, TcpSegment, Transport, UdpDatagram};
pub use proto::ipv6::MAX_EXT_HEADERS as MAX_IPV6_EXT_HEADERS;
pub use tunnel::TunnelHop;

use decoder::{Decoder, Step};

/// Decodes one captured frame of the given link type. Never panics, never fails.
pub fn decode(link_type: LinkType, data: &[u8]) -> Packet<'_> {
    let mut d = Decoder::<true>::new(link_type, data);
    let step = d.start(link_type);
    d.run(step);
    d.pkt
}

/// Decodes a reassembled IP datagram (`data` starts at the IP header), keeping the outer
/// context of `outer`: its VLAN ids and tunnel depth (further tunnels inside add to it).
///
/// The result's `link_type` is [`LinkType::RAW`], since that is how `data` is framed; events
/// and layers describe `data` only (the fragments' own events were reported with them).
pub fn decode_ip<'a>(data: &'a [u8], outer: &Packet<'_>) -> Packet<'a> {
    let mut d = Decoder::<true>::new(LinkType::RAW, data);
    d.pkt.vlan = outer.vlan;
    d.pkt.vlan_count = outer.vlan_count;
    d.pkt.tunnel_depth = outer.tunnel_depth;
    d.run(Step::Ip(0));
    d.pkt
}

/// Symmetric hash of the outermost IP address pair: `a -> b` and `b -> a` hash the same.
/// `None` when there is no IP header (ARP, truncated, unsupported link type).
///
/// Walks only the link layers (VLAN, MPLS, PPPoE, ...) up to the first IP header, so every
/// fragment and every tunnelled flow of one outer pair hashes alike.
pub fn dispatch_hash(link_type: LinkType, data: &[u8]) -> Option<u64> {
    let mut d = Decoder::<false>::new(link_type, data);
    let step = d.start(link_type);
    d.run(step);
    let (off, version) = d.first_ip?;
    let ip = data.get(off..)?;
    if ip.first()? >> 4 != version {
        return None; // what `decode` reports as a bad version
    }
    match version {
        4 => {
            let h = proto::fixed::<20>(ip, 0)?;
            let a = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
            let b = u32::from_be_bytes([h[16], h[17], h[18], h[19]]);
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            Some(mix((u64::from(lo) << 32) | u64::from(hi)))
        }
        6 => {
            let h = proto::fixed::<40>(ip, 0)?;
            let mut a = [0u8; 16];
            let mut b = [0u8; 16];
            a.copy_from_slice(h.get(8..24)?);
            b.copy_from_slice(h.get(24..40)?);
            let (a, b) = (u128::from_be_bytes(a), u128::from_be_bytes(b));
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let mut x = mix(lo as u64 ^ 0x6);
            x = mix(x ^ (lo >> 64) as u64);
            x = mix(x ^ hi as u64);
            Some(mix(x ^ (hi >> 64) as u64))
        }
        _ => None,
    }
}

/// splitmix64 finaliser: cheap, and spreads every input bit over the output.
#[inline]
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
