//! `server_session`: an arbitrary sequence of frames (valid, truncated, corrupted,
//! interleaved sequence ids) through one in-memory connection to a real server. The body is
//! `faultline_core::fuzzing::targets::server_session`, which `cargo test` also replays.
#![no_main]

/// The allocation oracle counts what each input's decodes allocate.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_core::fuzzing::targets::server_session(data));
