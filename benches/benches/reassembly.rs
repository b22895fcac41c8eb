//! TCP reassembly: in-order segments acknowledged one by one (the common case), and the same
//! bytes arriving with every pair of segments swapped.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ids_reassembly::tcp::{Chunk, StreamConfig, StreamPolicy, StreamReassembler};

const SEGMENTS: usize = 1000;
const MSS: usize = 1460;

fn reassembly(c: &mut Criterion) {
    let payload = vec![0x41u8; MSS];
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes((SEGMENTS * MSS) as u64));
    for (name, order) in [("in_order", false), ("pairs_swapped", true)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut stream = StreamReassembler::new(1000, StreamPolicy::Bsd, StreamConfig::default());
                let mut delivered = 0usize;
                let mut sink = |c: Chunk<'_>| {
                    if let Chunk::Data { bytes, .. } = c {
                        delivered += bytes.len();
                    }
                };
                let mut i = 0;
                while i < SEGMENTS {
                    let idx: &[usize] = if order && i + 1 < SEGMENTS { &[i + 1, i] } else { &[i] };
                    for &k in idx {
                        stream.insert(1000u32.wrapping_add((k * MSS) as u32), &payload);
                    }
                    i += idx.len();
                    stream.flush_to(1000u32.wrapping_add((i * MSS) as u32), &mut sink);
                }
                black_box(delivered)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, reassembly);
criterion_main!(benches);
