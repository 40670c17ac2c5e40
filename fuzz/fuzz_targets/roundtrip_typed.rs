//! `roundtrip_typed`: Any typed request round-trips in both protocols.
//! The body is `faultline_core::fuzzing::targets::roundtrip_typed`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::roundtrip_typed(data));
