//! JSON schemas of the config types that a Kubernetes CRD can hold.
//!
//! Kubernetes wants structural schemas: no `oneOf` whose branches declare properties or
//! types. serde's internally tagged enums (`{ type: zoneAware, threshold: 3.5ms }`) come out
//! of schemars as a `oneOf` of objects, one per variant, each with its own `type` constant,
//! which kube's CRD rewriter cannot merge. [`flatten_tagged_union`] turns such a schema into
//! the shape Kubernetes' own discriminated unions have: one object whose `type` is an enum
//! of every variant's name and whose properties are the union of the variants' (all
//! optional; serde still refuses a field that is not the chosen variant's).

use schemars::Schema;
use serde_json::{Map, Value};

/// `#[schemars(transform = flatten_tagged_union)]` on an enum with `#[serde(tag = "type")]`.
pub fn flatten_tagged_union(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let Some(Value::Array(variants)) = object.remove("oneOf") else {
        return;
    };
    let mut names = Vec::new();
    let mut properties = Map::new();
    for variant in &variants {
        for part in parts(variant) {
            let Some(Value::Object(fields)) = part.get("properties") else {
                continue;
            };
            for (name, field) in fields {
                match name.as_str() {
                    "type" => names.extend(tag_values(field)),
                    _ => {
                        properties
                            .entry(name.clone())
                            .or_insert_with(|| field.clone());
                    }
                }
            }
        }
    }
    let description = format!(
        "One of: {}.",
        names
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut tag = Map::new();
    tag.insert("type".into(), Value::String("string".into()));
    tag.insert("enum".into(), Value::Array(names));
    tag.insert("description".into(), Value::String(description));
    let mut all = Map::new();
    all.insert("type".into(), Value::Object(tag));
    all.extend(properties);
    object.insert("type".into(), Value::String("object".into()));
    object.insert("properties".into(), Value::Object(all));
    object.insert(
        "required".into(),
        Value::Array(vec![Value::String("type".into())]),
    );
}

/// A variant's schema and the schemas it is the conjunction of (`allOf`), which is where
/// schemars puts the fields of a newtype variant's inner struct.
fn parts(variant: &Value) -> Vec<&Value> {
    let mut parts = vec![variant];
    if let Some(Value::Array(all_of)) = variant.get("allOf") {
        parts.extend(all_of.iter());
    }
    parts
}

/// The tag's value(s) a variant declares: `const` or `enum`.
fn tag_values(field: &Value) -> Vec<Value> {
    match (field.get("const"), field.get("enum")) {
        (Some(value), _) => vec![value.clone()],
        (None, Some(Value::Array(values))) => values.clone(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_enum_becomes_one_object_with_an_enum_tag() {
        let mut schema: Schema = serde_json::from_value(serde_json::json!({
            "oneOf": [
                {"type": "object", "properties": {"type": {"type": "string", "const": "none"}}, "required": ["type"]},
                {"type": "object", "properties": {"type": {"type": "string", "const": "fixed"},
                                                  "delay": {"type": "string"}}, "required": ["type", "delay"]},
                {"allOf": [{"properties": {"seed": {"type": "integer"}}}],
                 "properties": {"type": {"type": "string", "enum": ["random"]}}}
            ]
        }))
        .unwrap();
        flatten_tagged_union(&mut schema);
        let value = schema.as_value();
        assert!(value.get("oneOf").is_none());
        assert_eq!(
            value["properties"]["type"]["enum"],
            serde_json::json!(["none", "fixed", "random"])
        );
        assert_eq!(value["properties"]["delay"]["type"], "string");
        assert_eq!(value["properties"]["seed"]["type"], "integer");
        assert_eq!(value["required"], serde_json::json!(["type"]));
    }
}
