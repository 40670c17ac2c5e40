//! `diff_pilota_binary`: Same bytes into faultline and pilota 0.13 (Binary): they must agree, and
//! pilota's re-encoding must read back the same; pilota's known bugs are listed in FUZZING.md.
//! The body is `faultline_core::fuzzing::targets::diff_pilota_binary`, which `cargo test` also replays.
#![no_main]

/// The allocation oracle counts what each input's decodes allocate.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

libfuzzer_sys::fuzz_target!(
    |data: &[u8]| faultline_core::fuzzing::targets::diff_pilota_binary(data)
);
