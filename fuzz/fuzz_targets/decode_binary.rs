//! `decode_binary`: Raw bytes into the Binary reader, as a message and as a bare struct.
//! The body is `faultline_core::fuzzing::targets::decode_binary`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::decode_binary(data));
