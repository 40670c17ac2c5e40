//! Deletion as the registry and the namespace and CRD cleanup controllers do it: finalizers
//! hold an object (marked with `deletionTimestamp`) until they are gone; a deleted namespace
//! or CRD terminates, deletes what it holds and goes once that is gone.

use serde_json::Value;

use crate::error::ApiError;
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Key, State};
use crate::write::{metadata_mut, strings};

pub(crate) struct DeleteOptions {
    pub dry_run: bool,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

pub(crate) enum Deleted {
    /// Finalizers (or, for a namespace or CRD, what it holds) keep the object for now.
    Pending(Value),
    /// The object is gone; its last state.
    Gone(Value),
}

pub(crate) fn delete(
    state: &mut State,
    rt: &ResourceType,
    key: &Key,
    options: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    let Some(object) = state.get(key).cloned() else {
        return Err(ApiError::not_found(&rt.group_resource(), &key.name));
    };
    let metadata = &object["metadata"];
    for (sent, field, what) in [
        (&options.uid, "uid", "UID"),
        (
            &options.resource_version,
            "resourceVersion",
            "ResourceVersion",
        ),
    ] {
        let actual = metadata[field].as_str().unwrap_or_default();
        if let Some(sent) = sent.as_deref().filter(|s| *s != actual) {
            let why = format!("Precondition failed: {what} in precondition: {sent}, {what} in object meta: {actual}");
            return Err(ApiError::conflict(&rt.group_resource(), &key.name, &why));
        }
    }
    if options.dry_run {
        let held = !strings(metadata.get("finalizers")).is_empty() || holds_others(key);
        return Ok(if held {
            Deleted::Pending(object)
        } else {
            Deleted::Gone(object)
        });
    }
    Ok(begin(state, key))
}

/// Deletes every object of `rt` (in `namespace`) the selectors match; returns them as the
/// deletion left them.
pub(crate) fn delete_collection(
    state: &mut State,
    rt: &ResourceType,
    namespace: Option<&str>,
    labels: &LabelSelector,
    fields: &FieldSelector,
    dry_run: bool,
) -> Vec<Value> {
    let keys: Vec<Key> = state
        .objects(&rt.group, &rt.plural, namespace)
        .filter(|(_, o)| labels.matches(o["metadata"]["labels"].as_object()) && fields.matches(o))
        .map(|(k, _)| k.clone())
        .collect();
    keys.iter()
        .filter_map(|key| {
            if dry_run {
                return state.get(key).cloned();
            }
            match begin(state, key) {
                Deleted::Pending(object) | Deleted::Gone(object) => Some(object),
            }
        })
        .collect()
}

/// Starts deleting `key` (which exists): removes it now, or marks it and lets finalizers,
/// and for a namespace or CRD its contents, go first.
pub(crate) fn begin(state: &mut State, key: &Key) -> Deleted {
    let Some(mut object) = state.get(key).cloned() else {
        return Deleted::Gone(Value::Null);
    };
    let finalized = !strings(object["metadata"].get("finalizers")).is_empty();
    if !finalized && !holds_others(key) {
        return Deleted::Gone(remove(state, key));
    }
    if object["metadata"].get("deletionTimestamp").is_none() {
        let now = state.clock.now();
        let metadata = metadata_mut(&mut object);
        metadata.insert("deletionTimestamp".into(), now.into());
        metadata.insert("deletionGracePeriodSeconds".into(), 0.into());
        if is_namespace(key) {
            object["status"]["phase"] = "Terminating".into();
        }
        object = state.commit(key.clone(), Some(object));
        for held in held_by(state, key, &object) {
            begin(state, &held);
        }
        reap(state, key);
    }
    match state.get(key) {
        Some(object) => Deleted::Pending(object.clone()),
        None => Deleted::Gone(object),
    }
}

/// Removes `key` now, then whatever was only waiting for it: a terminating namespace or CRD
/// left empty. Returns the object's last state.
pub(crate) fn remove(state: &mut State, key: &Key) -> Value {
    let last = state.commit(key.clone(), None);
    if is_crd(key) {
        if let Some((group, plural)) = crd_resource(&last) {
            state.registry.remove(&group, &plural);
        }
    }
    if !key.namespace.is_empty() {
        reap(state, &namespace_key(&key.namespace));
    }
    let custom = state
        .registry
        .by_group_plural(&key.group, &key.resource)
        .is_some_and(|rt| rt.custom);
    if custom {
        reap(state, &crd_key(&key.group, &key.resource));
    }
    last
}

/// Removes a terminating namespace or CRD once nothing holds it.
fn reap(state: &mut State, key: &Key) {
    let Some(object) = state.get(key) else {
        return;
    };
    let terminating = object["metadata"].get("deletionTimestamp").is_some();
    let finalized = !strings(object["metadata"].get("finalizers")).is_empty();
    if terminating && !finalized && held_by(state, key, &object.clone()).is_empty() {
        remove(state, key);
    }
}

fn held_by(state: &State, key: &Key, object: &Value) -> Vec<Key> {
    if is_namespace(key) {
        return state.keys_in_namespace(&key.name);
    }
    match crd_resource(object) {
        Some((group, plural)) if is_crd(key) => state
            .objects(&group, &plural, None)
            .map(|(k, _)| k.clone())
            .collect(),
        _ => Vec::new(),
    }
}

fn holds_others(key: &Key) -> bool {
    is_namespace(key) || is_crd(key)
}

fn is_namespace(key: &Key) -> bool {
    key.group.is_empty() && key.resource == "namespaces"
}

fn is_crd(key: &Key) -> bool {
    key.group == "apiextensions.k8s.io" && key.resource == "customresourcedefinitions"
}

fn crd_resource(crd: &Value) -> Option<(String, String)> {
    let group = crd["spec"]["group"].as_str()?;
    let plural = crd["spec"]["names"]["plural"].as_str()?;
    Some((group.to_owned(), plural.to_owned()))
}

fn namespace_key(name: &str) -> Key {
    Key {
        group: String::new(),
        resource: "namespaces".into(),
        namespace: String::new(),
        name: name.into(),
    }
}

fn crd_key(group: &str, plural: &str) -> Key {
    Key {
        group: "apiextensions.k8s.io".into(),
        resource: "customresourcedefinitions".into(),
        namespace: String::new(),
        name: format!("{plural}.{group}"),
    }
}
