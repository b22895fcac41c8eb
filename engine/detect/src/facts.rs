//! What the pipeline tells the engine about one packet: header facts, flow facts and the
//! inspection buffers. Plain data, filled per packet, borrowed for the duration of one
//! [`crate::RuleSet::detect`] call.

use std::net::{IpAddr, Ipv4Addr};

use ids_rules::Buffer;

macro_rules! buffer_ids {
    ($($v:ident),* $(,)?) => {
        /// One inspection buffer: a slot per named variant of [`ids_rules::Buffer`] (every
        /// dialect's spelling of a buffer already maps to one variant there), generated from
        /// that enum's own list; `Buffer::Other` names have no slot.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        #[allow(missing_docs)]
        pub enum BufferId { $($v),* }

        impl BufferId {
            /// Every buffer, in slot order.
            pub const ALL: &'static [BufferId] = &[$(BufferId::$v),*];
            /// Number of buffer slots.
            pub const COUNT: usize = Self::ALL.len();

            /// The slot of a rule buffer; `None` for [`Buffer::Other`].
            pub fn from_rule_buffer(b: &Buffer) -> Option<BufferId> {
                #[allow(unreachable_patterns)]
                match b {
                    $(Buffer::$v => Some(BufferId::$v),)*
                    _ => None,
                }
            }

            /// The rule-language buffer of this slot.
            pub fn to_rule_buffer(self) -> Buffer {
                match self { $(BufferId::$v => Buffer::$v),* }
            }
        }
    };
}

ids_rules::buffer_variants!(buffer_ids);

impl BufferId {
    /// Slot index.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The inspection buffers of one packet (or of one reassembled stream chunk / app-layer
/// transaction). A missing buffer is `None`: options on it do not match (negated ones included).
///
/// `raw_data` falls back to `pkt_data` when the pipeline does not provide it separately (no
/// normalisation happened, so the raw bytes are the packet bytes).
#[derive(Clone, Copy, Debug)]
pub struct Buffers<'a> {
    slots: [Option<&'a [u8]>; BufferId::COUNT],
}

impl Default for Buffers<'_> {
    fn default() -> Self {
        Buffers { slots: [None; BufferId::COUNT] }
    }
}

impl<'a> Buffers<'a> {
    /// No buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only `pkt_data`.
    pub fn with_pkt_data(data: &'a [u8]) -> Self {
        let mut b = Self::default();
        b.set(BufferId::PktData, data);
        b
    }

    /// Fills a slot (builder style).
    pub fn with(mut self, id: BufferId, data: &'a [u8]) -> Self {
        self.set(id, data);
        self
    }

    /// Fills a slot.
    pub fn set(&mut self, id: BufferId, data: &'a [u8]) {
        self.slots[id.index()] = Some(data);
    }

    /// Empties a slot.
    pub fn clear(&mut self, id: BufferId) {
        self.slots[id.index()] = None;
    }

    /// Whether the slot itself was filled (`get` may still answer for `raw_data`).
    pub fn is_set(&self, id: BufferId) -> bool {
        self.slots[id.index()].is_some()
    }

    /// A slot's bytes (`raw_data` falls back to `pkt_data`).
    pub fn get(&self, id: BufferId) -> Option<&'a [u8]> {
        match self.slots[id.index()] {
            None if id == BufferId::RawData => self.slots[BufferId::PktData.index()],
            s => s,
        }
    }
}

/// TCP header facts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFacts {
    /// Flag byte, TCP header order: FIN 0x01 ... ECE 0x40, CWR 0x80.
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Window.
    pub window: u16,
}

/// ICMP header facts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IcmpFacts {
    /// Type.
    pub itype: u8,
    /// Code.
    pub icode: u8,
    /// Identifier (echo and friends; 0 otherwise).
    pub id: u16,
    /// Sequence number (echo and friends; 0 otherwise).
    pub seq: u16,
}

