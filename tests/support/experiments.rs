//! The example experiments as tests use them, whichever backend runs them: the files, a
//! variant with part of the client configuration replaced (written back to YAML and
//! loaded like any experiment file, as a user would make it), and assertions on a report.

use std::path::{Path, PathBuf};

use faultline_chaos::report::{Report, Verdict};
use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::load::{load_bytes, SpecDocument};
use faultline_chaos::spec::located::Document;
use faultline_chaos::yaml::to_yaml_stream;
use serde_json::Value;

pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("manifests/examples")
        .join(format!("{name}.yaml"))
}

/// The Experiment of `text` (read from `path`) and its document.
pub fn load(text: &[u8], path: &Path) -> (Experiment, Document) {
    let loaded = load_bytes(text, path).unwrap_or_else(|errors| {
        panic!("{}: {errors:?}", path.display());
    });
    let SpecDocument::Experiment(experiment) = &loaded[0].spec else {
        panic!("{}: an Experiment first", path.display());
    };
    ((**experiment).clone(), loaded[0].document.clone())
}

/// The example's text with `spec.<section>.<key>` replaced for each entry of `patch`
/// (`{section: {key: value}}`).
pub fn with_spec(name: &str, patch: Value) -> String {
    let text = std::fs::read(example(name)).unwrap();
    let (experiment, _) = load(&text, &example(name));
    let mut value = serde_json::to_value(&experiment).unwrap();
    for (section, entries) in patch.as_object().unwrap() {
        for (key, replacement) in entries.as_object().unwrap() {
            value["spec"][section][key] = replacement.clone();
        }
    }
    to_yaml_stream([&value])
}

/// The example's text with `client.<key>` replaced for each entry of `patch`.
pub fn with_client(name: &str, patch: Value) -> String {
    with_spec(name, serde_json::json!({ "client": patch }))
}

/// Asserts the run passed: every clause and every invariant check.
pub fn assert_passed(report: &Report) {
    let failed: Vec<_> = report.clauses.iter().filter(|c| !c.passed).collect();
    let broken: Vec<_> = report
        .checks
        .iter()
        .filter(|c| !c.violations.is_empty())
        .collect();
    assert_eq!(
        report.verdict,
        Verdict::Passed,
        "{}: clauses {failed:#?} checks {broken:#?} aborted {:?}",
        report.experiment,
        report.aborted
    );
}

/// Asserts the run failed (or was aborted) and that the clause `clause` (during `fault`,
/// when given) did not hold.
pub fn assert_fails_on(report: &Report, clause: &str, fault: Option<&str>) {
    assert_ne!(report.verdict, Verdict::Passed, "{:#?}", report.clauses);
    let failing = report
        .clauses
        .iter()
        .find(|c| c.clause == clause && c.fault.as_deref() == fault)
        .unwrap_or_else(|| panic!("no clause {clause:?}: {:#?}", report.clauses));
    assert!(!failing.passed, "{failing:#?}");
}
