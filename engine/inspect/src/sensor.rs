//! The sensor: application layer plus rule detection, producing alerts.
//!
//! [`Sensor`] is the inspector `ids -r capture -R rules` runs, one per worker. All workers share
//! one compiled rule set ([`SensorRules`], in an `Arc`); each keeps its own
//! [`ids_detect::Detector`] (scratch, thresholds, xbits) and an [`AppLayer`]. Per flow it keeps
//! a [`SensorFlow`]: the application-layer state, the flowbits/flowints
//! ([`FlowDetectState`]), TLS state bits and the header facts of each side's last TCP segment.
//!
//! # What is inspected, and when
//!
//! A rule set is run over *detection units*; each unit is one [`RuleSet::detect`] call:
//!
//! * **Every decoded packet** is one unit with its header facts (`flags`, `ttl`, `dsize`...).
//!   For UDP, ICMP and other IP protocols `pkt_data` is the transport payload. For **TCP the
//!   packet unit has no `pkt_data`**: header-only rules (`flags:S`, `dsize:0`, `ttl:`...) fire
//!   on the segment, payload rules do not (`payload_len` is still the segment's, so `dsize`
//!   works).
//! * **Every reassembled TCP chunk** (`Inspector::stream`, [`Chunk::Data`]) is one unit with
//!   `pkt_data` = the chunk's bytes, `is_rebuilt_stream = true`, and header facts oriented the
//!   way the bytes travelled (sender → receiver, addresses and ports swapped for data sent to
//!   the client) taken from the sender's last segment.
//! * **Every application-layer record** ([`AppRecord`]) is one unit with its buffers
//!   (`http.uri`, `dns.query`, `file_data`...); the first record a chunk (or a UDP datagram)
//!   produced in its own direction is merged into that chunk's (datagram's) unit, so a rule
//!   mixing `pkt_data` and application buffers (Snort 2 `content:"x"; http_uri;` next to a raw
//!   content) can match once.
//!
//! This is Suricata's choice of inspecting TCP payload on the reassembled stream only, and it
//! means **a TCP payload rule alerts once per stream chunk, never per raw segment**. Snort 2
//! inspected both the raw segments and the rebuilt PDU, so a content that fits in one segment
//! alerted twice there (once with the segment, once with the rebuilt packet); here it alerts
//! once. The alert carries the chunk's orientation and the time of the packet whose
//! acknowledgement released the bytes.
//!
//! Header-only rules match on any unit, since their header facts are there too; a rule that
//! inspects no buffer at all is therefore only *reported* on packet units (it was evaluated
//! already on the packet that carried the header). Its post-match side effects (flowbits
//! setters, threshold counting) still run on the other units; for idempotent flowbit sets that
//! is harmless, for `flowbits:toggle` / `flowint` increments / thresholds on buffer-less rules it
//! over-counts. `dsize` on stream and application units is the chunk length / 0.
//!
//! # Transactions
//!
//! An application record is inspected together with the other records of its transaction seen
//! so far, as Suricata inspects a transaction: an HTTP unit carries the buffers of the request
//! head, request body, response head and response body of its `tx_id` that have arrived (so
//! `http.method` + `http.client_body`, or `http.uri` + `http.stat_code`, can match in one rule),
//! the buffers of the record's own direction winning where both directions fill one buffer.
//! A rule that inspects an application buffer alerts at most once per transaction; a TLS or
//! SSH session is one transaction (a second ClientHello after a HelloRetryRequest does not alert
//! again). DNS questions are inspected one at a time (one `dns.query` each), and each rule
//! alerts at most once per message. Only the current HTTP transaction's parts are kept per flow,
//! until its response body completes or the next transaction starts.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use ids_app_layer::{AppEvent, Direction as AppDir};
use ids_capture::Timestamp;
use ids_decode::{Packet, Transport};
use ids_detect::{
    ssl_state, ssl_version, BufferId, Buffers, DetectStats, Detector, FlowDetectState, FlowFacts, IcmpFacts,
    Match, PacketFacts, RuleSet, TcpFacts,
};
use ids_flow::{Direction, EndReason, Flow, FlowInfo};
use ids_output::{Action as OutAction, Alert, Direction as OutDir, FlowCounters};
use ids_pipeline::{Emitter, FlowContext, Inspector, PacketContext};
use ids_reassembly::tcp::Chunk;
use ids_rules::{Action as RuleAction, ClassificationTable, RuleOption};

use crate::app::{AppFlowState, AppLayer, AppLayerConfig, AppRecord, AppStats};

const TCP: u8 = 6;
const UDP: u8 = 17;

/// What an alert of one rule always says, computed once at startup.
#[derive(Clone, Debug)]
struct AlertTemplate {
    msg: String,
    classification: Option<String>,
    classtype: Option<String>,
    priority: u32,
    metadata: Vec<(String, String)>,
    references: Vec<String>,
    /// The rule inspects at least one buffer (see the module doc: buffer-less rules are
    /// reported on packet units only).
    inspects_buffer: bool,
    /// The rule inspects an application buffer: it alerts at most once per transaction.
    tx_based: bool,
}

/// The compiled rules and what alerts need from them; shared by every worker.
pub struct SensorRules {
    rules: RuleSet,
    templates: Vec<AlertTemplate>,
    /// Inspect the payload of TLS connections after their handshake (see
    /// [`SensorRules::inspect_encrypted`]).
    inspect_encrypted: bool,
}

