//! The application layer of a flow: recognise the protocol by content, then parse it.
//!
//! [`AppLayer`] is the worker-side component (one per worker thread, like every inspector);
//! [`AppFlowState`] is what it keeps per flow. The final inspection chain embeds both;
//! [`AppLayerInspector`] wraps them as a stand-alone [`Inspector`] for tools and tests.
//!
//! # TCP
//! The first bytes of each direction (at most [`AppLayerConfig::probe_bytes`], 2 KiB by
//! default) are buffered from the reassembled stream until [`probe_tcp`] names the protocol.
//! The protocol's [`StreamParser`] is then given everything buffered (the direction that
//! spoke first, first) and everything after, in order, with [`StreamParser::gap`] for
//! missing bytes and [`StreamParser::end`] when the flow ends. Probing gives up when the
//! probe says `Unknown`, when a direction filled its buffer without a verdict (every probe
//! decides within a few hundred bytes), or when bytes go missing before a verdict (what
//! follows a hole cannot be compared with the first bytes of a protocol). When the bytes
//! only make sense with the roles swapped (the capture began with the server's reply), the
//! parser sees the directions swapped. A direction whose
//! parser reports `Done` or `Error` is not fed any more. An HTTP `CONNECT` or `Upgrade`
//! ([`AppEvent::HttpTunnel`]) starts probing afresh once, so TLS inside a proxy tunnel is
//! parsed too; the flow's `app_proto` stays `http`.
//!
//! # UDP
//! [`probe_udp`] looks at the payload of the flow's first datagrams (at most
//! [`AppLayerConfig::udp_probe_datagrams`]); once it names a protocol, every datagram of the
//! flow in either direction goes to the protocol's [`DatagramParser`].
//!
//! # Output
//! Every [`AppEvent`] is handed on as an [`AppRecord`] with the flow id, the direction of the
//! bytes that produced it and the protocol. The packet number is where the pipeline put the
//! event: [`ids_pipeline::EventKey::packet`] (for stream data, the packet whose
//! acknowledgement released the bytes; `u64::MAX` at the end of the run).
//!
//! # Memory
//! Per flow: [`AppFlowState`] is two words until the flow carries data; probing holds at most
//! `2 * probe_bytes` and is freed when it ends; parsers are capped by [`Limits`]. The common
//! path (a segment for a flow whose parser is known) allocates only what the parser reports.

use std::fmt;
use std::sync::{Arc, Mutex};

use ids_app_layer::{
    probe_tcp, probe_udp, AnomalyCounts, AppEvent, AppProto, DatagramParser, Direction, Limits, ParseStatus,
    Probe, StreamParser,
};
use ids_decode::Transport;
use ids_flow::{EndReason, Flow, FlowInfo};
use ids_pipeline::{Emitter, FlowContext, Inspector, PacketContext};
use ids_reassembly::tcp::Chunk;

const TCP: u8 = 6;
const UDP: u8 = 17;

/// Every protocol [`AppProto`] knows, in the order of the per-protocol counters.
pub const PROTOCOLS: [AppProto; 8] = [
    AppProto::Http,
    AppProto::Tls,
    AppProto::Dns,
    AppProto::Ssh,
    AppProto::Ftp,
    AppProto::Smtp,
    AppProto::Pop3,
    AppProto::Imap,
];

fn proto_index(p: AppProto) -> usize {
    match p {
        AppProto::Http => 0,
        AppProto::Tls => 1,
        AppProto::Dns => 2,
        AppProto::Ssh => 3,
        AppProto::Ftp => 4,
        AppProto::Smtp => 5,
        AppProto::Pop3 => 6,
        AppProto::Imap => 7,
    }
}

/// The flow layer's direction as the application layer names it (both call the flow's
/// initiator the client).
pub fn app_direction(dir: ids_flow::Direction) -> Direction {
    match dir {
        ids_flow::Direction::ToServer => Direction::ToServer,
        ids_flow::Direction::ToClient => Direction::ToClient,
    }
}

/// Settings of the application layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppLayerConfig {
    /// Caps of the parsers.
    pub limits: Limits,
    /// Bytes of each TCP direction kept for probing.
    pub probe_bytes: usize,
    /// UDP datagrams of a flow looked at before its protocol is called unknown.
    pub udp_probe_datagrams: u8,
}

impl Default for AppLayerConfig {
    fn default() -> Self {
        AppLayerConfig { limits: Limits::default(), probe_bytes: 2048, udp_probe_datagrams: 4 }
    }
}

/// One application-layer event of a flow.
#[derive(Clone, Debug, PartialEq)]
pub struct AppRecord {
    pub flow_id: u64,
    /// Direction of the bytes that produced the event, by the application's roles: requests
    /// are `ToServer`. This is the flow's direction unless the capture showed the server
    /// first, see [`AppFlowState::roles_reversed`].
    pub dir: Direction,
    /// The protocol whose parser reported it (inside an HTTP tunnel, the tunnelled protocol).
    pub proto: AppProto,
    pub event: AppEvent,
}

