//! The fuzz targets on stable, in `cargo test`: every committed seed (`fuzz/seeds/<target>/`)
//! and every minimised crash (`fuzz/regressions/<target>/`) runs through the same function
//! the libFuzzer target calls (`faultline_core::fuzzing::TARGETS`), so a regression never
//! comes back unnoticed. Also: the committed seeds are exactly what the generator makes,
//! every target has its `fuzz/fuzz_targets/<name>.rs` and `[[bin]]`, and proptest drives the
//! structure-aware targets and mutated seeds through the target bodies.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use faultline_core::frame::decode_frame;
use faultline_core::fuzzing::{seeds, target, TARGETS};
use faultline_core::protocol::{DecodeLimits, Value};
use proptest::prelude::*;

/// The allocation oracle: every target measures its decodes with it, as the fuzz binaries do.
#[global_allocator]
static ALLOCATOR: faultline_core::fuzzing::alloc::Counting =
    faultline_core::fuzzing::alloc::Counting;

/// Targets of other crates, replayed by their own tests (`parse_experiment`:
/// chaos/tests/fuzz_replay.rs).
const REPLAYED_ELSEWHERE: [&str; 1] = ["parse_experiment"];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Files of `dir/<target>/`, by target, then by name; folders named after no target fail.
fn read_corpus(dir: &Path) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.expect("readable corpus folder").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || REPLAYED_ELSEWHERE.contains(&name.as_str()) {
            continue;
        }
        assert!(
            target(&name).is_some(),
            "{} names no fuzz target",
            path.display()
        );
        let mut files = BTreeMap::new();
        for file in fs::read_dir(&path).expect("readable target folder") {
            let file = file.unwrap().path();
            let file_name = file.file_name().unwrap().to_string_lossy().into_owned();
            if file_name.starts_with('.') {
                continue;
            }
            files.insert(file_name, fs::read(&file).expect("readable input"));
        }
        out.insert(name, files);
    }
    out
}

fn generated() -> Vec<seeds::Seed> {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/vectors");
    seeds::seeds(&vectors).expect("the seed generator runs")
}

fn replay(dir: &str) -> usize {
    let corpus = read_corpus(&fuzz_dir().join(dir));
    let mut ran = 0;
    for (name, files) in &corpus {
        let run = target(name).unwrap();
        for (file, bytes) in files {
            eprintln!("replaying fuzz/{dir}/{name}/{file}");
            run(bytes);
            ran += 1;
        }
    }
    ran
}

#[test]
fn committed_seeds_are_what_the_generator_makes() {
    let want: BTreeMap<String, BTreeMap<String, Vec<u8>>> = seeds::by_target(&generated())
        .into_iter()
        .map(|(t, files)| (t.to_owned(), files))
        .collect();
    let have = read_corpus(&fuzz_dir().join("seeds"));
    assert!(
        have == want,
        "fuzz/seeds/ is stale: run `cargo run -p faultline-core --features fuzzing --example \
         fuzz_seeds` and commit the result"
    );
    for (name, _) in TARGETS {
        assert!(
            want.get(*name).is_some_and(|files| !files.is_empty()),
            "{name} has no seeds"
        );
    }
}

#[test]
fn every_seed_replays() {
    assert!(replay("seeds") > 100);
}

/// Every file under `fuzz/regressions/<target>/` (hidden files aside), counted apart
/// from `read_corpus`, so a reader that skipped some would not go unnoticed.
fn regression_files(dir: &Path) -> usize {
    let visible = |path: &Path| {
        !path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'))
    };
    fs::read_dir(dir)
        .expect("readable fuzz/regressions")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.is_dir() && visible(path))
        .filter(|path| {
            !path
                .file_name()
                .is_some_and(|name| REPLAYED_ELSEWHERE.contains(&&*name.to_string_lossy()))
        })
        .flat_map(|target| fs::read_dir(target).expect("readable target folder"))
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| visible(path))
        .count()
}

