//! Watches through `kube::Api::watch` and kube-runtime's `watcher` and `reflector`.

use std::time::Duration;

use faultline_kube_emulator::ApiServer;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::{json, Value};

fn configmap(name: &str, labels: Value) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": labels}, "data": {"k": name}}),
    )
    .unwrap()
}

fn describe(event: &WatchEvent<ConfigMap>) -> String {
    match event {
        WatchEvent::Added(c) => format!("ADDED {}", c.name_any()),
        WatchEvent::Modified(c) => format!("MODIFIED {}", c.name_any()),
        WatchEvent::Deleted(c) => format!("DELETED {}", c.name_any()),
        WatchEvent::Bookmark(b) => format!("BOOKMARK {}", b.metadata.resource_version),
        WatchEvent::Error(status) => format!("ERROR {} {}", status.code, status.reason),
    }
}

#[tokio::test(start_paused = true)]
async fn a_watch_resumes_after_a_resource_version_and_ends_at_its_timeout() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let a = api
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .unwrap();
    api.create(&PostParams::default(), &configmap("b", json!({})))
        .await
        .unwrap();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "x"}})),
    )
    .await
    .unwrap();
    api.delete("b", &DeleteParams::default()).await.unwrap();

    let params = WatchParams::default().disable_bookmarks().timeout(5);
    let events: Vec<String> = api
        .watch(&params, &a.resource_version().unwrap())
        .await
        .unwrap()
        .map(|e| describe(&e.unwrap()))
        .collect()
        .await;
    assert_eq!(events, ["ADDED b", "MODIFIED a", "DELETED b"]);
}

#[tokio::test(start_paused = true)]
async fn a_watch_from_a_compacted_version_gets_410() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let a = api
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .unwrap();
    api.create(&PostParams::default(), &configmap("b", json!({})))
        .await
        .unwrap();
    server.compact();
    let events: Vec<String> = api
        .watch(
            &WatchParams::default().timeout(5),
            &a.resource_version().unwrap(),
        )
        .await
        .unwrap()
        .map(|e| describe(&e.unwrap()))
        .collect()
        .await;
    assert_eq!(events, ["ERROR 410 Expired"]);
}

#[tokio::test(start_paused = true)]
async fn bookmarks_come_only_when_allowed() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    api.create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .unwrap();
    let current = server.resource_version().to_string();
    let with: Vec<String> = api
        .watch(&WatchParams::default().timeout(90), "0")
        .await
        .unwrap()
        .map(|e| describe(&e.unwrap()))
        .collect()
        .await;
    assert_eq!(
        with,
        [
            "ADDED a".to_owned(),
            format!("BOOKMARK {current}"),
            format!("BOOKMARK {current}")
        ]
    );
    let without: Vec<String> = api
        .watch(&WatchParams::default().disable_bookmarks().timeout(90), "0")
        .await
        .unwrap()
        .map(|e| describe(&e.unwrap()))
        .collect()
        .await;
    assert_eq!(without, ["ADDED a"]);
}

#[tokio::test(start_paused = true)]
async fn a_selector_watch_sees_objects_enter_and_leave() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let params = WatchParams::default()
        .labels("app=web")
        .disable_bookmarks()
        .timeout(5);
    let stream = api.watch(&params, "0").await.unwrap();
    api.create(
        &PostParams::default(),
        &configmap("a", json!({"app": "web"})),
    )
    .await
    .unwrap();
    api.create(
        &PostParams::default(),
        &configmap("b", json!({"app": "db"})),
    )
    .await
    .unwrap();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}})),
    )
    .await
    .unwrap();
    api.patch(
        "b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})),
    )
    .await
    .unwrap();
    api.patch(
        "b",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "y"}})),
    )
    .await
    .unwrap();
    let events: Vec<String> = stream.map(|e| describe(&e.unwrap())).collect().await;
    assert_eq!(events, ["ADDED a", "DELETED a", "ADDED b", "MODIFIED b"]);
}

#[tokio::test]
async fn a_dropped_watch_is_closed_and_bad_versions_are_rejected() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let stream = api.watch(&WatchParams::default(), "0").await.unwrap();
    assert_eq!(server.open_watches(), 1);
    drop(stream);
    tokio::time::timeout(Duration::from_secs(5), async {
        while server.open_watches() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the server closes the dropped watch");
    let bad = api.watch(&WatchParams::default(), "not-a-number").await;
    match bad {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 400),
        other => panic!("expected a 400, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test(start_paused = true)]
async fn watcher_and_reflector_follow_creates_changes_and_deletes() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let (reader, writer) = reflector::store::<ConfigMap>();
    let mut events = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .boxed();

    api.create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .unwrap();
    let seen = events.try_next().await.unwrap().unwrap();
    assert_eq!(seen.name_any(), "a");
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "changed"}})),
    )
    .await
    .unwrap();
    let seen = events.try_next().await.unwrap().unwrap();
    assert_eq!(seen.data.unwrap()["k"], "changed");
    assert_eq!(reader.state().len(), 1);
    assert_eq!(reader.state()[0].data.as_ref().unwrap()["k"], "changed");

    api.delete("a", &DeleteParams::default()).await.unwrap();
    api.create(&PostParams::default(), &configmap("b", json!({})))
        .await
        .unwrap();
    let seen = events.try_next().await.unwrap().unwrap();
    assert_eq!(seen.name_any(), "b");
    let names: Vec<String> = reader.state().iter().map(|c| c.name_any()).collect();
    assert_eq!(names, ["b"], "the reflector dropped the deleted object");
}

#[tokio::test(start_paused = true)]
async fn a_streaming_list_watcher_gets_the_initial_events_then_changes() {
    let server = ApiServer::new();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    api.create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .unwrap();
    let mut events = watcher(api.clone(), watcher::Config::default().streaming_lists())
        .applied_objects()
        .boxed();
    assert_eq!(events.try_next().await.unwrap().unwrap().name_any(), "a");
    api.create(&PostParams::default(), &configmap("b", json!({})))
        .await
        .unwrap();
    assert_eq!(events.try_next().await.unwrap().unwrap().name_any(), "b");
}