impl SensorRules {
    /// Wraps a compiled rule set. `classes` gives the classtype descriptions (`[Classification:
    /// ...]`) and, for rules without `priority:`, the priority (else 3, as Snort).
    pub fn new(mut rules: RuleSet, classes: &ClassificationTable) -> SensorRules {
        let templates = rules.rules().iter().map(|info| template(info, classes)).collect();
        // Alerts are built from the templates: the parsed rules' bodies are not needed again.
        rules.release_rule_sources();
        SensorRules { rules, templates, inspect_encrypted: false }
    }

    /// Whether stream data of a TLS connection is still given to payload rules (`pkt_data`)
    /// once both sides have switched to encrypted records. Off by default, as in Suricata
    /// (`tls.encryption-handling: default`: "disable raw content inspection, keep tracking")
    /// and Snort (the SSL inspector stops content inspection of encrypted sessions): a pattern
    /// found in ciphertext is noise, and bulk encrypted transfers are most of the bytes on a
    /// modern network. Header rules, `tls.*` buffers and flowbits keep working.
    pub fn inspect_encrypted(mut self, yes: bool) -> SensorRules {
        self.inspect_encrypted = yes;
        self
    }

    pub fn rule_set(&self) -> &RuleSet {
        &self.rules
    }
}

fn template(info: &ids_detect::RuleInfo, classes: &ClassificationTable) -> AlertTemplate {
    let meta = &info.rule.meta;
    let class = meta.classtype.as_deref().and_then(|c| classes.get(c));
    let inspects_buffer = info.rule.options.iter().any(|o| {
        matches!(
            o,
            RuleOption::Content(_)
                | RuleOption::Pcre(_)
                | RuleOption::Buffer(_)
                | RuleOption::ByteTest(_)
                | RuleOption::ByteJump(_)
                | RuleOption::ByteExtract(_)
                | RuleOption::ByteMath(_)
                | RuleOption::IsDataAt(_)
                | RuleOption::BufferLen { .. }
                | RuleOption::Urilen { .. }
                | RuleOption::Base64Decode { .. }
        )
    });
    let app_buffer =
        |b: &ids_rules::Buffer| !matches!(b, ids_rules::Buffer::PktData | ids_rules::Buffer::RawData);
    let tx_based = info.rule.options.iter().any(|o| match o {
        RuleOption::Content(c) => app_buffer(&c.buffer),
        RuleOption::Pcre(p) => app_buffer(&p.buffer),
        RuleOption::Buffer(b) => app_buffer(&b.buffer),
        _ => false,
    });
    AlertTemplate {
        msg: meta.msg.clone().unwrap_or_default(),
        classification: class.map(|c| c.description.clone()),
        classtype: meta.classtype.clone(),
        priority: info.priority.or(meta.priority).or(class.map(|c| c.priority)).unwrap_or(3),
        metadata: meta.metadata.clone(),
        references: meta.references.iter().map(|r| format!("{},{}", r.system, r.id)).collect(),
        inspects_buffer,
        tx_based,
    }
}

/// The rule language's actions as the loggers know them (Snort 2 `sdrop`/`sblock` are drops
/// that are not logged by Snort, but an IDS run only reports, so they are shown as drops).
fn out_action(a: RuleAction) -> OutAction {
    match a {
        RuleAction::Alert | RuleAction::Activate | RuleAction::Dynamic | RuleAction::FileId => {
            OutAction::Alert
        }
        RuleAction::Log => OutAction::Log,
        RuleAction::Pass => OutAction::Pass,
        RuleAction::Drop | RuleAction::Sdrop => OutAction::Drop,
        RuleAction::Block | RuleAction::Sblock => OutAction::Block,
        RuleAction::Reject | RuleAction::RejectSrc | RuleAction::RejectDst | RuleAction::RejectBoth => {
            OutAction::Reject
        }
        RuleAction::React => OutAction::React,
        RuleAction::Rewrite => OutAction::Rewrite,
    }
}

/// Counters of the sensor; [`SensorStats::merge`] sums those of several workers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SensorStats {
    /// Alerts emitted.
    pub alerts: u64,
    /// Alerts per `(gid, sid)`.
    pub by_sid: HashMap<(u32, u32), u64>,
    /// Detection units run (packets, stream chunks, application records).
    pub units: u64,
    /// Of which stream chunks.
    pub stream_units: u64,
    /// Of which application-layer records (alone or merged into a chunk's unit).
    pub app_units: u64,
    /// Rules fully evaluated (prefilter candidates).
    pub rules_evaluated: u64,
    /// Buffer scans by the prefilter automata, and the bytes they read.
    pub scans: u64,
    pub scanned_bytes: u64,
    /// Rule matches before suppression of buffer-less rules on non-packet units.
    pub matched: u64,
    /// Evaluations that ran out of search budget.
    pub budget_exhausted: u64,
    /// The application layer's counters.
    pub app: AppStats,
}

impl SensorStats {
    pub fn merge(&mut self, other: &SensorStats) {
        self.alerts += other.alerts;
        for (k, v) in &other.by_sid {
            *self.by_sid.entry(*k).or_default() += v;
        }
        self.units += other.units;
        self.stream_units += other.stream_units;
        self.app_units += other.app_units;
        self.rules_evaluated += other.rules_evaluated;
        self.scans += other.scans;
        self.scanned_bytes += other.scanned_bytes;
        self.matched += other.matched;
        self.budget_exhausted += other.budget_exhausted;
        self.app.merge(&other.app);
    }

