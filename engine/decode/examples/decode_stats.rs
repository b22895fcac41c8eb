//! Decodes every packet of classic pcap files and prints decoder statistics: packets per link
//! type, layer kinds seen, decoder events, checksum failures. pcapng files are skipped (this
//! example reads the classic format by hand so that it does not depend on `ids-capture`'s
//! reader).
//!
//! ```text
//! cargo run --release -p ids-decode --example decode_stats -- FILE.pcap... [-v]
//! ```
//! `-v` prints the one-line summary of every packet that raised an event.

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, Instant};

use ids_capture::LinkType;
use ids_decode::{decode, dispatch_hash, DecodeEvent, LayerKind};

/// Packets of one classic pcap file: (link type, frames). None if not a classic pcap.
fn read_pcap(bytes: &[u8]) -> Option<(LinkType, Vec<&[u8]>)> {
    let magic: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return None,
    };
    let u32_at = |off: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(off..off + 4)?.try_into().ok()?;
        Some(if le { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    // The link type is the low 16 bits (the upper bits hold FCS information).
    let link = LinkType(u32_at(20)? & 0xffff);
    let mut frames = Vec::new();
    let mut off = 24;
    while let Some(incl) = u32_at(off + 8) {
        let start = off + 16;
        let Some(frame) = bytes.get(start..start + incl as usize) else {
            break; // truncated file
        };
        frames.push(frame);
        off = start + incl as usize;
    }
    Some((link, frames))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let mut files = 0;
    let mut packets = 0u64;
    let mut no_ip = 0u64;
    let mut by_link: BTreeMap<String, u64> = BTreeMap::new();
    let mut events = [0u64; DecodeEvent::COUNT];
    let mut event_files: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut layers = [0u64; LayerKind::COUNT];
    let (mut ip_bad, mut l4_bad, mut l4_checked) = (0u64, 0u64, 0u64);
    let mut decode_time = Duration::ZERO;
    for path in args.iter().filter(|a| *a != "-v") {
        let Ok(bytes) = fs::read(path) else { continue };
        let Some((link, frames)) = read_pcap(&bytes) else { continue };
        files += 1;
        let mut seen_here = [false; DecodeEvent::COUNT];
        for frame in frames {
            packets += 1;
            *by_link.entry(link.to_string()).or_default() += 1;
            let t = Instant::now();
            let p = std::hint::black_box(decode(link, frame));
            let _ = std::hint::black_box(dispatch_hash(link, frame));
            decode_time += t.elapsed();
            if p.ip.is_none() {
                no_ip += 1;
            }
            for l in &p.layers {
                layers[l.kind as usize] += 1;
            }
            for e in p.events {
                events[e.index()] += 1;
                if !seen_here[e.index()] {
                    seen_here[e.index()] = true;
                    event_files.entry(e.name()).or_default().push(path.clone());
                }
            }
            if verbose && !p.events.is_empty() {
                println!("{path}: {p}");
            }
            if p.ipv4_checksum_ok() == Some(false) {
                ip_bad += 1;
            }
            if let Some(ok) = p.l4_checksum_ok() {
                l4_checked += 1;
                l4_bad += u64::from(!ok);
            }
        }
    }
    println!("{files} files, {packets} packets, {no_ip} without IP");
    println!(
        "decode + dispatch_hash: {:.0} ns/packet (size_of::<Packet>() = {} bytes)",
        decode_time.as_nanos() as f64 / packets.max(1) as f64,
        std::mem::size_of::<ids_decode::Packet<'_>>()
    );
    println!("link types: {by_link:?}");
    println!("checksums: ipv4 bad {ip_bad}; l4 bad {l4_bad} of {l4_checked}");
    println!("layers:");
    for k in LayerKind::ALL {
        if layers[*k as usize] > 0 {
            println!("  {:<16} {}", k.name(), layers[*k as usize]);
        }
    }
    println!("events:");
    for e in DecodeEvent::ALL {
        let n = events[e.index()];
        if n > 0 {
            let f = &event_files[e.name()];
            let shown: Vec<_> = f.iter().take(3).map(|s| s.rsplit('/').next().unwrap_or(s)).collect();
            println!("  {:<34} {n:>7}  in {} files, e.g. {}", e.name(), f.len(), shown.join(" "));
        }
    }
}