#[test]
fn every_regression_replays() {
    let dir = fuzz_dir().join("regressions");
    assert!(
        dir.is_dir(),
        "{} is missing: the minimised crashes are not replayed",
        dir.display()
    );
    let files = regression_files(&dir);
    assert!(files >= 1, "{} holds no regression", dir.display());
    assert_eq!(
        replay("regressions"),
        files,
        "every regression file replayed"
    );
}

#[test]
fn faultlines_own_frame_seeds_decode() {
    let limits = DecodeLimits::small();
    for seed in generated() {
        if seed.target != "decode_auto" || !seed.name.starts_with("fl-") {
            continue;
        }
        let mut rest = &seed.bytes[..];
        while !rest.is_empty() {
            let frame = decode_frame(rest, None, None, &limits)
                .unwrap_or_else(|e| panic!("{}: {e}", seed.name));
            frame
                .decode_message::<Value>(limits)
                .unwrap_or_else(|e| panic!("{}: {e}", seed.name));
            rest = &rest[frame.len..];
        }
    }
}

#[test]
fn every_target_has_a_libfuzzer_target() {
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let mut files: Vec<String> = fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .map(|e| {
            let path = e.unwrap().path();
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .filter(|name| !REPLAYED_ELSEWHERE.contains(&name.as_str()))
        .collect();
    files.sort();
    let mut names: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(
        files, names,
        "fuzz/fuzz_targets/ and fuzzing::TARGETS differ"
    );
    for name in &names {
        let body = fs::read_to_string(fuzz_dir().join(format!("fuzz_targets/{name}.rs"))).unwrap();
        assert!(
            body.contains(&format!("targets::{name}(")),
            "fuzz_targets/{name}.rs does not call fuzzing::targets::{name}"
        );
        assert!(
            body.contains("#[global_allocator]") && body.contains("alloc::Counting"),
            "fuzz_targets/{name}.rs does not install the counting allocator"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}

/// Seeds of the raw-bytes targets, for mutation.
fn decode_seeds() -> Vec<(&'static str, Vec<u8>)> {
    generated()
        .into_iter()
        .filter(|s| !s.target.starts_with("roundtrip_"))
        .map(|s| (s.target, s.bytes))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Well-formed values and messages from the fuzz generator round-trip in both protocols
    /// and every framing (beyond `protocol_codecs.rs`: framings, depth up to the limit,
    /// NaN payloads, field-id deltas around 15).
    #[test]
    fn generated_values_round_trip_in_every_framing(
        data in prop::collection::vec(any::<u8>(), 0..4096)
    ) {
        target("roundtrip_value").unwrap()(&data);
    }

    /// Typed requests (nested, optional, recursive) round-trip in both protocols.
    #[test]
    fn generated_requests_round_trip(data in prop::collection::vec(any::<u8>(), 0..4096)) {
        target("roundtrip_typed").unwrap()(&data);
    }

    /// TTHeader and THeader headers with arbitrary metadata round-trip and are detected.
    #[test]
    fn generated_headers_round_trip(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        target("roundtrip_metadata").unwrap()(&data);
    }

    /// Arbitrary sessions of frames through one in-memory connection to a real server.
    #[test]
    fn generated_sessions_are_served(data in prop::collection::vec(any::<u8>(), 0..4096)) {
        target("server_session").unwrap()(&data);
    }

    /// Arbitrary reply scripts from a server against a real connection pool.
    #[test]
    fn generated_client_sessions_end_every_call(
        data in prop::collection::vec(any::<u8>(), 0..2048)
    ) {
        target("client_session").unwrap()(&data);
    }

    /// Seeds with a few bytes changed or cut through every raw-bytes target: the
    /// consistency properties (skip = decode, frame_len, re-encode fixpoint, Apache
    /// agreement) hold on damaged input too.
    #[test]
    fn mutated_seeds_keep_every_property(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let all = decode_seeds();
        let (name, mut bytes) = all[which.index(all.len())].clone();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let run = target(name).unwrap();
        run(&bytes);
        run(&bytes[..cut.index(bytes.len() + 1)]);
    }
}
