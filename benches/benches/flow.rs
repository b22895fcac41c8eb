//! The flow table: looking up established flows (the common case), and creating flows under a
//! flood that keeps the table at its cap (every packet evicts the stalest flow).

use std::net::{IpAddr, Ipv4Addr};

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ids_capture::Timestamp;
use ids_flow::{
    Direction, EndReason, Flow, FlowConfig, FlowInfo, FlowObserver, FlowTable, PacketTuple, TcpConfig,
    Timeouts,
};
use ids_reassembly::tcp::{Chunk, StreamConfig, StreamPolicy};

struct Discard;

impl FlowObserver<()> for Discard {
    fn stream_data(&mut self, _: &FlowInfo, _: &mut (), _: Direction, _: Chunk<'_>) {}
    fn flow_end(&mut self, _: Flow<()>, _: EndReason) {}
}

fn config(max_flows: usize) -> FlowConfig {
    FlowConfig {
        max_flows,
        memcap: usize::MAX,
        timeouts: Timeouts::default(),
        tcp: TcpConfig { policy: StreamPolicy::Bsd, stream: StreamConfig::default() },
    }
}

fn tuple(i: u32) -> PacketTuple {
    PacketTuple {
        src: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (i >> 8))),
        dst: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
        src_port: 1024 + (i & 0xff) as u16,
        dst_port: 53,
        proto: 17,
        vlan: 0,
    }
}

fn flow_table(c: &mut Criterion) {
    const FLOWS: u32 = 100_000;
    let tuples: Vec<PacketTuple> = (0..FLOWS).map(tuple).collect();
    let mut g = c.benchmark_group("flow");
    g.throughput(Throughput::Elements(u64::from(FLOWS)));

    let mut table: FlowTable<()> = FlowTable::new(config(1 << 20));
    for t in &tuples {
        table.process(t, 60, None, Timestamp(0), &mut Discard);
    }
    g.bench_function("lookup_100k_established", |b| {
        b.iter(|| {
            for t in &tuples {
                black_box(table.process(t, 60, None, Timestamp(1), &mut Discard));
            }
        })
    });

    g.bench_function("create_100k_at_cap_10k", |b| {
        b.iter_batched(
            || FlowTable::<()>::new(config(10_000)),
            |mut table| {
                for t in &tuples {
                    black_box(table.process(t, 60, None, Timestamp(0), &mut Discard));
                }
                table
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, flow_table);
criterion_main!(benches);