/// Counters of the application layer; [`AppStats::merge`] sums those of several workers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppStats {
    /// Flows per protocol (indexed like [`PROTOCOLS`]); a tunnel's inner protocol counts too.
    pub flows: [u64; 8],
    /// Events other than anomalies, per protocol.
    pub events: [u64; 8],
    /// Anomalies by name (see [`ids_app_layer::Anomaly::name`]).
    pub anomalies: AnomalyCounts,
    /// TCP flows that carried data in a protocol none of the probes recognised.
    pub tcp_unknown: u64,
    /// UDP flows with payload none of the probes recognised.
    pub udp_unknown: u64,
    /// TCP flows whose probing stopped at a hole in the stream.
    pub probe_gaps: u64,
    /// HTTP CONNECT/Upgrade tunnels and proxy handshakes (SOCKS, PROXY) probed afresh.
    pub tunnels: u64,
    /// Flows that switched to TLS in band (STARTTLS and the like).
    pub upgrades: u64,
}

impl AppStats {
    pub fn merge(&mut self, other: &AppStats) {
        for i in 0..PROTOCOLS.len() {
            self.flows[i] += other.flows[i];
            self.events[i] += other.events[i];
        }
        for (a, b) in self.anomalies.0.iter_mut().zip(other.anomalies.0.iter()) {
            *a = a.saturating_add(*b);
        }
        self.tcp_unknown += other.tcp_unknown;
        self.udp_unknown += other.udp_unknown;
        self.probe_gaps += other.probe_gaps;
        self.tunnels += other.tunnels;
        self.upgrades += other.upgrades;
    }

    pub fn flows_of(&self, p: AppProto) -> u64 {
        self.flows[proto_index(p)]
    }

    pub fn events_of(&self, p: AppProto) -> u64 {
        self.events[proto_index(p)]
    }
}

impl fmt::Display for AppStats {
    /// The non-zero counters, one `name: value` per line, for the end-of-run summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in PROTOCOLS.iter().enumerate() {
            if self.flows[i] > 0 || self.events[i] > 0 {
                writeln!(f, "app_layer.{}: flows {} events {}", p.name(), self.flows[i], self.events[i])?;
            }
        }
        for (name, n) in [
            ("tcp_unknown", self.tcp_unknown),
            ("udp_unknown", self.udp_unknown),
            ("probe_gaps", self.probe_gaps),
            ("tunnels", self.tunnels),
            ("upgrades", self.upgrades),
        ] {
            if n > 0 {
                writeln!(f, "app_layer.{name}: {n}")?;
            }
        }
        for (a, n) in self.anomalies.nonzero() {
            writeln!(f, "app_layer.anomaly.{}: {n}", a.name())?;
        }
        Ok(())
    }
}

/// The first bytes of each TCP direction while the protocol is not known.
#[derive(Default)]
struct ProbeBufs {
    bufs: [Vec<u8>; 2],
    /// The direction that delivered bytes first: its bytes are fed to the parser first.
    first: Option<Direction>,
    /// Probing inside an HTTP tunnel (no further tunnel is followed).
    in_tunnel: bool,
}

struct StreamState {
    parser: Box<dyn StreamParser + Send>,
    proto: AppProto,
    /// The flow's client is the application's server (see [`probe`]).
    reversed: bool,
    /// Directions, as the parser sees them, that are not fed any more (the parser said `Done`
    /// or `Error`).
    stopped: [bool; 2],
    /// Directions, as the parser sees them, that were given bytes.
    fed: [bool; 2],
    in_tunnel: bool,
}

impl StreamState {
    /// The application's direction of bytes sent in the flow's direction `dir`.
    fn app_dir(&self, dir: Direction) -> Direction {
        if self.reversed {
            dir.reverse()
        } else {
            dir
        }
    }
}

/// Probes the buffered first bytes, as the flow orients them and, failing that, the other
/// way round: the flow's client is whoever sent the first packet seen, so a capture that
/// starts after the handshake with the server's reply (or a server-first greeting sent
/// before anything else was captured) has the roles swapped. `Found((proto, reversed))`.
fn probe(p: &ProbeBufs) -> Verdict {
    let [ts, tc] = &p.bufs;
    if !p.in_tunnel {
        match proxy_prefix(ts, tc) {
            Ok(Some((a, b))) => return Verdict::Prefix(a, b),
            Ok(None) => return Verdict::NeedMore,
            Err(()) => {}
        }
    }
    let forward = probe_tcp(ts, tc);
    if let Probe::Found(proto) = forward {
        return Verdict::Found(proto, false);
    }
    match (forward, probe_tcp(tc, ts)) {
        (_, Probe::Found(proto)) => Verdict::Found(proto, true),
        (Probe::Unknown, Probe::Unknown) => Verdict::Unknown,
        _ => Verdict::NeedMore,
    }
}

/// [`Probe`] with the orientation: `Found(proto, reversed)`; `Prefix(ts, tc)`: a proxy
/// handshake of that many bytes in each direction comes first.
enum Verdict {
    Found(AppProto, bool),
    Prefix(usize, usize),
    NeedMore,
    Unknown,
}

