//! `parse_experiment`: arbitrary bytes as an experiment file. The body is
//! `faultline_chaos::fuzzing::parse_experiment`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_chaos::fuzzing::parse_experiment(data));
