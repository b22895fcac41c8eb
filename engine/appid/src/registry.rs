//! What detectors registered at load time, kept as plain data for the identification pipeline.
//!
//! Snort 3 fills these tables from the control Lua state's `init` calls; the packet threads only
//! read them. Every entry remembers the detector that made it ([`DetectorId`]) so a detector that
//! fails its `init` can be taken out again ([`Registries::remove_detector`]). Legacy ids have already
//! been translated to AppIds where Snort translates them.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::app_info::AppId;

/// Index of a detector in its [`crate::DetectorPackage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DetectorId(pub u32);

/// Transport protocol number as registered (6 = TCP, 17 = UDP, others for port-only / host-port).
pub type IpProto = u8;

/// `addPort` / `service_addPort`: a service detector wants packets of flows on this server port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRegistration {
    pub detector: DetectorId,
    pub proto: IpProto,
    pub port: u16,
    /// Validate the flow reversed (UDP services that answer from the client's side).
    pub reversed: bool,
}

/// A fast pattern (`registerPattern`, `client_registerPattern`, `addPortPattern*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastPattern {
    pub detector: DetectorId,
    pub proto: IpProto,
    pub pattern: Vec<u8>,
    /// Offset where the pattern must start; `None` = anywhere (Snort's position −1).
    pub offset: Option<u32>,
    /// AppId given by declarative registrations (`addPortPattern*`, 5th arg of `client_registerPattern`).
    pub app_id: AppId,
    /// `addPortPatternService`: the server port the pattern applies to (0 = any).
    pub port: u16,
}

/// `addHttpPattern` type: 1 host/payload, 2 User-Agent, 3 URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpPatternKind {
    Host,
    UserAgent,
    Url,
}

/// `addHttpPattern`, `open_addHttpPattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPattern {
    pub detector: DetectorId,
    pub kind: HttpPatternKind,
    /// DHPSequence (0 single, 1/2 Skype, 3/4 BitTorrent, 5 UA header).
    pub sequence: u32,
    pub service: AppId,
    pub client: AppId,
    pub payload: AppId,
    pub app_id: AppId,
    pub pattern: Vec<u8>,
}

/// `addAppUrl`, `addRTMPUrl`, `open_addUrlPattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrl {
    pub detector: DetectorId,
    pub service: AppId,
    pub client: AppId,
    pub payload: AppId,
    pub app_id: AppId,
    pub host: Vec<u8>,
    pub path: Vec<u8>,
    /// Kept for RTMP URLs; HTTP URL matching ignores the scheme (as Snort 3 does).
    pub scheme: Vec<u8>,
    pub query: Option<Vec<u8>>,
}

/// Whether a host-style pattern yields a payload (type 0) or a client (type ≠ 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternTarget {
    Payload,
    Client,
}

impl PatternTarget {
    pub fn from_type(t: i64) -> Self {
        if t == 0 {
            PatternTarget::Payload
        } else {
            PatternTarget::Client
        }
    }
}

/// `addSSLCertPattern`, `addSSLCnamePattern`, `addDNSHostPattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    pub detector: DetectorId,
    pub target: PatternTarget,
    pub app_id: AppId,
    pub pattern: Vec<u8>,
}

/// `addSipUserAgent`, `addSipServer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipPattern {
    pub detector: DetectorId,
    pub client: AppId,
    pub version: String,
    pub pattern: Vec<u8>,
}

/// `addHostPortApp` (static host:port → app cache).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPortApp {
    pub detector: DetectorId,
    /// Snort's type: 0 service, 1 client, 2 payload (bit flags in newer Snort).
    pub kind: u8,
    pub app_id: AppId,
    pub ip: IpAddr,
    pub port: u16,
    pub proto: IpProto,
}

/// `addHostFirstPktApp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstPacketApp {
    pub detector: DetectorId,
    pub service: AppId,
    pub client: AppId,
    pub payload: AppId,
    pub reinspect: bool,
    pub ip: IpAddr,
    pub prefix_len: u8,
    pub port: u16,
    pub proto: IpProto,
}

/// `portOnlyService`: port 0 maps a whole IP protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortOnlyService {
    pub detector: DetectorId,
    pub app_id: AppId,
    pub port: u16,
    pub proto: IpProto,
}

/// Direction of one element of a length sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the initiator (client); Lua direction 0.
    FromInitiator,
    /// From the responder (server); Lua direction 1.
    FromResponder,
}

/// `AddLengthBasedDetector`: the first payload sizes of a flow, with direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LengthSequence {
    pub detector: DetectorId,
    pub app_id: AppId,
    pub proto: IpProto,
    pub sequence: Vec<(Direction, u16)>,
}