/// A proxy handshake in front of the protocol the client means: SOCKS 4/4a and 5 (CONNECT,
/// no or username/password authentication) and the HAProxy PROXY protocol (v1 and v2).
/// `Ok(Some((ts, tc)))`: its length in each direction, once complete and successful;
/// `Ok(None)`: more bytes needed; `Err(())`: not one (or a refused one: nothing follows).
fn proxy_prefix(ts: &[u8], tc: &[u8]) -> Result<Option<(usize, usize)>, ()> {
    /// The byte at `i`, or "need more" out of the enclosing function.
    macro_rules! at {
        ($b:expr, $i:expr) => {
            match $b.get($i) {
                Some(&v) => usize::from(v),
                None => return Ok(None),
            }
        };
    }
    match ts.first() {
        Some(4) => {
            // VN=4 CD=1(connect) DSTPORT DSTIP USERID NUL [HOST NUL if DSTIP is 0.0.0.x];
            // reply VN=0 CD=90(granted) DSTPORT DSTIP.
            if at!(ts, 1) != 1 {
                return Err(());
            }
            let _ = at!(ts, 7);
            let mut end = 8;
            let nuls = if ts[4..7] == [0, 0, 0] && ts[7] != 0 { 2 } else { 1 };
            for _ in 0..nuls {
                match memchr_nul(&ts[end..]) {
                    Some(i) => end += i + 1,
                    None if ts.len() - end > 255 => return Err(()),
                    None => return Ok(None),
                }
            }
            if at!(tc, 0) != 0 || at!(tc, 1) != 90 {
                return Err(());
            }
            let _ = at!(tc, 7);
            Ok(Some((end, 8)))
        }
        Some(5) => {
            // Greeting: VER NMETHODS METHODS; choice: VER METHOD; then for method 2 the
            // username/password exchange (RFC 1929); then the request VER CMD RSV ATYP ADDR
            // PORT and the reply VER REP RSV ATYP ADDR PORT.
            let n = at!(ts, 1);
            if n == 0 {
                return Err(());
            }
            let mut p = 2 + n;
            if at!(tc, 0) != 5 {
                return Err(());
            }
            let mut q = 2;
            match at!(tc, 1) {
                0 => {}
                2 => {
                    if at!(ts, p) != 1 {
                        return Err(());
                    }
                    let ulen = at!(ts, p + 1);
                    let plen = at!(ts, p + 2 + ulen);
                    p += 3 + ulen + plen;
                    if at!(tc, q) != 1 || at!(tc, q + 1) != 0 {
                        return Err(());
                    }
                    q += 2;
                }
                _ => return Err(()),
            }
            let addr = |b: &[u8], at: usize| -> Result<Option<usize>, ()> {
                Ok(Some(match b.get(at + 3) {
                    None => return Ok(None),
                    Some(1) => 4,
                    Some(4) => 16,
                    Some(3) => match b.get(at + 4) {
                        Some(&l) => 1 + usize::from(l),
                        None => return Ok(None),
                    },
                    Some(_) => return Err(()),
                }))
            };
            if at!(ts, p) != 5 || at!(ts, p + 1) != 1 {
                return Err(());
            }
            let Some(alen) = addr(ts, p)? else { return Ok(None) };
            p += 4 + alen + 2;
            if at!(tc, q) != 5 || at!(tc, q + 1) != 0 {
                return Err(());
            }
            let Some(alen) = addr(tc, q)? else { return Ok(None) };
            q += 4 + alen + 2;
            let _ = (at!(ts, p - 1), at!(tc, q - 1));
            Ok(Some((p, q)))
        }
        Some(b'P') => {
            // PROXY v1: one text line of at most 107 bytes.
            let sig = b"PROXY ";
            let n = ts.len().min(sig.len());
            if ts[..n] != sig[..n] {
                return Err(());
            }
            match ts.windows(2).take(106).position(|w| w == b"\r\n") {
                Some(i) => Ok(Some((i + 2, 0))),
                None if ts.len() >= 107 => Err(()),
                None => Ok(None),
            }
        }
        Some(b'\r') => {
            // PROXY v2: 12-byte signature, version/command, family, 16-bit length.
            let sig = b"\r\n\r\n\0\r\nQUIT\n";
            let n = ts.len().min(sig.len());
            if ts[..n] != sig[..n] {
                return Err(());
            }
            let len = at!(ts, 14) << 8 | at!(ts, 15);
            let _ = at!(ts, 15 + len);
            Ok(Some((16 + len, 0)))
        }
        _ => Err(()),
    }
}

fn memchr_nul(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == 0)
}

#[derive(Default)]
enum Stage {
    /// No payload seen yet.
    #[default]
    Idle,
    /// UDP: this many datagrams did not match a probe.
    UdpProbing(u8),
    Probing(Box<ProbeBufs>),
    Stream(Box<StreamState>),
    Datagram(Box<dyn DatagramParser + Send>, AppProto),
    /// Unrecognised, or nothing more to parse.
    Off,
}

/// What the application layer keeps per flow.
#[derive(Default)]
pub struct AppFlowState {
    proto: Option<AppProto>,
    stage: Stage,
    /// Chunks still checked for a TLS ClientHello starting an in-band upgrade (see
    /// [`UPGRADE_WATCH_CHUNKS`]).
    upgrade_watch: u8,
}

/// While probing, after a line-based protocol's banners, or once probing failed, this many
/// chunks are checked
/// for a TLS ClientHello at their start: STARTTLS (SMTP, POP3 `STLS`, IMAP, FTP `AUTH TLS`)
/// and PostgreSQL's SSLRequest switch to TLS after a short clear-text exchange, and the
/// ClientHello then starts a segment of its own (the client waits for the server's go-ahead).
pub const UPGRADE_WATCH_CHUNKS: u8 = 16;