    /// The `n` `(gid, sid)`s with the most alerts, most first (ties by id).
    pub fn top(&self, n: usize) -> Vec<((u32, u32), u64)> {
        let mut v: Vec<_> = self.by_sid.iter().map(|(k, c)| (*k, *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

impl fmt::Display for SensorStats {
    /// The alerts section of the end-of-run summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "alerts: {}", self.alerts)?;
        for ((gid, sid), n) in self.top(10) {
            writeln!(f, "  {gid}:{sid}: {n}")?;
        }
        writeln!(f, "detection_units: {}", self.units)?;
        writeln!(f, "  stream_chunks: {}", self.stream_units)?;
        writeln!(f, "  app_records: {}", self.app_units)?;
        writeln!(f, "rules_evaluated: {}", self.rules_evaluated)?;
        writeln!(f, "prefilter_scans: {} ({} bytes)", self.scans, self.scanned_bytes)?;
        if self.budget_exhausted > 0 {
            writeln!(f, "search_budget_exhausted: {}", self.budget_exhausted)?;
        }
        Ok(())
    }
}

/// What the sensor keeps per flow.
#[derive(Default)]
pub struct SensorFlow {
    pub app: AppFlowState,
    pub detect: FlowDetectState,
    /// [`ssl_state`] bits seen.
    ssl_state: u8,
    /// [`ssl_version`] bits seen.
    ssl_version: u8,
    /// Flow directions (bit = `Direction::index`) whose TLS records are encrypted.
    tls_encrypted: u8,
    /// The application transaction in progress (allocated with the flow's first record).
    tx: Option<Box<TxState>>,
    /// Header facts of the last TCP segment sent in each flow direction, for stream units
    /// (boxed: only TCP flows that carried a segment pay for it).
    last_hdr: Option<Box<[Option<Header>; 2]>>,
}

/// What the sensor keeps of a flow's application transactions.
#[derive(Default)]
struct TxState {
    /// The parts of the current HTTP transaction seen so far: request head, request body,
    /// response head, response body (see [`http_part`]); all of them are inspected together.
    http: [Option<AppEvent>; 4],
    /// Its `tx_id`.
    http_tx: u64,
    /// (transaction, rule) alerts already reported ([`Dedupe::Tx`]).
    alerted: Vec<(u64, u32)>,
}

/// The transaction key of a record, for per-transaction alerting: the HTTP `tx_id`; a TLS or
/// SSH session is one transaction (as in Suricata). DNS messages are handled per message.
fn tx_key(ev: &AppEvent) -> Option<u64> {
    match ev {
        AppEvent::HttpRequest(r) => Some(r.tx_id),
        AppEvent::HttpResponse(r) => Some(r.tx_id),
        AppEvent::HttpBody(b) => Some(b.tx_id),
        AppEvent::TlsClientHello(_) | AppEvent::TlsServerHello(_) | AppEvent::TlsCertificate(_) => {
            Some(u64::MAX - 1)
        }
        AppEvent::SshBanner(_) => Some(u64::MAX - 2),
        _ => None,
    }
}

/// The slot of an HTTP record in [`TxState::http`].
fn http_part(ev: &AppEvent) -> Option<usize> {
    match ev {
        AppEvent::HttpRequest(_) => Some(0),
        AppEvent::HttpBody(b) if b.dir == AppDir::ToServer => Some(1),
        AppEvent::HttpResponse(_) => Some(2),
        AppEvent::HttpBody(_) => Some(3),
        _ => None,
    }
}

/// The header facts a stream unit borrows from the sender's last segment.
#[derive(Clone, Copy, Debug)]
struct Header {
    ip_version: u8,
    ttl: u8,
    tos: u8,
    ip_id: u32,
    df: bool,
    tcp: TcpFacts,
}

/// Reused per-worker buffers for the derived application buffers (request line, header names).
#[derive(Default)]
struct Scratch {
    line: Vec<u8>,
    start: Vec<u8>,
    names: Vec<u8>,
}

/// The detection half of the sensor (split from the application layer so both can be borrowed
/// at once).
struct Det {
    shared: Arc<SensorRules>,
    det: Detector,
    matches: Vec<Match>,
    stats: SensorStats,
    /// Rules already reported for the current DNS message.
    reported: Vec<u32>,
}

/// Which alerts of a unit are suppressed as repeats.
enum Dedupe<'s> {
    /// None: every match is reported.
    None,
    /// Each rule at most once over the units of one DNS message (`Det::reported`).
    Message,
    /// Rules inspecting application buffers at most once per transaction `.0` of the flow
    /// (Suricata's per-transaction detection state): `.1` lists (transaction, rule) reported.
    Tx(u64, &'s mut Vec<(u64, u32)>),
}

/// (transaction, rule) pairs remembered per flow; the oldest are forgotten first.
const TX_ALERTS_KEPT: usize = 64;

/// Where a unit comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Packet,
    Stream,
    App,
}

/// Flow-side context of one unit.
struct FlowView<'a> {
    info: &'a FlowInfo,
    /// Flow direction of the unit.
    dir: Direction,
    established: bool,
}

impl Det {
    /// Runs one unit and emits its alerts.
    #[allow(clippy::too_many_arguments)]
    fn unit(
        &mut self,
        unit: Unit,
        ts: Timestamp,
        facts: &PacketFacts<'_>,
        flow: Option<&FlowView<'_>>,
        state: Option<&mut SensorFlow>,
        bufs: &Buffers<'_>,
        mut dedupe: Dedupe<'_>,
        out: &mut Emitter<Alert>,
    ) {
        let (app_proto, ssl_st, ssl_ver) = match &state {
            Some(s) => (s.app.app_proto_name(), s.ssl_state, s.ssl_version),
            None => (None, 0, 0),
        };
        let ff = match flow {
            Some(f) => FlowFacts {
                has_flow: true,
                established: f.established,
                to_server: f.dir == Direction::ToServer,
                app_proto,
                client_bytes: f.info.bytes[Direction::ToServer.index()],
                server_bytes: f.info.bytes[Direction::ToClient.index()],
                ssl_state: ssl_st,
                ssl_version: ssl_ver,
                ..FlowFacts::default()
            },
            None => FlowFacts::default(),
        };
        let before = *self.det.stats();
        self.matches.clear();
        let shared = &*self.shared;
        shared.rules.detect(
            &mut self.det,
            facts,
            &ff,
            state.map(|s| &mut s.detect),
            bufs,
            ts.as_nanos(),
            &mut self.matches,
        );
        let after = *self.det.stats();
        count(&mut self.stats, unit, &before, &after);
        for m in &self.matches {
            let Some(t) = shared.templates.get(m.rule as usize) else { continue };
            if unit != Unit::Packet && !t.inspects_buffer {
                continue;
            }
            match &mut dedupe {
                Dedupe::None => {}
                Dedupe::Message => {
                    if self.reported.contains(&m.rule) {
                        continue;
                    }
                    self.reported.push(m.rule);
                }
                Dedupe::Tx(tx, seen) if t.tx_based => {
                    if seen.contains(&(*tx, m.rule)) {
                        continue;
                    }
                    if seen.len() >= TX_ALERTS_KEPT {
                        seen.remove(0);
                    }
                    seen.push((*tx, m.rule));
                }
                Dedupe::Tx(..) => {}
            }
            self.stats.alerts += 1;
            *self.stats.by_sid.entry((m.gid, m.sid)).or_default() += 1;
            out.emit(alert(m, t, ts, facts, flow, app_proto));
        }
    }
}

/// Adds one unit's work to the counters (`before`/`after`: the detector's counters around it).
fn count(s: &mut SensorStats, unit: Unit, before: &DetectStats, after: &DetectStats) {
    s.units += 1;
    match unit {
        Unit::Packet => {}
        Unit::Stream => s.stream_units += 1,
        Unit::App => s.app_units += 1,
    }
    s.rules_evaluated += after.evaluated.wrapping_sub(before.evaluated);
    s.scans += after.scans.wrapping_sub(before.scans);
    s.scanned_bytes += after.scanned_bytes.wrapping_sub(before.scanned_bytes);
    s.matched += after.matched.wrapping_sub(before.matched);
    s.budget_exhausted += after.budget_exhausted.wrapping_sub(before.budget_exhausted);
}

fn alert(
    m: &Match,
    t: &AlertTemplate,
    ts: Timestamp,
    facts: &PacketFacts<'_>,
    flow: Option<&FlowView<'_>>,
    app_proto: Option<&str>,
) -> Alert {
    let has_ports = matches!(facts.proto, TCP | UDP) && facts.frag_offset == 0 && !facts.mf
        || facts.is_reassembled_frag && matches!(facts.proto, TCP | UDP);
    Alert {
        ts,
        packet_number: 0,
        gid: m.gid,
        sid: m.sid,
        rev: m.rev,
        msg: t.msg.clone(),
        classification: t.classification.clone(),
        classtype: t.classtype.clone(),
        priority: m.priority.unwrap_or(t.priority),
        // A rate filter may have replaced the rule's action.
        action: out_action(m.action),
        blocked: false,
        proto: facts.proto,
        src: Some(facts.src),
        src_port: has_ports.then_some(facts.src_port),
        dst: Some(facts.dst),
        dst_port: has_ports.then_some(facts.dst_port),
        flow_id: flow.map(|f| f.info.id),
        app_proto: app_proto.map(str::to_string),
        metadata: t.metadata.clone(),
        references: t.references.clone(),
        direction: flow.map(|f| match f.dir {
            Direction::ToServer => OutDir::ToServer,
            Direction::ToClient => OutDir::ToClient,
        }),
        flow: flow.map(|f| FlowCounters {
            pkts_toserver: f.info.packets[Direction::ToServer.index()],
            pkts_toclient: f.info.packets[Direction::ToClient.index()],
            bytes_toserver: f.info.bytes[Direction::ToServer.index()],
            bytes_toclient: f.info.bytes[Direction::ToClient.index()],
            start: f.info.start,
        }),
        ..Alert::default()
    }
}

/// Header facts of a decoded packet (the innermost IP header and its transport).
fn packet_facts<'a>(pkt: &PacketContext<'_, 'a>, events: &'a [&'a str]) -> Option<PacketFacts<'a>> {
    let p: &Packet<'a> = pkt.packet;
    let ip = p.ip?;
    let mut f = PacketFacts {
        ip_version: ip.version,
        proto: ip.proto,
        src: ip.src,
        dst: ip.dst,
        ttl: ip.ttl,
        tos: ip.tos,
        ip_id: ip.id,
        is_reassembled_frag: pkt.reassembled,
        events,
        ..PacketFacts::default()
    };
    if ip.version == 4 {
        // Flags and fragment offset straight from the header: `FragmentInfo` exists only for
        // fragments, but DF and the reserved bit matter on every packet (`fragbits`).
        if let Some(h) = ip.header.get(6..8) {
            f.reserved_bit = h[0] & 0x80 != 0;
            f.df = h[0] & 0x40 != 0;
            f.mf = h[0] & 0x20 != 0;
            f.frag_offset = u16::from_be_bytes([h[0] & 0x1f, h[1]]);
        }
        f.ip_options = ip.header.get(20..).unwrap_or_default();
    } else if let Some(fr) = ip.fragment {
        f.mf = fr.more_fragments;
        f.frag_offset = u16::try_from(fr.offset / 8).unwrap_or(u16::MAX);
    }
    let payload: &[u8] = match &p.transport {
        Transport::Tcp(t) => {
            f.src_port = t.src_port;
            f.dst_port = t.dst_port;
            f.tcp = Some(TcpFacts { flags: t.flags.0, seq: t.seq, ack: t.ack, window: t.window });
            t.payload
        }
        Transport::Udp(u) => {
            f.src_port = u.src_port;
            f.dst_port = u.dst_port;
            u.payload
        }
        Transport::Icmp(i) | Transport::Icmpv6(i) => {
            f.icmp = Some(IcmpFacts {
                itype: i.icmp_type,
                icode: i.code,
                id: i.id.unwrap_or(0),
                seq: i.seq.unwrap_or(0),
            });
            i.payload
        }
        Transport::Other { payload, .. } => payload,
        Transport::None => ip.payload,
    };
    f.payload_len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    Some(f)
}

/// The transport payload of a packet (what `pkt_data` is for non-TCP packets).
fn transport_payload<'a>(p: &Packet<'a>) -> &'a [u8] {
    match &p.transport {
        Transport::Tcp(t) => t.payload,
        Transport::Udp(u) => u.payload,
        Transport::Icmp(i) | Transport::Icmpv6(i) => i.payload,
        Transport::Other { payload, .. } => payload,
        Transport::None => p.ip.map(|ip| ip.payload).unwrap_or_default(),
    }
}

