//! Decoding real packets (the sample captures), and the dispatch hash the reader computes
//! for every packet when there is more than one worker.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn decode(c: &mut Criterion) {
    let packets = ids_benches::sample_packets();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(packets.len() as u64));
    g.bench_function("decode_samples", |b| {
        b.iter(|| {
            let mut ports = 0u32;
            for p in &packets {
                let d = ids_decode::decode(p.link_type, &p.data);
                ports = ports.wrapping_add(d.ports().map_or(0, |(s, _)| u32::from(s)));
            }
            black_box(ports)
        })
    });
    g.bench_function("dispatch_hash_samples", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for p in &packets {
                acc ^= ids_decode::dispatch_hash(p.link_type, &p.data).unwrap_or(0);
            }
            black_box(acc)
        })
    });
    g.bench_function("checksums_samples", |b| {
        b.iter(|| {
            let mut ok = 0u32;
            for p in &packets {
                let d = ids_decode::decode(p.link_type, &p.data);
                ok += u32::from(d.l4_checksum_ok() == Some(true));
            }
            black_box(ok)
        })
    });
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