impl AppFlowState {
    /// The flow's application protocol, once recognised (the outer one for a tunnel).
    pub fn app_proto(&self) -> Option<AppProto> {
        self.proto
    }

    /// `app_proto` as EVE and `app-layer-protocol` name it (`"http"`, `"tls"`, ...).
    pub fn app_proto_name(&self) -> Option<&'static str> {
        self.proto.map(AppProto::name)
    }

    /// The flow's client (the sender of the first packet seen) is the application's server:
    /// the capture started with the server's reply or greeting.
    pub fn roles_reversed(&self) -> bool {
        matches!(&self.stage, Stage::Stream(s) if s.reversed)
    }

    /// Still probing or parsing (false once the flow is unrecognised or fully parsed).
    pub fn is_active(&self) -> bool {
        !matches!(self.stage, Stage::Off)
    }
}

/// Hands one parser event on, counting it.
fn record(
    stats: &mut AppStats,
    flow_id: u64,
    proto: AppProto,
    dir: Direction,
    event: AppEvent,
    out: &mut dyn FnMut(AppRecord),
) {
    match &event {
        AppEvent::Anomaly(a) => stats.anomalies.add(*a),
        _ => stats.events[proto_index(proto)] += 1,
    }
    out(AppRecord { flow_id, dir, proto, event });
}

/// The application layer of one worker: stateless apart from its settings and counters; all
/// per-flow state lives in [`AppFlowState`].
pub struct AppLayer {
    config: AppLayerConfig,
    stats: AppStats,
}

impl AppLayer {
    pub fn new(config: AppLayerConfig) -> AppLayer {
        AppLayer { config, stats: AppStats::default() }
    }

    pub fn config(&self) -> &AppLayerConfig {
        &self.config
    }

    /// This worker's counters so far.
    pub fn stats(&self) -> &AppStats {
        &self.stats
    }

    /// A decoded packet of a flow: UDP payloads are probed and parsed here (TCP payload
    /// arrives reassembled through [`AppLayer::stream`]).
    pub fn packet(
        &mut self,
        pkt: &PacketContext<'_, '_>,
        info: &FlowInfo,
        dir: ids_flow::Direction,
        state: &mut AppFlowState,
        out: &mut dyn FnMut(AppRecord),
    ) {
        if info.proto != UDP {
            return;
        }
        let Transport::Udp(udp) = &pkt.packet.transport else { return };
        if udp.payload.is_empty() {
            return;
        }
        let dir = app_direction(dir);
        match &mut state.stage {
            Stage::Idle | Stage::UdpProbing(_) => {
                let Some(proto) = probe_udp(udp.payload, udp.src_port, udp.dst_port) else {
                    let tried = match state.stage {
                        Stage::UdpProbing(n) => n + 1,
                        _ => 1,
                    };
                    state.stage = if tried >= self.config.udp_probe_datagrams {
                        self.stats.udp_unknown += 1;
                        Stage::Off
                    } else {
                        Stage::UdpProbing(tried)
                    };
                    return;
                };
                state.proto = Some(proto);
                self.stats.flows[proto_index(proto)] += 1;
                match proto.datagram_parser(&self.config.limits) {
                    Some(mut parser) => {
                        let stats = &mut self.stats;
                        parser.parse_datagram(dir, udp.payload, &mut |e| {
                            record(stats, info.id, proto, dir, e, out)
                        });
                        state.stage = Stage::Datagram(parser, proto);
                    }
                    None => state.stage = Stage::Off,
                }
            }
            Stage::Datagram(parser, proto) => {
                let (stats, proto) = (&mut self.stats, *proto);
                // Every datagram is a message of its own: an error in one does not stop the next.
                parser.parse_datagram(dir, udp.payload, &mut |e| record(stats, info.id, proto, dir, e, out));
            }
            Stage::Probing(_) | Stage::Stream(_) | Stage::Off => {}
        }
    }

    /// Reassembled TCP data of a flow, in order.
    pub fn stream(
        &mut self,
        info: &FlowInfo,
        state: &mut AppFlowState,
        dir: ids_flow::Direction,
        chunk: Chunk<'_>,
        out: &mut dyn FnMut(AppRecord),
    ) {
        if info.proto != TCP {
            return;
        }
        let dir = app_direction(dir);
        match chunk {
            Chunk::Data { bytes, .. } => {
                if !bytes.is_empty() {
                    self.data(info.id, state, dir, bytes, out)
                }
            }
            Chunk::Gap { len, .. } => self.gap(info.id, state, dir, len, out),
        }
    }

    /// The flow ended (its streams were flushed just before): parsers flush what they hold.
    pub fn flow_end(&mut self, info: &FlowInfo, state: &mut AppFlowState, out: &mut dyn FnMut(AppRecord)) {
        match std::mem::take(&mut state.stage) {
            Stage::Stream(mut s) => {
                let (stats, proto) = (&mut self.stats, s.proto);
                for dir in [Direction::ToServer, Direction::ToClient] {
                    s.parser.end(dir, &mut |e| record(stats, info.id, proto, dir, e, out));
                }
            }
            Stage::Probing(p) => {
                if !p.in_tunnel && p.bufs.iter().any(|b| !b.is_empty()) {
                    self.stats.tcp_unknown += 1;
                }
            }
            Stage::UdpProbing(_) => self.stats.udp_unknown += 1,
            Stage::Idle | Stage::Datagram(..) | Stage::Off => {}
        }
        state.stage = Stage::Off;
    }