/// Facts of a stream or application unit of a flow: addresses and ports oriented by `dir`,
/// header fields from the sender's last segment when known.
fn flow_facts_for(
    info: &FlowInfo,
    dir: Direction,
    state: &SensorFlow,
    payload_len: usize,
) -> PacketFacts<'static> {
    let (src, dst) = match dir {
        Direction::ToServer => (info.client, info.server),
        Direction::ToClient => (info.server, info.client),
    };
    let hdr = state.last_hdr.as_ref().and_then(|h| h[dir.index()]);
    let mut f = PacketFacts {
        ip_version: if src.0.is_ipv4() { 4 } else { 6 },
        proto: info.proto,
        src: src.0,
        dst: dst.0,
        src_port: src.1,
        dst_port: dst.1,
        payload_len: u32::try_from(payload_len).unwrap_or(u32::MAX),
        ..PacketFacts::default()
    };
    if let Some(h) = hdr {
        f.ip_version = h.ip_version;
        f.ttl = h.ttl;
        f.tos = h.tos;
        f.ip_id = h.ip_id;
        f.df = h.df;
        f.tcp = Some(h.tcp);
    } else if info.proto == TCP {
        f.tcp = Some(TcpFacts::default());
    }
    f
}

/// The flow direction of an application record (records use the application's roles).
fn record_flow_dir(state: &AppFlowState, dir: AppDir) -> Direction {
    let flow_dir = if state.roles_reversed() { dir.reverse() } else { dir };
    match flow_dir {
        AppDir::ToServer => Direction::ToServer,
        AppDir::ToClient => Direction::ToClient,
    }
}

