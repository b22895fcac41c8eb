//! The whole packet engine on arbitrary bytes taken as a capture file: capture reading,
//! decoding, defragmentation, flow tracking and TCP reassembly must never panic.
#![no_main]

use ids_pipeline::{ChecksumMode, EngineConfig, Input, NullInspector, NullOutput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = EngineConfig { workers: 1, checksums: ChecksumMode::NONE, ..Default::default() };
    ids_pipeline::run(vec![Input::bytes("fuzz", data.to_vec())], &config, |_| NullInspector, NullOutput, None);
});
