//! Discovery documents built from the registry: `/version`, `/api`, `/apis`, `/apis/{group}`,
//! `/api/v1` and `/apis/{group}/{version}`, and the aggregated (`apidiscovery.k8s.io/v2`)
//! form of `/api` and `/apis`.

use serde_json::{json, Value};

use crate::registry::{Registry, ResourceType};

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const STATUS_VERBS: [&str; 3] = ["get", "patch", "update"];

pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "34",
        "gitVersion": "v1.34.0-faultline-kube-emulator",
        "platform": "linux/amd64",
    })
}

/// `/api`
pub(crate) fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    })
}

fn group_document(registry: &Registry, group: &str) -> Value {
    let versions: Vec<Value> = registry
        .versions(group)
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": versions,
        "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
    })
}

/// `/apis`
pub(crate) fn groups(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|g| !g.is_empty())
        .map(|g| group_document(registry, g))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`, if the group is served.
pub(crate) fn group(registry: &Registry, group: &str) -> Option<Value> {
    if group.is_empty() || !registry.groups().iter().any(|g| g == group) {
        return None;
    }
    let mut document = group_document(registry, group);
    document["kind"] = "APIGroup".into();
    document["apiVersion"] = "v1".into();
    Some(document)
}

fn served<'a>(
    registry: &'a Registry,
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'a ResourceType> + 'a {
    registry
        .all()
        .filter(move |t| t.group == group && t.version(version).is_some())
        .map(|t| &**t)
}

/// `/api/v1`, `/apis/{group}/{version}`, if served.
pub(crate) fn resources(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for t in served(registry, group, version) {
        let mut resource = json!({
            "name": t.plural,
            "singularName": t.singular,
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": VERBS,
        });
        if !t.short_names.is_empty() {
            resource["shortNames"] = json!(t.short_names);
        }
        if !t.categories.is_empty() {
            resource["categories"] = json!(t.categories);
        }
        resources.push(resource);
        if t.version(version).is_some_and(|v| v.status) {
            resources.push(json!({
                "name": format!("{}/status", t.plural),
                "singularName": "",
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": STATUS_VERBS,
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

/// Aggregated discovery of the core group (`core`) or of every other group.
pub(crate) fn aggregated(registry: &Registry, core: bool) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|g| g.is_empty() == core)
        .map(|group| {
            let versions: Vec<Value> = registry
                .versions(group)
                .iter()
                .map(|version| {
                    let resources: Vec<Value> = served(registry, group, version)
                        .map(|t| aggregated_resource(t, group, version))
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group}, "versions": versions})
        })
        .collect();
    json!({
        "apiVersion": "apidiscovery.k8s.io/v2",
        "kind": "APIGroupDiscoveryList",
        "metadata": {},
        "items": items,
    })
}

fn aggregated_resource(t: &ResourceType, group: &str, version: &str) -> Value {
    let kind = json!({"group": group, "version": version, "kind": t.kind});
    let subresources: Vec<Value> = if t.version(version).is_some_and(|v| v.status) {
        vec![json!({"subresource": "status", "responseKind": kind, "verbs": STATUS_VERBS})]
    } else {
        Vec::new()
    };
    json!({
        "resource": t.plural,
        "responseKind": kind,
        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": t.singular,
        "verbs": VERBS,
        "shortNames": t.short_names,
        "categories": t.categories,
        "subresources": subresources,
    })
}
