//! Chaos Mesh objects checked against the CRD schema the cluster serves, before they are
//! created: a CRD's `openAPIV3Schema` is OpenAPI's dialect of JSON Schema draft 4, made
//! checkable by [`translate`]. `jsonschema` ignores the `x-kubernetes-*` keywords, which is
//! right for validating values (they steer merging and pruning).

use serde_json::{json, Value};

/// One version of a CRD as a validator.
pub struct CrdSchema {
    /// `spec.names.kind`.
    pub kind: String,
    /// `spec.names.plural`: the resource's path segment.
    pub plural: String,
    pub group: String,
    pub version: String,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for CrdSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CrdSchema({}.{}/{})",
            self.plural, self.group, self.version
        )
    }
}

impl CrdSchema {
    /// The schema of `version` in `crd` (a CustomResourceDefinition as JSON).
    pub fn from_crd(crd: &Value, version: &str) -> Result<Self, String> {
        let text = |pointer: &str| {
            crd.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("the CRD has no {pointer}"))
        };
        let (kind, plural, group) = (
            text("/spec/names/kind")?,
            text("/spec/names/plural")?,
            text("/spec/group")?,
        );
        let served = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|versions| versions.iter().find(|v| v["name"] == version))
            .ok_or_else(|| format!("{plural}.{group} does not serve version {version}"))?;
        let mut schema = served["schema"]["openAPIV3Schema"].clone();
        if schema.is_null() {
            return Err(format!("{plural}.{group}/{version} has no openAPIV3Schema"));
        }
        translate(&mut schema);
        let validator = jsonschema::draft4::new(&schema).map_err(|err| {
            format!("{plural}.{group}/{version}: its schema does not compile: {err}")
        })?;
        Ok(Self {
            kind,
            plural,
            group,
            version: version.to_owned(),
            validator,
        })
    }

    /// Every way `object` breaks the schema, as `path: message` lines.
    pub fn errors(&self, object: &Value) -> Vec<String> {
        self.validator
            .iter_errors(object)
            .map(|error| format!("{}: {error}", error.instance_path()))
            .collect()
    }
}

/// Makes an `openAPIV3Schema` checkable as draft 4: `nullable: true` adds `null` to the
/// allowed types, and every object schema with `properties` (and neither
/// `additionalProperties` nor `x-kubernetes-preserve-unknown-fields`) gets
/// `additionalProperties: false`, which is what strict field validation (`kubectl apply`'s
/// default) enforces where the API server would silently prune: a field Chaos Mesh does not
/// know would otherwise vanish and the fault would not be the one written.
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
