//! `decode_framed`: Raw bytes as a Framed frame and its message.
//! The body is `faultline_core::fuzzing::targets::decode_framed`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::decode_framed(data));
