//! `crosscheck_binary`: Raw bytes through every Binary decoding path (slice, `Bytes`, `skip`),
//! which must agree; accepted input re-encodes to itself.
//! The body is `faultline_core::fuzzing::targets::crosscheck_binary`, which `cargo test` also replays.
#![no_main]

/// The allocation oracle counts what each input's decodes allocate.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

libfuzzer_sys::fuzz_target!(
    |data: &[u8]| faultline_core::fuzzing::targets::crosscheck_binary(data)
);
