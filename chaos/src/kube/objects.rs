//! One Chaos Mesh object's life on the cluster: created under its fresh name, counted as
//! injected once Chaos Mesh sets its `AllInjected` condition, and as over once
//! `AllRecovered` holds or the object is gone.

use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use kube::runtime::wait::await_condition;
use kube::Client;
use serde_json::Value;

use super::connect::CHAOS_MESH_GROUP;
use super::schema::CrdSchema;

/// The API of `schema`'s kind in `namespace`.
pub fn api(client: &Client, schema: &CrdSchema, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &resource(schema))
}

/// `schema`'s kind as kube addresses it.
pub fn resource(schema: &CrdSchema) -> ApiResource {
    ApiResource {
        group: schema.group.clone(),
        version: schema.version.clone(),
        api_version: format!("{CHAOS_MESH_GROUP}/{}", schema.version),
        kind: schema.kind.clone(),
        plural: schema.plural.clone(),
    }
}

/// Whether condition `kind` (Selected, AllInjected, AllRecovered, Paused) is True, False,
/// or not reported yet.
pub fn condition(object: &DynamicObject, kind: &str) -> Option<bool> {
    object.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .map(|c| c["status"] == "True")
}

/// The conditions as one line, for messages: `Selected=False (no pod is selected), ...`.
pub fn describe_conditions(object: &DynamicObject) -> String {
    let Some(conditions) = object.data["status"]["conditions"].as_array() else {
        return "no conditions reported".to_owned();
    };
    conditions
        .iter()
        .map(|c| {
            let text = |field: &str| c[field].as_str().unwrap_or("?").to_owned();
            match c["reason"].as_str().or(c["message"].as_str()) {
                Some(why) if !why.is_empty() => {
                    format!("{}={} ({why})", text("type"), text("status"))
                }
                _ => format!("{}={}", text("type"), text("status")),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pods Chaos Mesh chose (`status.experiment.containerRecords[].id`, `ns/name`).
pub fn chosen_pods(object: &DynamicObject) -> Vec<String> {
    object.data["status"]["experiment"]["containerRecords"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .filter_map(|r| r["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Creates `object` (already checked against the schema).
pub async fn create(api: &Api<DynamicObject>, object: &Value) -> Result<(), String> {
    let dynamic: DynamicObject =
        serde_json::from_value(object.clone()).map_err(|err| err.to_string())?;
    api.create(&PostParams::default(), &dynamic)
        .await
        .map(|_| ())
        .map_err(|err| err.to_string())
}

/// Waits until Chaos Mesh reports `name` injected; the object then (with the pods it
/// chose). An error says what Chaos Mesh reported instead, or that it went away.
pub async fn injected(
    api: &Api<DynamicObject>,
    name: &str,
    within: Duration,
) -> Result<DynamicObject, String> {
    let wait = await_condition(api.clone(), name, |object: Option<&DynamicObject>| {
        object.is_none_or(|o| condition(o, "AllInjected") == Some(true))
    });
    match tokio::time::timeout(within, wait).await {
        Ok(Ok(Some(object))) => Ok(object),
        Ok(Ok(None)) => Err("deleted before Chaos Mesh injected it".to_owned()),
        Ok(Err(err)) => Err(format!("watching it failed: {err}")),
        Err(_) => {
            let now = api.get_opt(name).await.ok().flatten();
            Err(format!(
                "Chaos Mesh did not report AllInjected within {}s ({})",
                within.as_secs(),
                now.as_ref().map_or("gone".to_owned(), describe_conditions)
            ))
        }
    }
}

/// Waits until Chaos Mesh reports `name` recovered or the object is gone.
pub async fn recovered(api: &Api<DynamicObject>, name: &str) -> Result<(), String> {
    await_condition(api.clone(), name, |object: Option<&DynamicObject>| {
        object.is_none_or(|o| condition(o, "AllRecovered") == Some(true))
    })
    .await
    .map(|_| ())
    .map_err(|err| format!("watching it failed: {err}"))
}
