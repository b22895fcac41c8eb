//! Engine configuration: immutable once a run starts, shared by every thread.

use std::fmt;
use std::str::FromStr;

use ids_flow::{FlowConfig, TcpConfig, Timeouts};
use ids_reassembly::defrag::{DefragConfig, FragPolicy};
use ids_reassembly::tcp::{StreamConfig, StreamPolicy};

/// Which checksums are verified (Snort's `-k`). A packet with a bad checksum is counted and
/// decoded, but not tracked, reassembled or inspected: the receiving host would have dropped
/// it, so an attacker could use it to show the IDS bytes the host never saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChecksumMode {
    pub ip: bool,
    pub tcp: bool,
    pub udp: bool,
    pub icmp: bool,
}

impl ChecksumMode {
    pub const ALL: ChecksumMode = ChecksumMode { ip: true, tcp: true, udp: true, icmp: true };
    pub const NONE: ChecksumMode = ChecksumMode { ip: false, tcp: false, udp: false, icmp: false };

    pub fn any(&self) -> bool {
        self.ip || self.tcp || self.udp || self.icmp
    }
}

impl FromStr for ChecksumMode {
    type Err = String;

    /// Snort's `-k` values: all, none, noip, notcp, noudp, noicmp.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = ChecksumMode::ALL;
        Ok(match s {
            "all" => all,
            "none" => ChecksumMode::NONE,
            "noip" => ChecksumMode { ip: false, ..all },
            "notcp" => ChecksumMode { tcp: false, ..all },
            "noudp" => ChecksumMode { udp: false, ..all },
            "noicmp" => ChecksumMode { icmp: false, ..all },
            _ => return Err(format!("unknown checksum mode '{s}' (all, none, noip, notcp, noudp, noicmp)")),
        })
    }
}

impl fmt::Display for ChecksumMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ChecksumMode::ALL => f.write_str("all"),
            ChecksumMode::NONE => f.write_str("none"),
            m => write!(f, "ip={} tcp={} udp={} icmp={}", m.ip, m.tcp, m.udp, m.icmp),
        }
    }
}

/// Everything the packet engine needs to run.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Worker threads (`-z`); each owns the flows hashed to it.
    pub workers: usize,
    /// Packets per batch handed from the reader to a worker.
    pub batch_packets: usize,
    /// Stop after this many packets (`-n`).
    pub max_packets: Option<u64>,
    pub checksums: ChecksumMode,
    /// Suricata's `checksum-checks: auto`: look at the first packets of the run and, when more
    /// than a tenth of them carry bad checksums (captured on a host with checksum offload),
    /// verify none; otherwise verify as `checksums` says. Decided before any packet is
    /// inspected, so every packet of a run is treated alike.
    pub checksum_auto: bool,
    /// Whether the VLAN id is part of the flow key (Suricata's `vlan.use-for-tracking`). Off
    /// for networks where the two directions of a connection travel on different VLANs.
    pub track_vlan: bool,
    pub timeouts: Timeouts,
    /// Most flows held at once, over all workers.
    pub max_flows: usize,
    /// Memory cap for flows and TCP reassembly, over all workers.
    pub flow_memcap: usize,
    pub stream_policy: StreamPolicy,
    /// Bytes of each TCP direction that are reassembled and inspected (0: all).
    pub stream_depth: u64,
    /// Most bytes queued unacknowledged in one TCP direction before a forced flush.
    pub stream_max_queued: usize,
    pub stream_max_segments: usize,
    pub frag_policy: FragPolicy,
    /// Seconds a datagram may wait for its missing fragments.
    pub frag_timeout: i64,
    /// Memory cap for held fragments, over all workers.
    pub frag_memcap: usize,
    pub frag_max_fragments: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            batch_packets: 256,
            max_packets: None,
            checksums: ChecksumMode::ALL,
            checksum_auto: false,
            track_vlan: true,
            timeouts: Timeouts::default(),
            max_flows: 1 << 20,
            flow_memcap: 1 << 30,
            stream_policy: StreamPolicy::Bsd,
            stream_depth: 0,
            stream_max_queued: 4 << 20,
            stream_max_segments: 16 * 1024,
            frag_policy: FragPolicy::Linux,
            frag_timeout: 60,
            frag_memcap: 64 << 20,
            frag_max_fragments: 8192,
        }
    }
}

impl EngineConfig {
    pub fn worker_count(&self) -> usize {
        self.workers.max(1)
    }

    /// One worker's share of the flow caps.
    pub fn flow_config(&self) -> FlowConfig {
        let n = self.worker_count();
        FlowConfig {
            max_flows: (self.max_flows / n).max(1),
            memcap: self.flow_memcap / n,
            timeouts: self.timeouts,
            tcp: TcpConfig {
                policy: self.stream_policy,
                stream: StreamConfig {
                    depth: self.stream_depth,
                    max_queued_bytes: self.stream_max_queued,
                    max_queued_segments: self.stream_max_segments,
                },
            },
        }
    }

    /// Defragmentation settings for a defragmenter that holds `1/share` of the memory cap.
    pub fn defrag_config_for(&self, share: usize) -> DefragConfig {
        DefragConfig {
            policy: self.frag_policy,
            timeout_ns: self.frag_timeout.saturating_mul(1_000_000_000),
            memcap: self.frag_memcap / share.max(1),
            max_fragments: self.frag_max_fragments,
            min_fragment_len: 0,
            max_datagram_len: 65535,
            min_ttl: 1,
        }
    }
}
