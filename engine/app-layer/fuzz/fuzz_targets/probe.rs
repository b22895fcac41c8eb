//! Protocol probes on arbitrary first bytes.
#![no_main]

use ids_app_layer::{probe_tcp, probe_udp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mid = data.len() / 2;
    let _ = probe_tcp(&data[..mid], &data[mid..]);
    let _ = probe_tcp(data, &[]);
    let _ = probe_udp(data, 53, 1024);
    let _ = probe_udp(data, 1024, 2048);
});