/// Header facts of one packet (the innermost IP header and its transport).
#[derive(Clone, Copy, Debug)]
pub struct PacketFacts<'a> {
    /// 4 or 6.
    pub ip_version: u8,
    /// IP protocol (next header) number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6...
    pub proto: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port (0 when the transport has none).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// TTL / hop limit.
    pub ttl: u8,
    /// TOS / traffic class.
    pub tos: u8,
    /// IP identification (IPv6: fragment header id, else 0).
    pub ip_id: u32,
    /// Don't-fragment bit.
    pub df: bool,
    /// More-fragments bit.
    pub mf: bool,
    /// Reserved (evil) bit.
    pub reserved_bit: bool,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
    /// IPv4 option type codes present (`ipopts`).
    pub ip_options: &'a [u8],
    /// TCP facts when the transport is TCP.
    pub tcp: Option<TcpFacts>,
    /// ICMP facts when the transport is ICMP/ICMPv6.
    pub icmp: Option<IcmpFacts>,
    /// Payload length (`dsize`).
    pub payload_len: u32,
    /// True when `pkt_data` is a reassembled stream chunk rather than one packet's payload.
    pub is_rebuilt_stream: bool,
    /// True when the packet is a reassembled IP datagram (`flow:only_frag`).
    pub is_reassembled_frag: bool,
    /// Names of decoder / stream / app-layer events raised for this packet
    /// (`decode-event:ipv4.trunc_pkt`, `stream-event:...`, `app-layer-event:...`).
    pub events: &'a [&'a str],
}

impl Default for PacketFacts<'_> {
    fn default() -> Self {
        PacketFacts {
            ip_version: 4,
            proto: 6,
            src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            src_port: 0,
            dst_port: 0,
            ttl: 64,
            tos: 0,
            ip_id: 0,
            df: false,
            mf: false,
            reserved_bit: false,
            frag_offset: 0,
            ip_options: &[],
            tcp: None,
            icmp: None,
            payload_len: 0,
            is_rebuilt_stream: false,
            is_reassembled_frag: false,
            events: &[],
        }
    }
}

/// `ssl_state` bits of [`FlowFacts::ssl_state`].
pub mod ssl_state {
    /// ClientHello seen.
    pub const CLIENT_HELLO: u8 = 0x01;
    /// ServerHello seen.
    pub const SERVER_HELLO: u8 = 0x02;
    /// ClientKeyExchange seen.
    pub const CLIENT_KEYX: u8 = 0x04;
    /// ServerKeyExchange seen.
    pub const SERVER_KEYX: u8 = 0x08;
    /// Unknown record.
    pub const UNKNOWN: u8 = 0x10;
    /// Application data (Suricata `application_data`).
    pub const APP_DATA: u8 = 0x20;
}

/// `ssl_version` bits of [`FlowFacts::ssl_version`].
pub mod ssl_version {
    /// SSLv2
    pub const SSLV2: u8 = 0x01;
    /// SSLv3
    pub const SSLV3: u8 = 0x02;
    /// TLS 1.0
    pub const TLS1_0: u8 = 0x04;
    /// TLS 1.1
    pub const TLS1_1: u8 = 0x08;
    /// TLS 1.2
    pub const TLS1_2: u8 = 0x10;
    /// TLS 1.3
    pub const TLS1_3: u8 = 0x20;
}

/// Flow facts of one packet.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlowFacts<'a> {
    /// The packet belongs to a tracked flow (false: `flow:stateless` only).
    pub has_flow: bool,
    /// TCP handshake completed (UDP: traffic seen both ways).
    pub established: bool,
    /// Direction of *this* packet: client → server.
    pub to_server: bool,
    /// Application protocol / service of the flow (`http`, `dns`, `tls`...), lower case, if
    /// known. `ssl` and `tls` are the same service.
    pub app_proto: Option<&'a str>,
    /// OpenAppID application names of the flow (`appids`).
    pub appids: &'a [&'a str],
    /// Bytes the client has sent in the stream so far (`stream_size`).
    pub client_bytes: u64,
    /// Bytes the server has sent in the stream so far.
    pub server_bytes: u64,
    /// [`ssl_state`] bits seen on the flow.
    pub ssl_state: u8,
    /// [`ssl_version`] bits seen on the flow.
    pub ssl_version: u8,
    /// DCE/RPC interface bound on the flow: (UUID as a big-endian integer of its canonical
    /// text form, major version) — `dce_iface`.
    pub dce_iface: Option<(u128, u16)>,
    /// DCE/RPC operation number of the current request — `dce_opnum`.
    pub dce_opnum: Option<u16>,
    /// SIP response status code of the current message — `sip_stat_code`.
    pub sip_stat_code: Option<u16>,
}