/// `CHPCreateApp` / `CHPMultiCreateApp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChpApp {
    pub detector: DetectorId,
    /// `(appId << 7) + instance`; the single-instance API uses instance 127.
    pub instance: i64,
    pub app_type_flags: u32,
    pub num_matches: i32,
}

/// `CHPAddAction` / `CHPMultiAddAction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChpAction {
    pub detector: DetectorId,
    pub instance: i64,
    pub key_pattern: bool,
    /// 0 UA, 1 Host, 2 Referer, 3 URI, 4 Cookie, 5 request body, 6 Content-Type, 7 Location, 8 response body.
    pub field: u8,
    pub pattern: Vec<u8>,
    /// 0..=15, Snort's `ActionType`.
    pub action: u8,
    pub action_data: Option<Vec<u8>>,
}

/// Bits used for the CHP instance number (Snort's `CHP_APPID_BITS_FOR_INSTANCE`).
pub const CHP_INSTANCE_BITS: u32 = 7;
/// Number of CHP instances per app.
pub const CHP_INSTANCE_MAX: i64 = 1 << CHP_INSTANCE_BITS;

/// `registerAppId`: apps a detector may report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredApp {
    pub detector: DetectorId,
    pub app_id: AppId,
}

/// `registerClientDetectorCallback` / `registerServiceDetectorCallback`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectorCallback {
    pub detector: DetectorId,
    pub app_id: AppId,
    pub function: String,
    /// True for client callbacks, false for service callbacks.
    pub client: bool,
}

/// `addProcessToClientMapping` (encrypted-visibility engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessMapping {
    pub detector: DetectorId,
    pub app_id: AppId,
    pub process: String,
    pub score: u8,
}

/// Everything registered by the detectors of a package.
#[derive(Debug, Clone, Default)]
pub struct Registries {
    pub service_ports: Vec<PortRegistration>,
    pub service_patterns: Vec<FastPattern>,
    pub client_patterns: Vec<FastPattern>,
    /// `addPortPatternService`: declarative port + pattern services (no Lua validate).
    pub port_pattern_services: Vec<FastPattern>,
    /// `addPortPatternClient`: declarative pattern clients (no Lua validate).
    pub port_pattern_clients: Vec<FastPattern>,
    pub http_patterns: Vec<HttpPattern>,
    pub app_urls: Vec<AppUrl>,
    pub rtmp_urls: Vec<AppUrl>,
    pub content_types: Vec<(DetectorId, Vec<u8>, AppId)>,
    /// TLS SNI / certificate host / SubjectAltName patterns.
    pub ssl_host_patterns: Vec<HostPattern>,
    /// TLS certificate CN / OU patterns.
    pub ssl_cname_patterns: Vec<HostPattern>,
    pub dns_host_patterns: Vec<HostPattern>,
    pub sip_user_agents: Vec<SipPattern>,
    pub sip_servers: Vec<SipPattern>,
    /// `addSSHPattern`: SSH client banner → client app.
    pub ssh_patterns: Vec<(DetectorId, Vec<u8>, AppId)>,
    /// `addAlpnToServiceMapping`: ALPN protocol id → service.
    pub alpn: Vec<(DetectorId, Vec<u8>, AppId)>,
    pub process_mappings: Vec<ProcessMapping>,
    pub host_port_apps: Vec<HostPortApp>,
    pub first_packet_apps: Vec<FirstPacketApp>,
    pub port_only: Vec<PortOnlyService>,
    pub length_sequences: Vec<LengthSequence>,
    pub chp_apps: Vec<ChpApp>,
    pub chp_actions: Vec<ChpAction>,
    pub registered_apps: Vec<RegisteredApp>,
    pub callbacks: Vec<DetectorCallback>,
}

impl Registries {
    /// Drops every registration made by `d` (used when its `init` fails half-way).
    pub fn remove_detector(&mut self, d: DetectorId) {
        self.service_ports.retain(|e| e.detector != d);
        self.service_patterns.retain(|e| e.detector != d);
        self.client_patterns.retain(|e| e.detector != d);
        self.port_pattern_services.retain(|e| e.detector != d);
        self.port_pattern_clients.retain(|e| e.detector != d);
        self.http_patterns.retain(|e| e.detector != d);
        self.app_urls.retain(|e| e.detector != d);
        self.rtmp_urls.retain(|e| e.detector != d);
        self.content_types.retain(|e| e.0 != d);
        self.ssl_host_patterns.retain(|e| e.detector != d);
        self.ssl_cname_patterns.retain(|e| e.detector != d);
        self.dns_host_patterns.retain(|e| e.detector != d);
        self.sip_user_agents.retain(|e| e.detector != d);
        self.sip_servers.retain(|e| e.detector != d);
        self.ssh_patterns.retain(|e| e.0 != d);
        self.alpn.retain(|e| e.0 != d);
        self.process_mappings.retain(|e| e.detector != d);
        self.host_port_apps.retain(|e| e.detector != d);
        self.first_packet_apps.retain(|e| e.detector != d);
        self.port_only.retain(|e| e.detector != d);
        self.length_sequences.retain(|e| e.detector != d);
        self.chp_apps.retain(|e| e.detector != d);
        self.chp_actions.retain(|e| e.detector != d);
        self.registered_apps.retain(|e| e.detector != d);
        self.callbacks.retain(|e| e.detector != d);
    }

