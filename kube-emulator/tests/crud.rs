//! Create, read, update, patch and delete of built-in resources through `kube::Api`.

use faultline_kube_emulator::ApiServer;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use serde_json::{json, Value};

fn configmap(name: &str, labels: Value) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": {"key": name},
    }))
    .expect("configmap")
}

fn api_error(error: kube::Error) -> (u16, String) {
    match error {
        kube::Error::Api(status) => (status.code, status.reason.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn configmaps_are_created_read_replaced_and_deleted() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let created = api
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .unwrap();
    assert!(created.uid().is_some_and(|uid| !uid.is_empty()));
    assert!(created.creation_timestamp().is_some());
    assert_eq!(created.namespace().as_deref(), Some("default"));
    let first_version: u64 = created.resource_version().unwrap().parse().unwrap();

    let mut fetched = api.get("a").await.unwrap();
    assert_eq!(fetched.data.as_ref().unwrap()["key"], "a");
    fetched
        .data
        .as_mut()
        .unwrap()
        .insert("key".into(), "changed".into());
    let replaced = api
        .replace("a", &PostParams::default(), &fetched)
        .await
        .unwrap();
    assert_eq!(replaced.uid(), created.uid());
    let second_version: u64 = replaced.resource_version().unwrap().parse().unwrap();
    assert!(second_version > first_version);

    let deleted = api.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(
        deleted.is_right(),
        "a configmap's delete answers with a Status"
    );
    assert_eq!(
        api_error(api.get("a").await.unwrap_err()),
        (404, "NotFound".into())
    );
}

#[tokio::test]
async fn creating_twice_is_already_exists_and_a_stale_replace_is_a_conflict() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let first = api
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .unwrap();
    let again = api
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await;
    assert_eq!(api_error(again.unwrap_err()), (409, "AlreadyExists".into()));

    let mut newer = first.clone();
    newer.data = Some([("key".to_owned(), "one".to_owned())].into());
    api.replace("a", &PostParams::default(), &newer)
        .await
        .unwrap();
    let mut stale = first;
    stale.data = Some([("key".to_owned(), "two".to_owned())].into());
    let conflict = api.replace("a", &PostParams::default(), &stale).await;
    assert_eq!(api_error(conflict.unwrap_err()), (409, "Conflict".into()));
    assert_eq!(api.get("a").await.unwrap().data.unwrap()["key"], "one");
}

#[tokio::test]
async fn an_unchanged_replace_keeps_the_resource_version() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let created = api
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .unwrap();
    let replaced = api
        .replace("a", &PostParams::default(), &created)
        .await
        .unwrap();
    assert_eq!(replaced.resource_version(), created.resource_version());
}

#[tokio::test]
async fn generate_name_invalid_names_and_missing_namespaces() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let mut generated = configmap("", json!({}));
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let created = api
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    assert!(created.name_any().starts_with("gen-") && created.name_any().len() == 9);

    let bad = api
        .create(&PostParams::default(), &configmap("Not_A_Name", json!({})))
        .await;
    assert_eq!(api_error(bad.unwrap_err()), (422, "Invalid".into()));

    let elsewhere: Api<ConfigMap> = Api::namespaced(server.client(), "nowhere");
    let missing = elsewhere
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await;
    assert_eq!(api_error(missing.unwrap_err()), (404, "NotFound".into()));
}

