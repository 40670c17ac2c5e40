//! Many clients on one server: optimistic concurrency on a Lease, and the access log.

use faultline_kube_emulator::{Access, ApiServer, Verb};
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchParams};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_racing_for_one_lease_have_exactly_one_winner() {
    let server = ApiServer::new();
    let first: Api<Lease> = Api::default_namespaced(server.client());
    let second: Api<Lease> = Api::default_namespaced(server.client());
    let lease: Lease = serde_json::from_value(
        json!({"metadata": {"name": "leader"}, "spec": {"leaseDurationSeconds": 15}}),
    )
    .unwrap();
    first.create(&PostParams::default(), &lease).await.unwrap();

    for round in 0..20 {
        let seen_by_first = first.get("leader").await.unwrap();
        let seen_by_second = second.get("leader").await.unwrap();
        let claim = |mut lease: Lease, holder: &str| {
            lease.spec.as_mut().unwrap().holder_identity = Some(format!("{holder}-{round}"));
            lease
        };
        let (by_first, by_second) = (
            claim(seen_by_first, "first"),
            claim(seen_by_second, "second"),
        );
        let params = PostParams::default();
        let (a, b) = tokio::join!(
            first.replace("leader", &params, &by_first),
            second.replace("leader", &params, &by_second),
        );
        let (winner, loser) = match (a, b) {
            (Ok(winner), Err(loser)) | (Err(loser), Ok(winner)) => (winner, loser),
            (a, b) => panic!(
                "round {round}: expected one winner, got {:?} and {:?}",
                a.map(|_| ()),
                b.map(|_| ())
            ),
        };
        assert!(
            matches!(loser, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
            "{loser:?}"
        );
        let stored = first.get("leader").await.unwrap();
        assert_eq!(
            stored.spec.unwrap().holder_identity,
            winner.spec.unwrap().holder_identity
        );
    }
}

/// An access: verb, resource, subresource, namespace, name and response code.
type Line<'a> = (
    Verb,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    u16,
);

#[tokio::test(start_paused = true)]
async fn the_access_log_records_every_request() {
    let server = ApiServer::new();
    let client = server.client();
    let configmaps: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "a"}})).unwrap();
    configmaps
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    configmaps.get("a").await.unwrap();
    configmaps
        .list(&ListParams::default().labels("app=x"))
        .await
        .unwrap();
    let _ = configmaps.get("missing").await.unwrap_err();
    configmaps
        .watch(&WatchParams::default().timeout(1), "0")
        .await
        .unwrap()
        .count()
        .await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    server
        .put(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": []}}))
        .unwrap();
    pods.patch_status(
        "p",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": "Running"}})),
    )
    .await
    .unwrap();
    configmaps
        .delete("a", &DeleteParams::default())
        .await
        .unwrap();
    configmaps
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await
        .unwrap();

    let log = server.access_log();
    let summary: Vec<Line<'_>> = log
        .iter()
        .map(|a: &Access| {
            (
                a.verb,
                a.resource.as_str(),
                a.subresource.as_deref(),
                a.namespace.as_deref(),
                a.name.as_deref(),
                a.code,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (Verb::Create, "configmaps", None, Some("default"), None, 201),
            (
                Verb::Get,
                "configmaps",
                None,
                Some("default"),
                Some("a"),
                200
            ),
            (Verb::List, "configmaps", None, Some("default"), None, 200),
            (
                Verb::Get,
                "configmaps",
                None,
                Some("default"),
                Some("missing"),
                404
            ),
            (Verb::Watch, "configmaps", None, Some("default"), None, 200),
            (
                Verb::Patch,
                "pods",
                Some("status"),
                Some("default"),
                Some("p"),
                200
            ),
            (
                Verb::Delete,
                "configmaps",
                None,
                Some("default"),
                Some("a"),
                200
            ),
            (
                Verb::DeleteCollection,
                "configmaps",
                None,
                Some("default"),
                None,
                200
            ),
        ]
    );
    assert!(
        log[2].query.contains("labelSelector=app%3Dx"),
        "{}",
        log[2].query
    );
    assert_eq!(log[5].path, "/api/v1/namespaces/default/pods/p/status");
    assert_eq!(Verb::DeleteCollection.to_string(), "deletecollection");
}
