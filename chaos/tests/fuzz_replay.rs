//! The `parse_experiment` fuzz target on stable, in `cargo test`: its seeds (the shipped
//! example experiments and Chaos Mesh's example objects), every minimised crash in
//! `fuzz/regressions/parse_experiment/`, and mutations of the seeds, through the target's
//! body.

use std::path::{Path, PathBuf};

use faultline_chaos::fuzzing::parse_experiment;
use proptest::prelude::*;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files of `dir` (relative to the workspace), none if it does not exist.
fn files(dir: &str) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(workspace().join(dir)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.expect("entry").path()).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.is_file())
        .map(|p| std::fs::read(p).expect("readable"))
        .collect()
}

/// The corpus the fuzz target starts from (fuzz/smoke.sh passes the same folders).
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = files("manifests/examples");
    seeds.extend(files("chaos/tests/fixtures/chaos-mesh"));
    seeds
}

#[test]
fn every_seed_and_regression_replays() {
    let seeds = seeds();
    assert!(seeds.len() >= 25, "seeds found: {}", seeds.len());
    for seed in &seeds {
        parse_experiment(seed);
    }
    for regression in files("fuzz/regressions/parse_experiment") {
        parse_experiment(&regression);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_seeds_keep_every_property(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let seeds = seeds();
        let mut input = seeds[pick.index(seeds.len())].clone();
        for (at, byte, op) in edits {
            if input.is_empty() {
                input.push(byte);
                continue;
            }
            let i = at.index(input.len());
            match op {
                0 => input[i] = byte,
                1 => input.insert(i, byte),
                _ => { input.remove(i); }
            }
        }
        parse_experiment(&input);
    }
}
