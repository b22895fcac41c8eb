//! A run over offline inputs: the reader (this thread), the workers, and the output stage.
//!
//! ```text
//!  reader ──batches──► worker 0 ──events──┐
//!    │    ──batches──► worker 1 ──events──┼──► output: merge by EventKey ──► Output
//!    │    ──batches──► worker …  ──events──┘
//!    └◄──── empty batches come back for reuse
//! ```
//!
//! The reader copies each packet once, into the batch of the worker its outermost address pair
//! hashes to. Every [`SYNC_INTERVAL`] packets it seals every worker's batch, even an empty one,
//! so that every worker's watermark advances and the output stage can release events in order
//! with bounded delay. When capture time passes a whole second it sends a tick to every worker,
//! at the same packet number whatever the worker count, so flow timeouts fire at the same
//! point of the run in every configuration.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::net::IpAddr;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use ids_capture::{CaptureStats, LinkType, Timestamp};
use ids_decode::{decode, decode_ip, Packet};
use ids_flow::PacketTuple;
use ids_reassembly::defrag::{DefragOutcome, Defragmenter, FragKey, FragmentIn};

use crate::config::{ChecksumMode, EngineConfig};
use crate::counters::WorkerStats;
use crate::inspect::{EventKey, Inspector, Output};
use crate::worker::{innermost_vlan, Batch, Entry, OuterContext, PacketMeta, Worker};

/// The parts of one packet's processing, in event order: its tunnel levels, the packet, then
/// the tunnel levels and the inner packet of a datagram it completed (at most
/// `MAX_TUNNEL_DEPTH` levels each, so the ranges cannot overlap).
const PART_HOPS: u8 = 0;
const PART_PACKET: u8 = 16;
const PART_DATAGRAM_HOPS: u8 = 17;
const PART_DATAGRAM: u8 = 33;
const _: () = assert!(ids_decode::MAX_TUNNEL_DEPTH < PART_PACKET - PART_HOPS);

/// Packets between two seals of every worker's batch.
const SYNC_INTERVAL: u64 = 4096;
/// A batch is sent early once its buffer holds this many bytes.
const BATCH_BYTES: usize = 1 << 20;
/// Batches in flight per worker.
const QUEUE_DEPTH: usize = 8;

/// Live counters for a progress display, updated by the reader.
#[derive(Default)]
pub struct Progress {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    /// Set to stop the run early (e.g. on Ctrl-C); the run ends as if the input had ended.
    pub stop: AtomicBool,
}

/// Something to read packets from.
pub enum Input {
    /// A capture file, or `-` for standard input.
    Path(PathBuf),
    /// Capture bytes from any reader (pcap or pcapng, optionally gzip-compressed).
    Reader { name: String, reader: Box<dyn std::io::Read + Send> },
}

impl Input {
    pub fn bytes(name: &str, bytes: Vec<u8>) -> Input {
        Input::Reader { name: name.to_string(), reader: Box::new(std::io::Cursor::new(bytes)) }
    }

    pub fn paths(paths: &[PathBuf]) -> Vec<Input> {
        paths.iter().cloned().map(Input::Path).collect()
    }
}

/// How one input went.
#[derive(Clone, Debug)]
pub struct InputReport {
    pub name: String,
    pub stats: CaptureStats,
    /// Why the input could not be read (to the end).
    pub error: Option<String>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub inputs: Vec<InputReport>,
    pub capture: CaptureStats,
    pub totals: WorkerStats,
    pub workers: usize,
    pub elapsed: Duration,
    /// Capture time of the first and last packet.
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
}

impl RunSummary {
    /// Inputs that could not be opened or read.
    pub fn failed_inputs(&self) -> impl Iterator<Item = &InputReport> {
        self.inputs.iter().filter(|i| i.error.is_some())
    }
}