#[tokio::test]
async fn label_selectors_filter_lists() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    for (name, labels) in [
        ("a", json!({"app": "web", "tier": "front"})),
        ("b", json!({"app": "db"})),
        ("c", json!({"app": "cache", "tier": "back"})),
        ("d", json!({})),
    ] {
        api.create(&PostParams::default(), &configmap(name, labels))
            .await
            .unwrap();
    }
    let names = |list: kube::core::ObjectList<ConfigMap>| {
        list.items.iter().map(|c| c.name_any()).collect::<Vec<_>>()
    };
    for (selector, expected) in [
        ("app=web", vec!["a"]),
        ("app==db", vec!["b"]),
        ("app!=web", vec!["b", "c", "d"]),
        ("app in (web, db)", vec!["a", "b"]),
        ("app notin (web,db)", vec!["c", "d"]),
        ("tier", vec!["a", "c"]),
        ("!tier", vec!["b", "d"]),
        ("app,tier!=back", vec!["a", "b"]),
    ] {
        let listed = api
            .list(&ListParams::default().labels(selector))
            .await
            .unwrap();
        assert_eq!(names(listed), expected, "selector {selector:?}");
    }
    let bad = api.list(&ListParams::default().labels("app in web")).await;
    assert_eq!(api_error(bad.unwrap_err()), (400, "BadRequest".into()));
}

#[tokio::test]
async fn field_selectors_and_lists_across_namespaces() {
    let server = ApiServer::new();
    let client = server.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "other"}})).unwrap(),
        )
        .await
        .unwrap();
    for namespace in ["default", "other"] {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
        for name in ["a", "b"] {
            api.create(&PostParams::default(), &configmap(name, json!({})))
                .await
                .unwrap();
        }
    }
    let all: Api<ConfigMap> = Api::all(client);
    assert_eq!(
        all.list(&ListParams::default()).await.unwrap().items.len(),
        4
    );
    let named = all
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    let places: Vec<_> = named.items.iter().map(|c| c.namespace().unwrap()).collect();
    assert_eq!(places, ["default", "other"]);
    let other = all
        .list(&ListParams::default().fields("metadata.namespace=other,metadata.name!=a"))
        .await
        .unwrap();
    assert_eq!(
        other.items.iter().map(|c| c.name_any()).collect::<Vec<_>>(),
        ["b"]
    );
    let unsupported = all.list(&ListParams::default().fields("data.key=a")).await;
    assert_eq!(
        api_error(unsupported.unwrap_err()),
        (400, "BadRequest".into())
    );
}

#[tokio::test]
async fn pagination_walks_a_consistent_snapshot() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    for i in 0..5 {
        api.create(
            &PostParams::default(),
            &configmap(&format!("cm-{i}"), json!({})),
        )
        .await
        .unwrap();
    }
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.metadata.remaining_item_count, Some(3));
    let token = first.metadata.continue_.clone().expect("a continue token");
    let snapshot = first.metadata.resource_version.clone();
    api.delete("cm-3", &DeleteParams::default()).await.unwrap();
    let second = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(second.metadata.resource_version, snapshot);
    let names: Vec<_> = second.items.iter().map(|c| c.name_any()).collect();
    assert_eq!(
        names,
        ["cm-2", "cm-3"],
        "the continued list shows the snapshot, deleted cm-3 included"
    );
    let third = api
        .list(
            &ListParams::default()
                .limit(2)
                .continue_token(second.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(
        third.items.iter().map(|c| c.name_any()).collect::<Vec<_>>(),
        ["cm-4"]
    );
    assert!(third.metadata.continue_.is_none_or(|c| c.is_empty()));

    server.compact();
    let expired = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await;
    assert_eq!(api_error(expired.unwrap_err()), (410, "Expired".into()));
}

#[tokio::test]
async fn finalizers_hold_a_deleted_object_until_removed() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let mut held = configmap("held", json!({}));
    held.metadata.finalizers = Some(vec!["test/hold".into()]);
    api.create(&PostParams::default(), &held).await.unwrap();

    let deleting = api.delete("held", &DeleteParams::default()).await.unwrap();
    let deleting = deleting.left().expect("a held object is returned");
    assert!(deleting.metadata.deletion_timestamp.is_some());
    assert!(api
        .get("held")
        .await
        .unwrap()
        .metadata
        .deletion_timestamp
        .is_some());

    let adding = api
        .patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["test/hold", "test/more"]}})),
        )
        .await;
    assert_eq!(api_error(adding.unwrap_err()), (422, "Invalid".into()));

    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(
        api_error(api.get("held").await.unwrap_err()),
        (404, "NotFound".into())
    );
}

