//! What the detection stage hands to the loggers: owned, `Send` records with everything both
//! output formats need, so the output thread never reaches back into packets or flows.

use std::net::IpAddr;

use ids_capture::Timestamp;

/// The rule action that produced an alert (Snort 3 and Suricata rule actions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    #[default]
    Alert,
    Log,
    Pass,
    /// Drop the packet (inline only).
    Drop,
    /// Drop the packet and the rest of the session (Snort 3 `block`).
    Block,
    /// Drop and send a TCP reset / ICMP unreachable (Snort 3 `reject`, Suricata `reject*`).
    Reject,
    /// Snort 3 `react`: send a response page and reset.
    React,
    /// Snort 3 `rewrite`: replace bytes, the packet goes on.
    Rewrite,
}

impl Action {
    /// Actions that stop the packet when the engine runs inline.
    pub fn is_drop_class(self) -> bool {
        matches!(self, Action::Drop | Action::Block | Action::Reject | Action::React)
    }
}

/// Which way the alerting packet travelled in its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server (the flow's initiator sent it).
    ToServer,
    ToClient,
}

impl Direction {
    /// EVE's spelling.
    pub fn as_eve(self) -> &'static str {
        match self {
            Direction::ToServer => "to_server",
            Direction::ToClient => "to_client",
        }
    }
}

/// Application names found by OpenAppID on the alert's flow.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AppIds {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misc: Option<String>,
}

impl AppIds {
    /// The single name Snort's fast alert shows, chosen as Snort 3's
    /// `AppIdApi::get_application_name(flow, from_client)` does: payload, then misc, then the
    /// client app for client packets (service for server packets), then the other one.
    pub fn display_name(&self, from_client: bool) -> Option<&str> {
        let (first, second) =
            if from_client { (&self.client, &self.service) } else { (&self.service, &self.client) };
        self.payload.as_deref().or(self.misc.as_deref()).or(first.as_deref()).or(second.as_deref())
    }
}

/// Flow counters at the time of the alert (EVE `alert.flow`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCounters {
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub bytes_toserver: u64,
    pub bytes_toclient: u64,
    /// First packet of the flow.
    pub start: Timestamp,
}

/// One alert, ready to log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alert {
    /// Capture time of the packet that raised it.
    pub ts: Timestamp,
    /// 1-based packet number in the capture (Suricata `pcap_cnt`); 0 when not known.
    pub packet_number: u64,
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    /// The rule's `msg`, without the quotes of the rule text.
    pub msg: String,
    /// The classtype's description from classification.config (`[Classification: …]`,
    /// EVE `category`), e.g. "Potential Corporate Privacy Violation".
    pub classification: Option<String>,
    /// The classtype's short name, e.g. "policy-violation".
    pub classtype: Option<String>,
    pub priority: u32,
    pub action: Action,
    /// The packet was actually dropped inline.
    pub blocked: bool,
    /// IP protocol number of the innermost IP header.
    pub proto: u8,
    pub src: Option<IpAddr>,
    /// `None` for protocols without ports and for IP fragments.
    pub src_port: Option<u16>,
    pub dst: Option<IpAddr>,
    pub dst_port: Option<u16>,
    pub flow_id: Option<u64>,
    pub in_iface: Option<String>,
    /// VLAN ids, outermost first.
    pub vlan: Vec<u16>,
    /// Application-layer protocol as Suricata names it ("http", "tls", …).
    pub app_proto: Option<String>,
    pub appid: Option<AppIds>,
    /// Rule `metadata` key/value pairs in rule order (a key may repeat).
    pub metadata: Vec<(String, String)>,
    /// Rule `reference`s as `scheme,id` strings.
    pub references: Vec<String>,
    pub direction: Option<Direction>,
    pub flow: Option<FlowCounters>,
    /// Packet payload, filled in only when payload logging is enabled.
    pub payload: Option<Vec<u8>>,
    pub pcap_filename: Option<String>,
}

/// Flow state at the end of a flow (EVE `flow.state`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlowState {
    #[default]
    New,
    Established,
    Closed,
    Bypassed,
}

impl FlowState {
    pub fn as_eve(self) -> &'static str {
        match self {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closed => "closed",
            FlowState::Bypassed => "bypassed",
        }
    }
}

/// Why a flow was logged (EVE `flow.reason`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlowEndReason {
    #[default]
    Timeout,
    /// Evicted early (memory cap, table full).
    Forced,
    /// End of input / engine shutdown.
    Shutdown,
}

impl FlowEndReason {
    pub fn as_eve(self) -> &'static str {
        match self {
            FlowEndReason::Timeout => "timeout",
            FlowEndReason::Forced => "forced",
            FlowEndReason::Shutdown => "shutdown",
        }
    }
}

/// One ended flow, for an EVE `flow` record. Addresses are oriented client → server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRecord {
    pub flow_id: u64,
    pub in_iface: Option<String>,
    pub vlan: Vec<u16>,
    pub proto: u8,
    pub src: IpAddr,
    pub src_port: Option<u16>,
    pub dst: IpAddr,
    pub dst_port: Option<u16>,
    pub app_proto: Option<String>,
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub bytes_toserver: u64,
    pub bytes_toclient: u64,
    pub start: Timestamp,
    /// Last packet; also the record's `timestamp`.
    pub end: Timestamp,
    pub state: FlowState,
    pub reason: FlowEndReason,
    pub alerted: bool,
    pub pcap_filename: Option<String>,
}
