//! The plan as text for people: a header (experiment, backend, seed, topology, workload,
//! client) and one line per step.

use std::fmt::Write as _;

use faultline_core::config::duration;

use super::{Event, Plan, Targets};
use crate::spec::experiment::{Clause, Experiment};

fn targets(targets: &Targets) -> String {
    match targets {
        Targets::Plan {
            instances,
            selection,
        } => format!("{} [{selection}]", instances.join(", ")),
        Targets::Cluster {
            namespace,
            selection,
        } => format!("pods in {namespace} chosen by Chaos Mesh [{selection}]"),
        Targets::Skipped { reason } => format!("skipped: {reason}"),
    }
}

pub(super) fn render(plan: &Plan, experiment: &Experiment) -> String {
    let spec = &experiment.spec;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "experiment {} on {} (seed {}, run {})",
        plan.experiment,
        plan.backend.name(),
        plan.seed,
        plan.run_id
    );
    match plan.instances.is_empty() {
        true => {
            let _ = writeln!(
                out,
                "target: {} in namespace {}, probe calls {}",
                spec.target.service,
                plan.namespace,
                spec.target.cluster_address()
            );
        }
        false => {
            let _ = writeln!(out, "instances: {}", plan.instances.join(", "));
            let _ = writeln!(
                out,
                "probe: {} in zone {}",
                super::PROBE_NAME,
                spec.target.caller_zone.as_deref().unwrap_or("(none)")
            );
        }
    }
    let client = spec.effective_client();
    let _ = writeln!(
        out,
        "workload: {} at {}/s for {} after {} warm-up; client timeout {}, balancer {}",
        spec.workload.method,
        spec.workload.rate,
        duration::format(spec.workload.duration),
        duration::format(spec.workload.warmup),
        duration::format(client.timeout),
        serde_json::to_value(&client.balancer)
            .ok()
            .and_then(|b| b.get("type").and_then(|t| t.as_str().map(str::to_owned)))
            .unwrap_or_default()
    );
    for step in &plan.steps {
        let line = match &step.event {
            Event::WarmupStarts { rate } => format!("warm-up starts ({rate}/s, not judged)"),
            Event::MeasurementStarts { rate } => format!("measurement starts ({rate}/s)"),
            Event::SteadyStateChecked { clauses } => {
                format!(
                    "steady state judged from 0s to here: {}",
                    clauses.join("; ")
                )
            }
            Event::Inject {
                fault,
                kind,
                action,
                targets: on,
                peers,
            } => {
                let mut line = format!("inject {fault}: {kind} {action} on {}", targets(on));
                if let Some(peers) = peers {
                    let _ = write!(line, " / peers {}", targets(peers));
                }
                line
            }
            Event::Recover { fault } => format!("recover {fault}"),
            Event::RecoveryChecked { clauses } => {
                format!(
                    "recovery judged from here to the end: {}",
                    clauses.join("; ")
                )
            }
            Event::MeasurementEnds => "measurement ends".to_owned(),
        };
        let _ = writeln!(out, "{:>8}  {line}", step.at.to_string());
    }
    if !spec.hypothesis.during.is_empty() {
        let clauses: Vec<String> = spec
            .hypothesis
            .during
            .iter()
            .map(Clause::describe)
            .collect();
        let _ = writeln!(
            out,
            "judged while faults are active: {}",
            clauses.join("; ")
        );
    }
    for condition in &spec.abort {
        let bound = condition
            .above
            .as_ref()
            .map(|t| format!("above {}", t.0))
            .or_else(|| condition.below.as_ref().map(|t| format!("below {}", t.0)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "abort and roll back if {} {bound} for {}",
            condition.metric.name(),
            duration::format(condition.for_)
        );
    }
    out
}
