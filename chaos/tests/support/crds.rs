//! Chaos Mesh's CRD schemas (support/crd_files.rs) as the validators the Kubernetes backend
//! builds from the CRDs a cluster serves (`faultline_chaos::kube::schema`).

use std::collections::BTreeMap;

use serde_json::Value;

use faultline_chaos::kube::schema::CrdSchema;

use crate::crd_files::chaos_mesh_crds;

/// Kind -> validator, or `None` (after printing a notice) when the CRDs are absent.
pub fn crd_validators() -> Option<BTreeMap<String, CrdSchema>> {
    let validators = chaos_mesh_crds()?
        .iter()
        .map(|crd| {
            let schema = CrdSchema::from_crd(crd, "v1alpha1").expect("CRD schema compiles");
            (schema.kind.clone(), schema)
        })
        .collect();
    Some(validators)
}

/// Every way `object` breaks its kind's CRD schema.
pub fn schema_errors(validators: &BTreeMap<String, CrdSchema>, object: &Value) -> Vec<String> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let Some(validator) = validators.get(kind) else {
        return vec![format!("no CRD for kind {kind:?}")];
    };
    validator.errors(object)
}
