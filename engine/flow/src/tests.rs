//! Flow table and TCP tracking tests over hand-built packet sequences.

use ids_capture::Timestamp;
use ids_reassembly::tcp::{Chunk, StreamConfig, StreamPolicy};

use crate::tcp::flags::*;
use crate::*;

fn config() -> FlowConfig {
    FlowConfig {
        max_flows: 1000,
        memcap: 64 << 20,
        timeouts: Timeouts::default(),
        tcp: TcpConfig {
            policy: StreamPolicy::Bsd,
            stream: StreamConfig { depth: 0, max_queued_bytes: 1 << 20, max_queued_segments: 4096 },
        },
    }
}

/// Collects what the table reports.
#[derive(Default)]
struct Recorder {
    /// Reassembled bytes per direction; gaps as `[gap N]`.
    streams: [Vec<u8>; 2],
    ended: Vec<(FlowInfo, EndReason)>,
}

impl FlowObserver<u32> for Recorder {
    fn stream_data(&mut self, _info: &FlowInfo, state: &mut u32, dir: Direction, chunk: Chunk<'_>) {
        *state += 1;
        match chunk {
            Chunk::Data { bytes, .. } => self.streams[dir.index()].extend_from_slice(bytes),
            Chunk::Gap { len, .. } => {
                self.streams[dir.index()].extend_from_slice(format!("[gap {len}]").as_bytes())
            }
        }
    }

    fn flow_end(&mut self, flow: Flow<u32>, reason: EndReason) {
        self.ended.push((flow.info, reason));
    }
}

const CLIENT: (&str, u16) = ("192.0.2.1", 40000);
const SERVER: (&str, u16) = ("198.51.100.7", 80);

fn tuple(from_client: bool, proto: u8) -> PacketTuple {
    let (a, b) = if from_client { (CLIENT, SERVER) } else { (SERVER, CLIENT) };
    PacketTuple {
        src: a.0.parse().unwrap(),
        dst: b.0.parse().unwrap(),
        src_port: a.1,
        dst_port: b.1,
        proto,
        vlan: 0,
    }
}

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_secs_nanos(1_000_000 + secs, 0)
}

struct Conn {
    table: FlowTable<u32>,
    rec: Recorder,
}

impl Conn {
    fn new() -> Conn {
        Conn { table: FlowTable::new(config()), rec: Recorder::default() }
    }

    fn tcp(
        &mut self,
        from_client: bool,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
        at: i64,
    ) -> PacketVerdict {
        let hdr = TcpHeader { seq, ack, flags, window: 65535, payload };
        self.table.process(&tuple(from_client, 6), 40 + payload.len(), Some(&hdr), ts(at), &mut self.rec)
    }
}

#[test]
fn handshake_data_and_teardown() {
    let mut c = Conn::new();
    let v = c.tcp(true, 100, 0, SYN, b"", 0);
    assert!(v.created);
    assert_eq!(v.direction, Direction::ToServer);
    let v = c.tcp(false, 5000, 101, SYN | ACK, b"", 0);
    assert!(!v.created);
    assert_eq!(v.direction, Direction::ToClient);
    c.tcp(true, 101, 5001, ACK, b"", 0);
    c.tcp(true, 101, 5001, ACK | PSH, b"GET / HTTP/1.0\r\n\r\n", 0);
    // Not delivered before the server acknowledges it.
    assert!(c.rec.streams[0].is_empty());
    c.tcp(false, 5001, 119, ACK | PSH, b"HTTP/1.0 200 OK\r\n\r\n", 0);
    assert_eq!(c.rec.streams[0], b"GET / HTTP/1.0\r\n\r\n");
    c.tcp(true, 119, 5020, ACK | FIN, b"", 1);
    c.tcp(false, 5020, 120, ACK | FIN, b"", 1);
    assert_eq!(c.rec.streams[1], b"HTTP/1.0 200 OK\r\n\r\n");
    let flow = c.table.get(v.flow).unwrap();
    assert_eq!(flow.tcp.as_ref().unwrap().state, TcpState::Closed);
    assert!(!flow.tcp.as_ref().unwrap().midstream);
    assert_eq!(flow.info.packets, [4, 3]);
    let stats = c.table.stats().tcp;
    assert_eq!((stats.sessions, stats.handshakes_completed, stats.fins), (1, 1, 2));
}