    /// Service detectors registered on `(proto, port)`, in registration order.
    pub fn service_detectors_on_port(&self, proto: IpProto, port: u16) -> Vec<DetectorId> {
        let mut out: Vec<DetectorId> = Vec::new();
        for r in &self.service_ports {
            if r.proto == proto && r.port == port && !out.contains(&r.detector) {
                out.push(r.detector);
            }
        }
        out
    }

    /// Port → detectors index for the pipeline's PORT state.
    pub fn port_index(&self) -> HashMap<(IpProto, u16), Vec<DetectorId>> {
        let mut map: HashMap<(IpProto, u16), Vec<DetectorId>> = HashMap::new();
        for r in &self.service_ports {
            let v = map.entry((r.proto, r.port)).or_default();
            if !v.contains(&r.detector) {
                v.push(r.detector);
            }
        }
        map
    }
}

/// OpenAppID's host matching rule (`host_patterns.cc`): a pattern matches when it ends exactly at
/// the end of the host and starts at the host's start, right after a `.`, or itself starts with
/// a `.`; matching ignores ASCII case and the longest matching pattern wins.
///
/// Used for HTTP host, TLS SNI / SubjectAltName and DNS query names.
#[derive(Debug, Clone, Default)]
pub struct HostPatternMatcher<T> {
    patterns: HashMap<Vec<u8>, T>,
}

impl<T: Clone> HostPatternMatcher<T> {
    pub fn new() -> Self {
        HostPatternMatcher { patterns: HashMap::new() }
    }

    /// Adds a pattern; the first registration of an identical pattern is kept.
    pub fn insert(&mut self, pattern: &[u8], value: T) {
        if !pattern.is_empty() {
            self.patterns.entry(pattern.to_ascii_lowercase()).or_insert(value);
        }
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The value of the longest pattern matching `host`, with that pattern's length.
    pub fn find(&self, host: &[u8]) -> Option<(usize, &T)> {
        let host = host.to_ascii_lowercase();
        // Candidates are suffixes that start at 0, at a '.', or right after a '.'; scanning
        // from the left visits them longest first, so the first hit is the longest match.
        let mut start = 0;
        loop {
            if let Some(v) = self.patterns.get(&host[start..]) {
                return Some((host.len() - start, v));
            }
            let rest = &host[start..];
            let next = if rest.first() == Some(&b'.') {
                start + 1
            } else {
                match memchr::memchr(b'.', rest) {
                    Some(i) => start + i,
                    None => return None,
                }
            };
            if next >= host.len() {
                return None;
            }
            start = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns_match_domain_suffixes_longest_first() {
        let mut m = HostPatternMatcher::new();
        m.insert(b"google.com", 1);
        m.insert(b"mail.google.com", 2);
        m.insert(b".youtube.com", 3);
        assert_eq!(m.find(b"google.com").map(|x| *x.1), Some(1));
        assert_eq!(m.find(b"www.google.com").map(|x| *x.1), Some(1));
        assert_eq!(m.find(b"WWW.Mail.Google.COM").map(|x| *x.1), Some(2));
        assert_eq!(m.find(b"notgoogle.com"), None);
        assert_eq!(m.find(b"google.com.evil"), None);
        assert_eq!(m.find(b"m.youtube.com").map(|x| *x.1), Some(3));
        assert_eq!(m.find(b"youtube.com"), None);
        assert_eq!(m.find(b""), None);
    }

    #[test]
    fn remove_detector_drops_its_entries() {
        let mut r = Registries::default();
        for d in [DetectorId(1), DetectorId(2)] {
            r.service_ports.push(PortRegistration { detector: d, proto: 6, port: 22, reversed: false });
        }
        r.remove_detector(DetectorId(1));
        assert_eq!(r.service_detectors_on_port(6, 22), vec![DetectorId(2)]);
    }
}
