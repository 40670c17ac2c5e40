//! OpenAPI's dialect of JSON Schema (a CRD's `openAPIV3Schema`) made checkable by the
//! `jsonschema` crate: `nullable: true` adds `null` to the allowed types, and every object
//! schema with `properties` (and neither `additionalProperties` nor
//! `x-kubernetes-preserve-unknown-fields`) gets `additionalProperties: false`, which is what
//! `kubectl apply`'s strict field validation enforces where the API server would prune.

use serde_json::{json, Value};

/// Applies `nullable` and strict field validation (see the module doc) throughout.
pub fn translate(schema: &mut Value) {
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
