//! Reading a classic pcap from memory: framing only, no decoding.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn read_pcap(c: &mut Criterion) {
    let bytes = ids_benches::sample_pcap_bytes(200);
    let packets = {
        let mut src =
            ids_capture::open_reader("bench", Box::new(std::io::Cursor::new(bytes.clone()))).unwrap();
        let mut n = 0u64;
        while let Ok(Some(_)) = src.next_packet() {
            n += 1;
        }
        n
    };
    let mut g = c.benchmark_group("capture");
    g.throughput(Throughput::Elements(packets));
    g.bench_function("pcap_from_memory", |b| {
        b.iter(|| {
            let mut src =
                ids_capture::open_reader("bench", Box::new(std::io::Cursor::new(bytes.clone()))).unwrap();
            let mut total = 0usize;
            while let Ok(Some(p)) = src.next_packet() {
                total += p.data.len();
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, read_pcap);
criterion_main!(benches);
