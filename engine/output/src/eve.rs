//! Suricata EVE JSON records: `alert`, `flow` and `stats`.
//!
//! Field names, nesting and order follow Suricata 7 (`src/output-json.c` `CreateEveHeader`,
//! `src/output-json-alert.c` `AlertJson`/`AlertJsonHeader`, `src/output-json-flow.c`,
//! `etc/schema.json`, `doc/userguide/output/eve/eve-json-format.rst`). serde_json writes struct
//! fields in declaration order, so the structs below *are* the field order:
//!
//! ```text
//! timestamp flow_id in_iface pcap_cnt event_type vlan src_ip src_port dest_ip dest_port proto
//! pkt_src alert{action gid signature_id rev signature category severity metadata{k:[v]}}
//! appid{service client payload misc}  (ours, where Suricata puts app-layer objects)
//! app_proto direction flow{pkts_toserver pkts_toclient bytes_toserver bytes_toclient start
//! src_ip dest_ip src_port dest_port} payload payload_printable pcap_filename
//! ```
//!
//! Details taken from the source: `pcap_cnt` is left out when 0; ports only for TCP/UDP/SCTP
//! (absent for ICMP and fragments); `proto` is the IANA keyword (`"IPv6-ICMP"`) or the number as a
//! string; `category` is `""` when the rule has no classtype; `action` is `"blocked"` for reject
//! rules and for drop rules that did drop, else `"allowed"`; `alert.flow` repeats the 5-tuple in
//! the flow's own (client → server) orientation; `pcap_filename` is appended last, as
//! `OutputJsonBuilderBuffer` does. Rule references are not part of Suricata 7's alert schema
//! (`additionalProperties: false`) and are not written.
//!
//! The structs borrow from the [`Alert`]; nothing is copied on the way to the output buffer.

use std::net::IpAddr;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use ids_capture::Timestamp;

use crate::model::{Action, Alert, AppIds, Direction, FlowCounters, FlowRecord};
use crate::proto::SuricataProto;
use crate::time::{IsoTime, Zone};

/// What EVE alert records include besides the always-present fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EveOptions {
    /// Time zone of the timestamps ([`Zone::Local`] is Suricata's behaviour).
    pub zone: Zone,
    /// `payload`: base64 of [`Alert::payload`] when present (Suricata `payload: yes`).
    pub payload: bool,
    /// `payload_printable` (Suricata `payload-printable: yes`).
    pub payload_printable: bool,
    /// `alert.metadata` from the rule's metadata (Suricata `metadata: rule: metadata`).
    pub rule_metadata: bool,
    /// The `flow` object inside alerts (Suricata `metadata: flow`).
    pub flow: bool,
}

impl Default for EveOptions {
    fn default() -> Self {
        EveOptions {
            zone: Zone::Local,
            payload: true,
            payload_printable: true,
            rule_metadata: true,
            flow: true,
        }
    }
}

/// Formats EVE records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EveFormatter {
    pub options: EveOptions,
}

impl EveFormatter {
    pub fn new(options: EveOptions) -> EveFormatter {
        EveFormatter { options }
    }

    /// Appends one `alert` record and a newline to `out`.
    pub fn alert(&self, alert: &Alert, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let o = &self.options;
        let record = EveAlert {
            timestamp: IsoTime { ts: alert.ts, zone: o.zone },
            flow_id: alert.flow_id,
            in_iface: alert.in_iface.as_deref(),
            pcap_cnt: Some(alert.packet_number).filter(|&n| n != 0),
            event_type: "alert",
            vlan: Vlans(&alert.vlan),
            src_ip: alert.src,
            src_port: ports(alert.src_port, alert.dst_port).map(|p| p.0),
            dest_ip: alert.dst,
            dest_port: ports(alert.src_port, alert.dst_port).map(|p| p.1),
            proto: SuricataProto(alert.proto),
            pkt_src: "wire/pcap",
            alert: AlertBody {
                action: eve_action(alert.action, alert.blocked),
                gid: alert.gid,
                signature_id: alert.sid,
                rev: alert.rev,
                signature: &alert.msg,
                category: alert.classification.as_deref().unwrap_or(""),
                severity: alert.priority,
                metadata: Some(Metadata(&alert.metadata)).filter(|m| o.rule_metadata && !m.0.is_empty()),
            },
            appid: alert.appid.as_ref(),
            app_proto: alert.app_proto.as_deref(),
            direction: alert.direction.map(Direction::as_eve),
            flow: alert.flow.as_ref().filter(|_| o.flow).map(|f| AlertFlow::new(f, alert, o.zone)),
            payload: alert.payload.as_deref().filter(|_| o.payload).map(Base64),
            payload_printable: alert.payload.as_deref().filter(|_| o.payload_printable).map(Printable),
            pcap_filename: alert.pcap_filename.as_deref(),
        };
        serde_json::to_writer(&mut *out, &record)?;
        out.push(b'\n');
        Ok(())
    }

