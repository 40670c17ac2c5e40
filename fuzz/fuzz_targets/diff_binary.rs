//! `diff_binary`: Same bytes into faultline and the Apache `thrift` crate (Binary): they must agree.
//! The body is `faultline_core::fuzzing::targets::diff_binary`, which `cargo test` also replays.
#![no_main]

/// The allocation oracle counts what each input's decodes allocate.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::diff_binary(data));
