//! The body of the `parse_experiment` fuzz target (fuzz/fuzz_targets/parse_experiment.rs),
//! also replayed by `cargo test` (chaos/tests/fuzz_replay.rs) on stable.
//!
//! Arbitrary bytes go through the experiment loader as a file would. Properties: nothing
//! panics or hangs; every error points inside the input (line and column within it); what
//! loads writes back and loads again to the same value; planning what loaded, on every
//! backend, never panics.

use std::path::Path;

use crate::plan::{plan, Backend, PlanOptions};
use crate::spec::chaos_mesh::ChaosObject;
use crate::spec::load::{load_bytes, SpecDocument};

/// Lines as YAML counts them: breaks are LF, CRLF and a lone CR.
fn line_count(data: &[u8]) -> usize {
    let crlf = data.windows(2).filter(|w| w == b"\r\n").count();
    let breaks = data.iter().filter(|b| matches!(b, b'\n' | b'\r')).count();
    breaks - crlf + 1
}

/// Runs one input; panics on a broken property.
pub fn parse_experiment(data: &[u8]) {
    let file = Path::new("fuzz.yaml");
    let loaded = match load_bytes(data, file) {
        Ok(loaded) => loaded,
        Err(errors) => {
            assert!(!errors.is_empty(), "an Err carries at least one error");
            let lines = line_count(data);
            for error in &errors {
                let at = &error.location;
                assert!(at.line >= 1 && at.column >= 1, "1-based: {error}");
                assert!(
                    at.line <= lines + 1,
                    "line {} beyond the input's {lines}: {error}",
                    at.line
                );
            }
            return;
        }
    };
    for document in &loaded {
        match &document.spec {
            SpecDocument::Experiment(experiment) => {
                let written = serde_json::to_vec(&**experiment).expect("an Experiment serializes");
                let again = load_bytes(&written, file)
                    .unwrap_or_else(|e| panic!("a loaded Experiment reloads: {}", e[0]));
                let SpecDocument::Experiment(second) = &again[0].spec else {
                    panic!("an Experiment reloads as an Experiment");
                };
                assert_eq!(experiment.spec, second.spec, "round trip");
                for backend in [Backend::Sim, Backend::Local, Backend::Kube] {
                    let options = PlanOptions {
                        backend,
                        seed: 1,
                        run_id: None,
                    };
                    let _ = plan(experiment, &document.document, &options);
                }
            }
            SpecDocument::Chaos(object) => {
                let again = ChaosObject::from_value(&object.to_value())
                    .unwrap_or_else(|e| panic!("a loaded object reads back: {e}"));
                assert_eq!(**object, again, "round trip");
            }
        }
    }
}
