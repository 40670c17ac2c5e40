//! The plan: what a run of an experiment will do, when, and to which instances or pods, on
//! one backend. `faultline chaos plan` prints it; the backends will execute it.
//!
//! Times count from the start of the measured workload: warm-up runs before 0, each fault
//! is injected at its `at` and recovered at its end, the steady-state check covers 0 up to
//! the first fault, the recovery check starts `recoverWithin` after the last fault ends.
//!
//! On `sim` and `local` the instances are the experiment's topology (plus the probe,
//! `faultline-probe`, labelled `app: faultline-probe` and its zone), and every selector's
//! `mode`/`value` choice is made here, with a generator seeded from the run seed and the
//! fault's index, so a seed fixes the choice. On `kube` the cluster chooses (Chaos Mesh
//! picks pods when it injects); the plan holds the exact objects that will be created
//! ([`kube`]).

mod kube;
mod select;
mod text;

use std::time::Duration;

use faultline_core::config::{FieldErrors, FieldPath};
use serde::Serialize;
use serde_json::Value;

use crate::spec::experiment::{Clause, Experiment, ExperimentSpec};
use crate::spec::located::{Document, SpecError};

pub use kube::{object_name, protected, MANAGED_BY, PROTECTED_NAMESPACES, RUN_LABEL};
pub use select::{hosts, probe, PROBE_NAME};

/// Where an experiment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Deterministic simulation in virtual time.
    Sim,
    /// Real processes on this machine behind fault proxies.
    Local,
    /// A Kubernetes cluster, through Chaos Mesh.
    Kube,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sim => "sim",
            Backend::Local => "local",
            Backend::Kube => "kube",
        }
    }
}

/// How to plan: where, and with which seed and run id.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub backend: Backend,
    /// Seeds every choice the run makes (instances picked by `mode`, jitter, ...).
    pub seed: u64,
    /// Labels every object a run creates; derived from `seed` when not given.
    pub run_id: Option<String>,
}

/// The timeline of one run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub experiment: String,
    pub backend: Backend,
    pub seed: u64,
    pub run_id: String,
    pub namespace: String,
    /// The instances of the topology (`sim`, `local`); empty on `kube`.
    pub instances: Vec<String>,
    pub steps: Vec<Step>,
    /// `kube`: the Chaos Mesh objects the run creates, in creation order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<Value>,
}

/// One thing that happens at one time.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Offset from the start of the measured workload (negative during warm-up).
    #[serde(serialize_with = "signed_duration")]
    pub at: Offset,
    #[serde(flatten)]
    pub event: Event,
}

/// A signed offset from the start of measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Offset {
    pub before_start: bool,
    pub by: Duration,
}

impl Offset {
    pub fn after(by: Duration) -> Self {
        Offset {
            before_start: false,
            by,
        }
    }

    fn sort_key(self) -> (i8, i128) {
        let nanos = self.by.as_nanos() as i128;
        match self.before_start {
            true => (0, -nanos),
            false => (1, nanos),
        }
    }
}

impl std::fmt::Display for Offset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.before_start && !self.by.is_zero() {
            "-"
        } else {
            ""
        };
        write!(
            f,
            "{sign}{}",
            faultline_core::config::duration::format(self.by)
        )
    }
}

fn signed_duration<S: serde::Serializer>(offset: &Offset, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&offset.to_string())
}

/// What happens.
#[derive(Debug, Clone, Serialize)]
#[serde(
    tag = "event",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Event {
    WarmupStarts {
        rate: u32,
    },
    MeasurementStarts {
        rate: u32,
    },
    /// The steady-state clauses are judged from 0 to here.
    SteadyStateChecked {
        clauses: Vec<String>,
    },
    Inject {
        fault: String,
        kind: String,
        /// The action and its parameters, e.g. `delay {latency: 2ms, jitter: 500us}`.
        action: String,
        /// Who it acts on: chosen instances (`sim`, `local`) or the cluster selection.
        targets: Targets,
        /// For NetworkChaos with a `target`: the other side.
        #[serde(skip_serializing_if = "Option::is_none")]
        peers: Option<Targets>,
    },
    Recover {
        fault: String,
    },
    /// The after clauses are judged from here to the end.
    RecoveryChecked {
        clauses: Vec<String>,
    },
    MeasurementEnds,
}

/// Who a fault acts on.
#[derive(Debug, Clone, Serialize)]
#[serde(
    tag = "chosenBy",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Targets {
    /// Chosen now from the topology with the run's seed.
    Plan {
        instances: Vec<String>,
        selection: String,
    },
    /// Chosen by Chaos Mesh in the cluster when it injects.
    Cluster {
        namespace: String,
        selection: String,
    },
    /// The backend cannot act on this kind; the report lists it as skipped.
    Skipped { reason: String },
}

