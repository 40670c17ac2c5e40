//! `decode_auto`: Raw bytes as a server reads a connection: detection, frame, request, next frame.
//! The body is `faultline_core::fuzzing::targets::decode_auto`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::decode_auto(data));
