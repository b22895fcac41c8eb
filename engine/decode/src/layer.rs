//! The decoded layer list: which headers were found, and where, for `-v` dumps and statistics.
//!
//! A fixed-capacity inline array (no allocation per packet). Offsets are into `Packet::data`.

use std::fmt;

macro_rules! layer_kinds {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// A protocol header recognised by the decoder.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum LayerKind {
            $( $(#[$doc])* $variant, )*
        }

        impl LayerKind {
            /// Every kind, in index order (`ALL[k as usize] == k`).
            pub const ALL: &'static [LayerKind] = &[ $( LayerKind::$variant, )* ];
            pub const COUNT: usize = Self::ALL.len();

            /// Short stable name, e.g. `"ipv4"`.
            pub fn name(self) -> &'static str {
                match self {
                    $( LayerKind::$variant => $name, )*
                }
            }
        }
    };
}

layer_kinds! {
    Ethernet => "eth",
    /// FDDI MAC header (frame control, addresses).
    Fddi => "fddi",
    /// Radiotap pseudo-header before an 802.11 frame.
    Radiotap => "radiotap",
    /// PPI (per-packet information) pseudo-header.
    Ppi => "ppi",
    /// Apple PKTAP pseudo-header.
    Pktap => "pktap",
    /// Linux NFLOG header and the TLVs before the packet payload.
    Nflog => "nflog",
    /// IEEE 802.11 MAC header (data frames: with QoS and HT control; others: the whole frame).
    Ieee80211 => "wlan",
    /// 802.2 LLC, with SNAP when present.
    Llc => "llc",
    Vlan => "vlan",
    /// Cisco VN-Tag (802.1Qbh).
    VnTag => "vntag",
    /// Cisco FabricPath outer header.
    FabricPath => "fabricpath",
    /// 802.1ah provider backbone I-TAG.
    Pbb => "pbb",
    /// IEEE 802.1AE MACsec SecTAG (with the inner ethertype of an unprotected frame).
    Macsec => "macsec",
    /// Network service header (RFC 8300), with its context headers.
    Nsh => "nsh",
    Sll => "sll",
    Sll2 => "sll2",
    /// BSD loopback family word (NULL / LOOP link types).
    Loopback => "loopback",
    Ppp => "ppp",
    CiscoHdlc => "chdlc",
    Pppoe => "pppoe",
    PppoeDiscovery => "pppoe_discovery",
    /// The whole MPLS label stack.
    Mpls => "mpls",
    /// MPLS pseudowire control word.
    PwControlWord => "pw_cw",
    Arp => "arp",
    /// A recognised non-IP ethertype payload (LLDP, 802.1X, ...), not decoded further.
    NonIp => "non_ip",
    Ipv4 => "ipv4",
    Ipv6 => "ipv6",
    Ipv6HopByHop => "ipv6_hop_by_hop",
    Ipv6Routing => "ipv6_routing",
    Ipv6Fragment => "ipv6_fragment",
    Ipv6DestOpts => "ipv6_dest_opts",
    Ah => "ah",
    Esp => "esp",
    Tcp => "tcp",
    Udp => "udp",
    Icmp => "icmp",
    Icmpv6 => "icmpv6",
    Gre => "gre",
    Erspan => "erspan",
    Vxlan => "vxlan",
    Geneve => "geneve",
    Teredo => "teredo",
    Gtp => "gtp",
    /// AYIYA (anything in anything) header, UDP port 5072.
    Ayiya => "ayiya",
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One decoded header: its kind, offset in `Packet::data` and header length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layer {
    pub kind: LayerKind,
    pub offset: u32,
    pub len: u32,
}

impl Layer {
    const EMPTY: Layer = Layer { kind: LayerKind::Ethernet, offset: 0, len: 0 };

    /// Byte range of the header in `Packet::data`.
    pub fn range(&self) -> std::ops::Range<usize> {
        let start = self.offset as usize;
        start..start.saturating_add(self.len as usize)
    }
}

/// Fixed-capacity list of decoded layers, outermost first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Layers {
    items: [Layer; Layers::CAPACITY],
    len: u8,
}

impl Layers {
    /// Enough for Ethernet + QinQ + IPv6 with a full set of extension headers + a few tunnels.
    /// A packet that needs more raises `too_many_layers` and is decoded only that far.
    pub const CAPACITY: usize = 32;

    pub const fn new() -> Layers {
        Layers { items: [Layer::EMPTY; Layers::CAPACITY], len: 0 }
    }

    /// Appends a layer; `false` (and nothing stored) when full.
    #[inline]
    pub fn push(&mut self, kind: LayerKind, offset: usize, len: usize) -> bool {
        match self.items.get_mut(usize::from(self.len)) {
            Some(slot) => {
                // Packets are far below 4 GiB; saturate rather than wrap if one ever is not.
                *slot = Layer {
                    kind,
                    offset: u32::try_from(offset).unwrap_or(u32::MAX),
                    len: u32::try_from(len).unwrap_or(u32::MAX),
                };
                self.len += 1;
                true
            }
            None => false,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn as_slice(&self) -> &[Layer] {
        self.items.get(..self.len()).unwrap_or(&[])
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Layer> {
        self.as_slice().iter()
    }

    pub fn last(&self) -> Option<&Layer> {
        self.as_slice().last()
    }

    /// Whether any layer of `kind` was decoded.
    pub fn contains(&self, kind: LayerKind) -> bool {
        self.iter().any(|l| l.kind == kind)
    }
}

impl Default for Layers {
    fn default() -> Self {
        Layers::new()
    }
}

impl fmt::Debug for Layers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|l| format!("{}@{}+{}", l.kind, l.offset, l.len))).finish()
    }
}

impl<'l> IntoIterator for &'l Layers {
    type Item = &'l Layer;
    type IntoIter = std::slice::Iter<'l, Layer>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_until_full() {
        let mut l = Layers::new();
        for i in 0..Layers::CAPACITY {
            assert!(l.push(LayerKind::Vlan, i * 4, 4));
        }
        assert!(!l.push(LayerKind::Ipv4, 0, 20));
        assert_eq!(l.len(), Layers::CAPACITY);
        assert_eq!(l.last().map(|x| x.range()), Some(124..128));
        for (i, k) in LayerKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
    }
}
