//! Which instances a fault acts on: the topology's instances and the probe as Chaos Mesh
//! selectors see pods, and the `mode`/`value` choice among the matches, seeded.

use faultline_core::config::FieldPath;
use faultline_core::rng::SplitMix64;
use serde_json::Value;

use super::{Backend, Targets};
use crate::spec::chaos_mesh::{
    select, ChaosObject, NetworkChaosTarget, PodInfo, PodSelection, SelectError,
};
use crate::spec::experiment::{ExperimentSpec, Fault, InstanceSpec};

/// The probe's pod name and `app` label.
pub const PROBE_NAME: &str = "faultline-probe";

/// A plan error about one fault: where in it, and what.
#[derive(Debug, Clone)]
pub(super) struct FaultError {
    pub path: FieldPath,
    pub message: String,
}

/// The probe as selectors see it: `faultline-probe`, labelled `app: faultline-probe` and
/// `zone: <callerZone>`.
/// Every host of a local or simulated run: the instances, then the probe.
pub fn hosts(instances: &[InstanceSpec]) -> Vec<String> {
    let mut hosts: Vec<String> = instances.iter().map(|i| i.name.clone()).collect();
    hosts.push(PROBE_NAME.to_owned());
    hosts
}

pub fn probe(spec: &ExperimentSpec) -> PodInfo {
    let mut labels = std::collections::BTreeMap::from([("app".to_owned(), PROBE_NAME.to_owned())]);
    if let Some(zone) = &spec.target.caller_zone {
        labels.insert("zone".into(), zone.clone());
    }
    PodInfo {
        name: PROBE_NAME.into(),
        namespace: spec.target.namespace.clone(),
        labels,
        phase: "Running".into(),
        ..PodInfo::default()
    }
}

/// The topology's instances, then the probe, as pods of the target's namespace.
pub(super) fn candidates(spec: &ExperimentSpec) -> Vec<PodInfo> {
    let mut pods: Vec<PodInfo> = spec
        .topology
        .instances(&spec.target.service)
        .into_iter()
        .map(|instance| PodInfo {
            name: instance.name,
            namespace: spec.target.namespace.clone(),
            labels: instance.labels,
            phase: "Running".into(),
            ..PodInfo::default()
        })
        .collect();
    pods.push(probe(spec));
    pods
}

/// The action and its parameters, as one line: `delay {"latency":"2ms"}`, `pod-kill`.
pub(super) fn action_of(fault: &Fault) -> String {
    let action = fault.spec.get("action").and_then(Value::as_str);
    let block = action
        .and_then(|a| fault.spec.get(a))
        .filter(|b| !b.is_null());
    match (action, block) {
        (Some(action), Some(block)) => format!("{action} {block}"),
        (Some(action), None) => action.to_owned(),
        (None, _) => match fault.kind.as_str() {
            "HTTPChaos" => http_action(&fault.spec),
            _ => String::new(),
        },
    }
}

/// HTTPChaos has no `action`: what it does is which of its fields are set.
fn http_action(spec: &Value) -> String {
    let target = spec.get("target").and_then(Value::as_str).unwrap_or("?");
    let parts: Vec<String> = ["abort", "delay", "replace", "patch"]
        .into_iter()
        .filter_map(|field| spec.get(field).map(|v| format!("{field} {v}")))
        .collect();
    format!("{} on {target}", parts.join(", "))
}

/// The fault's object, read as faultline reads it (it was validated when loaded).
fn object_of(fault: &Fault, namespace: &str) -> Result<ChaosObject, FaultError> {
    fault
        .chaos_object(&fault.name, namespace, &FieldPath::root())
        .map_err(|errors| FaultError {
            path: FieldPath::root(),
            message: errors.to_string(),
        })
}

/// The instances (and NetworkChaos peers) `fault` acts on, chosen with a generator seeded
/// from `seed` and the fault's `index`.
pub(super) fn choose(
    fault: &Fault,
    candidates: &[PodInfo],
    seed: u64,
    index: usize,
    backend: Backend,
) -> Result<(Targets, Option<Targets>), FaultError> {
    let namespace = candidates
        .first()
        .map(|p| p.namespace.clone())
        .unwrap_or_default();
    let object = object_of(fault, &namespace)?;
    let Some(selection) = object.pod_selection() else {
        let reason = format!(
            "{} is not applied on the {} backend (only NetworkChaos, PodChaos and HTTPChaos are)",
            fault.kind,
            backend.name()
        );
        return Ok((Targets::Skipped { reason }, None));
    };
    let rng = SplitMix64::new(seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let targets = pick(selection, candidates, &rng, FieldPath::root().field("spec"))?;
    let peers = match &object {
        ChaosObject::NetworkChaos(network) => match &network.spec.target {
            Some(target) => Some(pick(
                peer_selection(target),
                candidates,
                &rng,
                FieldPath::root().field("spec").field("target"),
            )?),
            None => None,
        },
        _ => None,
    };
    Ok((targets, peers))
}

fn peer_selection(target: &NetworkChaosTarget) -> PodSelection<'_> {
    PodSelection {
        selector: &target.selector,
        mode: target.mode,
        value: target.value.as_deref(),
    }
}

fn pick(
    selection: PodSelection<'_>,
    candidates: &[PodInfo],
    rng: &SplitMix64,
    path: FieldPath,
) -> Result<Targets, FaultError> {
    let described = describe(&selection);
    match select(
        selection.selector,
        selection.mode,
        selection.value,
        candidates,
        rng,
    ) {
        Ok(chosen) => Ok(Targets::Plan {
            instances: chosen.iter().map(|pod| pod.name.clone()).collect(),
            selection: described,
        }),
        Err(SelectError::NoPodSelected) => Err(FaultError {
            path: path.field("selector"),
            message: format!(
                "selects no instance of the topology ({described}); the instances are {}",
                candidates
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
        Err(error) => Err(FaultError {
            path: path.field("value"),
            message: error.to_string(),
        }),
    }
}

/// `mode fixed 2 of {zone=az1}`-style text for a selection.
fn describe(selection: &PodSelection<'_>) -> String {
    let selector = serde_json::to_value(selection.selector).unwrap_or(Value::Null);
    let mode = serde_json::to_value(selection.mode)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    match selection.value {
        Some(value) => format!("mode {mode} {value} of {selector}"),
        None => format!("mode {mode} of {selector}"),
    }
}

/// On a cluster: the selection as written (and a NetworkChaos `target`'s), chosen by Chaos
/// Mesh when it injects.
pub(super) fn cluster_targets(fault: &Fault, namespace: &str) -> (Targets, Option<Targets>) {
    let cluster = |selection: String| Targets::Cluster {
        namespace: namespace.to_owned(),
        selection,
    };
    let object = object_of(fault, namespace).ok();
    let targets = match object.as_ref().and_then(ChaosObject::pod_selection) {
        Some(selection) => cluster(describe(&selection)),
        None => cluster(format!("as the {} spec says", fault.kind)),
    };
    let peers = match &object {
        Some(ChaosObject::NetworkChaos(network)) => network
            .spec
            .target
            .as_ref()
            .map(|target| cluster(describe(&peer_selection(target)))),
        _ => None,
    };
    (targets, peers)
}