/// The plan of `experiment` (read from `document`, which locates errors) on a backend.
pub fn plan(
    experiment: &Experiment,
    document: &Document,
    options: &PlanOptions,
) -> Result<Plan, Vec<SpecError>> {
    let name = experiment.metadata.name.clone().unwrap_or_default();
    let spec: &ExperimentSpec = &experiment.spec;
    let run_id = options
        .run_id
        .clone()
        .unwrap_or_else(|| kube::run_id_of(options.seed));
    let namespace = spec.target.namespace.clone();
    let mut steps = timeline(spec);
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    let candidates = select::candidates(spec);
    for (index, fault) in spec.faults.iter().enumerate() {
        let action = select::action_of(fault);
        let (targets, peers) = match options.backend {
            Backend::Kube => {
                match kube::object(&name, &run_id, &namespace, fault) {
                    Ok(object) => objects.push(object),
                    Err(error) => errors.push(locate(document, index, error)),
                }
                select::cluster_targets(fault, &namespace)
            }
            Backend::Sim | Backend::Local => {
                match select::choose(fault, &candidates, options.seed, index, options.backend) {
                    Ok(chosen) => chosen,
                    Err(error) => {
                        errors.push(locate(document, index, error));
                        continue;
                    }
                }
            }
        };
        steps.push(Step {
            at: Offset::after(fault.at),
            event: Event::Inject {
                fault: fault.name.clone(),
                kind: fault.kind.clone(),
                action,
                targets,
                peers,
            },
        });
        if let Some(end) = fault.end() {
            steps.push(Step {
                at: Offset::after(end),
                event: Event::Recover {
                    fault: fault.name.clone(),
                },
            });
        }
    }
    if options.backend == Backend::Kube {
        if let Some(message) = kube::protected(&namespace) {
            let path = FieldPath::root()
                .field("spec")
                .field("target")
                .field("namespace");
            errors.push(located(document, path, message));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    steps.sort_by_key(|step| step.at.sort_key());
    Ok(Plan {
        experiment: name,
        backend: options.backend,
        seed: options.seed,
        run_id,
        namespace,
        instances: match options.backend {
            Backend::Kube => Vec::new(),
            _ => candidates
                .iter()
                .filter(|pod| pod.name != PROBE_NAME)
                .map(|pod| pod.name.clone())
                .collect(),
        },
        steps,
        objects,
    })
}

/// A plan error about fault `index`, located in `document`.
fn locate(document: &Document, index: usize, error: select::FaultError) -> SpecError {
    let path = FieldPath::root()
        .field("spec")
        .field("faults")
        .index(index)
        .join(&error.path);
    located(document, path, error.message)
}

/// An error about the value at `path` of `document`, at its line and column.
fn located(document: &Document, path: FieldPath, message: String) -> SpecError {
    let mut errors = FieldErrors::default();
    errors.push(path, message);
    let mut found = document.locate_errors(&errors);
    found.swap_remove(0)
}

/// The steps every run has, whatever its faults: warm-up, measurement, checks, end.
fn timeline(spec: &ExperimentSpec) -> Vec<Step> {
    let rate = spec.workload.rate;
    let mut steps = Vec::new();
    if !spec.workload.warmup.is_zero() {
        steps.push(Step {
            at: Offset {
                before_start: true,
                by: spec.workload.warmup,
            },
            event: Event::WarmupStarts { rate },
        });
    }
    steps.push(Step {
        at: Offset::after(Duration::ZERO),
        event: Event::MeasurementStarts { rate },
    });
    let first_fault = spec.faults.iter().map(|f| f.at).min();
    let last_end = spec.faults.iter().filter_map(|f| f.end()).max();
    if !spec.hypothesis.before.is_empty() {
        steps.push(Step {
            at: Offset::after(first_fault.unwrap_or(spec.workload.duration)),
            event: Event::SteadyStateChecked {
                clauses: spec
                    .hypothesis
                    .before
                    .iter()
                    .map(Clause::describe)
                    .collect(),
            },
        });
    }
    if let (false, Some(end)) = (spec.hypothesis.after.is_empty(), last_end) {
        steps.push(Step {
            at: Offset::after(end.saturating_add(spec.hypothesis.recover_within)),
            event: Event::RecoveryChecked {
                clauses: spec.hypothesis.after.iter().map(Clause::describe).collect(),
            },
        });
    }
    steps.push(Step {
        at: Offset::after(spec.workload.duration),
        event: Event::MeasurementEnds,
    });
    steps
}

impl Plan {
    /// The plan for people: a header and one line per step.
    pub fn to_text(&self, experiment: &Experiment) -> String {
        text::render(self, experiment)
    }
}
