//! Decoder anomalies: one named event per malformation, collected in a bitset per packet.
//!
//! Names are stable snake_case strings (they show up in counters, stats output and decoder rules),
//! modelled on Snort's decoder rules (gid 116) and Suricata's `decode-event:` keywords. The
//! pipeline keeps a `[u64; DecodeEvent::COUNT]` counter array indexed by `event as usize`.

use std::fmt;

macro_rules! events {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// One decoder anomaly. `as usize` is a dense index in `0..COUNT`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum DecodeEvent {
            $( $(#[$doc])* $variant, )*
        }

        impl DecodeEvent {
            /// Every event, in index order (`ALL[e as usize] == e`).
            pub const ALL: &'static [DecodeEvent] = &[ $( DecodeEvent::$variant, )* ];
            /// Number of distinct events.
            pub const COUNT: usize = Self::ALL.len();

            /// Stable snake_case name, e.g. `"ipv4_truncated"`.
            pub fn name(self) -> &'static str {
                match self {
                    $( DecodeEvent::$variant => $name, )*
                }
            }

            /// Looks an event up by its stable name.
            pub fn from_name(name: &str) -> Option<DecodeEvent> {
                match name {
                    $( $name => Some(DecodeEvent::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

events! {
    // ---- link layer ----
    /// The link type is not one this decoder understands; nothing past it was decoded.
    UnsupportedLinkType => "unsupported_link_type",
    /// Fewer than 14 bytes for an Ethernet header.
    EthTruncated => "eth_truncated",
    /// 802.3 frame too short for its LLC (or LLC/SNAP) header.
    LlcTruncated => "llc_truncated",
    /// An ethertype (or 802.3 length in the 1501..1535 gap) this decoder does not know.
    UnknownEthertype => "unknown_ethertype",
    /// 802.1Q/802.1ad tag cut short.
    VlanTruncated => "vlan_truncated",
    /// More than two VLAN tags: only the first two ids are kept in `Packet::vlan`.
    VlanTooManyLayers => "vlan_too_many_layers",
    /// Linux cooked header (SLL or SLL2) cut short.
    SllTruncated => "sll_truncated",
    /// BSD loopback (NULL/LOOP) family word cut short.
    NullTruncated => "null_truncated",
    /// BSD loopback address family that is neither IPv4 nor IPv6.
    NullUnknownFamily => "null_unknown_family",
    /// PPP header cut short.
    PppTruncated => "ppp_truncated",
    /// A PPP network-layer protocol this decoder does not handle (e.g. VJ-compressed TCP).
    PppUnsupportedProto => "ppp_unsupported_proto",
    /// Cisco HDLC header cut short.
    ChdlcTruncated => "chdlc_truncated",
    /// PPPoE session header (or its PPP protocol field) cut short.
    PppoeTruncated => "pppoe_truncated",
    /// PPPoE session frame with a version/type other than 1/1 or a non-zero code.
    PppoeBadHeader => "pppoe_bad_header",
    /// ARP/RARP packet shorter than its own address lengths say.
    ArpTruncated => "arp_truncated",
    /// MPLS label stack cut short, or no payload after the bottom of stack.
    MplsTruncated => "mpls_truncated",
    /// MPLS label that must not appear on the wire (implicit null 3, unassigned 4-6 and 8-12).
    MplsBadLabel => "mpls_bad_label",
    /// MPLS payload that is neither IPv4, IPv6 nor a pseudowire control word.
    MplsUnknownPayload => "mpls_unknown_payload",
    /// Raw IP (or a tunnel payload) whose version nibble is neither 4 nor 6.
    IpUnknownVersion => "ip_unknown_version",
    /// Radiotap header cut short: fewer than 8 bytes, its length field runs past the capture,
    /// or the frame is shorter than the FCS the flags announce.
    RadiotapTruncated => "radiotap_truncated",
    /// Radiotap version other than 0, or a length field below the 8-byte minimum.
    RadiotapBadHeader => "radiotap_bad_header",
    /// IEEE 802.11 data frame shorter than its MAC header (addresses, QoS, HT control).
    WlanTruncated => "wlan_truncated",
    /// PPI header cut short, or a header length below 8 or past the capture.
    PpiTruncated => "ppi_truncated",
    /// NFLOG header or one of its TLVs cut short.
    NflogTruncated => "nflog_truncated",
    /// NFLOG TLV whose length is below the 4-byte TLV header.
    NflogBadTlv => "nflog_bad_tlv",
    /// Apple PKTAP header cut short, or a header length below 8 or past the capture.
    PktapTruncated => "pktap_truncated",
    /// FDDI header cut short.
    FddiTruncated => "fddi_truncated",
    /// Network service header (NSH) cut short, or shorter than its own length field says.
    NshTruncated => "nsh_truncated",
    /// NSH with a version other than 0, a length below 2 words, or MD type 1 not 6 words long.
    NshBadHeader => "nsh_bad_header",
    /// NSH next protocol that is not IPv4, IPv6, Ethernet, NSH or MPLS.
    NshUnknownPayload => "nsh_unknown_payload",
    /// MACsec SecTAG (with its SCI, and the ethertype of an unprotected frame) cut short.
    MacsecTruncated => "macsec_truncated",

    // ---- IPv4 ----
    /// Fewer than 20 bytes, or fewer than the header length (IHL) says.
    Ipv4Truncated => "ipv4_truncated",
    /// Expected IPv4 but the version nibble is not 4.
    Ipv4BadVersion => "ipv4_bad_version",
    /// IHL below 5 words.
    Ipv4HeaderLenTooSmall => "ipv4_header_len_too_small",
    /// Total length smaller than the header length.
    Ipv4TotalLenTooSmall => "ipv4_total_len_too_small",
    /// Total length larger than what was captured (snaplen cut, or a lying header).
    Ipv4TotalLenExceedsCapture => "ipv4_total_len_exceeds_capture",
    /// IPv4 option with a bad length or running past the header.
    Ipv4BadOption => "ipv4_bad_option",
    /// TTL of zero.
    Ipv4ZeroTtl => "ipv4_zero_ttl",
    /// The reserved ("evil") fragment flag bit is set.
    Ipv4ReservedFlag => "ipv4_reserved_flag",
    /// DF together with MF or a non-zero fragment offset.
    Ipv4BadFragBits => "ipv4_bad_frag_bits",
    /// Fragment offset plus length beyond 65535.
    Ipv4FragTooLarge => "ipv4_frag_too_large",
    /// ICMPv6 (58) carried directly in IPv4.
    Ipv4Icmpv6 => "ipv4_icmpv6",

    // ---- IPv6 ----
    /// Fewer than 40 bytes.
    Ipv6Truncated => "ipv6_truncated",
    /// Expected IPv6 but the version nibble is not 6.
    Ipv6BadVersion => "ipv6_bad_version",
    /// Payload length larger than what was captured.
    Ipv6PayloadLenExceedsCapture => "ipv6_payload_len_exceeds_capture",
    /// An extension header runs past the end of the packet.
    Ipv6ExtHeaderTruncated => "ipv6_ext_header_truncated",
    /// Hop-by-hop options not first, or a duplicated extension header.
    Ipv6BadExtHeader => "ipv6_bad_ext_header",
    /// Hop-by-hop/destination option TLV running past its header.
    Ipv6BadOption => "ipv6_bad_option",
    /// More extension headers than the decoder walks (8).
    Ipv6TooManyExtHeaders => "ipv6_too_many_ext_headers",
    /// Hop limit of zero.
    Ipv6ZeroHopLimit => "ipv6_zero_hop_limit",
    /// Deprecated type 0 routing header (RFC 5095).
    Ipv6RoutingType0 => "ipv6_routing_type0",
    /// Bytes follow a "No Next Header" (59) inside the payload length.
    Ipv6DataAfterNoNextHeader => "ipv6_data_after_no_next_header",
    /// Fragment header with offset 0 and M clear (atomic fragment, RFC 6946).
    Ipv6UselessFragHeader => "ipv6_useless_frag_header",
    /// Non-final fragment whose data length is not a multiple of 8.
    Ipv6FragInvalidLength => "ipv6_frag_invalid_length",
    /// Fragment offset plus length beyond 65535.
    Ipv6FragTooLarge => "ipv6_frag_too_large",
    /// Multicast source address.
    Ipv6SrcMulticast => "ipv6_src_multicast",
    /// Unspecified (::) destination address.
    Ipv6DstUnspecified => "ipv6_dst_unspecified",
    /// ICMPv4 (1) carried directly in IPv6.
    Ipv6Icmpv4 => "ipv6_icmpv4",
    /// A fragment (IPv4 or IPv6) carrying no data.
    FragZeroLength => "frag_zero_length",
    /// Authentication header cut short.
    AhTruncated => "ah_truncated",
    /// Authentication header whose length is below its 12-byte minimum.
    AhBadLength => "ah_bad_length",
    /// ESP header (SPI + sequence) cut short.
    EspTruncated => "esp_truncated",

    // ---- TCP ----
    /// Fewer than 20 bytes of TCP header.
    TcpTruncated => "tcp_truncated",
    /// Data offset below 5 words, or larger than the segment.
    TcpBadDataOffset => "tcp_bad_data_offset",
    /// TCP option with a bad length or running past the header.
    TcpBadOption => "tcp_bad_option",
    /// MSS, window scale, SACK-permitted or timestamp option given twice.
    TcpDuplicateOption => "tcp_duplicate_option",
    /// Window scale shift above 14 (RFC 7323).
    TcpBadWindowScale => "tcp_bad_window_scale",
    /// SYN and FIN together.
    TcpSynFin => "tcp_syn_fin",
    /// SYN and RST together.
    TcpSynRst => "tcp_syn_rst",
    /// No flags at all (null scan).
    TcpNullScan => "tcp_null_scan",
    /// FIN, PSH and URG together (Xmas scan).
    TcpXmas => "tcp_xmas",
    /// Source or destination port 0.
    TcpPortZero => "tcp_port_zero",
    /// URG set with an urgent pointer beyond the payload.
    TcpBadUrgentPointer => "tcp_bad_urgent_pointer",

    // ---- UDP ----
    /// Fewer than 8 bytes of UDP header.
    UdpTruncated => "udp_truncated",
    /// UDP length below 8 or larger than the IP payload.
    UdpBadLength => "udp_bad_length",
    /// Source or destination port 0.
    UdpPortZero => "udp_port_zero",
    /// Zero UDP checksum over IPv6 (mandatory there, RFC 8200), outside known tunnels.
    UdpIpv6ZeroChecksum => "udp_ipv6_zero_checksum",

    // ---- ICMP ----
    /// ICMP message shorter than its 8-byte header.
    IcmpTruncated => "icmp_truncated",
    /// ICMPv6 message shorter than its 8-byte header.
    Icmpv6Truncated => "icmpv6_truncated",

    // ---- tunnels ----
    /// GRE header (with its optional fields) cut short.
    GreTruncated => "gre_truncated",
    /// GRE version other than 0 or 1.
    GreBadVersion => "gre_bad_version",
    /// GRE v0 with reserved/recursion bits set, or a malformed GRE v1 (PPTP) header.
    GreBadHeader => "gre_bad_header",
    /// ERSPAN header cut short.
    ErspanTruncated => "erspan_truncated",
    /// GTP-U header or its extension headers cut short.
    GtpTruncated => "gtp_truncated",
    /// GTP-U extension header with a zero length.
    GtpBadHeader => "gtp_bad_header",
    /// More nested tunnels than the decoder follows (8); the inner part was not decoded.
    TunnelDepthExceeded => "tunnel_depth_exceeded",
    /// More layers than `Layers` holds; decoding stopped there.
    TooManyLayers => "too_many_layers",
}

impl DecodeEvent {
    /// Dense index in `0..COUNT`, for counter arrays.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DecodeEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// The bitset is a u128: fail the build, not a packet, if the table outgrows it.
const _: () = assert!(DecodeEvent::COUNT <= 128);

/// The set of events raised while decoding one packet.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DecodeEvents(u128);

impl DecodeEvents {
    pub const EMPTY: DecodeEvents = DecodeEvents(0);

    #[inline]
    pub fn insert(&mut self, event: DecodeEvent) {
        self.0 |= 1u128 << (event as u32);
    }

    #[inline]
    pub fn contains(&self, event: DecodeEvent) -> bool {
        self.0 & (1u128 << (event as u32)) != 0
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// Raw bits (bit `i` is `DecodeEvent::ALL[i]`).
    #[inline]
    pub fn bits(&self) -> u128 {
        self.0
    }

    #[inline]
    pub fn union(self, other: DecodeEvents) -> DecodeEvents {
        DecodeEvents(self.0 | other.0)
    }

    /// Events in index order.
    pub fn iter(&self) -> DecodeEventsIter {
        DecodeEventsIter(self.0)
    }
}

impl fmt::Debug for DecodeEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(DecodeEvent::name)).finish()
    }
}

impl FromIterator<DecodeEvent> for DecodeEvents {
    fn from_iter<I: IntoIterator<Item = DecodeEvent>>(iter: I) -> Self {
        let mut set = DecodeEvents::EMPTY;
        for e in iter {
            set.insert(e);
        }
        set
    }
}

impl IntoIterator for DecodeEvents {
    type Item = DecodeEvent;
    type IntoIter = DecodeEventsIter;
    fn into_iter(self) -> DecodeEventsIter {
        self.iter()
    }
}

/// Iterator over a [`DecodeEvents`] set, lowest index first.
#[derive(Clone, Debug)]
pub struct DecodeEventsIter(u128);

impl Iterator for DecodeEventsIter {
    type Item = DecodeEvent;

    #[inline]
    fn next(&mut self) -> Option<DecodeEvent> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        DecodeEvent::ALL.get(i).copied()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_dense_and_names_are_unique_snake_case() {
        for (i, e) in DecodeEvent::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
            assert_eq!(DecodeEvent::from_name(e.name()), Some(*e));
            assert!(e.name().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        }
        let mut names: Vec<_> = DecodeEvent::ALL.iter().map(|e| e.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DecodeEvent::COUNT);
    }

    #[test]
    fn bitset_iterates_in_order() {
        let mut set = DecodeEvents::EMPTY;
        assert!(set.is_empty());
        set.insert(DecodeEvent::TooManyLayers);
        set.insert(DecodeEvent::EthTruncated);
        set.insert(DecodeEvent::EthTruncated);
        assert_eq!(set.len(), 2);
        assert!(set.contains(DecodeEvent::EthTruncated));
        assert!(!set.contains(DecodeEvent::TcpXmas));
        let v: Vec<_> = set.iter().collect();
        assert_eq!(v, [DecodeEvent::EthTruncated, DecodeEvent::TooManyLayers]);
        assert_eq!(format!("{set:?}"), "{\"eth_truncated\", \"too_many_layers\"}");
    }
}
