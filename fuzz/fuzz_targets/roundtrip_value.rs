//! `roundtrip_value`: Any well-formed `Value` and message round-trip in both protocols and every framing.
//! The body is `faultline_core::fuzzing::targets::roundtrip_value`, which `cargo test` also replays.
#![no_main]

/// The allocation oracle counts what each input's decodes allocate.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::roundtrip_value(data));
