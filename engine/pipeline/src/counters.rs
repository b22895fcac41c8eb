//! Counters kept by each worker and summed for the end-of-run summary.

use ids_decode::{DecodeEvent, LayerKind, Packet, Transport};
use ids_flow::{Direction, Flow, FlowStats};
use ids_reassembly::defrag::DefragStats;
use ids_reassembly::tcp::{Chunk, StreamStats};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChecksumCounts {
    pub ip: u64,
    pub tcp: u64,
    pub udp: u64,
    pub icmp: u64,
}

/// Everything one worker counted. All fields add up across workers, so the totals of a run are
/// the same whatever the number of workers (except the peaks and the cap events, which depend on
/// how the caps are split).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerStats {
    pub packets: u64,
    pub bytes: u64,
    /// Packets per decoded layer (a packet counts once per layer kind it carries; tunnels make
    /// a packet count for IPv4 twice, for example).
    pub layers: Vec<u64>,
    /// Decoder anomalies by [`DecodeEvent`].
    pub decode_events: Vec<u64>,
    /// Packets by their innermost network protocol.
    pub ipv4: u64,
    pub ipv6: u64,
    pub non_ip: u64,
    /// Packets by their innermost transport (fragments count when whole again).
    pub tcp: u64,
    pub udp: u64,
    pub icmp: u64,
    pub icmpv6: u64,
    pub other_transport: u64,
    pub fragments: u64,
    pub reassembled_datagrams: u64,
    pub bad_checksum: ChecksumCounts,
    /// 1 when `-k auto` found checksum offload in the sample and turned verification off.
    pub checksums_auto_disabled: u64,
    /// Reassembled TCP bytes handed to inspection, and the gaps among them.
    pub stream_bytes: u64,
    pub stream_gaps: u64,
    pub stream_gap_bytes: u64,
    pub stream: StreamStats,
    pub defrag: DefragStats,
    pub flow: FlowStats,
}

impl Default for WorkerStats {
    fn default() -> Self {
        WorkerStats {
            packets: 0,
            bytes: 0,
            layers: vec![0; LayerKind::COUNT],
            decode_events: vec![0; DecodeEvent::COUNT],
            ipv4: 0,
            ipv6: 0,
            non_ip: 0,
            tcp: 0,
            udp: 0,
            icmp: 0,
            icmpv6: 0,
            other_transport: 0,
            fragments: 0,
            reassembled_datagrams: 0,
            bad_checksum: ChecksumCounts::default(),
            checksums_auto_disabled: 0,
            stream_bytes: 0,
            stream_gaps: 0,
            stream_gap_bytes: 0,
            stream: StreamStats::default(),
            defrag: DefragStats::default(),
            flow: FlowStats::default(),
        }
    }
}

impl WorkerStats {
    pub(crate) fn count_packet(&mut self, pkt: &Packet<'_>, captured: usize) {
        self.packets += 1;
        self.bytes += captured as u64;
        self.count_layers_and_events(pkt);
        match pkt.ip.as_ref().map(|ip| ip.version) {
            Some(4) => self.ipv4 += 1,
            Some(_) => self.ipv6 += 1,
            None => self.non_ip += 1,
        }
        self.count_transport(pkt);
    }

    /// A datagram rebuilt from fragments: its transport is seen for the first time.
    pub(crate) fn count_reassembled(&mut self, pkt: &Packet<'_>) {
        for event in pkt.events.iter() {
            self.decode_events[event as usize] += 1;
        }
        self.count_transport(pkt);
    }

    fn count_layers_and_events(&mut self, pkt: &Packet<'_>) {
        let mut seen = [false; LayerKind::COUNT];
        for layer in pkt.layers.iter() {
            seen[layer.kind as usize] = true;
        }
        for (count, seen) in self.layers.iter_mut().zip(seen) {
            *count += u64::from(seen);
        }
        for event in pkt.events.iter() {
            self.decode_events[event as usize] += 1;
        }
    }

    fn count_transport(&mut self, pkt: &Packet<'_>) {
        match pkt.transport {
            Transport::Tcp(_) => self.tcp += 1,
            Transport::Udp(_) => self.udp += 1,
            Transport::Icmp(_) => self.icmp += 1,
            Transport::Icmpv6(_) => self.icmpv6 += 1,
            Transport::Other { .. } => self.other_transport += 1,
            Transport::None => {}
        }
    }

    pub(crate) fn count_chunk(&mut self, chunk: &Chunk<'_>) {
        match chunk {
            Chunk::Data { bytes, .. } => self.stream_bytes += bytes.len() as u64,
            Chunk::Gap { len, .. } => {
                self.stream_gaps += 1;
                self.stream_gap_bytes += len;
            }
        }
    }

    pub(crate) fn count_flow_end<S>(&mut self, flow: &Flow<S>) {
        if let Some(session) = flow.tcp.as_ref() {
            for dir in [Direction::ToServer, Direction::ToClient] {
                if let Some(stream) = session.stream(dir) {
                    self.stream.add(stream.stats());
                }
            }
        }
    }

    pub fn add(&mut self, o: &WorkerStats) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        for (a, b) in self.layers.iter_mut().zip(&o.layers) {
            *a += b;
        }
        for (a, b) in self.decode_events.iter_mut().zip(&o.decode_events) {
            *a += b;
        }
        self.ipv4 += o.ipv4;
        self.ipv6 += o.ipv6;
        self.non_ip += o.non_ip;
        self.tcp += o.tcp;
        self.udp += o.udp;
        self.icmp += o.icmp;
        self.icmpv6 += o.icmpv6;
        self.other_transport += o.other_transport;
        self.fragments += o.fragments;
        self.reassembled_datagrams += o.reassembled_datagrams;
        self.bad_checksum.ip += o.bad_checksum.ip;
        self.bad_checksum.tcp += o.bad_checksum.tcp;
        self.bad_checksum.udp += o.bad_checksum.udp;
        self.bad_checksum.icmp += o.bad_checksum.icmp;
        self.checksums_auto_disabled += o.checksums_auto_disabled;
        self.stream_bytes += o.stream_bytes;
        self.stream_gaps += o.stream_gaps;
        self.stream_gap_bytes += o.stream_gap_bytes;
        self.stream.add(&o.stream);
        self.defrag.add(&o.defrag);
        self.flow.add(&o.flow);
    }

    /// Decoder anomalies with a non-zero count, by name.
    pub fn anomalies(&self) -> Vec<(&'static str, u64)> {
        DecodeEvent::ALL
            .iter()
            .zip(&self.decode_events)
            .filter(|(_, &n)| n > 0)
            .map(|(e, &n)| (e.name(), n))
            .collect()
    }

    /// Packets per layer kind with a non-zero count, by name.
    pub fn layer_counts(&self) -> Vec<(&'static str, u64)> {
        LayerKind::ALL.iter().zip(&self.layers).filter(|(_, &n)| n > 0).map(|(k, &n)| (k.name(), n)).collect()
    }
}
