//! `decode_ttheader`: Raw bytes as a Kitex TTHeader frame (bare and framed payload) and its message.
//! The body is `faultline_core::fuzzing::targets::decode_ttheader`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::decode_ttheader(data));
