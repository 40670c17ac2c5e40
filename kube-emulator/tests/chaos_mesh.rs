//! The Chaos Mesh stand-in under paused tokio time: the condition timeline of an experiment,
//! pod-kill, pause, and the never-inject and failed-selection behaviours.

#[path = "support/small_chaos_crds.rs"]
mod small_chaos_crds;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_kube_emulator::chaos_mesh::{Behaviour, ChaosMesh, FINALIZER, PAUSE_ANNOTATION};
use faultline_kube_emulator::{ApiServer, ChangeKind};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use serde_json::{json, Value};
use tokio::time::Instant;

use small_chaos_crds::small_chaos_crd;

fn server_with_pods(pods: usize) -> ApiServer {
    let server = ApiServer::new();
    server
        .install_crd(small_chaos_crd("NetworkChaos", "networkchaos"))
        .unwrap();
    server
        .install_crd(small_chaos_crd("PodChaos", "podchaos"))
        .unwrap();
    for i in 0..pods {
        server
            .put(json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": format!("web-{i}"), "namespace": "default", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "web"}]},
                "status": {"phase": "Running"},
            }))
            .unwrap();
    }
    server
}

fn chaos_api(server: &ApiServer, kind: &str, plural: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("chaos-mesh.org", "v1alpha1", kind),
        plural,
    );
    Api::default_namespaced_with(server.client(), &resource)
}