    /// Appends one `flow` record and a newline to `out`. Its `timestamp` is the flow's last
    /// packet (Suricata uses the engine's time when the flow is logged, which for a pcap is close
    /// to but not exactly the last packet).
    pub fn flow(&self, flow: &FlowRecord, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let zone = self.options.zone;
        let p = ports(flow.src_port, flow.dst_port);
        let record = EveFlow {
            timestamp: IsoTime { ts: flow.end, zone },
            flow_id: flow.flow_id,
            in_iface: flow.in_iface.as_deref(),
            event_type: "flow",
            vlan: Vlans(&flow.vlan),
            src_ip: flow.src,
            src_port: p.map(|p| p.0),
            dest_ip: flow.dst,
            dest_port: p.map(|p| p.1),
            proto: SuricataProto(flow.proto),
            app_proto: flow.app_proto.as_deref(),
            flow: FlowBody {
                pkts_toserver: flow.pkts_toserver,
                pkts_toclient: flow.pkts_toclient,
                bytes_toserver: flow.bytes_toserver,
                bytes_toclient: flow.bytes_toclient,
                start: IsoTime { ts: flow.start, zone },
                end: IsoTime { ts: flow.end, zone },
                // Suricata: whole seconds of last minus whole seconds of first.
                age: flow.end.secs().saturating_sub(flow.start.secs()),
                state: flow.state.as_eve(),
                reason: flow.reason.as_eve(),
                alerted: flow.alerted,
            },
            pcap_filename: flow.pcap_filename.as_deref(),
        };
        serde_json::to_writer(&mut *out, &record)?;
        out.push(b'\n');
        Ok(())
    }

    /// Appends one `stats` record and a newline to `out`. Counter names are dotted paths
    /// (`decoder.pkts`, `tcp.syn`) and are nested as Suricata nests them
    /// (`{"stats":{"decoder":{"pkts":…}}}`), keeping first-seen order. A name that is both a
    /// counter and the prefix of another (`a` and `a.b`) cannot be both in JSON; the later one is
    /// dropped.
    pub fn stats<S: AsRef<str>>(
        &self,
        ts: Timestamp,
        counters: &[(S, u64)],
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        let mut root = StatNode::Branch(Vec::new());
        for (name, value) in counters {
            root.insert(name.as_ref(), *value);
        }
        let record = EveStats {
            timestamp: IsoTime { ts, zone: self.options.zone },
            event_type: "stats",
            stats: &root,
        };
        serde_json::to_writer(&mut *out, &record)?;
        out.push(b'\n');
        Ok(())
    }
}

/// Both ports or neither: Suricata logs ports only for port-carrying protocols.
fn ports(src: Option<u16>, dst: Option<u16>) -> Option<(u16, u16)> {
    src.zip(dst)
}

/// Suricata `AlertJsonHeader`: reject always blocks (the response is sent even in IDS mode);
/// drop blocks only when the engine is inline, which `blocked` records.
fn eve_action(action: Action, blocked: bool) -> &'static str {
    match action {
        Action::Reject | Action::React => "blocked",
        a if a.is_drop_class() && blocked => "blocked",
        _ => "allowed",
    }
}

