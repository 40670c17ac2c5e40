//! Writes as the API server's registry makes them: create, update, patch and the `status`
//! subresource, with name and metadata checks, server-set metadata (uid, creationTimestamp,
//! generation), status isolation, CRD pruning and validation, optimistic concurrency, no-op
//! detection, and the delete that a write removing the last finalizer turns into.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{json, Map, Value};

use crate::crd;
use crate::delete::remove;
use crate::error::{ApiError, Cause};
use crate::patch::{json_patch, merge, JsonPatchError};
use crate::registry::ResourceType;
use crate::store::{Key, State};

pub(crate) struct WriteOptions {
    pub dry_run: bool,
    pub strict: bool,
}

pub(crate) struct Written {
    pub object: Value,
    pub warnings: Vec<String>,
    pub created: bool,
}

pub(crate) enum PatchKind {
    Merge,
    Json,
    /// Server-side apply, approximated as a merge patch that creates an absent object.
    Apply {
        field_manager: Option<String>,
    },
}

/// A write request's resource, namespace and name (absent for a create).
pub(crate) struct Place<'a> {
    pub rt: &'a Arc<ResourceType>,
    pub version: &'a str,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub status: bool,
}

impl Place<'_> {
    fn key(&self, name: &str) -> Key {
        Key {
            group: self.rt.group.clone(),
            resource: self.rt.plural.clone(),
            namespace: if self.rt.namespaced {
                self.namespace.unwrap_or_default().to_owned()
            } else {
                String::new()
            },
            name: name.to_owned(),
        }
    }
}

pub(crate) fn create(
    state: &mut State,
    place: &Place<'_>,
    body: Value,
    options: &WriteOptions,
) -> Result<Written, ApiError> {
    let mut object = shape(place, body)?;
    let metadata = metadata_mut(&mut object);
    if metadata
        .get("resourceVersion")
        .and_then(Value::as_str)
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    let name = match metadata
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        Some(name) => name.to_owned(),
        None => match metadata
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            Some(prefix) => format!("{prefix}{}", state.clock.name_suffix()),
            None => {
                return Err(invalid(
                    place.rt,
                    "",
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required",
                ));
            }
        },
    };
    metadata_mut(&mut object).insert("name".into(), name.clone().into());
    check_name(place.rt, &name)?;
    if place.rt.namespaced {
        check_namespace_accepts(state, place.namespace.unwrap_or_default())?;
    }
    let key = place.key(&name);
    if state.get(&key).is_some() {
        return Err(ApiError::already_exists(&place.rt.group_resource(), &name));
    }
    reset_status_on_create(place.rt, place.version, &mut object);
    let warnings = check_fields(place.rt, place.version, &name, &mut object, options.strict)?;
    let uid = state.clock.uid();
    let now = state.clock.now();
    let metadata = metadata_mut(&mut object);
    for server_owned in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "resourceVersion",
    ] {
        metadata.remove(server_owned);
    }
    metadata.insert("uid".into(), uid.into());
    metadata.insert("creationTimestamp".into(), now.clone().into());
    if has_generation(place.rt, &object) {
        metadata_mut(&mut object).insert("generation".into(), 1.into());
    }
    if is_crd(place.rt) {
        crd_type(&object, &name)?;
        object["status"] = crd::established_status(&object, &now);
    }
    if options.dry_run {
        return Ok(Written {
            object,
            warnings,
            created: true,
        });
    }
    let object = state.commit(key, Some(object));
    if is_crd(place.rt) {
        install(state, &object);
    }
    Ok(Written {
        object,
        warnings,
        created: true,
    })
}

/// PUT of a whole object (or of its status, for the `status` subresource).
pub(crate) fn update(
    state: &mut State,
    place: &Place<'_>,
    body: Value,
    options: &WriteOptions,
) -> Result<Written, ApiError> {
    let name = place.name.unwrap_or_default();
    let Some(old) = state.get(&place.key(name)).cloned() else {
        if place.rt.create_on_update && !place.status {
            return create(state, place, body, options);
        }
        return Err(ApiError::not_found(&place.rt.group_resource(), name));
    };
    let object = shape(place, body)?;
    let sent = object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default();
    if sent.is_empty() && place.rt.custom {
        return Err(invalid(
            place.rt,
            name,
            "metadata.resourceVersion",
            "FieldValueInvalid",
            "Invalid value: 0x0: must be specified for an update",
        ));
    }
    replace(state, place, old, object, options)
}