/// Updates the flow's TLS state bits from a record.
fn note_tls(state: &mut SensorFlow, ev: &AppEvent) {
    match ev {
        AppEvent::TlsClientHello(_) => state.ssl_state |= ssl_state::CLIENT_HELLO,
        AppEvent::TlsServerHello(h) => {
            state.ssl_state |= ssl_state::SERVER_HELLO;
            state.ssl_version |= match h.version {
                0x0002 => ssl_version::SSLV2,
                0x0300 => ssl_version::SSLV3,
                0x0301 => ssl_version::TLS1_0,
                0x0302 => ssl_version::TLS1_1,
                0x0303 => ssl_version::TLS1_2,
                0x0304 => ssl_version::TLS1_3,
                _ => 0,
            };
        }
        AppEvent::TlsEncrypted { dir } => {
            state.ssl_state |= ssl_state::APP_DATA;
            state.tls_encrypted |= 1 << record_flow_dir(&state.app, *dir).index();
        }
        _ => {}
    }
}

/// Fills `bufs` with what one application record offers. Returns false when the record has
/// nothing to inspect. DNS is handled by the caller (one unit per question).
fn fill_app_buffers<'a>(ev: &'a AppEvent, scratch: &'a mut Scratch, bufs: &mut Buffers<'a>) -> bool {
    use BufferId as B;
    match ev {
        AppEvent::HttpRequest(r) => {
            bufs.set(B::HttpMethod, &r.method);
            bufs.set(B::HttpUri, &r.uri_norm);
            bufs.set(B::HttpRawUri, &r.uri_raw);
            bufs.set(B::HttpProtocol, &r.protocol);
            bufs.set(B::HttpVersion, &r.protocol);
            if let Some(c) = &r.cookie {
                bufs.set(B::HttpCookie, c);
                bufs.set(B::HttpRawCookie, c);
            }
            if let Some(h) = &r.host_norm {
                bufs.set(B::HttpHost, h);
            }
            if let Some(h) = &r.host {
                bufs.set(B::HttpRawHost, h);
            }
            if let Some(ua) = &r.user_agent {
                bufs.set(B::HttpUserAgent, ua);
            }
            let Scratch { line, start, names } = scratch;
            line.clear();
            line.extend_from_slice(&r.method);
            line.push(b' ');
            line.extend_from_slice(&r.uri_raw);
            if !r.protocol.is_empty() {
                line.push(b' ');
                line.extend_from_slice(&r.protocol);
            }
            head_buffers(&r.headers, line, start, names, bufs);
            bufs.set(B::HttpRequestLine, line);
            bufs.set(B::HttpRawRequest, line);
            for (id, name) in [
                (B::HttpReferer, "referer"),
                (B::HttpAccept, "accept"),
                (B::HttpAcceptEnc, "accept-encoding"),
                (B::HttpAcceptLang, "accept-language"),
                (B::HttpTrueIp, "x-forwarded-for"),
            ] {
                if let Some(v) = r.headers.first(name) {
                    bufs.set(id, v);
                }
            }
            true
        }
        AppEvent::HttpResponse(r) => {
            bufs.set(B::HttpStatCode, &r.status_raw);
            bufs.set(B::HttpStatMsg, &r.status_msg);
            bufs.set(B::HttpProtocol, &r.protocol);
            bufs.set(B::HttpVersion, &r.protocol);
            if let Some(c) = &r.cookie {
                bufs.set(B::HttpCookie, c);
                bufs.set(B::HttpRawCookie, c);
            }
            let Scratch { line, start, names } = scratch;
            line.clear();
            line.extend_from_slice(&r.protocol);
            line.push(b' ');
            line.extend_from_slice(&r.status_raw);
            if !r.status_msg.is_empty() {
                line.push(b' ');
                line.extend_from_slice(&r.status_msg);
            }
            head_buffers(&r.headers, line, start, names, bufs);
            bufs.set(B::HttpResponseLine, line);
            bufs.set(B::HttpRawStatus, line);
            for (id, name) in [(B::HttpServer, "server"), (B::HttpLocation, "location")] {
                if let Some(v) = r.headers.first(name) {
                    bufs.set(id, v);
                }
            }
            true
        }
        AppEvent::HttpBody(b) => {
            if b.data.is_empty() {
                return false;
            }
            match b.dir {
                AppDir::ToServer => bufs.set(B::HttpClientBody, &b.data),
                AppDir::ToClient => {
                    bufs.set(B::FileData, &b.data);
                    bufs.set(B::HttpServerBody, &b.data);
                }
            }
            bufs.set(B::HttpRawBody, &b.data);
            true
        }
        AppEvent::TlsClientHello(h) => {
            if let Some(sni) = &h.sni {
                bufs.set(B::TlsSni, sni);
            }
            bufs.set(B::Ja3Hash, h.ja3_hash.as_bytes());
            bufs.set(B::Ja3String, h.ja3.as_bytes());
            true
        }
        AppEvent::TlsServerHello(h) => {
            bufs.set(B::Ja3sHash, h.ja3s_hash.as_bytes());
            bufs.set(B::Ja3sString, h.ja3s.as_bytes());
            true
        }
        AppEvent::TlsCertificate(c) => {
            // Subject, issuer and serial are the end-entity certificate's (Suricata's
            // tls.cert_*); `tls.certs` is every certificate of the chain, one unit each.
            if c.index == 0 {
                bufs.set(B::TlsCertSubject, c.x509.subject.as_bytes());
                bufs.set(B::TlsCertIssuer, c.x509.issuer.as_bytes());
                bufs.set(B::TlsCertSerial, c.x509.serial.as_bytes());
            }
            bufs.set(B::TlsCerts, &c.der);
            true
        }
        AppEvent::SshBanner(b) => {
            bufs.set(B::SshProto, &b.proto_version);
            bufs.set(B::SshSoftware, &b.software);
            true
        }
        _ => false,
    }
}

