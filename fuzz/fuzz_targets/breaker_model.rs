//! `breaker_model`: arbitrary admit / outcome / clock-advance sequences against the circuit
//! breaker and its reference model. The body is
//! `faultline_core::fuzzing::targets::breaker_model`, which `cargo test` also replays.
#![no_main]

/// The allocation oracle counts what each input's decodes allocate.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::breaker_model(data));