#[tokio::test]
async fn pod_status_is_written_only_through_the_status_subresource() {
    let server = ApiServer::new();
    let api: Api<Pod> = Api::default_namespaced(server.client());
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Running"},
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &pod).await.unwrap();
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Pending"));

    api.patch(
        "p",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": "Failed"}, "metadata": {"labels": {"x": "y"}}})),
    )
    .await
    .unwrap();
    let after_main = api.get("p").await.unwrap();
    assert_eq!(
        after_main.status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    assert_eq!(after_main.labels()["x"], "y");

    api.patch_status(
        "p",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": "Running"}, "metadata": {"labels": {"x": "z"}}})),
    )
    .await
    .unwrap();
    let after_status = api.get("p").await.unwrap();
    assert_eq!(
        after_status.status.as_ref().unwrap().phase.as_deref(),
        Some("Running")
    );
    assert_eq!(
        after_status.labels()["x"],
        "y",
        "status writes leave metadata alone"
    );
}

#[tokio::test]
async fn json_patch_tests_guard_writes() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    api.create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .unwrap();
    let add_finalizer: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/metadata/finalizers", "value": ["x/y"]},
    ]))
    .unwrap();
    let patched = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Json::<()>(add_finalizer.clone()),
        )
        .await
        .unwrap();
    assert_eq!(patched.finalizers(), ["x/y"]);
    let failed = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Json::<()>(add_finalizer),
        )
        .await;
    assert_eq!(api_error(failed.unwrap_err()), (422, "Invalid".into()));

    let stale = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"resourceVersion": "1"}, "data": {"k": "v"}})),
        )
        .await;
    assert_eq!(api_error(stale.unwrap_err()), (409, "Conflict".into()));
}

#[tokio::test]
async fn apply_creates_then_merges_and_deletecollection_follows_labels() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "labels": {"group": "x"}}, "data": {"a": "1"}});
    let created = api
        .patch("app", &PatchParams::apply("test"), &Patch::Apply(&applied))
        .await
        .unwrap();
    assert_eq!(created.data.unwrap()["a"], "1");
    let more = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": {"b": "2"}});
    let merged = api
        .patch("app", &PatchParams::apply("test"), &Patch::Apply(&more))
        .await
        .unwrap();
    let data = merged.data.unwrap();
    assert_eq!((data["a"].as_str(), data["b"].as_str()), ("1", "2"));

    api.create(
        &PostParams::default(),
        &configmap("other", json!({"group": "y"})),
    )
    .await
    .unwrap();
    let deleted = api
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("group=x"),
        )
        .await
        .unwrap();
    let deleted = deleted.left().expect("the deleted objects");
    assert_eq!(
        deleted
            .items
            .iter()
            .map(|c| c.name_any())
            .collect::<Vec<_>>(),
        ["app"]
    );
    let left: Vec<_> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| c.name_any())
        .collect();
    assert_eq!(left, ["other"]);
}

#[tokio::test]
async fn deleting_a_namespace_deletes_what_it_holds() {
    let server = ApiServer::new();
    let client = server.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "doomed"}})).unwrap(),
        )
        .await
        .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, "doomed");
    let mut held = configmap("held", json!({}));
    held.metadata.finalizers = Some(vec!["test/hold".into()]);
    api.create(&PostParams::default(), &held).await.unwrap();
    api.create(&PostParams::default(), &configmap("free", json!({})))
        .await
        .unwrap();

    namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get("doomed").await.unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    assert_eq!(api_error(api.get("free").await.unwrap_err()).0, 404);
    let refused = api
        .create(&PostParams::default(), &configmap("new", json!({})))
        .await;
    assert_eq!(api_error(refused.unwrap_err()), (403, "Forbidden".into()));

    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(
        api_error(namespaces.get("doomed").await.unwrap_err()).0,
        404
    );
}