pub(crate) fn patch(
    state: &mut State,
    place: &Place<'_>,
    kind: &PatchKind,
    body: &[u8],
    options: &WriteOptions,
) -> Result<Written, ApiError> {
    let name = place.name.unwrap_or_default();
    let patch: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    if let PatchKind::Apply { field_manager } = kind {
        if field_manager.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::new(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            ));
        }
        if !patch["apiVersion"].is_string() || !patch["kind"].is_string() {
            return Err(ApiError::bad_request(
                "apiVersion and kind must be set in an applied configuration",
            ));
        }
    }
    let Some(old) = state.get(&place.key(name)).cloned() else {
        if matches!(kind, PatchKind::Apply { .. }) && !place.status {
            let mut object = patch;
            metadata_mut(&mut object).insert("name".into(), name.into());
            return create(state, place, object, options);
        }
        return Err(ApiError::not_found(&place.rt.group_resource(), name));
    };
    let mut object = old.clone();
    match kind {
        PatchKind::Merge | PatchKind::Apply { .. } => merge(&mut object, &patch),
        PatchKind::Json => json_patch(&mut object, &patch).map_err(|error| match error {
            JsonPatchError::Decode(message) => ApiError::bad_request(message),
            JsonPatchError::Apply(message) => ApiError::new(422, "Invalid", message),
        })?,
    }
    let object = shape(place, object)?;
    replace(state, place, old, object, options)
}

/// The common end of update and patch: `object` is the client's version of `old`.
fn replace(
    state: &mut State,
    place: &Place<'_>,
    old: Value,
    mut object: Value,
    options: &WriteOptions,
) -> Result<Written, ApiError> {
    let name = place.name.unwrap_or_default();
    match object["metadata"]["name"].as_str() {
        None | Some("") => {
            metadata_mut(&mut object).insert("name".into(), name.into());
        }
        Some(sent) if sent != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({sent}) does not match the name on the URL ({name})"
            )));
        }
        Some(_) => {}
    }
    let sent = object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let current = old["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default();
    if !sent.is_empty() && sent != current {
        return Err(ApiError::stale(&place.rt.group_resource(), name));
    }
    if place.status {
        let status = object.get("status").cloned();
        object = old.clone();
        match status {
            Some(status) => object["status"] = status,
            None => {
                object.as_object_mut().map(|o| o.remove("status"));
            }
        }
    } else if has_status(place.rt, place.version) {
        match old.get("status") {
            Some(status) => object["status"] = status.clone(),
            None => {
                object.as_object_mut().map(|o| o.remove("status"));
            }
        }
    }
    let warnings = check_fields(place.rt, place.version, name, &mut object, options.strict)?;
    let old_metadata = old["metadata"].as_object().cloned().unwrap_or_default();
    let metadata = metadata_mut(&mut object);
    for server_owned in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old_metadata.get(server_owned) {
            Some(value) => metadata.insert(server_owned.into(), value.clone()),
            None => metadata.remove(server_owned),
        };
    }
    metadata.insert("resourceVersion".into(), current.into());
    if old_metadata.contains_key("deletionTimestamp") {
        let before = strings(old_metadata.get("finalizers"));
        let added = strings(metadata.get("finalizers"))
            .into_iter()
            .any(|f| !before.contains(&f));
        if added {
            return Err(invalid(
                place.rt,
                name,
                "metadata.finalizers",
                "FieldValueForbidden",
                "Forbidden: no new finalizers can be added if the object is being deleted",
            ));
        }
    }
    if is_crd(place.rt) && !place.status {
        crd_type(&object, name)?;
        let status = object["status"].clone();
        object["status"] = crd::established_status(&object, &state.clock.now());
        if !status.is_null() {
            merge(&mut object["status"], &status);
        }
    }
    if object == old {
        return Ok(Written {
            object: old,
            warnings,
            created: false,
        });
    }
    if has_generation(place.rt, &object) && spec_changed(&old, &object) {
        let generation = old["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        metadata_mut(&mut object).insert("generation".into(), generation.into());
    }
    if options.dry_run {
        return Ok(Written {
            object,
            warnings,
            created: false,
        });
    }
    let key = place.key(name);
    let deleting = object["metadata"].get("deletionTimestamp").is_some();
    if deleting && strings(object["metadata"].get("finalizers")).is_empty() {
        // The server deletes instead of committing the update: watches see one DELETED.
        remove(state, &key);
        metadata_mut(&mut object)
            .insert("resourceVersion".into(), state.revision.to_string().into());
        return Ok(Written {
            object,
            warnings,
            created: false,
        });
    }
    let object = state.commit(key, Some(object));
    if is_crd(place.rt) {
        install(state, &object);
    }
    Ok(Written {
        object,
        warnings,
        created: false,
    })
}

