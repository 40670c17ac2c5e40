//! `decode_typed`: Raw bytes into a typed request struct (nested lists, maps, optional fields).
//! The body is `faultline_core::fuzzing::targets::decode_typed`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::decode_typed(data));
