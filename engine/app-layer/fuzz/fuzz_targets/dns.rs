//! DNS: one datagram, and the same bytes as a DNS-over-TCP stream cut into pieces.
#![no_main]

use ids_app_layer::dns::{parse_message, DnsUdpParser};
use ids_app_layer::{AppProto, DatagramParser, Direction, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let _ = parse_message(data, &limits);
    let _ = DnsUdpParser::new(limits.clone()).parse_datagram(Direction::ToServer, data, &mut |_| {});
    let Some((&cut, rest)) = data.split_first() else { return };
    let mut p = AppProto::Dns.stream_parser(&limits);
    for chunk in rest.chunks(usize::from(cut) + 1) {
        p.parse(Direction::ToClient, chunk, &mut |_| {});
    }
});
