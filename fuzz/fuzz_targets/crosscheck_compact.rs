//! `crosscheck_compact`: Raw bytes through every Compact decoding path (slice, `Bytes`, `skip`),
//! which must agree; accepted input re-encodes to itself.
//! The body is `faultline_core::fuzzing::targets::crosscheck_compact`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::crosscheck_compact(data));