    fn data(
        &mut self,
        flow_id: u64,
        state: &mut AppFlowState,
        dir: Direction,
        bytes: &[u8],
        out: &mut dyn FnMut(AppRecord),
    ) {
        if matches!(state.stage, Stage::Idle) {
            state.stage = Stage::Probing(Box::default());
            state.upgrade_watch = UPGRADE_WATCH_CHUNKS;
        }
        if state.upgrade_watch > 0 && self.upgrade(flow_id, state, dir, bytes, out) {
            return;
        }
        match &mut state.stage {
            Stage::Probing(p) => {
                let d = dir.index();
                let take = self.config.probe_bytes.saturating_sub(p.bufs[d].len()).min(bytes.len());
                p.bufs[d].extend_from_slice(&bytes[..take]);
                p.first.get_or_insert(dir);
                self.decide(flow_id, state, dir, &bytes[take..], out);
            }
            Stage::Stream(_) => self.feed(flow_id, state, dir, bytes, out),
            _ => {}
        }
    }

    /// Probes what is buffered; `rest` is what did not fit in the buffer of `dir`.
    fn decide(
        &mut self,
        flow_id: u64,
        state: &mut AppFlowState,
        dir: Direction,
        rest: &[u8],
        out: &mut dyn FnMut(AppRecord),
    ) {
        loop {
            let Stage::Probing(p) = &mut state.stage else { return };
            match probe(p) {
                Verdict::Found(proto, reversed) => {
                    self.start(flow_id, state, proto, reversed, out);
                    self.feed(flow_id, state, dir, rest, out);
                }
                Verdict::Prefix(ts, tc) => {
                    // A proxy handshake: what follows it is the tunnelled protocol's start.
                    p.bufs[0].drain(..ts);
                    p.bufs[1].drain(..tc);
                    p.in_tunnel = true;
                    self.stats.tunnels += 1;
                    continue;
                }
                Verdict::Unknown => self.give_up(state),
                Verdict::NeedMore if p.bufs[dir.index()].len() >= self.config.probe_bytes => {
                    self.give_up(state)
                }
                Verdict::NeedMore => {}
            }
            return;
        }
    }

    /// A TLS ClientHello starting a chunk of a flow that is unrecognised or past its
    /// line-based banners: parse TLS from here on. Returns whether it took the chunk.
    fn upgrade(
        &mut self,
        flow_id: u64,
        state: &mut AppFlowState,
        dir: Direction,
        bytes: &[u8],
        out: &mut dyn FnMut(AppRecord),
    ) -> bool {
        let watching = match &state.stage {
            Stage::Off => true,
            // Not the direction's first bytes: a clear-text exchange the probes do not know
            // came first (PostgreSQL's SSLRequest and its one-byte answer).
            Stage::Probing(p) => !p.in_tunnel && !p.bufs[dir.index()].is_empty(),
            Stage::Stream(s) => {
                s.stopped == [true; 2]
                    && matches!(s.proto, AppProto::Ftp | AppProto::Smtp | AppProto::Pop3 | AppProto::Imap)
            }
            _ => false,
        };
        if !watching {
            return false;
        }
        state.upgrade_watch -= 1;
        if bytes.first() != Some(&0x16) || probe_tcp(bytes, &[]) != Probe::Found(AppProto::Tls) {
            return false;
        }
        state.upgrade_watch = 0;
        self.stats.upgrades += 1;
        self.stats.flows[proto_index(AppProto::Tls)] += 1;
        state.proto.get_or_insert(AppProto::Tls);
        let parser = AppProto::Tls.stream_parser(&self.config.limits);
        // The ClientHello's sender is the TLS client, whatever the flow's orientation.
        let reversed = dir == Direction::ToClient;
        state.stage = Stage::Stream(Box::new(StreamState {
            parser,
            proto: AppProto::Tls,
            reversed,
            stopped: [false; 2],
            fed: [false; 2],
            in_tunnel: true,
        }));
        self.feed(flow_id, state, dir, bytes, out);
        true
    }

    fn gap(
        &mut self,
        flow_id: u64,
        state: &mut AppFlowState,
        dir: Direction,
        len: u64,
        out: &mut dyn FnMut(AppRecord),
    ) {
        match &mut state.stage {
            // Nothing buffered yet: the stream starts after the hole, as in a midstream
            // pickup; probing the bytes that follow is all that can be done.
            Stage::Idle => {}
            Stage::Probing(p) if p.bufs.iter().all(Vec::is_empty) => {}
            Stage::Probing(p) => match probe(p) {
                Verdict::Found(proto, reversed) => {
                    self.start(flow_id, state, proto, reversed, out);
                    self.feed_gap(flow_id, state, dir, len, out);
                }
                _ => {
                    self.stats.probe_gaps += 1;
                    self.give_up(state);
                }
            },
            Stage::Stream(_) => self.feed_gap(flow_id, state, dir, len, out),
            _ => {}
        }
    }

    fn give_up(&mut self, state: &mut AppFlowState) {
        if let Stage::Probing(p) = &state.stage {
            if !p.in_tunnel {
                self.stats.tcp_unknown += 1;
                state.upgrade_watch = UPGRADE_WATCH_CHUNKS;
            }
        }
        state.stage = Stage::Off;
    }

