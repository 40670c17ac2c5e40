//! `breaker_model`: arbitrary admit / outcome / clock-advance sequences against the circuit
//! breaker and its reference model. The body is
//! `faultline_core::fuzzing::targets::breaker_model`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::breaker_model(data));