/// Checks a request body's kind and apiVersion, its metadata's types, its namespace against
/// the path's, and normalises its metadata.
fn shape(place: &Place<'_>, body: Value) -> Result<Value, ApiError> {
    let Value::Object(mut object) = body else {
        return Err(ApiError::bad_request(
            "the body of the request was not a JSON object",
        ));
    };
    let expected = place.rt.api_version(place.version);
    match object.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            return Err(ApiError::bad_request(format!(
                "Object 'Kind' is missing in '{}'",
                Value::Object(object)
            )));
        }
        Some(kind) if kind != place.rt.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({kind}) does not match the expected kind ({})",
                place.rt.kind
            )));
        }
        Some(_) => {}
    }
    match object.get("apiVersion").and_then(Value::as_str) {
        Some(sent) if sent == expected => {}
        sent => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({}) does not match the expected API version ({expected})",
                sent.unwrap_or_default()
            )));
        }
    }
    object.insert(
        "apiVersion".into(),
        place.rt.api_version(place.rt.preferred()).into(),
    );
    let metadata = object.entry("metadata").or_insert_with(|| json!({}));
    serde_json::from_value::<ObjectMeta>(metadata.clone())
        .map_err(|e| ApiError::bad_request(format!("metadata: {e}")))?;
    let Value::Object(metadata) = metadata else {
        return Err(ApiError::bad_request("metadata must be an object"));
    };
    for empty_is_absent in ["labels", "annotations", "finalizers", "ownerReferences"] {
        let empty = match metadata.get(empty_is_absent) {
            Some(Value::Object(map)) => map.is_empty(),
            Some(Value::Array(items)) => items.is_empty(),
            Some(Value::Null) => true,
            _ => false,
        };
        if empty {
            metadata.remove(empty_is_absent);
        }
    }
    for not_kept in ["managedFields", "selfLink"] {
        metadata.remove(not_kept);
    }
    if place.rt.namespaced {
        let path_namespace = place.namespace.unwrap_or_default();
        match metadata.get("namespace").and_then(Value::as_str) {
            Some(sent) if !sent.is_empty() && sent != path_namespace => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {
                metadata.insert("namespace".into(), path_namespace.into());
            }
        }
    } else {
        metadata.remove("namespace");
    }
    Ok(Value::Object(object))
}

/// Prunes (or, with `strict`, rejects) unknown fields and validates the object: against the
/// CRD schema for custom resources, against the k8s-openapi type for built-in ones.
fn check_fields(
    rt: &ResourceType,
    version: &str,
    name: &str,
    object: &mut Value,
    strict: bool,
) -> Result<Vec<String>, ApiError> {
    let unknown = if let Some(schema) = rt.version(version).and_then(|v| v.schema.as_ref()) {
        let unknown = schema.prune(object);
        if strict && !unknown.is_empty() {
            return Err(strict_error(&unknown));
        }
        let causes = schema.validate(object);
        if !causes.is_empty() {
            return Err(ApiError::invalid(&rt.kind, &rt.group, name, causes));
        }
        unknown
    } else if let Some(typed) = rt.typed {
        let known = typed(object).map_err(|e| {
            ApiError::bad_request(format!(
                "{} in version \"{version}\" cannot be handled as a {}: {e}",
                rt.kind, rt.kind
            ))
        })?;
        let mut unknown = Vec::new();
        strip_unknown(object, &known, "", &mut unknown);
        unknown
    } else {
        Vec::new()
    };
    if strict && !unknown.is_empty() {
        return Err(strict_error(&unknown));
    }
    Ok(unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect())
}

fn strict_error(unknown: &[String]) -> ApiError {
    let listed: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    ApiError::bad_request(format!("strict decoding error: {}", listed.join(", ")))
}