#[derive(Serialize)]
struct EveAlert<'a> {
    timestamp: IsoTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_iface: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pcap_cnt: Option<u64>,
    event_type: &'static str,
    #[serde(skip_serializing_if = "Vlans::is_empty")]
    vlan: Vlans<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_port: Option<u16>,
    proto: SuricataProto,
    pkt_src: &'static str,
    alert: AlertBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    appid: Option<&'a AppIds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_proto: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow: Option<AlertFlow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Base64<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_printable: Option<Printable<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pcap_filename: Option<&'a str>,
}

#[derive(Serialize)]
struct AlertBody<'a> {
    action: &'static str,
    gid: u32,
    signature_id: u32,
    rev: u32,
    signature: &'a str,
    category: &'a str,
    severity: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
}

/// `alert.flow`: counters, start, and the flow's 5-tuple (client → server).
#[derive(Serialize)]
struct AlertFlow {
    pkts_toserver: u64,
    pkts_toclient: u64,
    bytes_toserver: u64,
    bytes_toclient: u64,
    start: IsoTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_port: Option<u16>,
}

impl AlertFlow {
    fn new(f: &FlowCounters, a: &Alert, zone: Zone) -> AlertFlow {
        let p = ports(a.src_port, a.dst_port);
        // Suricata turns the packet's tuple around for to-client packets.
        let (src_ip, dest_ip, p) = if a.direction == Some(Direction::ToClient) {
            (a.dst, a.src, p.map(|(s, d)| (d, s)))
        } else {
            (a.src, a.dst, p)
        };
        AlertFlow {
            pkts_toserver: f.pkts_toserver,
            pkts_toclient: f.pkts_toclient,
            bytes_toserver: f.bytes_toserver,
            bytes_toclient: f.bytes_toclient,
            start: IsoTime { ts: f.start, zone },
            src_ip,
            dest_ip,
            src_port: p.map(|p| p.0),
            dest_port: p.map(|p| p.1),
        }
    }
}

#[derive(Serialize)]
struct EveFlow<'a> {
    timestamp: IsoTime,
    flow_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_iface: Option<&'a str>,
    event_type: &'static str,
    #[serde(skip_serializing_if = "Vlans::is_empty")]
    vlan: Vlans<'a>,
    src_ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    dest_ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_port: Option<u16>,
    proto: SuricataProto,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_proto: Option<&'a str>,
    flow: FlowBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    pcap_filename: Option<&'a str>,
}

#[derive(Serialize)]
struct FlowBody {
    pkts_toserver: u64,
    pkts_toclient: u64,
    bytes_toserver: u64,
    bytes_toclient: u64,
    start: IsoTime,
    end: IsoTime,
    age: i64,
    state: &'static str,
    reason: &'static str,
    alerted: bool,
}

#[derive(Serialize)]
struct EveStats<'a> {
    timestamp: IsoTime,
    event_type: &'static str,
    stats: &'a StatNode<'a>,
}

#[derive(Serialize)]
#[serde(transparent)]
struct Vlans<'a>(&'a [u16]);

impl Vlans<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Rule metadata as Suricata writes it: `{"key": ["v1", "v2"]}`, keys in first-seen order, every
/// value of a repeated key in its array. Grouping is done while serialising (quadratic in the
/// number of pairs, which is a handful) so no map is built per alert.
struct Metadata<'a>(&'a [(String, String)]);

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let pairs = self.0;
        let mut map = s.serialize_map(None)?;
        for (i, (key, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(k, _)| k == key) {
                continue;
            }
            map.serialize_entry(key, &ValuesOf { pairs: &pairs[i..], key })?;
        }
        map.end()
    }
}

struct ValuesOf<'a> {
    pairs: &'a [(String, String)],
    key: &'a str,
}

impl Serialize for ValuesOf<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for (_, v) in self.pairs.iter().filter(|(k, _)| k == self.key) {
            seq.serialize_element(v)?;
        }
        seq.end()
    }
}

/// Standard base64 with padding (Suricata `jb_set_base64`), streamed through `collect_str`.
struct Base64<'a>(&'a [u8]);

