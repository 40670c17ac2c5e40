//! Chaos Mesh's CRD schemas from `<workspace>/../shared/chaos-mesh/crds`, read at test time
//! (never copied into the repository), as the validators the Kubernetes backend builds from
//! the CRDs a cluster serves (`faultline_chaos::kube::schema`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use faultline_chaos::kube::schema::CrdSchema;

/// Kind -> validator, or `None` (after printing a notice) when the CRDs are absent.
pub fn crd_validators() -> Option<BTreeMap<String, CrdSchema>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/chaos-mesh/crds");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        let notice = format!("SKIPPED: Chaos Mesh CRDs not found at {}", dir.display());
        println!("{notice}");
        eprintln!("{notice}");
        return None;
    };
    let mut validators = BTreeMap::new();
    for entry in entries {
        let path = entry.expect("CRD entry").path();
        let text = std::fs::read_to_string(&path).expect("CRD text");
        let crd = faultline_chaos::spec::located::parse_documents(&text, &path)
            .expect("CRD YAML")
            .remove(0)
            .value()
            .clone();
        let schema = CrdSchema::from_crd(&crd, "v1alpha1").expect("CRD schema compiles");
        validators.insert(schema.kind.clone(), schema);
    }
    assert_eq!(
        validators.len(),
        10,
        "expected the ten Chaos Mesh CRDs in {dir:?}"
    );
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