/// Process `inputs` in order with `config.workers` workers, each with an inspector from
/// `make_inspector`; events go to `output` in the run's deterministic order.
pub fn run<I, F, O>(
    inputs: Vec<Input>,
    config: &EngineConfig,
    make_inspector: F,
    output: O,
    progress: Option<Arc<Progress>>,
) -> RunSummary
where
    I: Inspector,
    F: Fn(usize) -> I,
    O: Output<I::Event>,
{
    let started = Instant::now();
    let n = config.worker_count();
    let progress = progress.unwrap_or_default();

    std::thread::scope(|scope| {
        let (event_tx, event_rx) = unbounded::<WorkerEvents<I::Event>>();
        let (recycle_tx, recycle_rx) = bounded::<Batch>(n * (QUEUE_DEPTH + 2));
        let mut batch_txs = Vec::with_capacity(n);
        let mut workers = Vec::with_capacity(n);
        for w in 0..n {
            let (tx, rx) = bounded::<Batch>(QUEUE_DEPTH);
            batch_txs.push(tx);
            let worker = Worker::new(config, make_inspector(w));
            let event_tx = event_tx.clone();
            let recycle_tx = recycle_tx.clone();
            workers.push(
                std::thread::Builder::new()
                    .name(format!("ids-worker-{w}"))
                    .spawn_scoped(scope, move || worker_loop(w, worker, rx, event_tx, recycle_tx))
                    .expect("spawning a worker thread"),
            );
        }
        drop(event_tx);
        drop(recycle_tx);

        let merger = std::thread::Builder::new()
            .name("ids-output".into())
            .spawn_scoped(scope, move || merge_events(n, event_rx, output))
            .expect("spawning the output thread");

        let mut reader = Reader::new(config, batch_txs, recycle_rx, &progress);
        for input in inputs {
            if reader.stopped() {
                break;
            }
            reader.read_input(input);
        }
        let (reports, first_ts, last_ts, reader_stats) = reader.finish();

        let mut totals = reader_stats;
        for handle in workers {
            match handle.join() {
                Ok(stats) => totals.add(&stats),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        if let Err(panic) = merger.join() {
            std::panic::resume_unwind(panic);
        }
        let mut capture = CaptureStats::default();
        for r in &reports {
            add_capture_stats(&mut capture, &r.stats);
        }
        RunSummary {
            inputs: reports,
            capture,
            totals,
            workers: n,
            elapsed: started.elapsed(),
            first_ts,
            last_ts,
        }
    })
}

fn add_capture_stats(a: &mut CaptureStats, b: &CaptureStats) {
    a.packets += b.packets;
    a.bytes += b.bytes;
    a.snaplen_truncated += b.snaplen_truncated;
    a.truncated_file += b.truncated_file;
    a.skipped_blocks += b.skipped_blocks;
    a.bad_records += b.bad_records;
}

struct WorkerEvents<E> {
    worker: usize,
    /// The worker will emit no further event keyed at or below this packet number.
    watermark: u64,
    events: Vec<(EventKey, E)>,
}

fn worker_loop<I: Inspector>(
    id: usize,
    mut worker: Worker<I>,
    batches: Receiver<Batch>,
    events: Sender<WorkerEvents<I::Event>>,
    recycle: Sender<Batch>,
) -> WorkerStats {
    for mut batch in batches {
        let produced = worker.run_batch(&batch);
        // The output stage may have gone (it never does before the workers, but a send error
        // must not take a worker down with the data it still has to count).
        let _ = events.send(WorkerEvents { worker: id, watermark: batch.seal, events: produced });
        batch.clear();
        let _ = recycle.try_send(batch);
    }
    let produced = worker.finish();
    debug_assert!(!worker.has_pending_events());
    let _ = events.send(WorkerEvents { worker: id, watermark: u64::MAX, events: produced });
    worker.stats.clone()
}

/// An event waiting in the output stage; ordered by key, then by worker for exact ties.
struct Pending<E> {
    key: EventKey,
    worker: usize,
    event: E,
}

impl<E> PartialEq for Pending<E> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<E> Eq for Pending<E> {}
impl<E> PartialOrd for Pending<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Pending<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the smallest key first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.key, other.worker).cmp(&(self.key, self.worker))
    }
}

