//! `roundtrip_metadata`: Any TTHeader / THeader header with metadata round-trips and is detected.
//! The body is `faultline_core::fuzzing::targets::roundtrip_metadata`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(
    |data: &[u8]| faultline_core::fuzzing::targets::roundtrip_metadata(data)
);