    /// The protocol is known: create its parser and feed it what probing buffered.
    fn start(
        &mut self,
        flow_id: u64,
        state: &mut AppFlowState,
        proto: AppProto,
        reversed: bool,
        out: &mut dyn FnMut(AppRecord),
    ) {
        let Stage::Probing(p) = std::mem::take(&mut state.stage) else { return };
        let ProbeBufs { bufs, first, in_tunnel } = *p;
        if state.proto.is_none() {
            state.proto = Some(proto);
        }
        self.stats.flows[proto_index(proto)] += 1;
        if matches!(proto, AppProto::Ftp | AppProto::Smtp | AppProto::Pop3 | AppProto::Imap) {
            state.upgrade_watch = UPGRADE_WATCH_CHUNKS;
        }
        let parser = proto.stream_parser(&self.config.limits);
        state.stage = Stage::Stream(Box::new(StreamState {
            parser,
            proto,
            reversed,
            stopped: [false; 2],
            fed: [false; 2],
            in_tunnel,
        }));
        let first = first.unwrap_or(Direction::ToServer);
        for dir in [first, first.reverse()] {
            self.feed(flow_id, state, dir, &bufs[dir.index()], out);
        }
    }

    fn feed(
        &mut self,
        flow_id: u64,
        state: &mut AppFlowState,
        dir: Direction,
        bytes: &[u8],
        out: &mut dyn FnMut(AppRecord),
    ) {
        let Stage::Stream(s) = &mut state.stage else { return };
        let dir = s.app_dir(dir);
        if bytes.is_empty() || s.stopped[dir.index()] {
            return;
        }
        let (stats, proto) = (&mut self.stats, s.proto);
        let first = !std::mem::replace(&mut s.fed[dir.index()], true);
        let mut tunnel = false;
        let status = s.parser.parse(dir, bytes, &mut |e| {
            tunnel |= matches!(e, AppEvent::HttpTunnel { .. });
            record(stats, flow_id, proto, dir, e, out)
        });
        if status == ParseStatus::Error && first && proto != AppProto::Ssh {
            // The other side answered in another protocol than the one probed: a client
            // speaking HTTP to an SSH server gets the server's identification line, which
            // is worth reporting. (Only SSH: its first line stands on its own.)
            if let Some(line) = bytes.split(|&c| c == b'\n').next().filter(|_| bytes.contains(&b'\n')) {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if let Some(b) = ids_app_layer::ssh::parse_banner(dir, line) {
                    record(
                        &mut self.stats,
                        flow_id,
                        AppProto::Ssh,
                        dir,
                        AppEvent::SshBanner(Box::new(b)),
                        out,
                    );
                }
            }
        }
        self.after(state, dir, status, tunnel);
    }

    fn feed_gap(
        &mut self,
        flow_id: u64,
        state: &mut AppFlowState,
        dir: Direction,
        len: u64,
        out: &mut dyn FnMut(AppRecord),
    ) {
        let Stage::Stream(s) = &mut state.stage else { return };
        let dir = s.app_dir(dir);
        if s.stopped[dir.index()] {
            return;
        }
        let (stats, proto) = (&mut self.stats, s.proto);
        let status = s.parser.gap(dir, len, &mut |e| record(stats, flow_id, proto, dir, e, out));
        self.after(state, dir, status, false);
    }

    /// Stops feeding a direction (`dir` as the parser sees it) the parser is finished with; a
    /// tunnel starts probing afresh.
    fn after(&mut self, state: &mut AppFlowState, dir: Direction, status: ParseStatus, tunnel: bool) {
        let Stage::Stream(s) = &mut state.stage else { return };
        if tunnel && !s.in_tunnel {
            // The bytes of this chunk after the tunnel's start went to the HTTP parser, which
            // drops them; in practice the tunnel's first bytes come in a later segment (the
            // client waits for the proxy's answer).
            self.stats.tunnels += 1;
            state.stage = Stage::Probing(Box::new(ProbeBufs { in_tunnel: true, ..Default::default() }));
            return;
        }
        if matches!(status, ParseStatus::Done | ParseStatus::Error) {
            // The parser stays until the flow ends: `end` may still have something to flush.
            s.stopped[dir.index()] = true;
        }
    }
}

/// [`AppLayer`] as a stand-alone inspector: its events are [`AppRecord`]s. Counters are added
/// to the shared [`AppStats`] given to [`AppLayerInspector::with_stats`] when the worker's
/// inspector is dropped, i.e. by the time `ids_pipeline::run` returns.
pub struct AppLayerInspector {
    app: AppLayer,
    sink: Option<Arc<Mutex<AppStats>>>,
}

impl AppLayerInspector {
    pub fn new(config: AppLayerConfig) -> AppLayerInspector {
        AppLayerInspector { app: AppLayer::new(config), sink: None }
    }

    /// An inspector that adds its counters to `sink` when it is dropped.
    pub fn with_stats(config: AppLayerConfig, sink: Arc<Mutex<AppStats>>) -> AppLayerInspector {
        AppLayerInspector { app: AppLayer::new(config), sink: Some(sink) }
    }

    pub fn app_layer(&self) -> &AppLayer {
        &self.app
    }
}

impl Drop for AppLayerInspector {
    fn drop(&mut self) {
        if let Some(sink) = &self.sink {
            // A poisoned lock means another worker panicked; its counters are lost anyway.
            if let Ok(mut total) = sink.lock() {
                total.merge(self.app.stats());
            }
        }
    }
}

