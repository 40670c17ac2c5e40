//! Chaos Mesh's CRD schemas from `<workspace>/../shared/chaos-mesh/crds`, read at test time
//! (never copied into the repository), as `jsonschema` validators.
//!
//! A CRD's `openAPIV3Schema` is OpenAPI's dialect of JSON Schema draft 4. `jsonschema`
//! ignores the `x-kubernetes-*` keywords, which is right for validating values (they steer
//! merging and pruning); two keywords are translated first: `nullable: true` adds `null` to
//! the allowed types, and every object schema with `properties` (and neither
//! `additionalProperties` nor `x-kubernetes-preserve-unknown-fields`) gets
//! `additionalProperties: false`, which is what `kubectl apply`'s strict field validation
//! enforces where the API server would otherwise prune.

use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

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
        let crd = Value::deserialize(serde_yaml::Deserializer::from_str(&text)).expect("CRD YAML");
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

/// Applies `nullable` and strict field validation (see the module doc) throughout.
fn translate(schema: &mut Value) {
    match schema {
        Value::Object(fields) => {
            if fields.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(kind) = fields.get("type").cloned() {
                    fields.insert("type".into(), json!([kind, "null"]));
                }
            }
            let open = fields.contains_key("additionalProperties")
                || fields.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            if fields.contains_key("properties") && !open {
                fields.insert("additionalProperties".into(), Value::Bool(false));
            }
            fields.values_mut().for_each(translate);
        }
        Value::Array(items) => items.iter_mut().for_each(translate),
        _ => {}
    }
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