impl std::fmt::Display for Base64<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut quad = [0u8; 4];
        for chunk in self.0.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for (i, q) in quad.iter_mut().enumerate() {
                *q = if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] } else { b'=' };
            }
            // Only ASCII from the alphabet above.
            f.write_str(std::str::from_utf8(&quad).map_err(|_| std::fmt::Error)?)?;
        }
        Ok(())
    }
}

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Suricata `PrintStringsToBuffer`: printable ASCII, `\n` and `\r` kept, every other byte `.`.
struct Printable<'a>(&'a [u8]);

impl std::fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Runs of kept bytes are written as one slice; they are ASCII, hence valid UTF-8.
        let keep = |b: u8| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r';
        for run in self.0.split(|&b| !keep(b)).enumerate() {
            if run.0 > 0 {
                f.write_str(".")?;
            }
            f.write_str(std::str::from_utf8(run.1).map_err(|_| std::fmt::Error)?)?;
        }
        Ok(())
    }
}

impl Serialize for Printable<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The nested counter tree of a `stats` record.
enum StatNode<'a> {
    Leaf(u64),
    Branch(Vec<(&'a str, StatNode<'a>)>),
}

impl<'a> StatNode<'a> {
    fn insert(&mut self, path: &'a str, value: u64) {
        let StatNode::Branch(children) = self else { return };
        let (head, rest) = match path.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        let idx = match children.iter().position(|(k, _)| *k == head) {
            Some(i) => i,
            None => {
                let node = match rest {
                    Some(_) => StatNode::Branch(Vec::new()),
                    None => StatNode::Leaf(value),
                };
                children.push((head, node));
                children.len() - 1
            }
        };
        if let Some(rest) = rest {
            // Inserting below a leaf is a no-op (see `EveFormatter::stats`).
            children[idx].1.insert(rest, value);
        }
    }
}

impl Serialize for StatNode<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            StatNode::Leaf(v) => s.serialize_u64(*v),
            StatNode::Branch(children) => {
                let mut map = s.serialize_map(Some(children.len()))?;
                for (k, v) in children {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(Base64(input.as_bytes()).to_string(), want, "{input:?}");
        }
        assert_eq!(Base64(&[0xff, 0xfe, 0x00]).to_string(), "//4A");
    }

    #[test]
    fn printable_replaces_control_and_high_bytes() {
        assert_eq!(
            Printable(b"GET / HTTP/1.1\r\nHost: x\r\n\x00\x01\xff").to_string(),
            "GET / HTTP/1.1\r\nHost: x\r\n..."
        );
        assert_eq!(Printable(b"\tA\x7f").to_string(), ".A.");
        assert_eq!(Printable(b"").to_string(), "");
    }

    #[test]
    fn metadata_groups_repeated_keys_in_first_seen_order() {
        let pairs: Vec<(String, String)> = [("b", "1"), ("a", "x"), ("b", "2")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(serde_json::to_string(&Metadata(&pairs)).unwrap(), r#"{"b":["1","2"],"a":["x"]}"#);
    }

    #[test]
    fn stats_nest_and_keep_order() {
        let mut out = Vec::new();
        let counters =
            [("uptime", 5), ("decoder.pkts", 10), ("decoder.ipv4", 9), ("tcp.syn", 2), ("decoder.pkts.x", 1)];
        EveFormatter::new(EveOptions { zone: Zone::Utc, ..EveOptions::default() })
            .stats(Timestamp::ZERO, &counters, &mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"timestamp\":\"1970-01-01T00:00:00.000000+0000\",\"event_type\":\"stats\",\"stats\":\
             {\"uptime\":5,\"decoder\":{\"pkts\":10,\"ipv4\":9},\"tcp\":{\"syn\":2}}}\n"
        );
    }

    #[test]
    fn eve_action_rules() {
        assert_eq!(eve_action(Action::Alert, false), "allowed");
        assert_eq!(eve_action(Action::Alert, true), "allowed");
        assert_eq!(eve_action(Action::Drop, false), "allowed");
        assert_eq!(eve_action(Action::Drop, true), "blocked");
        assert_eq!(eve_action(Action::Reject, false), "blocked");
    }
}
