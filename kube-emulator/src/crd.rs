//! CustomResourceDefinitions: the checks the server makes on one before serving it, the
//! resource type it defines, and the status it reports once established.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::error::Cause;
use crate::registry::{ResourceType, VersionInfo};
use crate::schema::Schema;

/// The resource type `crd` defines, or every way it is invalid.
pub(crate) fn resource_type(crd: &Value) -> Result<ResourceType, Vec<Cause>> {
    let mut causes = Vec::new();
    let mut require = |field: &str, ok: bool, message: &str| {
        if !ok {
            causes.push(Cause {
                reason: "FieldValueInvalid",
                field: field.to_owned(),
                message: message.to_owned(),
            });
        }
    };
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let spec = &crd["spec"];
    let group = text(&spec["group"]);
    let names = &spec["names"];
    let plural = text(&names["plural"]);
    let kind = text(&names["kind"]);
    require(
        "spec.group",
        group.contains('.'),
        "Invalid value: should be a domain with at least one dot",
    );
    require("spec.names.plural", !plural.is_empty(), "Required value");
    require("spec.names.kind", !kind.is_empty(), "Required value");
    let name = text(&crd["metadata"]["name"]);
    require(
        "metadata.name",
        name == format!("{plural}.{group}"),
        "Invalid value: must be spec.names.plural+\".\"+spec.group",
    );
    let scope = text(&spec["scope"]);
    require(
        "spec.scope",
        scope == "Namespaced" || scope == "Cluster",
        "Unsupported value: supported values: \"Cluster\", \"Namespaced\"",
    );
    let declared = spec["versions"].as_array().cloned().unwrap_or_default();
    require("spec.versions", !declared.is_empty(), "Required value");
    let storage = declared.iter().filter(|v| v["storage"] == true).count();
    require(
        "spec.versions",
        declared.is_empty() || storage == 1,
        "Invalid value: must have exactly one version marked as storage version",
    );
    let mut versions = Vec::new();
    for (i, version) in declared.iter().enumerate() {
        if version["served"] != true {
            continue;
        }
        let raw = &version["schema"]["openAPIV3Schema"];
        let schema = if raw.is_object() {
            match Schema::compile(raw) {
                Ok(schema) => Some(Arc::new(schema)),
                Err(message) => {
                    require(
                        &format!("spec.versions[{i}].schema.openAPIV3Schema"),
                        false,
                        &message,
                    );
                    None
                }
            }
        } else {
            require(
                &format!("spec.versions[{i}].schema.openAPIV3Schema"),
                false,
                "Required value",
            );
            None
        };
        let info = VersionInfo {
            name: text(&version["name"]),
            status: version["subresources"]["status"].is_object(),
            schema,
        };
        if version["storage"] == true {
            versions.insert(0, info);
        } else {
            versions.push(info);
        }
    }
    if !causes.is_empty() {
        return Err(causes);
    }
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(ResourceType {
        singular: names["singular"]
            .as_str()
            .map_or_else(|| kind.to_lowercase(), str::to_owned),
        list_kind: names["listKind"]
            .as_str()
            .map_or_else(|| format!("{kind}List"), str::to_owned),
        short_names: strings(&names["shortNames"]),
        categories: strings(&names["categories"]),
        group,
        versions,
        kind,
        plural,
        namespaced: scope == "Namespaced",
        custom: true,
        create_on_update: false,
        field_labels: &[],
        typed: None,
    })
}

/// The status of an established CRD: `NamesAccepted` and `Established` true.
pub(crate) fn established_status(crd: &Value, now: &str) -> Value {
    let condition = |kind: &str, reason: &str, message: &str| json!({"type": kind, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    let stored: Vec<Value> = crd["spec"]["versions"]
        .as_array()
        .map(|versions| {
            versions
                .iter()
                .filter(|v| v["storage"] == true)
                .map(|v| v["name"].clone())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": crd["spec"]["names"],
        "storedVersions": stored,
    })
}
