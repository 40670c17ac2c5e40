//! `client_session`: a real connection pool calling a scripted server whose replies are the
//! input: wrong sequence ids, wrong kinds, other framings, duplicates, garbage, closes.
//! The body is `faultline_core::fuzzing::targets::client_session`, which `cargo test` also
//! replays.
#![no_main]

/// The allocation oracle counts what each input's decodes allocate.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::client_session(data));