fn network_delay(name: &str, duration: Option<&str>) -> DynamicObject {
    let mut spec = json!({"action": "delay", "mode": "all", "selector": {"labelSelectors": {"app": "web"}}, "delay": {"latency": "50ms"}});
    if let Some(duration) = duration {
        spec["duration"] = duration.into();
    }
    serde_json::from_value(json!({"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "NetworkChaos", "metadata": {"name": name}, "spec": spec})).unwrap()
}

/// `Run S=T I=F R=T P=F`: desired phase and the four conditions of a stored chaos object.
fn summary(object: &Value) -> String {
    let status = &object["status"];
    let condition = |kind: &str| {
        let found = status["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == kind);
        match found.and_then(|c| c["status"].as_str()) {
            Some("True") => "T",
            Some("False") => "F",
            _ => "-",
        }
    };
    format!(
        "{} S={} I={} R={} P={}",
        status["experiment"]["desiredPhase"].as_str().unwrap_or("-"),
        condition("Selected"),
        condition("AllInjected"),
        condition("AllRecovered"),
        condition("Paused"),
    )
}

async fn sleep(seconds: u64) {
    tokio::time::sleep(Duration::from_secs(seconds)).await;
}

/// `(seconds since start, change, summary)` of each change, in order.
type Timeline = Arc<Mutex<Vec<(u64, &'static str, String)>>>;

/// Records every change to `resource`.
fn record(server: &ApiServer, resource: &'static str) -> Timeline {
    let timeline = Arc::new(Mutex::new(Vec::new()));
    let mut changes = server.changes();
    let start = Instant::now();
    let sink = Arc::clone(&timeline);
    tokio::spawn(async move {
        while let Ok(change) = changes.recv().await {
            if change.resource == resource {
                let kind = match change.kind {
                    ChangeKind::Added => "added",
                    ChangeKind::Modified => "modified",
                    ChangeKind::Deleted => "deleted",
                };
                sink.lock().unwrap().push((
                    start.elapsed().as_secs(),
                    kind,
                    summary(&change.object),
                ));
            }
        }
    });
    timeline
}

#[tokio::test(start_paused = true)]
async fn an_experiment_is_selected_injected_recovered_and_finalized_on_tokio_time() {
    let server = server_with_pods(2);
    let timeline = record(&server, "networkchaos");
    let _chaos_mesh = ChaosMesh::new()
        .inject_after(Duration::from_secs(2))
        .spawn(&server);
    let api = chaos_api(&server, "NetworkChaos", "networkchaos");
    api.create(&PostParams::default(), &network_delay("delay", Some("30s")))
        .await
        .unwrap();
    sleep(40).await;
    let running = api.get("delay").await.unwrap();
    assert_eq!(
        running.metadata.finalizers.as_deref(),
        Some(&[FINALIZER.to_owned()][..])
    );
    let records = running.data["status"]["experiment"]["containerRecords"]
        .as_array()
        .unwrap()
        .clone();
    let ids: Vec<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["default/web-0", "default/web-1"]);
    assert!(records
        .iter()
        .all(|r| r["injectedCount"] == 1 && r["recoveredCount"] == 1));

    api.delete("delay", &DeleteParams::default()).await.unwrap();
    sleep(1).await;
    assert!(
        api.get_opt("delay").await.unwrap().is_none(),
        "the finalizer was removed"
    );
    let expected = [
        (0, "added", "- S=- I=- R=- P=-"),
        (0, "modified", "- S=- I=- R=- P=-"),
        (0, "modified", "Run S=T I=F R=T P=F"),
        (2, "modified", "Run S=T I=T R=F P=F"),
        (30, "modified", "Stop S=T I=F R=T P=F"),
        (40, "modified", "Stop S=T I=F R=T P=F"),
        (40, "deleted", "Stop S=T I=F R=T P=F"),
    ];
    let timeline = timeline.lock().unwrap().clone();
    let timeline: Vec<(u64, &str, &str)> = timeline
        .iter()
        .map(|(t, k, s)| (*t, *k, s.as_str()))
        .collect();
    assert_eq!(timeline, expected);
}

#[tokio::test(start_paused = true)]
async fn pod_kill_deletes_the_pods_its_mode_selects_with_a_seeded_choice() {
    let mut chosen = Vec::new();
    for _ in 0..2 {
        let server = server_with_pods(5);
        let _chaos_mesh = ChaosMesh::new().seed(42).spawn(&server);
        let api = chaos_api(&server, "PodChaos", "podchaos");
        let kill: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "chaos-mesh.org/v1alpha1",
            "kind": "PodChaos",
            "metadata": {"name": "kill"},
            "spec": {"action": "pod-kill", "mode": "fixed", "value": "2", "selector": {"namespaces": ["default"], "labelSelectors": {"app": "web"}}},
        }))
        .unwrap();
        api.create(&PostParams::default(), &kill).await.unwrap();
        sleep(5).await;
        let killed = api.get("kill").await.unwrap();
        assert_eq!(
            summary(&killed.data),
            "Run S=T I=T R=F P=F",
            "a one-shot experiment stays in Run"
        );
        let ids: Vec<String> = killed.data["status"]["experiment"]["containerRecords"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 2);
        let left: Vec<String> = server
            .list("v1", "Pod", Some("default"))
            .iter()
            .map(|p| format!("default/{}", p["metadata"]["name"].as_str().unwrap()))
            .collect();
        assert_eq!(left.len(), 3);
        assert!(
            ids.iter().all(|id| !left.contains(id)),
            "killed {ids:?}, left {left:?}"
        );
        chosen.push(ids);
    }
    assert_eq!(chosen[0], chosen[1], "the same seed chooses the same pods");
}

#[tokio::test(start_paused = true)]
async fn pausing_recovers_and_unpausing_injects_again() {
    let server = server_with_pods(1);
    let _chaos_mesh = ChaosMesh::new()
        .inject_after(Duration::from_secs(1))
        .spawn(&server);
    let api = chaos_api(&server, "NetworkChaos", "networkchaos");
    api.create(&PostParams::default(), &network_delay("delay", None))
        .await
        .unwrap();
    sleep(5).await;
    assert_eq!(
        summary(&api.get("delay").await.unwrap().data),
        "Run S=T I=T R=F P=F"
    );
    let pause =
        |value: &str| Patch::Merge(json!({"metadata": {"annotations": {PAUSE_ANNOTATION: value}}}));
    api.patch("delay", &PatchParams::default(), &pause("true"))
        .await
        .unwrap();
    sleep(5).await;
    assert_eq!(
        summary(&api.get("delay").await.unwrap().data),
        "Stop S=T I=F R=T P=T"
    );
    api.patch("delay", &PatchParams::default(), &pause("false"))
        .await
        .unwrap();
    sleep(5).await;
    let resumed = api.get("delay").await.unwrap();
    assert_eq!(summary(&resumed.data), "Run S=T I=T R=F P=F");
    assert_eq!(
        resumed.data["status"]["experiment"]["containerRecords"][0]["injectedCount"],
        2
    );
}

#[tokio::test(start_paused = true)]
async fn never_inject_stays_selected() {
    let server = server_with_pods(1);
    let _chaos_mesh = ChaosMesh::new()
        .behaviour(Behaviour::NeverInject)
        .spawn(&server);
    let api = chaos_api(&server, "NetworkChaos", "networkchaos");
    api.create(&PostParams::default(), &network_delay("delay", None))
        .await
        .unwrap();
    sleep(600).await;
    assert_eq!(
        summary(&api.get("delay").await.unwrap().data),
        "Run S=T I=F R=T P=F"
    );
}

#[tokio::test(start_paused = true)]
async fn failed_selection_leaves_selected_false_and_records_a_warning() {
    for (behaviour, pods, message) in [
        (
            Behaviour::FailSelection("selector is broken".into()),
            1,
            "selector is broken",
        ),
        (
            Behaviour::Inject,
            0,
            "Failed to select targets: no pod is selected",
        ),
    ] {
        let server = server_with_pods(pods);
        let _chaos_mesh = ChaosMesh::new().behaviour(behaviour).spawn(&server);
        let api = chaos_api(&server, "NetworkChaos", "networkchaos");
        api.create(&PostParams::default(), &network_delay("delay", None))
            .await
            .unwrap();
        sleep(10).await;
        assert_eq!(
            summary(&api.get("delay").await.unwrap().data),
            "Run S=F I=F R=F P=F"
        );
        let events = server.list("v1", "Event", Some("default"));
        let messages: Vec<&str> = events
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        assert_eq!(messages, [message]);
        assert_eq!(events[0]["type"], "Warning");
        api.delete("delay", &DeleteParams::default()).await.unwrap();
        sleep(1).await;
        assert!(api.get_opt("delay").await.unwrap().is_none());
    }
}