/// Fills `bufs` with every part of an HTTP transaction seen so far, so that a rule can combine
/// buffers of the request and of the response (`http.uri` with `http.stat_code`) or of a head
/// and its body, as Suricata inspects a transaction. Where both directions fill the same buffer
/// (`http.cookie`, `http.header`...), the direction of `current` (the record that triggered
/// this unit) wins. Returns false when `current` itself has nothing to inspect.
fn fill_http_tx<'a>(
    parts: &'a [Option<AppEvent>; 4],
    current: usize,
    scratch: &'a mut [Scratch; 4],
    bufs: &mut Buffers<'a>,
) -> bool {
    let [s0, s1, s2, s3] = scratch;
    let mut scratch = [Some(s0), Some(s1), Some(s2), Some(s3)];
    let same = |i: usize| (i < 2) == (current < 2);
    let other_dir = (0..4).filter(|&i| !same(i));
    let this_dir = (0..4).filter(|&i| same(i) && i != current);
    let mut filled = false;
    for i in other_dir.chain(this_dir).chain([current]) {
        let (Some(ev), Some(sc)) = (&parts[i], scratch[i].take()) else { continue };
        let any = fill_app_buffers(ev, sc, bufs);
        if i == current {
            filled = any;
        }
    }
    filled
}

/// The header-block buffers shared by requests and responses; `line` is the start line.
fn head_buffers<'a>(
    h: &'a ids_app_layer::http::HttpHeaders,
    line: &'a [u8],
    start: &'a mut Vec<u8>,
    names: &'a mut Vec<u8>,
    bufs: &mut Buffers<'a>,
) {
    use BufferId as B;
    bufs.set(B::HttpHeader, &h.normalized);
    bufs.set(B::HttpRawHeader, &h.raw);
    if let Some(v) = h.first("content-type") {
        bufs.set(B::HttpContentType, v);
    }
    if let Some(v) = h.first("content-length") {
        bufs.set(B::HttpContentLen, v);
    }
    if let Some(v) = h.first("connection") {
        bufs.set(B::HttpConnection, v);
    }
    // Suricata's http.header_names: "\r\nName1\r\nName2\r\n\r\n".
    names.clear();
    names.extend_from_slice(b"\r\n");
    for f in &h.fields {
        names.extend_from_slice(&f.name);
        names.extend_from_slice(b"\r\n");
    }
    names.extend_from_slice(b"\r\n");
    bufs.set(B::HttpHeaderNames, names);
    // Suricata's http.start: start line and header lines, with the final blank line.
    start.clear();
    start.extend_from_slice(line);
    start.extend_from_slice(b"\r\n");
    start.extend_from_slice(&h.raw);
    if !h.raw.is_empty() && !h.raw.ends_with(b"\n") {
        start.extend_from_slice(b"\r\n");
    }
    start.extend_from_slice(b"\r\n");
    bufs.set(B::HttpStart, start);
}

