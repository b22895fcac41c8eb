//! Hostile input: the tcpdump regression captures (many malformed on purpose), mutated at
//! random, go through the whole engine (capture, decode, defrag, flow, reassembly) without a
//! panic, with one and with two workers. A bounded, deterministic cousin of the cargo-fuzz target
//! in `benches/fuzz`, so that every CI run exercises the no-panic guarantee.

mod common;

use common::*;
use ids_pipeline::{Input, NullInspector, NullOutput};

/// xorshift64*: a fixed seed makes every run try the same inputs, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Damage a capture: flip bits, overwrite bytes with boundary values, duplicate or cut ranges.
/// The first 24 bytes (the pcap file header) are mostly spared so that most mutants still reach
/// the decoder.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        if data.len() <= 25 {
            break;
        }
        let at = 24 + rng.below(data.len() - 24);
        match rng.below(5) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = [0x00, 0xff, 0x7f, 0x80, 0x01][rng.below(5)],
            2 => {
                let len = rng.below(64).min(data.len() - at);
                let chunk = data[at..at + len].to_vec();
                let to = 24 + rng.below(data.len() - 24);
                data.splice(to..to, chunk);
            }
            3 => data.truncate(at),
            _ => {
                let len = rng.below(16).min(data.len() - at);
                data.drain(at..at + len);
            }
        }
    }
    data
}

#[test]
fn mutated_tcpdump_captures_never_panic_the_engine() {
    let Some(shared) = shared_pcaps() else {
        eprintln!("../shared/pcaps not found: skipped");
        return;
    };
    let seeds: Vec<Vec<u8>> = capture_files(&shared.join("tcpdump/pcap"))
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|d| d.len() < 64 * 1024)
        .collect();
    assert!(seeds.len() > 100, "only {} seeds", seeds.len());
    let mut rng = Rng(0x1d5_f022_2026);
    let mut packets = 0;
    const ROUNDS: u64 = 1500;
    for round in 0..ROUNDS {
        let seed = &seeds[rng.below(seeds.len())];
        let mutant = mutate(&mut rng, seed);
        let config = ids_pipeline::EngineConfig { workers: 1 + (round % 2) as usize, ..config(1) };
        let summary = ids_pipeline::run(
            vec![Input::bytes(&format!("mutant-{round}"), mutant)],
            &config,
            |_| NullInspector,
            NullOutput,
            None,
        );
        packets += summary.capture.packets;
    }
    // Most tcpdump seeds hold one to a few packets: the mutants must still reach the decoder,
    // not just fail at the file header.
    assert!(packets > ROUNDS, "mutants carried only {packets} packets in {ROUNDS} rounds");
}
