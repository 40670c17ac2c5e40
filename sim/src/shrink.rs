//! Shrinking a failing run: the smallest experiment, under the same seed, that still
//! fails. Candidates, tried greedily until none still fails: drop a fault; halve a
//! fault's duration; halve the workload's duration (faults that would start after it are
//! dropped with it); halve the rate. Each candidate is a whole new run, so the result is
//! an experiment file anyone can run again.

use std::time::Duration;

use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::load::{load_bytes, SpecDocument};
use faultline_chaos::yaml::to_yaml_stream;

use crate::run::{run, RunOptions};
use crate::scale::TimeScale;

/// The shortest workload and fault the shrinker tries.
const FLOOR: Duration = Duration::from_secs(1);

/// What shrinking found.
#[derive(Debug, Clone)]
pub struct Shrunk {
    pub experiment: Experiment,
    /// The minimal experiment as a file.
    pub yaml: String,
    /// Runs made (each a candidate).
    pub runs: u32,
    /// What was taken away, step by step.
    pub steps: Vec<String>,
}

/// Whether `experiment` fails under `seed` (a run that cannot happen does not count as a
/// failure: shrinking must keep the same kind of failure, not make a broken file).
fn fails(experiment: &Experiment, seed: u64, scale: TimeScale) -> bool {
    let yaml = as_yaml(experiment);
    let Ok(loaded) = load_bytes(yaml.as_bytes(), std::path::Path::new("shrink.yaml")) else {
        return false;
    };
    let Some((experiment, document)) = loaded.iter().find_map(|l| match &l.spec {
        SpecDocument::Experiment(e) => Some((e, &l.document)),
        SpecDocument::Chaos(_) => None,
    }) else {
        return false;
    };
    let options = RunOptions {
        seed,
        scale: Some(scale),
        file: None,
    };
    run(experiment, document, &options, None).is_ok_and(|outcome| !outcome.report.passed())
}

fn as_yaml(experiment: &Experiment) -> String {
    let value = serde_json::to_value(experiment).unwrap_or_default();
    to_yaml_stream([&value])
}

/// Every one-step reduction of `experiment`, with what it takes away.
fn candidates(experiment: &Experiment) -> Vec<(String, Experiment)> {
    let spec = &experiment.spec;
    let mut out = Vec::new();
    for (index, fault) in spec.faults.iter().enumerate() {
        let mut smaller = experiment.clone();
        smaller.spec.faults.remove(index);
        out.push((format!("dropped fault {}", fault.name), smaller));
        if let Some(lasts) = fault.duration.filter(|d| *d / 2 >= FLOOR) {
            let mut smaller = experiment.clone();
            smaller.spec.faults[index].duration = Some(lasts / 2);
            out.push((
                format!("fault {} lasts {:?}", fault.name, lasts / 2),
                smaller,
            ));
        }
    }
    let duration = spec.workload.duration;
    if duration / 2 >= FLOOR {
        let mut smaller = experiment.clone();
        smaller.spec.workload.duration = duration / 2;
        smaller.spec.faults.retain(|f| f.at < duration / 2);
        out.push((format!("workload lasts {:?}", duration / 2), smaller));
    }
    if spec.workload.rate >= 2 {
        let mut smaller = experiment.clone();
        smaller.spec.workload.rate = spec.workload.rate / 2;
        out.push((format!("rate {}/s", spec.workload.rate / 2), smaller));
    }
    out
}

/// Shrinks `experiment`, which fails under `seed`; `None` when it does not fail.
pub fn shrink(
    experiment: &Experiment,
    seed: u64,
    scale: TimeScale,
    progress: &dyn Fn(&str),
) -> Option<Shrunk> {
    let mut runs = 1;
    if !fails(experiment, seed, scale) {
        return None;
    }
    let mut current = experiment.clone();
    let mut steps = Vec::new();
    'smaller: loop {
        for (step, candidate) in candidates(&current) {
            runs += 1;
            if fails(&candidate, seed, scale) {
                progress(&step);
                steps.push(step);
                current = candidate;
                continue 'smaller;
            }
        }
        break;
    }
    Some(Shrunk {
        yaml: as_yaml(&current),
        experiment: current,
        runs,
        steps,
    })
}