/// The inspector of `ids -R`: application layer, then detection. See the module doc.
pub struct Sensor {
    app: AppLayer,
    det: Det,
    /// One per part of an HTTP transaction ([`fill_http_tx`]).
    scratch: [Scratch; 4],
    /// Records of the current packet or chunk.
    records: Vec<AppRecord>,
    /// Names of the current packet's decoder events.
    event_names: Vec<&'static str>,
    sink: Option<Arc<Mutex<SensorStats>>>,
}

impl Sensor {
    pub fn new(rules: Arc<SensorRules>, config: AppLayerConfig) -> Sensor {
        let det = Detector::new(&rules.rules);
        Sensor {
            app: AppLayer::new(config),
            det: Det {
                shared: rules,
                det,
                matches: Vec::new(),
                stats: SensorStats::default(),
                reported: Vec::new(),
            },
            scratch: Default::default(),
            records: Vec::new(),
            event_names: Vec::new(),
            sink: None,
        }
    }

    /// A sensor that adds its counters to `sink` when dropped (by the time `ids_pipeline::run`
    /// returns), so the workers' counters sum up.
    pub fn with_stats(
        rules: Arc<SensorRules>,
        config: AppLayerConfig,
        sink: Arc<Mutex<SensorStats>>,
    ) -> Sensor {
        let mut s = Sensor::new(rules, config);
        s.sink = Some(sink);
        s
    }

    /// This worker's counters so far (the application layer's included).
    pub fn stats(&self) -> SensorStats {
        let mut s = self.det.stats.clone();
        s.app = self.app.stats().clone();
        s
    }

    /// Runs the records in `self.records` (all of one flow); the first one in `merge_dir` is
    /// merged with `pkt_data` into one unit when `merge` is given.
    #[allow(clippy::too_many_arguments)]
    fn records(
        &mut self,
        info: &FlowInfo,
        established: bool,
        state: &mut SensorFlow,
        ts: Timestamp,
        mut merge: Option<(Unit, &PacketFacts<'_>, Direction, &[u8])>,
        out: &mut Emitter<Alert>,
    ) {
        let records = std::mem::take(&mut self.records);
        for rec in &records {
            note_tls(state, &rec.event);
            let dir = record_flow_dir(&state.app, rec.dir);
            let fv = FlowView { info, dir, established };
            if let AppEvent::Dns(msg) = &rec.event {
                let facts = match merge {
                    Some((_, f, d, _)) if d == dir => *f,
                    _ => flow_facts_for(info, dir, state, 0),
                };
                self.det.reported.clear();
                for q in &msg.questions {
                    let mut bufs = Buffers::new();
                    bufs.set(BufferId::DnsQuery, &q.name);
                    let unit = match merge.take() {
                        Some((u, _, d, pkt)) if d == dir => {
                            bufs.set(BufferId::PktData, pkt);
                            u
                        }
                        other => {
                            merge = other;
                            Unit::App
                        }
                    };
                    if unit != Unit::App {
                        // A merged unit counts as its packet or chunk and as a record.
                        self.det.stats.app_units += 1;
                    }
                    self.det.unit(unit, ts, &facts, Some(&fv), Some(state), &bufs, Dedupe::Message, out);
                }
                continue;
            }
            let Some(key) = tx_key(&rec.event) else {
                continue;
            };
            // The transaction state leaves the flow state while the unit runs (the unit's
            // buffers borrow it, the detector borrows the flow's flowbits).
            let mut tx = state.tx.take().unwrap_or_default();
            let TxState { http, http_tx, alerted } = &mut *tx;
            let mut bufs = Buffers::new();
            let part = http_part(&rec.event);
            let filled = match part {
                Some(part) => {
                    if *http_tx != key {
                        *http = Default::default();
                        *http_tx = key;
                    }
                    http[part] = Some(rec.event.clone());
                    fill_http_tx(http, part, &mut self.scratch, &mut bufs)
                }
                None => fill_app_buffers(&rec.event, &mut self.scratch[0], &mut bufs),
            };
            if filled {
                let dedupe = Dedupe::Tx(key, alerted);
                match merge {
                    Some((u, f, d, pkt)) if d == dir => {
                        merge = None;
                        bufs.set(BufferId::PktData, pkt);
                        self.det.stats.app_units += 1;
                        self.det.unit(u, ts, f, Some(&fv), Some(state), &bufs, dedupe, out);
                    }
                    _ => {
                        let facts = flow_facts_for(info, dir, state, 0);
                        self.det.unit(Unit::App, ts, &facts, Some(&fv), Some(state), &bufs, dedupe, out);
                    }
                }
            }
            // A transaction ends with its response body (or a response without one, when the
            // next request comes): its parts are not kept past that.
            if matches!(&rec.event, AppEvent::HttpBody(b) if b.complete && b.dir == AppDir::ToClient) {
                tx.http = Default::default();
            }
            state.tx = Some(tx);
        }
        // Nothing took the packet's or chunk's data: it is a unit of its own.
        if let Some((u, f, d, pkt)) = merge {
            let fv = FlowView { info, dir: d, established };
            let mut bufs = Buffers::new();
            if u == Unit::Stream || info.proto != TCP {
                bufs.set(BufferId::PktData, pkt);
            }
            self.det.unit(u, ts, f, Some(&fv), Some(state), &bufs, Dedupe::None, out);
        }
        self.records = records;
        self.records.clear();
    }
}

impl Drop for Sensor {
    fn drop(&mut self) {
        if let Some(sink) = &self.sink {
            // A poisoned lock means another worker panicked; its counters are lost anyway.
            if let Ok(mut total) = sink.lock() {
                total.merge(&self.stats());
            }
        }
    }
}

impl Inspector for Sensor {
    type FlowState = SensorFlow;
    type Event = Alert;

