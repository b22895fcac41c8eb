//! The per-call packet context handed to `validate`, and what the detector reported back.

use std::net::{IpAddr, Ipv4Addr};

use crate::app_info::AppId;
use crate::registry::{DetectorId, Direction};

/// Lua values of `DC.flowFlags` (`DetectorCommon.lua`); [`ValidateContext::flow_flags`] uses them.
pub mod flow_flags {
    pub const SSL_SESSION: u32 = 0x0010_0000;
    pub const HTTP_SESSION: u32 = 0x0020_0000;
    pub const UDP_REVERSED: u32 = 0x0040_0000;
    pub const INCOMPATIBLE: u32 = 0x0080_0000;
    pub const IGNORE_HOST: u32 = 0x0100_0000;
    pub const IGNORE_TCP_SEQ: u32 = 0x0200_0000;
    pub const CLIENT_APP_DETECTED: u32 = 0x0400_0000;
    pub const GOT_BANNER: u32 = 0x0800_0000;
    pub const NOT_A_SERVICE: u32 = 0x1000_0000;
    pub const LOG_UNKNOWN: u32 = 0x2000_0000;
    pub const CONTINUE: u32 = 0x4000_0000;
    pub const SERVICE_DETECTED: u32 = 0x8000_0000;
    /// Flags Snort 3 still maps to session flags (`FLAGS_TABLE_LUA_TO_C`); the others read as 0
    /// and setting them has no effect.
    pub const LIVE: u32 = UDP_REVERSED
        | INCOMPATIBLE
        | IGNORE_HOST
        | CLIENT_APP_DETECTED
        | NOT_A_SERVICE
        | CONTINUE
        | SERVICE_DETECTED;
}

/// Everything a detector may ask about the current packet and flow.
#[derive(Debug, Clone)]
pub struct ValidateContext<'a> {
    /// L4 payload of the packet (or reassembled stream chunk).
    pub data: &'a [u8],
    pub dir: Direction,
    /// IP protocol number (6 TCP, 17 UDP).
    pub proto: u8,
    pub src_addr: IpAddr,
    pub dst_addr: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    /// Unique key of the flow; `getFlowKey()` returns it as a decimal string.
    pub flow_key: u64,
    /// Session flags in `DC.flowFlags` bit values; only [`flow_flags::LIVE`] bits are visible.
    pub flow_flags: u32,
    /// Packets processed so far (`getPktCount`).
    pub packet_count: u64,
    /// The session was picked up mid-stream.
    pub mid_stream: bool,
    /// Destination of an HTTP CONNECT tunnel carrying this flow.
    pub http_tunnel: Option<(IpAddr, u16)>,
}

impl<'a> ValidateContext<'a> {
    /// A TCP context with unspecified addresses and ports, for tests and tools.
    pub fn new(data: &'a [u8], dir: Direction) -> Self {
        ValidateContext {
            data,
            dir,
            proto: 6,
            src_addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst_addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            src_port: 0,
            dst_port: 0,
            flow_key: 0,
            flow_flags: 0,
            packet_count: 0,
            mid_stream: false,
            http_tunnel: None,
        }
    }
}

/// What a detector declared through the API during one call, in call order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `addService` (legacy id translated) / `open_addServiceApp` (AppId as given).
    ServiceFound { app: AppId, vendor: Option<String>, version: Option<String> },
    /// `inProcessService`: keep this detector as a candidate.
    ServiceInProcess,
    /// `failService`: this service is not on the flow.
    ServiceFail,
    /// `markIncompleteData` / `inCompatibleData`.
    ServiceIncompatible,
    /// `service_analyzePayload(appId)`.
    ServicePayload(AppId),
    /// `service_addClient(clientId, serviceId, version)`.
    ServiceClient { client: AppId, service: AppId, version: String },
    /// `service_addAppIdDataToFlow(sport)`.
    FlowData { port: u16 },
    /// `service_addNetbiosDomain(domain)`.
    NetbiosDomain(String),
    /// `client_addApp` (legacy ids translated) / `open_addClientApp`.
    ClientFound { service: AppId, client: AppId, version: Option<String> },
    /// `client_addInfo(info)`.
    ClientInfo(String),
    /// `client_addUser(name, legacyServiceId)`.
    ClientUser { name: String, service: AppId },
    /// `client_addPayload` (legacy id translated) / `open_addPayloadApp`.
    ClientPayload(AppId),
    /// `addHostPortAppDynamic(type, appId, ip, port, proto)`.
    HostPortApp { kind: u8, app: AppId, ip: IpAddr, port: u16, proto: u8 },
    /// `createFutureFlow(...)`: expect a related flow and label it in advance.
    FutureFlow {
        client_ip: IpAddr,
        client_port: u16,
        server_ip: IpAddr,
        server_port: u16,
        proto: u8,
        service: AppId,
        client: AppId,
        payload: AppId,
        snort_app: AppId,
    },
}

/// The number `validate` returned (`DC.serviceStatus` / `DC.clientStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    InProcess,
    NeedReassembly,
    NotCompatible,
    InvalidClient,
    Reversed,
    NoMatch,
    ENull,
    EInvalid,
    ENoMem,
    Other(i32),
}

impl Status {
    pub fn from_code(code: i32) -> Self {
        match code {
            0 => Status::Success,
            10 => Status::InProcess,
            11 => Status::NeedReassembly,
            12 => Status::NotCompatible,
            13 => Status::InvalidClient,
            14 => Status::Reversed,
            100 => Status::NoMatch,
            -10 => Status::ENull,
            -11 => Status::EInvalid,
            -12 => Status::ENoMem,
            other => Status::Other(other),
        }
    }

    pub fn code(self) -> i32 {
        match self {
            Status::Success => 0,
            Status::InProcess => 10,
            Status::NeedReassembly => 11,
            Status::NotCompatible => 12,
            Status::InvalidClient => 13,
            Status::Reversed => 14,
            Status::NoMatch => 100,
            Status::ENull => -10,
            Status::EInvalid => -11,
            Status::ENoMem => -12,
            Status::Other(c) => c,
        }
    }
}

/// Result of one `validate` (or callback) call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateOutcome {
    pub detector: DetectorId,
    /// The returned status; `ENull` when the call failed (as Snort treats Lua errors).
    pub status: Status,
    pub verdicts: Vec<Verdict>,
    /// Flow flags after the call (set/cleared through `DetectorFlow`).
    pub flow_flags: u32,
    /// True when the call failed and the detector is now disabled.
    pub disabled: bool,
}
