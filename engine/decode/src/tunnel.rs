//! The tunnel levels around a packet's innermost IP header.
//!
//! The flow view of a packet is its innermost IP header, but each encapsulation around it is a
//! conversation too (the VXLAN or GTP-U UDP flow between two tunnel endpoints, a GRE or IP-in-IP
//! flow), which tshark counts and Suricata tracks. [`Packet::tunnel_hops`] lists them, outermost
//! first, from the layers the decoder recorded.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::layer::{Layer, LayerKind};
use crate::packet::Packet;

/// One encapsulation level: an IP header and what carries the next level inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelHop {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// 17 for UDP-based tunnels (VXLAN, Geneve, GTP-U, Teredo, GRE-in-UDP), 47 for GRE,
    /// 4 or 41 for IP-in-IP, 50/51 for ESP/AH.
    pub proto: u8,
    /// UDP ports for UDP-based tunnels, 0 otherwise.
    pub src_port: u16,
    pub dst_port: u16,
    /// The outer VLAN context is the packet's; this is the IP header's offset in the packet.
    pub offset: usize,
    /// Bytes from the IP header to the end of the captured packet.
    pub len: usize,
}

impl Packet<'_> {
    /// The tunnel levels around the innermost IP header, outermost first. Empty for a packet
    /// that is not tunnelled (or whose inner packet could not be decoded: then the outer header
    /// is the flow view itself).
    pub fn tunnel_hops(&self) -> impl Iterator<Item = TunnelHop> + '_ {
        let inner = self.ip.as_ref().map_or(0, |ip| ip.offset);
        let layers = self.layers.as_slice();
        layers.iter().enumerate().filter_map(move |(i, layer)| {
            let offset = layer.offset as usize;
            if offset >= inner || !matches!(layer.kind, LayerKind::Ipv4 | LayerKind::Ipv6) {
                return None;
            }
            let (src, dst) = addresses(self.data, layer)?;
            // What follows the IP header (and its IPv6 extension headers) carries the next level.
            let carrier = layers[i + 1..].iter().find(|l| {
                !matches!(
                    l.kind,
                    LayerKind::Ipv6HopByHop
                        | LayerKind::Ipv6Routing
                        | LayerKind::Ipv6DestOpts
                        | LayerKind::Ipv6Fragment
                )
            })?;
            let (proto, src_port, dst_port) = match carrier.kind {
                LayerKind::Udp => {
                    let p = self.data.get(carrier.offset as usize..carrier.offset as usize + 4)?;
                    (17, u16::from_be_bytes([p[0], p[1]]), u16::from_be_bytes([p[2], p[3]]))
                }
                LayerKind::Gre => (47, 0, 0),
                LayerKind::Ipv4 => (4, 0, 0),
                LayerKind::Ipv6 => (41, 0, 0),
                LayerKind::Esp => (50, 0, 0),
                LayerKind::Ah => (51, 0, 0),
                _ => return None,
            };
            Some(TunnelHop { src, dst, proto, src_port, dst_port, offset, len: self.data.len() - offset })
        })
    }
}

fn addresses(data: &[u8], layer: &Layer) -> Option<(IpAddr, IpAddr)> {
    let start = layer.offset as usize;
    match layer.kind {
        LayerKind::Ipv4 => {
            let h: &[u8; 20] = data.get(start..start + 20)?.try_into().ok()?;
            let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
            let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
            Some((src.into(), dst.into()))
        }
        _ => {
            let h: &[u8; 40] = data.get(start..start + 40)?.try_into().ok()?;
            let src: [u8; 16] = h[8..24].try_into().ok()?;
            let dst: [u8; 16] = h[24..40].try_into().ok()?;
            Some((Ipv6Addr::from(src).into(), Ipv6Addr::from(dst).into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use ids_capture::LinkType;

    #[test]
    fn plain_packet_has_no_hops() {
        let pkt = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, b"x");
        let p = dec(LinkType::RAW, &pkt);
        assert_eq!(p.tunnel_hops().count(), 0);
    }

    #[test]
    fn vxlan_gives_the_outer_udp_flow() {
        let inner = eth(0x0800, &ipv4_tcp([192, 168, 0, 1], [192, 168, 0, 2], 1234, 80, 0x02, b"", b""));
        let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 0x2a, 0];
        vxlan.extend_from_slice(&inner);
        let outer = eth(0x0800, &ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 50000, 4789, &vxlan));
        let p = dec(LinkType::ETHERNET, &outer);
        assert_eq!(p.ip.as_ref().unwrap().src, "192.168.0.1".parse::<IpAddr>().unwrap());
        let hops: Vec<TunnelHop> = p.tunnel_hops().collect();
        assert_eq!(hops.len(), 1);
        assert_eq!((hops[0].proto, hops[0].src_port, hops[0].dst_port), (17, 50000, 4789));
        assert_eq!(hops[0].src, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(hops[0].offset, 14);
    }

    #[test]
    fn ip_in_ip_gives_the_outer_protocol() {
        let inner = ipv4_udp([192, 168, 0, 1], [192, 168, 0, 2], 1, 2, b"");
        let outer = ipv4_full(|s| {
            s.proto = 4;
            s.payload = inner.clone();
        });
        let p = dec(LinkType::RAW, &outer);
        let hops: Vec<TunnelHop> = p.tunnel_hops().collect();
        assert_eq!(hops.len(), 1);
        assert_eq!(hops[0].proto, 4);
    }
}
