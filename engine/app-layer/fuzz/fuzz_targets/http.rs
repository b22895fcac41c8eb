//! Feeds arbitrary bytes to the http stream parser in both directions, cut into pieces whose
//! sizes come from the first bytes of the input, with occasional gaps. Must never panic, and the
//! parser's memory must stay within its limits (checked by the parser's own caps).
#![no_main]

use ids_app_layer::{AppProto, Direction, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, data)) = data.split_first() else { return };
    let limits = Limits { http_max_header_bytes: 512, tls_max_handshake_bytes: 4096, ..Limits::default() };
    let mut p = AppProto::Http.stream_parser(&limits);
    let piece = usize::from(cut & 0x3f) + 1;
    for dir in [Direction::ToServer, Direction::ToClient] {
        for (i, chunk) in data.chunks(piece).enumerate() {
            if cut & 0x80 != 0 && i % 7 == 3 {
                p.gap(dir, chunk.len() as u64, &mut |_| {});
            } else {
                p.parse(dir, chunk, &mut |_| {});
            }
        }
        p.end(dir, &mut |_| {});
    }
});
