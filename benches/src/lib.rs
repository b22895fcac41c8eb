//! Shared inputs for the criterion benchmarks: the packets of the repository's sample captures,
//! loaded once into memory so that benchmarks measure the engine, not the disk.

use std::path::{Path, PathBuf};

use ids_capture::LinkType;

/// A packet held in memory.
pub struct OwnedPacket {
    pub link_type: LinkType,
    pub data: Vec<u8>,
}

/// The repository's `pcaps/sample` directory.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../pcaps/sample")
}

/// Every packet of every sample capture, in order.
pub fn sample_packets() -> Vec<OwnedPacket> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(sample_dir()).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    for path in files {
        let Ok(mut source) = ids_capture::open(&path) else { continue };
        while let Ok(Some(pkt)) = source.next_packet() {
            out.push(OwnedPacket { link_type: pkt.link_type, data: pkt.data.to_vec() });
        }
    }
    assert!(!out.is_empty(), "no sample packets under {}", sample_dir().display());
    out
}

/// The bytes of the sample captures concatenated as one classic pcap (all are Ethernet).
pub fn sample_pcap_bytes(repeat: usize) -> Vec<u8> {
    let packets = sample_packets();
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..repeat {
        for (j, p) in packets.iter().enumerate() {
            let ts = (i * packets.len() + j) as u32;
            out.extend_from_slice(&ts.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&p.data);
        }
    }
    out
}
