//! One module per protocol, smoltcp style: a private `field` module of byte offsets, a view over a
//! fixed-size array obtained by a single length check (after which every accessor is infallible,
//! indices being compile-time constants into an array of known size), and the `Decoder` step that
//! validates the header, raises events and picks the next step.

pub(crate) mod arp;
pub(crate) mod ayiya;
pub(crate) mod chdlc;
pub(crate) mod erspan;
pub(crate) mod ethernet;
pub(crate) mod fddi;
pub(crate) mod geneve;
pub(crate) mod gre;
pub(crate) mod gtp;
pub(crate) mod icmp;
pub(crate) mod ieee80211;
pub(crate) mod ipv4;
pub(crate) mod ipv6;
pub(crate) mod llc;
pub(crate) mod loopback;
pub(crate) mod macsec;
pub(crate) mod mpls;
pub(crate) mod nflog;
pub(crate) mod nsh;
pub(crate) mod pktap;
pub(crate) mod ppi;
pub(crate) mod ppp;
pub(crate) mod pppoe;
pub(crate) mod radiotap;
pub(crate) mod sll;
pub(crate) mod tcp;
pub(crate) mod teredo;
pub(crate) mod transport;
pub(crate) mod udp;
pub(crate) mod vlan;
pub(crate) mod vxlan;

/// The `N` bytes at `off`, as an array reference; `None` if fewer remain.
///
/// This is the one length check of each view: everything read through the returned array uses
/// constant indices, which the compiler checks against `N`.
#[inline(always)]
pub(crate) fn fixed<const N: usize>(buf: &[u8], off: usize) -> Option<&[u8; N]> {
    buf.get(off..)?.get(..N)?.try_into().ok()
}

/// `len` bytes at `off`; `None` if fewer remain.
#[inline(always)]
pub(crate) fn slice(buf: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    buf.get(off..)?.get(..len)
}

#[inline(always)]
pub(crate) fn be16(b: [u8; 2]) -> u16 {
    u16::from_be_bytes(b)
}

#[inline(always)]
pub(crate) fn le16(b: [u8; 2]) -> u16 {
    u16::from_le_bytes(b)
}

#[inline(always)]
pub(crate) fn le32(b: [u8; 4]) -> u32 {
    u32::from_le_bytes(b)
}

/// Link types that `ids_capture::LinkType` has no constant for.
pub(crate) mod linktype {
    use ids_capture::LinkType;

    pub const FDDI: LinkType = LinkType(10);
    /// Per-Packet Information (CACE/Riverbed): a header, then a frame of the DLT it names.
    pub const PPI: LinkType = LinkType(192);
    /// Apple PKTAP: a header, then a frame of the DLT it names.
    pub const PKTAP: LinkType = LinkType(258);

    /// The link type of a pseudo-header's inner DLT (PPI, PKTAP): DLT values equal the
    /// LINKTYPE values except raw IP, which is DLT 12 (14 on OpenBSD) on the BSDs and macOS.
    pub fn from_dlt(dlt: u32) -> LinkType {
        match dlt {
            12 | 14 => LinkType::RAW,
            _ => LinkType(dlt),
        }
    }
}

/// Ethertype values, also used by protocol fields that borrow them (SLL, GRE, Cisco HDLC).
pub(crate) mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const RARP: u16 = 0x8035;
    pub const IPV6: u16 = 0x86dd;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    /// Pre-standard QinQ outer tag values still seen in the wild.
    pub const QINQ_OLD: u16 = 0x9100;
    pub const QINQ_OLD2: u16 = 0x9200;
    pub const MPLS_UNICAST: u16 = 0x8847;
    pub const MPLS_MULTICAST: u16 = 0x8848;
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// Transparent Ethernet bridging (GRE, NVGRE, Geneve).
    pub const TRANSPARENT_ETHERNET: u16 = 0x6558;
    /// PPP, as GRE v1 (PPTP) protocol type.
    pub const PPP: u16 = 0x880b;
    pub const ERSPAN_2: u16 = 0x88be;
    pub const ERSPAN_3: u16 = 0x22eb;
    pub const VNTAG: u16 = 0x8926;
    pub const FABRICPATH: u16 = 0x8903;
    /// 802.1ah provider backbone bridging (MAC-in-MAC).
    pub const PBB: u16 = 0x88e7;
    /// Cisco WCCP redirect (GRE): a 4-byte redirect header, then IPv4.
    pub const WCCP: u16 = 0x883e;
    /// IEEE 802.1AE MACsec.
    pub const MACSEC: u16 = 0x88e5;
    /// Network service header (RFC 8300).
    pub const NSH: u16 = 0x894f;

    /// Ethertypes of common non-IP traffic: recorded as a `NonIp` layer without an
    /// `unknown_ethertype` event, so ordinary LANs do not flood that counter.
    pub fn is_known_non_ip(et: u16) -> bool {
        matches!(
            et,
            0x0842 // Wake-on-LAN
            | 0x2000 // Cisco CDP (via SNAP)
            | 0x2004 // Cisco DTP
            | 0x22f3 // TRILL
            | 0x6002 | 0x6003 | 0x6004 // DEC MOP / DECnet / LAT
            | 0x8137 | 0x8138 // IPX
            | 0x809b | 0x80f3 // AppleTalk, AARP
            | 0x8808 // Ethernet flow control
            | 0x8809 // slow protocols (LACP, OAM)
            | 0x8819 // CobraNet
            | 0x885b | 0x887b // HomePlug (old)
            | 0x888e // 802.1X EAPOL
            | 0x8892 // PROFINET
            | 0x889a // HyperSCSI
            | 0x88a2 // ATA over Ethernet
            | 0x88a4 // EtherCAT
            | 0x88b5 | 0x88b6 // local experimental
            | 0x88b8 | 0x88b9 | 0x88ba // IEC 61850 GOOSE / GSE / SV
            | 0x88c7 // 802.11i pre-auth
            | 0x88cc // LLDP
            | 0x88d9 // Cisco LLDP-ish (link layer discovery)
            | 0x88e1 // HomePlug AV
            | 0x88e3 // MRP
            | 0x886f // Microsoft NLB heartbeat
            | 0x88f5 | 0x88f6 // MVRP, MMRP
            | 0x88f7 // PTP
            | 0x88fb // PRP
            | 0x8902 // CFM / Y.1731
            | 0x8906 | 0x8914 // FCoE, FIP
            | 0x8915 // RoCE
            | 0x891d // TTEthernet
            | 0x892f // HSR
            | 0x893a // IEEE 1905.1
            | 0x9000 // loopback (configuration test protocol)
            | 0xfefe // ISO CLNS over LLC-less frames
        )
    }
}
