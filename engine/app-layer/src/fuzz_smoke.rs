//! Deterministic fuzzing in `cargo test`: mutated valid messages and random bytes, fed in random
//! pieces with random gaps, to every parser and probe. The real fuzz targets live in
//! `engine/app-layer/fuzz/` (cargo-fuzz); this keeps the no-panic property checked on every run.

use crate::dns::{parse_message, DnsUdpParser};
use crate::{probe_tcp, probe_udp, AppProto, DatagramParser, Direction, Limits};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        if v.is_empty() {
            v.push(rng.next() as u8);
            continue;
        }
        let i = rng.below(v.len());
        match rng.below(5) {
            0 => v[i] ^= 1 << rng.below(8),
            1 => v[i] = rng.next() as u8,
            2 => {
                v.remove(i);
            }
            3 => v.insert(i, rng.next() as u8),
            _ => {
                let j = rng.below(v.len());
                let (a, b) = (i.min(j), i.max(j));
                let dup = v[a..b].to_vec();
                v.splice(b..b, dup);
            }
        }
    }
    v
}

const SEEDS: &[&[u8]] = &[
    b"POST /a/../b?c=%2e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n5\r\n\x1f\x8b\x08\x00\x00\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Encoding: deflate\r\n\r\nx\x9c\x03\x00GET / HTTP/1.0\r\n\r\n",
    b"SSH-2.0-OpenSSH_8.9\r\n",
    b"220 mail ESMTP\r\n",
    include_bytes!("../testdata/tls_long_cert.c2s.bin"),
];

#[test]
fn parsers_survive_hostile_input() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let limits = Limits { http_max_header_bytes: 256, tls_max_handshake_bytes: 2048, ..Limits::default() };
    let s2c = include_bytes!("../testdata/tls_long_cert.s2c.bin");
    let mut seeds: Vec<&[u8]> = SEEDS.to_vec();
    seeds.push(&s2c[..]);
    for round in 0..3000 {
        let seed = seeds[rng.below(seeds.len())];
        let data = if round % 10 == 0 {
            (0..rng.below(600)).map(|_| rng.next() as u8).collect()
        } else {
            mutate(&mut rng, seed)
        };
        let _ = probe_tcp(&data, &data);
        let _ = probe_udp(&data, 53, 53);
        let _ = parse_message(&data, &limits);
        let _ = DnsUdpParser::new(limits.clone()).parse_datagram(Direction::ToServer, &data, &mut |_| {});
        for proto in [AppProto::Http, AppProto::Tls, AppProto::Dns, AppProto::Ssh, AppProto::Smtp] {
            let mut p = proto.stream_parser(&limits);
            for dir in [Direction::ToServer, Direction::ToClient] {
                let mut pos = 0;
                while pos < data.len() {
                    let n = 1 + rng.below(data.len() - pos);
                    if rng.below(20) == 0 {
                        p.gap(dir, n as u64, &mut |_| {});
                    } else {
                        p.parse(dir, &data[pos..pos + n], &mut |_| {});
                    }
                    pos += n;
                }
                p.end(dir, &mut |_| {});
            }
        }
    }
}
