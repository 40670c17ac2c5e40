//! A CRD version's `openAPIV3Schema` at work: pruning of unknown fields and of non-nullable
//! nulls, defaulting, and validation (type, enum, required, pattern, formats, `nullable`,
//! `x-kubernetes-int-or-string`) with errors naming the field path as the API server does.

use jsonschema::error::ValidationErrorKind;
use serde_json::{json, Value};

use crate::error::Cause;

pub(crate) struct Schema {
    raw: Value,
    validator: jsonschema::Validator,
}

impl Schema {
    pub(crate) fn compile(raw: &Value) -> Result<Self, String> {
        let mut checkable = raw.clone();
        translate(&mut checkable);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .with_format("byte", is_base64)
            .build(&checkable)
            .map_err(|e| format!("openAPIV3Schema does not compile: {e}"))?;
        Ok(Schema {
            raw: raw.clone(),
            validator,
        })
    }

    /// Prunes what the schema does not declare (returning those fields' paths), drops nulls
    /// of non-nullable fields and sets defaults of absent fields. `apiVersion`, `kind` and
    /// `metadata` at the root are never pruned.
    pub(crate) fn prune(&self, object: &mut Value) -> Vec<String> {
        let mut unknown = Vec::new();
        prune(&self.raw, object, "", true, &mut unknown);
        unknown
    }

    pub(crate) fn validate(&self, object: &Value) -> Vec<Cause> {
        self.validator.iter_errors(object).map(cause).collect()
    }
}

/// OpenAPI's dialect made checkable by a draft-4 validator: `nullable` admits `null`, and
/// `x-kubernetes-int-or-string` admits an integer or a string.
fn translate(schema: &mut Value) {
    match schema {
        Value::Object(fields) => {
            if fields.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(kind) = fields.get("type").cloned() {
                    fields.insert("type".into(), json!([kind, "null"]));
                }
            }
            if fields.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
                && !fields.contains_key("anyOf")
            {
                fields.insert(
                    "anyOf".into(),
                    json!([{"type": "integer"}, {"type": "string"}]),
                );
            }
            fields.values_mut().for_each(translate);
        }
        Value::Array(items) => items.iter_mut().for_each(translate),
        _ => {}
    }
}

fn prune(schema: &Value, value: &mut Value, path: &str, root: bool, unknown: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let preserve = schema.get("x-kubernetes-preserve-unknown-fields")
                == Some(&Value::Bool(true))
                || additional == Some(&Value::Bool(true));
            let embedded =
                root || schema.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true));
            if let Some(properties) = properties {
                for (key, property) in properties {
                    if let (false, Some(default)) =
                        (fields.contains_key(key), property.get("default"))
                    {
                        fields.insert(key.clone(), default.clone());
                    }
                }
            }
            let keys: Vec<String> = fields.keys().cloned().collect();
            for key in keys {
                if embedded && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let child = join(path, &key);
                let declared = properties
                    .and_then(|p| p.get(&key))
                    .or(additional.filter(|a| a.is_object()));
                match (declared, fields.get_mut(&key)) {
                    (Some(property), Some(Value::Null))
                        if property.get("nullable") != Some(&Value::Bool(true)) =>
                    {
                        match property.get("default") {
                            Some(default) => fields.insert(key, default.clone()),
                            None => fields.remove(&key),
                        };
                    }
                    (Some(property), Some(field)) => prune(property, field, &child, false, unknown),
                    (None, _) if preserve => {}
                    (None, _) => {
                        fields.remove(&key);
                        unknown.push(child);
                    }
                    (Some(_), None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune(item_schema, item, &format!("{path}[{i}]"), false, unknown);
                }
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A JSON pointer (`/spec/ports/0/name`) as the server writes field paths (`spec.ports[0].name`).
fn field_path(pointer: &str) -> String {
    let mut path = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if token.parse::<usize>().is_ok() {
            path.push_str(&format!("[{token}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&token);
        }
    }
    path
}

fn cause(error: jsonschema::ValidationError<'_>) -> Cause {
    let field = field_path(error.instance_path().as_str());
    let instance = error.instance().to_string();
    match error.kind() {
        ValidationErrorKind::Required { property } => Cause {
            reason: "FieldValueRequired",
            field: join(&field, property.as_str().unwrap_or_default()),
            message: "Required value".into(),
        },
        ValidationErrorKind::Enum { options } => {
            let supported: Vec<String> = options
                .as_array()
                .map(|o| o.iter().map(Value::to_string).collect())
                .unwrap_or_default();
            Cause {
                reason: "FieldValueNotSupported",
                field,
                message: format!(
                    "Unsupported value: {instance}: supported values: {}",
                    supported.join(", ")
                ),
            }
        }
        ValidationErrorKind::Type { .. } => Cause {
            reason: "FieldValueTypeInvalid",
            message: format!("Invalid value: {instance}: {field} in body {error}"),
            field,
        },
        _ => Cause {
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {instance}: {error}"),
            field,
        },
    }
}

/// Standard base64 with padding, as Kubernetes' `byte` format is checked.
fn is_base64(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    text.len().is_multiple_of(4)
        && text.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}