#[test]
fn midstream_pickup_orients_by_first_sender() {
    let mut c = Conn::new();
    let v = c.tcp(false, 7000, 300, ACK, b"response", 0);
    assert_eq!(v.direction, Direction::ToServer, "first sender counts as client when no SYN is seen");
    c.tcp(true, 300, 7008, ACK, b"req", 0);
    assert_eq!(c.rec.streams[0], b"response");
    let flow = c.table.get(v.flow).unwrap();
    assert!(flow.tcp.as_ref().unwrap().midstream);
    assert_eq!(c.table.stats().tcp.midstream_pickups, 1);
}

#[test]
fn syn_ack_first_makes_its_sender_the_server() {
    let mut c = Conn::new();
    let v = c.tcp(false, 5000, 101, SYN | ACK, b"", 0);
    assert_eq!(v.direction, Direction::ToClient);
    let info = &c.table.get(v.flow).unwrap().info;
    assert_eq!(info.server.1, SERVER.1);
}

#[test]
fn one_sided_capture_delivers_without_acks() {
    let mut c = Conn::new();
    c.tcp(true, 1, 0, ACK, b"abc", 0);
    c.tcp(true, 4, 0, ACK, b"def", 0);
    assert_eq!(c.rec.streams[0], b"abcdef");
}

#[test]
fn out_of_order_data_is_delivered_in_order() {
    let mut c = Conn::new();
    c.tcp(true, 100, 0, SYN, b"", 0);
    c.tcp(false, 900, 101, SYN | ACK, b"", 0);
    c.tcp(true, 104, 901, ACK, b"efgh", 0);
    c.tcp(true, 101, 901, ACK, b"abc", 0);
    c.tcp(false, 901, 108, ACK, b"", 0);
    assert_eq!(c.rec.streams[0], b"abcefgh");
}

#[test]
fn ack_past_missing_data_reports_a_gap() {
    let mut c = Conn::new();
    c.tcp(true, 100, 0, SYN, b"", 0);
    c.tcp(false, 900, 101, SYN | ACK, b"", 0);
    c.tcp(true, 101, 901, ACK, b"abc", 0);
    // 104..110 never captured.
    c.tcp(true, 110, 901, ACK, b"xyz", 0);
    c.tcp(false, 901, 113, ACK, b"", 0);
    assert_eq!(c.rec.streams[0], b"abc[gap 6]xyz");
}

#[test]
fn queued_data_is_flushed_when_the_flow_ends() {
    let mut c = Conn::new();
    c.tcp(true, 100, 0, SYN, b"", 0);
    c.tcp(false, 900, 101, SYN | ACK, b"", 0);
    c.tcp(true, 101, 901, ACK, b"never acked", 0);
    c.table.drain(&mut c.rec);
    assert_eq!(c.rec.streams[0], b"never acked");
    assert_eq!(c.rec.ended.len(), 1);
    assert_eq!(c.rec.ended[0].1, EndReason::Shutdown);
    assert_eq!(c.table.len(), 0);
    assert_eq!(c.table.memory_used(), 0);
}

#[test]
fn new_syn_after_close_starts_a_new_flow() {
    let mut c = Conn::new();
    c.tcp(true, 100, 0, SYN, b"", 0);
    c.tcp(false, 900, 101, SYN | ACK, b"", 0);
    c.tcp(true, 101, 901, ACK | RST, b"", 0);
    let v = c.tcp(true, 5555, 0, SYN, b"", 1);
    assert!(v.created);
    assert_eq!(c.rec.ended.len(), 1);
    assert_eq!(c.rec.ended[0].1, EndReason::PortReuse);
    assert_eq!(c.table.stats().tcp.port_reuses, 1);
    assert_eq!(c.table.stats().created[ProtoClass::Tcp as usize], 2);
    // A retransmitted SYN is not a new connection.
    let v = c.tcp(true, 5555, 0, SYN, b"", 1);
    assert!(!v.created);
    assert_eq!(c.table.stats().tcp.syn_retransmits, 1);
}

#[test]
fn idle_flows_time_out_per_protocol() {
    let mut c = Conn::new();
    let udp = |c: &mut Conn, from_client: bool, at: i64| {
        c.table.process(&tuple(from_client, 17), 28, None, ts(at), &mut c.rec)
    };
    let first = udp(&mut c, true, 0);
    // One-sided UDP: 30 s timeout. Within it, same flow.
    assert!(!udp(&mut c, true, 30).created);
    // 31 s later: the old flow expired, a new one starts.
    let again = udp(&mut c, true, 61);
    assert!(again.created);
    assert_eq!(c.rec.ended.last().unwrap().1, EndReason::Timeout);
    let _ = first;
    // Two-sided UDP lives 300 s.
    udp(&mut c, false, 62);
    assert!(!udp(&mut c, true, 300).created);
    // The sweep ends it without a new packet.
    c.table.expire(ts(700), 100, &mut c.rec);
    assert_eq!(c.table.len(), 0);
    assert_eq!(c.table.stats().ended[0], 2);
}