fn merge_events<E, O: Output<E>>(workers: usize, rx: Receiver<WorkerEvents<E>>, mut output: O) {
    let mut watermarks = vec![0u64; workers];
    let mut heap = BinaryHeap::new();
    for msg in rx {
        watermarks[msg.worker] = watermarks[msg.worker].max(msg.watermark);
        heap.extend(msg.events.into_iter().map(|(key, event)| Pending { key, worker: msg.worker, event }));
        let low = watermarks.iter().copied().min().unwrap_or(0);
        while heap.peek().is_some_and(|p| p.key.packet <= low) {
            if let Some(p) = heap.pop() {
                output.event(&p.key, p.event);
            }
        }
    }
    while let Some(p) = heap.pop() {
        output.event(&p.key, p.event);
    }
    output.finish();
}

/// Reads inputs and fills the workers' batches.
struct Reader<'p> {
    workers: usize,
    batch_packets: usize,
    max_packets: Option<u64>,
    txs: Vec<Sender<Batch>>,
    recycle: Receiver<Batch>,
    batches: Vec<Batch>,
    number: u64,
    next_tick: Option<Timestamp>,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    reports: Vec<InputReport>,
    progress: &'p Progress,
    done: bool,
    /// Fragments are put back together here, before dispatch, because the datagram's flow may
    /// belong to another worker than the fragments' address pair (a fragmented tunnel).
    defrag: Defragmenter,
    track_vlan: bool,
    /// What the reader counts itself: fragments, reassembled datagrams, defragmentation.
    stats: WorkerStats,
    /// `-k auto`: the packets (and ticks) held back until the checksum mode is decided.
    sample: Option<Sample>,
    checksums: ChecksumMode,
}

/// The first packets of a run under `-k auto`, held until the checksum mode is decided.
#[derive(Default)]
struct Sample {
    held: Vec<Held>,
    checked: u32,
    bad: u32,
}

enum Held {
    Tick { number: u64, ts: Timestamp },
    Packet { number: u64, ts: Timestamp, link_type: LinkType, data: Vec<u8> },
}

/// How many packets `-k auto` looks at, and the share of bad checksums that means offload
/// (Suricata's figures: 1,000 packets, 10%).
const AUTO_SAMPLE: usize = 1000;
const AUTO_BAD_SHARE: u32 = 10;

