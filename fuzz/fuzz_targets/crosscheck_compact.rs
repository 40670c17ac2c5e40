//! `crosscheck_compact`: Raw bytes through every Compact decoding path (slice, `Bytes`, `skip`),
//! which must agree; accepted input re-encodes to itself.
//! The body is `faultline_core::fuzzing::targets::crosscheck_compact`, which `cargo test` also replays.
#![no_main]

/// The allocation oracle counts what each input's decodes allocate.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

libfuzzer_sys::fuzz_target!(
    |data: &[u8]| faultline_core::fuzzing::targets::crosscheck_compact(data)
);