#[test]
fn sweep_stops_at_fresh_flows_and_respects_order() {
    let mut table: FlowTable<u32> = FlowTable::new(config());
    let mut rec = Recorder::default();
    for i in 0..10u16 {
        let mut t = tuple(true, 17);
        t.src_port = 1000 + i;
        table.process(&t, 28, None, ts(i64::from(i) * 10), &mut rec);
    }
    // At t=115: flows seen at 0..=80 are past their 30 s; the one seen at 90 is not.
    table.expire(ts(115), 1000, &mut rec);
    assert_eq!(table.len(), 1);
    let ended: Vec<u16> = rec.ended.iter().map(|(i, _)| i.client.1).collect();
    assert_eq!(ended, (1000..1009).collect::<Vec<_>>());
}

#[test]
fn flow_count_cap_evicts_least_recently_seen() {
    let mut cfg = config();
    cfg.max_flows = 3;
    let mut table: FlowTable<u32> = FlowTable::new(cfg);
    let mut rec = Recorder::default();
    for i in 0..5u16 {
        let mut t = tuple(true, 17);
        t.src_port = 2000 + i;
        table.process(&t, 28, None, ts(0), &mut rec);
    }
    assert_eq!(table.len(), 3);
    assert_eq!(table.stats().evicted_max_flows, 2);
    let evicted: Vec<u16> = rec.ended.iter().map(|(i, _)| i.client.1).collect();
    assert_eq!(evicted, vec![2000, 2001]);
}

#[test]
fn memory_cap_evicts_other_flows_and_flushes_them() {
    let mut cfg = config();
    cfg.memcap = 16 * 1024;
    let mut table: FlowTable<u32> = FlowTable::new(cfg);
    let mut rec = Recorder::default();
    // Flow A queues data that its peer never acknowledges.
    let a = tuple(true, 6);
    let syn = TcpHeader { seq: 0, ack: 0, flags: SYN, window: 0, payload: b"" };
    table.process(&a, 40, Some(&syn), ts(0), &mut rec);
    let synack = TcpHeader { seq: 0, ack: 1, flags: SYN | ACK, window: 0, payload: b"" };
    table.process(&a.reversed(), 40, Some(&synack), ts(0), &mut rec);
    let data = vec![b'x'; 8000];
    let seg = TcpHeader { seq: 1, ack: 1, flags: ACK, window: 0, payload: &data };
    table.process(&a, 8040, Some(&seg), ts(0), &mut rec);
    assert!(table.memory_used() > 8000);
    // Flow B does the same and pushes the table over its cap: A, the stalest, is evicted.
    let mut b = a;
    b.src_port = 40001;
    table.process(&b, 40, Some(&syn), ts(1), &mut rec);
    table.process(&b.reversed(), 40, Some(&synack), ts(1), &mut rec);
    table.process(&b, 8040, Some(&seg), ts(1), &mut rec);
    assert_eq!(table.stats().evicted_memcap, 1);
    assert_eq!(rec.ended[0].1, EndReason::Evicted);
    assert_eq!(rec.ended[0].0.client.1, 40000);
    // Nothing was lost: A's queued bytes were delivered before it went.
    assert_eq!(rec.streams[0].len(), 8000);
    assert!(table.memory_used() <= 16 * 1024);
}

#[test]
fn flow_ids_are_stable_and_distinct() {
    let mut c1 = Conn::new();
    let mut c2 = Conn::new();
    let v1 = c1.tcp(true, 1, 0, SYN, b"", 0);
    let v2 = c2.tcp(true, 1, 0, SYN, b"", 0);
    let id1 = c1.table.get(v1.flow).unwrap().info.id;
    assert_eq!(id1, c2.table.get(v2.flow).unwrap().info.id);
    let v3 = c1.table.process(&tuple(true, 17), 28, None, ts(0), &mut c1.rec);
    assert_ne!(id1, c1.table.get(v3.flow).unwrap().info.id);
}

#[test]
fn fin_on_a_syn_does_not_close_the_stream() {
    let mut c = Conn::new();
    c.tcp(true, 100, 0, SYN | FIN, b"", 0);
    c.tcp(false, 900, 101, SYN | ACK, b"", 0);
    c.tcp(true, 101, 901, ACK, b"still read", 0);
    c.tcp(false, 901, 111, ACK, b"", 0);
    assert_eq!(c.rec.streams[0], b"still read");
    assert_eq!(c.table.stats().tcp.fins, 0);
}
