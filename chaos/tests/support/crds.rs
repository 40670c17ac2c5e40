//! Chaos Mesh's CRD schemas from `<workspace>/../shared/chaos-mesh/crds`, read at test time
//! (never copied into the repository), as `jsonschema` validators.
//!
//! A CRD's `openAPIV3Schema` is OpenAPI's dialect of JSON Schema draft 4, made checkable by
//! `openapi::translate`; `jsonschema` ignores the `x-kubernetes-*` keywords, which is right
//! for validating values (they steer merging and pruning).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::openapi::translate;

/// Kind -> validator, or `None` (after printing a notice) when the CRDs are absent.
pub fn crd_validators() -> Option<BTreeMap<String, jsonschema::Validator>> {
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
        let kind = crd["spec"]["names"]["kind"]
            .as_str()
            .expect("CRD kind")
            .to_owned();
        let versions = crd["spec"]["versions"].as_array().expect("CRD versions");
        let version = versions
            .iter()
            .find(|v| v["name"] == "v1alpha1")
            .expect("v1alpha1 version");
        let mut schema = version["schema"]["openAPIV3Schema"].clone();
        translate(&mut schema);
        let validator = jsonschema::draft4::new(&schema).expect("CRD schema compiles");
        validators.insert(kind, validator);
    }
    assert_eq!(
        validators.len(),
        10,
        "expected the ten Chaos Mesh CRDs in {dir:?}"
    );
    Some(validators)
}

/// Every way `object` breaks its kind's CRD schema.
pub fn schema_errors(
    validators: &BTreeMap<String, jsonschema::Validator>,
    object: &Value,
) -> Vec<String> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let Some(validator) = validators.get(kind) else {
        return vec![format!("no CRD for kind {kind:?}")];
    };
    validator
        .iter_errors(object)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}