impl<'p> Reader<'p> {
    fn new(
        config: &EngineConfig,
        txs: Vec<Sender<Batch>>,
        recycle: Receiver<Batch>,
        progress: &'p Progress,
    ) -> Reader<'p> {
        let workers = txs.len();
        Reader {
            workers,
            batch_packets: config.batch_packets.max(1),
            max_packets: config.max_packets,
            txs,
            recycle,
            batches: (0..workers).map(|_| Batch::default()).collect(),
            number: 0,
            next_tick: None,
            first_ts: None,
            last_ts: None,
            reports: Vec::new(),
            progress,
            done: false,
            defrag: Defragmenter::new(config.defrag_config_for(1)),
            track_vlan: config.track_vlan,
            stats: WorkerStats::default(),
            sample: config.checksum_auto.then(Sample::default),
            checksums: config.checksums,
        }
    }

    fn stopped(&self) -> bool {
        self.done || self.progress.stop.load(AtomicOrdering::Relaxed)
    }

    fn read_input(&mut self, input: Input) {
        let (name, opened) = match input {
            Input::Path(path) => (path.display().to_string(), ids_capture::open(&path)),
            Input::Reader { name, reader } => {
                let opened = ids_capture::open_reader(&name, reader);
                (name, opened)
            }
        };
        let mut source = match opened {
            Ok(s) => s,
            Err(e) => {
                self.reports.push(InputReport {
                    name,
                    stats: CaptureStats::default(),
                    error: Some(e.to_string()),
                });
                return;
            }
        };
        let mut error = None;
        loop {
            if self.stopped() {
                break;
            }
            if self.max_packets.is_some_and(|max| self.number >= max) {
                self.done = true;
                break;
            }
            match source.next_packet() {
                Ok(Some(rec)) => {
                    self.number += 1;
                    let number = self.number;
                    let ts = rec.ts;
                    self.first_ts.get_or_insert(ts);
                    self.last_ts = Some(ts);
                    if self.sample.is_some() {
                        self.hold(number, ts, rec.link_type, rec.data);
                    } else {
                        self.maybe_tick(number, ts);
                        self.dispatch(number, ts, rec.link_type, rec.data);
                    }
                    if number % SYNC_INTERVAL == 0 {
                        self.send_all();
                        self.progress.packets.store(number, AtomicOrdering::Relaxed);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        let stats = source.stats().clone();
        self.progress.bytes.fetch_add(stats.bytes, AtomicOrdering::Relaxed);
        self.reports.push(InputReport { name, stats, error });
    }

    /// Tell every worker, in the same place of the packet sequence, that capture time passed
    /// a second boundary.
    /// `-k auto`: keep the packet (and any tick before it) until the sample is complete, noting
    /// whether its checksums are good.
    fn hold(&mut self, number: u64, ts: Timestamp, link_type: LinkType, data: &[u8]) {
        let tick_due = self.tick_due(ts);
        let Some(sample) = self.sample.as_mut() else { return };
        if tick_due {
            sample.held.push(Held::Tick { number, ts });
        }
        let pkt = decode(link_type, data);
        let verdicts = [pkt.ipv4_checksum_ok(), pkt.l4_checksum_ok()];
        if verdicts.iter().any(Option::is_some) {
            sample.checked += 1;
            sample.bad += u32::from(verdicts.contains(&Some(false)));
        }
        sample.held.push(Held::Packet { number, ts, link_type, data: data.to_vec() });
        if sample.held.len() >= AUTO_SAMPLE {
            self.decide_checksums();
        }
    }

    /// End the `-k auto` sample: pick the checksum mode, tell every worker, then dispatch the
    /// held packets in their order.
    fn decide_checksums(&mut self) {
        let Some(sample) = self.sample.take() else { return };
        let offload = sample.bad.saturating_mul(100) > sample.checked.saturating_mul(AUTO_BAD_SHARE);
        if offload {
            self.checksums = ChecksumMode::NONE;
        }
        self.stats.checksums_auto_disabled = u64::from(offload);
        for w in 0..self.workers {
            let mode = self.checksums;
            self.push(w, &[], |_, _| Entry::Checksums(mode));
        }
        for held in sample.held {
            match held {
                Held::Tick { number, ts } => self.tick(number, ts),
                Held::Packet { number, ts, link_type, data } => self.dispatch(number, ts, link_type, &data),
            }
        }
    }

    fn maybe_tick(&mut self, number: u64, ts: Timestamp) {
        if self.tick_due(ts) {
            self.tick(number, ts);
        }
    }

    /// Whether capture time passed a whole second since the last tick (never for the first
    /// packet); moves the next tick past `ts`.
    fn tick_due(&mut self, ts: Timestamp) -> bool {
        let due = match self.next_tick {
            None => false,
            Some(t) if ts < t => return false,
            Some(_) => true,
        };
        self.next_tick = Some(Timestamp::from_secs_nanos(ts.secs().saturating_add(1), 0));
        due
    }

    /// Tell every worker, at the same place of the packet sequence, that capture time passed a
    /// second boundary.
    fn tick(&mut self, number: u64, ts: Timestamp) {
        self.defrag.expire(ts);
        for batch in &mut self.batches {
            batch.entries.push(Entry::Tick { number, ts });
        }
    }

    /// Decode the packet, hand it to the worker that owns its innermost flow, tell the owners
    /// of its tunnel levels, and defragment it if it is a fragment.
    fn dispatch(&mut self, number: u64, ts: Timestamp, link_type: LinkType, data: &[u8]) {
        let pkt = decode(link_type, data);
        self.send_hops(&pkt, number, PART_HOPS, ts);
        let owner = self.owner(&pkt);
        self.push(owner, data, |start, len| {
            Entry::Packet(PacketMeta { number, part: PART_PACKET, ts, link_type, start, len })
        });
        let Some(ip) = pkt.ip.as_ref() else { return };
        let Some(frag) = ip.fragment else { return };
        self.stats.fragments += 1;
        let unfragmentable = match frag.ipv6_frag_header_offset {
            Some(off) => data.get(ip.offset..off).unwrap_or_default(),
            None => ip.header,
        };
        let vlan = if self.track_vlan { innermost_vlan(&pkt) } else { 0 };
        let fragment = FragmentIn {
            key: FragKey { src: ip.src, dst: ip.dst, id: frag.id, proto: ip.proto, vlan },
            offset: frag.offset,
            more_fragments: frag.more_fragments,
            payload: ip.payload,
            ip_header: unfragmentable,
            ttl: ip.ttl,
        };
        if let DefragOutcome::Complete(datagram) = self.defrag.insert(fragment, ts) {
            self.stats.reassembled_datagrams += 1;
            let whole = decode_ip(&datagram, &pkt);
            self.send_hops(&whole, number, PART_DATAGRAM_HOPS, ts);
            let owner = self.owner(&whole);
            let outer = OuterContext::of(&pkt);
            self.push(owner, &datagram, |start, len| Entry::Reassembled {
                meta: PacketMeta { number, part: PART_DATAGRAM, ts, link_type: LinkType::RAW, start, len },
                outer,
            });
        }
    }

    /// The worker that owns a packet's innermost flow: by a symmetric hash of its innermost
    /// address pair, so both directions, every fragment and every tunnel path of a flow meet in
    /// one worker. Packets without IP go to worker 0.
    fn owner(&self, pkt: &Packet<'_>) -> usize {
        match pkt.ip.as_ref() {
            Some(ip) if self.workers > 1 => (pair_hash(ip.src, ip.dst) % self.workers as u64) as usize,
            _ => 0,
        }
    }

    fn send_hops(&mut self, pkt: &Packet<'_>, number: u64, first_part: u8, ts: Timestamp) {
        let vlan = if self.track_vlan { innermost_vlan(pkt) } else { 0 };
        for (i, hop) in pkt.tunnel_hops().enumerate() {
            let part = first_part.saturating_add(i as u8);
            let tuple = PacketTuple {
                src: hop.src,
                dst: hop.dst,
                src_port: hop.src_port,
                dst_port: hop.dst_port,
                proto: hop.proto,
                vlan,
            };
            let owner = if self.workers > 1 {
                (pair_hash(hop.src, hop.dst) % self.workers as u64) as usize
            } else {
                0
            };
            self.push(owner, &[], |_, _| Entry::TunnelHop { number, part, ts, tuple, len: hop.len });
        }
    }

    /// Append an entry (and its bytes) to a worker's batch, sending the batch when it is full.
    fn push(&mut self, w: usize, bytes: &[u8], entry: impl FnOnce(usize, usize) -> Entry) {
        let batch = &mut self.batches[w];
        let start = batch.data.len();
        batch.data.extend_from_slice(bytes);
        batch.entries.push(entry(start, bytes.len()));
        if batch.entries.len() >= self.batch_packets || batch.data.len() >= BATCH_BYTES {
            self.send(w);
        }
    }

    fn send(&mut self, w: usize) {
        let fresh = self.recycle.try_recv().unwrap_or_default();
        let mut batch = std::mem::replace(&mut self.batches[w], fresh);
        batch.seal = self.number;
        // A worker that has gone away has panicked; the panic is re-raised when it is joined.
        let _ = self.txs[w].send(batch);
    }

    fn send_all(&mut self) {
        for w in 0..self.workers {
            self.send(w);
        }
    }

    fn finish(mut self) -> (Vec<InputReport>, Option<Timestamp>, Option<Timestamp>, WorkerStats) {
        self.decide_checksums();
        self.send_all();
        self.progress.packets.store(self.number, AtomicOrdering::Relaxed);
        self.txs.clear();
        self.stats.defrag.add(self.defrag.stats());
        (self.reports, self.first_ts, self.last_ts, self.stats)
    }
}

/// A symmetric hash of an address pair, the same in every run (worker assignment must not vary
/// between runs, or output order would). FNV-1a over the sorted pair, then a final mix.
fn pair_hash(a: IpAddr, b: IpAddr) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &byte in bytes {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for addr in [lo, hi] {
        match addr {
            IpAddr::V4(v4) => feed(&v4.octets()),
            IpAddr::V6(v6) => feed(&v6.octets()),
        }
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}