    fn packet(
        &mut self,
        pkt: &PacketContext<'_, '_>,
        flow: Option<FlowContext<'_, SensorFlow>>,
        out: &mut Emitter<Alert>,
    ) {
        let mut names = std::mem::take(&mut self.event_names);
        names.clear();
        names.extend(pkt.packet.events.iter().map(|e| e.name()));
        let Some(facts) = packet_facts(pkt, &names) else {
            self.event_names = names;
            return;
        };
        let payload = transport_payload(pkt.packet);
        match flow {
            None => {
                let mut bufs = Buffers::new();
                if facts.proto != TCP {
                    bufs.set(BufferId::PktData, payload);
                }
                self.det.unit(Unit::Packet, pkt.ts, &facts, None, None, &bufs, Dedupe::None, out);
            }
            Some(f) => {
                let state = f.state;
                if let Some(tcp) = facts.tcp {
                    let h = state.last_hdr.get_or_insert_with(Default::default);
                    h[f.direction.index()] = Some(Header {
                        ip_version: facts.ip_version,
                        ttl: facts.ttl,
                        tos: facts.tos,
                        ip_id: facts.ip_id,
                        df: facts.df,
                        tcp,
                    });
                }
                // UDP payloads go to the application layer here (TCP arrives as stream data).
                let mut records = std::mem::take(&mut self.records);
                self.app.packet(pkt, f.info, f.direction, &mut state.app, &mut |r| records.push(r));
                self.records = records;
                self.records(
                    f.info,
                    f.established,
                    state,
                    pkt.ts,
                    Some((Unit::Packet, &facts, f.direction, payload)),
                    out,
                );
            }
        }
        self.event_names = names;
    }

    fn stream(
        &mut self,
        info: &FlowInfo,
        state: &mut SensorFlow,
        dir: Direction,
        chunk: Chunk<'_>,
        out: &mut Emitter<Alert>,
    ) {
        let mut records = std::mem::take(&mut self.records);
        self.app.stream(info, &mut state.app, dir, chunk, &mut |r| records.push(r));
        self.records = records;
        // The chunk was released by the packet being processed: its time is the flow's last.
        let ts = info.last_seen;
        // Stream data only flows on connections past the handshake (or picked up midstream).
        let established = true;
        // The chunk that completes the switch to encrypted records is not inspected either
        // (Suricata stops payload inspection while parsing the first encrypted record).
        for r in &self.records {
            if matches!(r.event, AppEvent::TlsEncrypted { .. }) {
                note_tls(state, &r.event);
            }
        }
        let encrypted = state.tls_encrypted == 0b11 && !self.det.shared.inspect_encrypted;
        match chunk {
            Chunk::Data { bytes, .. } if !bytes.is_empty() && !encrypted => {
                let facts =
                    PacketFacts { is_rebuilt_stream: true, ..flow_facts_for(info, dir, state, bytes.len()) };
                self.records(info, established, state, ts, Some((Unit::Stream, &facts, dir, bytes)), out);
            }
            _ => self.records(info, established, state, ts, None, out),
        }
    }

    fn flow_end(&mut self, mut flow: Flow<SensorFlow>, _reason: EndReason, out: &mut Emitter<Alert>) {
        let mut records = std::mem::take(&mut self.records);
        self.app.flow_end(&flow.info, &mut flow.state.app, &mut |r| records.push(r));
        self.records = records;
        let ts = flow.info.last_seen;
        self.records(&flow.info, true, &mut flow.state, ts, None, out);
    }
}