impl Inspector for AppLayerInspector {
    type FlowState = AppFlowState;
    type Event = AppRecord;

    fn packet(
        &mut self,
        pkt: &PacketContext<'_, '_>,
        flow: Option<FlowContext<'_, AppFlowState>>,
        out: &mut Emitter<AppRecord>,
    ) {
        if let Some(f) = flow {
            self.app.packet(pkt, f.info, f.direction, f.state, &mut |r| out.emit(r));
        }
    }

    fn stream(
        &mut self,
        info: &FlowInfo,
        state: &mut AppFlowState,
        dir: ids_flow::Direction,
        chunk: Chunk<'_>,
        out: &mut Emitter<AppRecord>,
    ) {
        self.app.stream(info, state, dir, chunk, &mut |r| out.emit(r));
    }

    fn flow_end(&mut self, mut flow: Flow<AppFlowState>, _reason: EndReason, out: &mut Emitter<AppRecord>) {
        self.app.flow_end(&flow.info, &mut flow.state, &mut |r| out.emit(r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ids_capture::{LinkType, Timestamp};
    use ids_flow::{Direction::*, FlowKey};
    use std::net::{IpAddr, Ipv4Addr};

    const C: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const S: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn info(proto: u8, sport: u16, dport: u16) -> FlowInfo {
        FlowInfo {
            id: 7,
            key: FlowKey { lo_addr: C, hi_addr: S, lo_port: sport, hi_port: dport, proto, vlan: 0 },
            client: (C, sport),
            server: (S, dport),
            proto,
            vlan: 0,
            start: Timestamp::ZERO,
            last_seen: Timestamp::ZERO,
            packets: [0; 2],
            bytes: [0; 2],
        }
    }

    /// Feeds TCP chunks (`Err(len)`: a gap of that many bytes) and ends the flow.
    fn run_tcp(
        chunks: &[(ids_flow::Direction, Result<&[u8], u64>)],
    ) -> (AppFlowState, Vec<AppRecord>, AppStats) {
        let mut app = AppLayer::new(AppLayerConfig::default());
        let info = info(TCP, 40000, 8080);
        let mut st = AppFlowState::default();
        let mut out = Vec::new();
        let mut offsets = [0u64; 2];
        for (dir, c) in chunks {
            let offset = &mut offsets[dir.index()];
            let chunk = match c {
                Ok(bytes) => Chunk::Data { offset: *offset, bytes },
                Err(len) => Chunk::Gap { offset: *offset, len: *len },
            };
            *offset += c.map_or_else(|len| len, |b| b.len() as u64);
            app.stream(&info, &mut st, *dir, chunk, &mut |r| out.push(r));
        }
        app.flow_end(&info, &mut st, &mut |r| out.push(r));
        (st, out, app.stats().clone())
    }

    fn requests(recs: &[AppRecord]) -> Vec<Vec<u8>> {
        recs.iter()
            .filter_map(|r| match &r.event {
                AppEvent::HttpRequest(q) => Some(q.uri_raw.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn http_split_while_probing() {
        let (st, recs, stats) = run_tcp(&[
            (ToServer, Ok(b"GE")),
            (ToServer, Ok(b"T /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n")),
            (ToClient, Ok(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")),
            (ToServer, Ok(b"\r\n")),
        ]);
        // The protocol outlives the parser, for the flow record written at its end.
        assert_eq!((st.app_proto_name(), st.is_active()), (Some("http"), false));
        assert_eq!(requests(&recs), vec![b"/a".to_vec(), b"/b".to_vec()]);
        assert!(recs.iter().all(|r| r.flow_id == 7 && r.proto == AppProto::Http));
        assert_eq!((stats.flows_of(AppProto::Http), stats.tcp_unknown), (1, 0));
    }

    #[test]
    fn capture_starting_with_the_reply() {
        let (_, recs, _) = run_tcp(&[
            (ToServer, Ok(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")),
            (ToClient, Ok(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")),
        ]);
        assert_eq!(requests(&recs), vec![b"/next".to_vec()]);
        let req = recs.iter().find(|r| matches!(r.event, AppEvent::HttpRequest(_))).unwrap();
        assert_eq!(req.dir, Direction::ToServer);
    }

    #[test]
    fn socks5_then_http() {
        let (st, recs, stats) = run_tcp(&[
            (ToServer, Ok(b"\x05\x01\x00")),
            (ToClient, Ok(b"\x05\x00")),
            (ToServer, Ok(b"\x05\x01\x00\x03\x0bexample.com\x00\x50")),
            (ToClient, Ok(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38")),
            (ToServer, Ok(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")),
        ]);
        assert_eq!((st.app_proto(), stats.tunnels), (Some(AppProto::Http), 1));
        assert_eq!(requests(&recs), vec![b"/".to_vec()]);
        // SOCKS4 with the request and the data in one piece.
        let (_, recs, _) = run_tcp(&[
            (ToServer, Ok(b"\x04\x01\x00\x50\x01\x02\x03\x04user\x00")),
            (ToClient, Ok(b"\x00\x5a\x00\x00\x00\x00\x00\x00")),
            (ToServer, Ok(b"GET /4 HTTP/1.0\r\n\r\n")),
        ]);
        assert_eq!(requests(&recs), vec![b"/4".to_vec()]);
    }

    #[test]
    fn starttls_upgrade() {
        let hello = include_bytes!("../../app-layer/testdata/tls_long_cert.c2s.bin");
        let (st, recs, stats) = run_tcp(&[
            (ToClient, Ok(b"220 mx.example.org ESMTP ready\r\n")),
            (ToServer, Ok(b"EHLO me\r\n")),
            (ToClient, Ok(b"250-mx\r\n250 STARTTLS\r\n")),
            (ToServer, Ok(b"STARTTLS\r\n")),
            (ToClient, Ok(b"220 go ahead\r\n")),
            (ToServer, Ok(&hello[..])),
        ]);
        assert_eq!((st.app_proto(), stats.upgrades), (Some(AppProto::Smtp), 1));
        assert!(recs.iter().any(|r| matches!(r.event, AppEvent::TlsClientHello(_))));
    }

    #[test]
    fn server_first_banner_and_unknown() {
        let (st, recs, _) =
            run_tcp(&[(ToClient, Ok(b"220 mx.example.org ESMTP ready\r\n")), (ToServer, Ok(b"EHLO me\r\n"))]);
        assert_eq!(st.app_proto(), Some(AppProto::Smtp));
        assert!(recs.iter().any(|r| matches!(&r.event, AppEvent::Banner { proto: AppProto::Smtp, .. })));

        let (st, recs, stats) =
            run_tcp(&[(ToServer, Ok(b"\x00\x00\x00\x2fbinary")), (ToClient, Ok(b"\x00\x01"))]);
        assert_eq!((st.app_proto(), recs.len(), stats.tcp_unknown), (None, 0, 1));
    }

    #[test]
    fn gaps_while_probing() {
        // A hole before anything was buffered: what follows is probed (midstream pickup).
        let (st, recs, _) = run_tcp(&[(ToServer, Err(100)), (ToServer, Ok(b"GET / HTTP/1.0\r\n\r\n"))]);
        assert_eq!((st.app_proto(), requests(&recs).len()), (Some(AppProto::Http), 1));
        // A hole after an undecided prefix ends probing.
        let (st, _, stats) =
            run_tcp(&[(ToServer, Ok(b"GE")), (ToServer, Err(10)), (ToServer, Ok(b"T / HTTP/1.0\r\n\r\n"))]);
        assert_eq!((st.app_proto(), stats.probe_gaps), (None, 1));
        // A hole after a decided prefix goes to the parser.
        let (st, recs, _) = run_tcp(&[
            (ToServer, Ok(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")),
            (ToServer, Err(10)),
            (ToServer, Ok(b"GET /again HTTP/1.1\r\n\r\n")),
        ]);
        assert_eq!(st.app_proto(), Some(AppProto::Http));
        assert!(recs.iter().any(|r| r.event == AppEvent::Anomaly(ids_app_layer::Anomaly::HttpGapResync)));
    }

    #[test]
    fn probe_buffer_is_bounded() {
        // A greeting-like line that never ends: the probe decides within the cap.
        let long = [b'x'; 4096];
        let (st, _, stats) = run_tcp(&[(ToClient, Ok(b"+")), (ToClient, Ok(&long[..]))]);
        assert_eq!((st.app_proto(), stats.tcp_unknown), (None, 1));
    }

    #[test]
    fn connect_tunnel_is_probed_again() {
        let hello = include_bytes!("../../app-layer/testdata/tls_long_cert.c2s.bin");
        let (st, recs, stats) = run_tcp(&[
            (ToServer, Ok(b"CONNECT www.example.com:443 HTTP/1.1\r\nHost: www.example.com:443\r\n\r\n")),
            (ToClient, Ok(b"HTTP/1.1 200 Connection established\r\n\r\n")),
            (ToServer, Ok(&hello[..])),
        ]);
        assert_eq!(st.app_proto(), Some(AppProto::Http));
        assert_eq!(stats.tunnels, 1);
        let ch = recs.iter().find_map(|r| match &r.event {
            AppEvent::TlsClientHello(ch) => Some((r.proto, ch.sni.clone())),
            _ => None,
        });
        assert_eq!(ch, Some((AppProto::Tls, Some(b"www.repubblica.it".to_vec()))));
    }

    #[test]
    fn udp_dns() {
        let q = b"\x00\x06\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        let total = (20 + 8 + q.len()) as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&40000u16.to_be_bytes());
        ip.extend_from_slice(&53u16.to_be_bytes());
        ip.extend_from_slice(&((8 + q.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(q);
        let pkt = ids_decode::decode(LinkType::RAW, &ip);
        let ctx = PacketContext { number: 1, ts: Timestamp::ZERO, packet: &pkt, reassembled: false };
        let mut app = AppLayer::new(AppLayerConfig::default());
        let info = info(UDP, 40000, 53);
        let mut st = AppFlowState::default();
        let mut out = Vec::new();
        for _ in 0..2 {
            app.packet(&ctx, &info, ToServer, &mut st, &mut |r| out.push(r));
        }
        assert_eq!(st.app_proto_name(), Some("dns"));
        assert_eq!(out.iter().filter(|r| matches!(r.event, AppEvent::Dns(_))).count(), 2);
        assert_eq!((app.stats().flows_of(AppProto::Dns), app.stats().events_of(AppProto::Dns)), (1, 2));
    }
}
