//! `client_session`: a real connection pool calling a scripted server whose replies are the
//! input: wrong sequence ids, wrong kinds, other framings, duplicates, garbage, closes.
//! The body is `faultline_core::fuzzing::targets::client_session`, which `cargo test` also
//! replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::client_session(data));
