//! What a run creates on a cluster: one Chaos Mesh object per fault, under a fresh name
//! (Chaos Mesh specs cannot be edited), labelled with the run, always with a `duration` so
//! Chaos Mesh recovers it even if faultline dies; and the namespaces it refuses.

use faultline_core::config::{duration, FieldPath};
use faultline_core::rng::SplitMix64;
use serde_json::{json, Value};

use super::select::FaultError;
use crate::spec::experiment::Fault;

/// Namespaces a run never injects into.
pub const PROTECTED_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

/// The label every object of a run carries, with the run id as value.
pub const RUN_LABEL: &str = "faultline.dev/run";
/// The label (and value) every object faultline creates carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "faultline");

/// An 8-hex-digit run id derived from `seed`.
pub(super) fn run_id_of(seed: u64) -> String {
    format!("{:08x}", SplitMix64::new(seed).next_u64() >> 32)
}

/// `<experiment>-<fault>-<run id>`: the name of the object created for a fault.
pub fn object_name(experiment: &str, fault: &str, run_id: &str) -> String {
    format!("{experiment}-{fault}-{run_id}")
}

/// The Chaos Mesh object a run creates for `fault`.
pub(super) fn object(
    experiment: &str,
    run_id: &str,
    namespace: &str,
    fault: &Fault,
) -> Result<Value, FaultError> {
    let Some(lasts) = fault.effective_duration() else {
        return Err(FaultError {
            path: FieldPath::root().field("duration"),
            message: "a fault needs a duration".into(),
        });
    };
    let mut object = fault.object(&object_name(experiment, &fault.name, run_id), namespace);
    object["metadata"]["labels"] = json!({
        MANAGED_BY.0: MANAGED_BY.1,
        "faultline.dev/experiment": experiment,
        "faultline.dev/fault": fault.name,
        RUN_LABEL: run_id,
    });
    object["metadata"]["annotations"] = json!({
        "faultline.dev/start-offset": duration::format(fault.at),
    });
    object["spec"]["duration"] = Value::String(duration::format(lasts));
    Ok(object)
}

/// Why a run may not inject into `namespace`, if it may not.
pub fn protected(namespace: &str) -> Option<String> {
    PROTECTED_NAMESPACES
        .contains(&namespace)
        .then(|| format!("{namespace} is protected: faultline never injects faults there"))
}
