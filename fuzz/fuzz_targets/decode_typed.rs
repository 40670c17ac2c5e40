//! `decode_typed`: Raw bytes into a typed request struct (nested lists, maps, optional fields).
//! The body is `faultline_core::fuzzing::targets::decode_typed`, which `cargo test` also replays.
#![no_main]

/// The allocation oracle counts what each input's decodes allocate.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::decode_typed(data));
