//! Types shared by every stage downstream of capture: when a packet was seen and how its
//! bytes are framed.

use std::fmt;

/// Capture time of a packet, in nanoseconds since the Unix epoch.
///
/// Inside the engine time is always capture time, never the wall clock, so that offline runs are
/// reproducible and timeouts behave the same whatever the replay speed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);

    pub fn from_secs_nanos(secs: i64, nanos: u32) -> Timestamp {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(i64::from(nanos)))
    }

    pub fn from_secs_micros(secs: i64, micros: u32) -> Timestamp {
        Self::from_secs_nanos(secs, micros.saturating_mul(1000))
    }

    pub fn as_nanos(self) -> i64 {
        self.0
    }

    /// Whole seconds (floor, also for times before the epoch).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// Nanoseconds within the second, 0..1e9.
    pub fn subsec_nanos(self) -> u32 {
        self.0.rem_euclid(1_000_000_000) as u32
    }

    pub fn subsec_micros(self) -> u32 {
        self.subsec_nanos() / 1000
    }

    /// `self + d`, saturating.
    pub fn add_nanos(self, nanos: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(nanos))
    }

    pub fn add_secs(self, secs: i64) -> Timestamp {
        self.add_nanos(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds from `earlier` to `self`; negative when `earlier` is later.
    pub fn nanos_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs(), self.subsec_nanos())
    }
}

/// A pcap `LINKTYPE_*` number: how the bytes of a packet are framed.
///
/// The values are those of the tcpdump.org link-layer header type registry, used by both pcap
/// and pcapng. pcap's DLT values that differ from the LINKTYPE values (DLT_RAW is 12 or 14 on
/// some systems) are mapped by the reader before they reach the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: 4-byte address family in host byte order of the capturing machine.
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const PPP: LinkType = LinkType(9);
    /// PPP in HDLC-like framing (RFC 1662).
    pub const PPP_HDLC: LinkType = LinkType(50);
    /// Raw IP: the packet starts with an IPv4 or IPv6 header.
    pub const RAW: LinkType = LinkType(101);
    pub const C_HDLC: LinkType = LinkType(104);
    pub const IEEE802_11: LinkType = LinkType(105);
    /// OpenBSD loopback: like NULL, but the family is in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    pub const PPP_WITH_DIR: LinkType = LinkType(204);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const NFLOG: LinkType = LinkType(239);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    pub fn name(self) -> &'static str {
        match self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "ETHERNET",
            LinkType::PPP => "PPP",
            LinkType::PPP_HDLC => "PPP_HDLC",
            LinkType::RAW => "RAW",
            LinkType::C_HDLC => "C_HDLC",
            LinkType::IEEE802_11 => "IEEE802_11",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IEEE802_11_RADIOTAP => "IEEE802_11_RADIOTAP",
            LinkType::PPP_WITH_DIR => "PPP_WITH_DIR",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::NFLOG => "NFLOG",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            _ => "OTHER",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "OTHER" => write!(f, "LINKTYPE({})", self.0),
            name => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_parts_round_trip() {
        let ts = Timestamp::from_secs_micros(1_700_000_000, 123_456);
        assert_eq!(ts.secs(), 1_700_000_000);
        assert_eq!(ts.subsec_micros(), 123_456);
        assert_eq!(ts.to_string(), "1700000000.123456000");
    }

    #[test]
    fn timestamp_before_epoch_floors() {
        let ts = Timestamp(-1);
        assert_eq!(ts.secs(), -1);
        assert_eq!(ts.subsec_nanos(), 999_999_999);
    }

    #[test]
    fn timestamp_arithmetic_saturates() {
        assert_eq!(Timestamp(i64::MAX).add_secs(10), Timestamp(i64::MAX));
        assert_eq!(Timestamp(5).nanos_since(Timestamp(2)), 3);
    }
}
