//! IP protocol names as each tool prints them.

use std::fmt;

/// Suricata's `known_proto[]` (`src/util-proto-name.c`): IANA keywords with IANA's
/// capitalisation for 0..=143; other numbers are printed as decimal.
const SURICATA: [&str; 144] = [
    "HOPOPT",
    "ICMP",
    "IGMP",
    "GGP",
    "IP-in-IP",
    "ST",
    "TCP",
    "CBT",
    "EGP",
    "IGP", // 0-9
    "BBN-RCC-MON",
    "NVP-II",
    "PUP",
    "ARGUS",
    "EMCON",
    "XNET",
    "CHAOS",
    "UDP",
    "MUX",
    "DCN-MEAS",
    "HMP",
    "PRM",
    "XNS-IDP",
    "TRUNK-1",
    "TRUNK-2",
    "LEAF-1",
    "LEAF-2",
    "RDP",
    "IRTP",
    "ISO-TP4",
    "NETBLT",
    "MFE-NSP",
    "MERIT-INP",
    "DCCP",
    "3PC",
    "IDPR",
    "XTP",
    "DDP",
    "IDPR-CMTP",
    "TP++",
    "IL",
    "IPv6",
    "SDRP",
    "IPv6-Route",
    "IPv6-Frag",
    "IDRP",
    "RSVP",
    "GRE",
    "DSR",
    "BNA", // 40-49
    "ESP",
    "AH",
    "I-NLSP",
    "SwIPe",
    "NARP",
    "MOBILE",
    "TLSP",
    "SKIP",
    "IPv6-ICMP",
    "IPv6-NoNxt",
    "IPv6-Opts",
    "Any",
    "CFTP",
    "Any",
    "SAT-EXPAK",
    "KRYPTOLAN",
    "RVD",
    "IPPC",
    "Any",
    "SAT-MON",
    "VISA",
    "IPCU",
    "CPNX",
    "CPHB",
    "WSN",
    "PVP",
    "BR-SAT-MON",
    "SUN-ND",
    "WB-MON",
    "WB-EXPAK",
    "ISO-IP",
    "VMTP",
    "SECURE-VMTP",
    "VINES",
    "TTP",
    "NSFNET-IGP",
    "DGP",
    "TCF",
    "EIGRP",
    "OSPF",
    "Sprite-RPC",
    "LARP",
    "MTP",
    "AX.25",
    "OS",
    "MICP",
    "SCC-SP",
    "ETHERIP",
    "ENCAP",
    "Any",
    "GMTP",
    "IFMP",
    "PNNI",
    "PIM",
    "ARIS",
    "SCPS",
    "QNX",
    "A/N",
    "IPComp",
    "SNP", // 100-109
    "Compaq-Peer",
    "IPX-in-IP",
    "VRRP",
    "PGM",
    "Any",
    "L2TP",
    "DDX",
    "IATP",
    "STP",
    "SRP",
    "UTI",
    "SMP",
    "SM",
    "PTP",
    "IS-IS",
    "FIRE",
    "CRTP",
    "CRUDP",
    "SSCOPMCE",
    "IPLT", // 120-129
    "SPS",
    "PIPE",
    "SCTP",
    "FC",
    "RSVP-E2E-IGNORE",
    "Mobility",
    "UDPLite",
    "MPLS-in-IP",
    "manet",
    "HIP",
    "Shim6",
    "WESP",
    "ROHC",
    "Ethernet", // 139-143
];

/// The EVE `proto` value for an IP protocol number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuricataProto(pub u8);

impl fmt::Display for SuricataProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match SURICATA.get(usize::from(self.0)) {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

impl serde::Serialize for SuricataProto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match SURICATA.get(usize::from(self.0)) {
            Some(name) => s.serialize_str(name),
            None => s.collect_str(self),
        }
    }
}

/// Snort 2's `protocol_names[]` (`InitProtoNames` in `src/util.c`, kept in Snort 3's
/// `src/utils/util.cc`): `getprotobynumber()` upper-cased, else `PROTO:%03d`. The names depend on
/// the host's /etc/protocols; this is Debian/Ubuntu netbase's, the common deployment.
pub fn snort2_proto_name(proto: u8) -> Option<&'static str> {
    Some(match proto {
        0 => "IP",
        1 => "ICMP",
        2 => "IGMP",
        3 => "GGP",
        4 => "IPENCAP",
        5 => "ST",
        6 => "TCP",
        8 => "EGP",
        9 => "IGP",
        12 => "PUP",
        17 => "UDP",
        20 => "HMP",
        22 => "XNS-IDP",
        27 => "RDP",
        29 => "ISO-TP4",
        33 => "DCCP",
        36 => "XTP",
        37 => "DDP",
        38 => "IDPR-CMTP",
        41 => "IPV6",
        43 => "IPV6-ROUTE",
        44 => "IPV6-FRAG",
        45 => "IDRP",
        46 => "RSVP",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        57 => "SKIP",
        58 => "IPV6-ICMP",
        59 => "IPV6-NONXT",
        60 => "IPV6-OPTS",
        73 => "RSPF",
        81 => "VMTP",
        88 => "EIGRP",
        89 => "OSPF",
        93 => "AX.25",
        94 => "IPIP",
        97 => "ETHERIP",
        98 => "ENCAP",
        103 => "PIM",
        108 => "IPCOMP",
        112 => "VRRP",
        115 => "L2TP",
        124 => "ISIS",
        132 => "SCTP",
        133 => "FC",
        135 => "MOBILITY-HEADER",
        136 => "UDPLITE",
        137 => "MPLS-IN-IP",
        138 => "MANET",
        139 => "HIP",
        140 => "SHIM6",
        141 => "WESP",
        142 => "ROHC",
        143 => "ETHERNET",
        _ => return None,
    })
}

/// Snort 3's `Packet::get_type()` (`src/protocols/packet.cc`) seen from an alert: `TCP` and `UDP`
/// only when the transport header was decoded (ports present; fragments are type `IP`), `ICMP` for
/// ICMPv4 and ICMPv6 alike, `IP` for everything else carried in IP.
pub fn snort3_pkt_type(proto: u8, has_ports: bool) -> &'static str {
    match proto {
        6 if has_ports => "TCP",
        17 if has_ports => "UDP",
        1 | 58 => "ICMP",
        _ => "IP",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suricata_names() {
        assert_eq!(SuricataProto(6).to_string(), "TCP");
        assert_eq!(SuricataProto(17).to_string(), "UDP");
        assert_eq!(SuricataProto(1).to_string(), "ICMP");
        assert_eq!(SuricataProto(58).to_string(), "IPv6-ICMP");
        assert_eq!(SuricataProto(132).to_string(), "SCTP");
        assert_eq!(SuricataProto(143).to_string(), "Ethernet");
        assert_eq!(SuricataProto(200).to_string(), "200");
        assert_eq!(serde_json::to_string(&SuricataProto(253)).unwrap(), "\"253\"");
    }

    #[test]
    fn snort_names() {
        assert_eq!(snort2_proto_name(58), Some("IPV6-ICMP"));
        assert_eq!(snort2_proto_name(253), None);
        assert_eq!(snort3_pkt_type(6, true), "TCP");
        assert_eq!(snort3_pkt_type(6, false), "IP");
        assert_eq!(snort3_pkt_type(58, false), "ICMP");
        assert_eq!(snort3_pkt_type(47, false), "IP");
    }
}