/// Removes what `known` (the object as its type encodes it) lacks, recording the paths.
fn strip_unknown(object: &mut Value, known: &Value, path: &str, unknown: &mut Vec<String>) {
    match (object, known) {
        (Value::Object(fields), Value::Object(known)) => {
            let keys: Vec<String> = fields.keys().cloned().collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (known.get(&key), fields.get_mut(&key)) {
                    (Some(known), Some(field)) => strip_unknown(field, known, &child, unknown),
                    (None, Some(Value::Null)) => {
                        fields.remove(&key);
                    }
                    (None, _) => {
                        fields.remove(&key);
                        unknown.push(child);
                    }
                    (Some(_), None) => {}
                }
            }
        }
        (Value::Array(items), Value::Array(known)) => {
            for (i, (item, known)) in items.iter_mut().zip(known).enumerate() {
                strip_unknown(item, known, &format!("{path}[{i}]"), unknown);
            }
        }
        _ => {}
    }
}

fn reset_status_on_create(rt: &ResourceType, version: &str, object: &mut Value) {
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "pods") => object["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"}),
        ("", "namespaces") => object["status"] = json!({"phase": "Active"}),
        ("", "services") => object["status"] = json!({"loadBalancer": {}}),
        _ if rt.custom && has_status(rt, version) => {
            object.as_object_mut().map(|o| o.remove("status"));
        }
        _ => {}
    }
}

fn has_status(rt: &ResourceType, version: &str) -> bool {
    rt.version(version).is_some_and(|v| v.status)
}

fn has_generation(rt: &ResourceType, object: &Value) -> bool {
    rt.custom || object.get("spec").is_some()
}

/// Whether anything but metadata and status differs.
fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.as_object().cloned().unwrap_or_default();
        v.remove("metadata");
        v.remove("status");
        v
    };
    strip(old) != strip(new)
}

pub(crate) fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    match object.get_mut("metadata") {
        Some(Value::Object(metadata)) => metadata,
        _ => unreachable!("metadata was just made an object"),
    }
}

pub(crate) fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn invalid(
    rt: &ResourceType,
    name: &str,
    field: &str,
    reason: &'static str,
    message: &str,
) -> ApiError {
    ApiError::invalid(
        &rt.kind,
        &rt.group,
        name,
        vec![Cause {
            reason,
            field: field.into(),
            message: message.into(),
        }],
    )
}

fn check_name(rt: &ResourceType, name: &str) -> Result<(), ApiError> {
    let label = rt.group.is_empty() && rt.plural == "namespaces";
    let ok = if label {
        is_dns_label(name)
    } else {
        is_dns_subdomain(name)
    };
    if ok {
        return Ok(());
    }
    let rule = if label {
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
    } else {
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
    };
    Err(invalid(
        rt,
        name,
        "metadata.name",
        "FieldValueInvalid",
        &format!("Invalid value: {name:?}: {rule}"),
    ))
}

fn is_dns_label(name: &str) -> bool {
    let edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    name.len() <= 63
        && name.starts_with(edge)
        && name.ends_with(edge)
        && name.chars().all(|c| edge(c) || c == '-')
}

pub(crate) fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label)
}

fn check_namespace_accepts(state: &State, namespace: &str) -> Result<(), ApiError> {
    let key = Key {
        group: String::new(),
        resource: "namespaces".into(),
        namespace: String::new(),
        name: namespace.into(),
    };
    let gr = crate::error::GroupResource {
        group: "",
        resource: "namespaces",
    };
    match state.get(&key) {
        None => Err(ApiError::not_found(&gr, namespace)),
        Some(ns) if ns["metadata"].get("deletionTimestamp").is_some() => {
            Err(ApiError::forbidden(format!(
            "unable to create new content in namespace {namespace} because it is being terminated"
        )))
        }
        Some(_) => Ok(()),
    }
}

fn is_crd(rt: &ResourceType) -> bool {
    rt.group == "apiextensions.k8s.io" && rt.plural == "customresourcedefinitions"
}

fn crd_type(object: &Value, name: &str) -> Result<ResourceType, ApiError> {
    crd::resource_type(object).map_err(|causes| {
        ApiError::invalid(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            name,
            causes,
        )
    })
}

/// Serves the resource a stored CRD defines.
pub(crate) fn install(state: &mut State, crd: &Value) {
    if crd["metadata"].get("deletionTimestamp").is_some() {
        return;
    }
    if let Ok(resource) = crd::resource_type(crd) {
        state.registry.install(resource);
    }
}
