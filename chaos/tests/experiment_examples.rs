//! The shipped example experiments (`manifests/examples/*.yaml`) load, validate, and keep
//! their meaning through a write and a re-read.

use std::path::{Path, PathBuf};

use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::load::{load_bytes, load_file, SpecDocument};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("manifests/examples exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

fn experiment(path: &Path) -> Experiment {
    let loaded = load_file(path).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(loaded.len(), 1, "{}: one document", path.display());
    match &loaded[0].spec {
        SpecDocument::Experiment(experiment) => (**experiment).clone(),
        SpecDocument::Chaos(_) => panic!("{}: not an Experiment", path.display()),
    }
}

#[test]
fn every_example_named_by_the_issue_is_shipped_and_valid() {
    let names: Vec<String> = examples()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for wanted in [
        "instance-crash",
        "packet-loss",
        "retry-storm",
        "zone-failover",
        "zone-partition",
    ] {
        assert!(names.iter().any(|n| n == wanted), "missing {wanted}.yaml");
    }
    for path in examples() {
        let experiment = experiment(&path);
        assert_eq!(
            experiment.metadata.name.as_deref(),
            path.file_stem().and_then(|s| s.to_str()),
            "{}: metadata.name matches the file",
            path.display()
        );
        assert!(!experiment.spec.faults.is_empty(), "{}", path.display());
    }
}

#[test]
fn examples_round_trip_through_yaml_written_back() {
    for path in examples() {
        let first = experiment(&path);
        let written = serde_json::to_string_pretty(&first).expect("serializes");
        let reread = load_bytes(written.as_bytes(), &path)
            .unwrap_or_else(|errors| panic!("{}: {}", path.display(), errors[0]));
        let SpecDocument::Experiment(second) = &reread[0].spec else {
            panic!("not an experiment");
        };
        assert_eq!(first.spec, second.spec, "{}", path.display());
    }
}
