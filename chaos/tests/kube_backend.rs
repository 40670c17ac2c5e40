//! The Kubernetes backend against an in-memory API server (support/cluster.rs): what it
//! creates, when it counts a fault as injected, that it always cleans up, and what it
//! refuses. The target is real echo servers on loopback TCP; Chaos Mesh is the emulator's
//! stand-in (conditions, finalizers, pod-kill), checked against Chaos Mesh's real CRDs.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/crd_files.rs"]
mod crd_files;

use std::path::Path;
use std::time::Duration;

use cluster::{Cluster, NAMESPACE};
use crd_files::chaos_mesh_crds;
use faultline_chaos::kube::run::{run, KubeOptions};
use faultline_chaos::kube::KubeError;
use faultline_chaos::plan::{MANAGED_BY, RUN_LABEL};
use faultline_chaos::report::{Report, Verdict};
use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::load::{load_bytes, SpecDocument};
use faultline_chaos::spec::located::Document;
use faultline_kube_emulator::chaos_mesh::ChaosMesh;
use faultline_kube_emulator::{ChangeKind, Verb};
use serde_json::{json, Value};

const SMOKE: &str = include_str!("fixtures/kube/smoke.yaml");

fn load(text: &str) -> (Experiment, Document) {
    load_bytes(text.as_bytes(), Path::new("smoke.yaml"))
        .unwrap()
        .into_iter()
        .find_map(|loaded| match loaded.spec {
            SpecDocument::Experiment(experiment) => Some((*experiment, loaded.document)),
            SpecDocument::Chaos(_) => None,
        })
        .unwrap()
}

fn options() -> KubeOptions {
    KubeOptions {
        run_id: Some("0000beef".into()),
        identity: "test".into(),
        ..KubeOptions::default()
    }
}

async fn run_on(cluster: &Cluster, text: &str, options: &KubeOptions) -> Result<Report, KubeError> {
    let (experiment, document) = load(text);
    run(
        cluster.api.client(),
        &experiment,
        &document,
        options,
        std::future::pending(),
        |_| {},
    )
    .await
}

/// The Chaos Mesh objects created so far, from the change feed.
fn created(
    changes: &mut tokio::sync::broadcast::Receiver<faultline_kube_emulator::Change>,
) -> Vec<Value> {
    let mut objects = Vec::new();
    while let Ok(change) = changes.try_recv() {
        if change.kind == ChangeKind::Added && change.group == "chaos-mesh.org" {
            objects.push(change.object);
        }
    }
    objects
}

fn creates(cluster: &Cluster) -> usize {
    cluster
        .api
        .access_log()
        .iter()
        .filter(|a| a.verb == Verb::Create && a.group == "chaos-mesh.org")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_creates_labelled_objects_with_durations_and_leaves_nothing_behind() {
    let Some(crds) = chaos_mesh_crds() else {
        return;
    };
    let cluster = Cluster::start(Some(&crds), 2).await;
    let _mesh = ChaosMesh::new()
        .inject_after(Duration::from_millis(100))
        .spawn(&cluster.api);
    let mut changes = cluster.api.changes();

    let report = run_on(&cluster, SMOKE, &options()).await.unwrap();

    let objects = created(&mut changes);
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["NetworkChaos", "PodChaos"], "{objects:#?}");
    for (object, (name, lasts)) in objects.iter().zip([
        ("kube-smoke-slow-az2-0000beef", "2s"),
        ("kube-smoke-kill-one-0000beef", "1s"),
    ]) {
        assert_eq!(object["metadata"]["name"], name);
        assert_eq!(object["metadata"]["namespace"], NAMESPACE);
        assert_eq!(object["metadata"]["labels"][RUN_LABEL], "0000beef");
        assert_eq!(object["metadata"]["labels"][MANAGED_BY.0], MANAGED_BY.1);
        assert_eq!(object["spec"]["duration"], lasts);
    }
    assert!(
        report.faults.iter().all(|f| f.skipped.is_none()),
        "{:#?}",
        report.faults
    );
    let killed = &report
        .faults
        .iter()
        .find(|f| f.name == "kill-one")
        .unwrap()
        .targets;
    assert_eq!(killed.len(), 1, "the pod Chaos Mesh chose: {killed:?}");
    assert!(killed[0].starts_with("shop/echo-az1-"), "{killed:?}");
    assert_eq!(report.verdict, Verdict::Passed, "{report:#?}");
    assert!(report.summary.calls > 300, "{}", report.summary.calls);
    assert!(
        cluster.chaos_objects().is_empty(),
        "left behind: {:#?}",
        cluster.chaos_objects()
    );
    assert_eq!(cluster.running().len(), 3, "one az1 pod was killed");
    let pods: Vec<&str> = report
        .target_metrics
        .iter()
        .map(|p| p.pod.as_str())
        .collect();
    assert_eq!(pods.len(), 4, "every target pod was scraped: {pods:?}");
    for pod in &report.target_metrics {
        let served: f64 = pod
            .series
            .iter()
            .filter(|(name, _)| name.starts_with("rpc_server_requests_total"))
            .map(|(_, calls)| calls)
            .sum();
        match killed[0].ends_with(&pod.pod) {
            true => assert!(
                pod.error.is_some(),
                "the killed pod cannot be read: {pod:?}"
            ),
            false => assert!(served > 10.0, "{pod:?}"),
        }
    }
    let leases = cluster
        .api
        .list("coordination.k8s.io/v1", "Lease", Some(NAMESPACE));
    assert!(
        leases.is_empty(),
        "the run's lease is given up: {leases:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interruption_mid_run_deletes_every_object_at_once_and_skips_the_rest() {
    let Some(crds) = chaos_mesh_crds() else {
        return;
    };
    let cluster = Cluster::start(Some(&crds), 1).await;
    let _mesh = ChaosMesh::new().spawn(&cluster.api);
    let (experiment, document) = load(SMOKE);
    let mut changes = cluster.api.changes();
    let interrupt = async move {
        loop {
            let change = changes.recv().await.unwrap();
            let injected = change.object["status"]["conditions"]
                .as_array()
                .is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "AllInjected" && c["status"] == "True")
                });
            if change.group == "chaos-mesh.org" && injected {
                return "interrupted by the test".to_owned();
            }
        }
    };
    let report = run(
        cluster.api.client(),
        &experiment,
        &document,
        &options(),
        interrupt,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.verdict, Verdict::Aborted);
    assert_eq!(report.aborted.as_deref(), Some("interrupted by the test"));
    assert!(
        report.measured < Duration::from_secs(2),
        "{:?}",
        report.measured
    );
    let kill = report.faults.iter().find(|f| f.name == "kill-one").unwrap();
    assert_eq!(
        kill.skipped.as_deref(),
        Some("not injected: interrupted by the test")
    );
    assert_eq!(creates(&cluster), 1, "the pod-kill was never created");
    assert!(
        cluster.chaos_objects().is_empty(),
        "{:#?}",
        cluster.chaos_objects()
    );
    assert_eq!(cluster.running().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_namespaces_and_the_controllers_own_are_refused_before_anything_is_created() {
    let cluster = Cluster::start(None, 1).await;
    let in_kube_system = SMOKE.replace("namespace: shop", "namespace: kube-system");
    let err = run_on(&cluster, &in_kube_system, &options())
        .await
        .unwrap_err();
    assert!(matches!(err, KubeError::Plan(_)), "{err}");
    assert!(
        err.to_string().contains("kube-system is protected"),
        "{err}"
    );

    let own = KubeOptions {
        own_namespace: Some(NAMESPACE.into()),
        ..options()
    };
    let err = run_on(&cluster, SMOKE, &own).await.unwrap_err();
    assert!(err.to_string().contains("the controller's own"), "{err}");
    assert_eq!(creates(&cluster), 0);
    assert_eq!(cluster.running().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_chaos_mesh_network_faults_are_refused_and_pod_kill_runs_natively() {
    let cluster = Cluster::start(None, 2).await;
    let err = run_on(&cluster, SMOKE, &options()).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("slow-az2: Chaos Mesh is not installed"),
        "{message}"
    );
    assert!(message.contains("only PodChaos pod-kill runs"), "{message}");
    assert!(
        !message.contains("kill-one"),
        "pod-kill is not refused: {message}"
    );
    assert_eq!(cluster.running().len(), 4, "nothing was touched");

    let kill_only = SMOKE
        .replace("    - name: slow-az2", "    - name: slow-az2-unused")
        .replace("      kind: NetworkChaos", "      kind: PodChaos");
    let kill_only = kill_only.replace(
        "        action: delay\n        mode: all\n        selector: { labelSelectors: { app: echo, zone: az2 } }\n        delay: { latency: 2ms, jitter: 500us }",
        "        action: pod-kill\n        mode: one\n        selector: { labelSelectors: { app: echo, zone: az2 } }",
    );
    let report = run_on(&cluster, &kill_only, &options()).await.unwrap();
    assert_eq!(report.verdict, Verdict::Passed, "{report:#?}");
    let mut running = cluster.running();
    running.sort();
    assert_eq!(running.len(), 2, "one pod per zone deleted: {running:?}");
    assert!(
        running.iter().any(|p| p.starts_with("echo-az1-"))
            && running.iter().any(|p| p.starts_with("echo-az2-"))
    );
    assert!(
        report.notes.iter().any(|n| n.contains("native pod-kill")),
        "{:#?}",
        report.notes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selector_that_matches_every_pod_of_the_namespace_is_refused_unless_allowed() {
    let cluster = Cluster::start(None, 1).await;
    let whole = SMOKE.replace(
        "selector: { labelSelectors: { app: echo, zone: az1 } }",
        "selector: { labelSelectors: { app: echo } }",
    );
    let pod_kill_only = strip_network_fault(&whole);
    let err = run_on(&cluster, &pod_kill_only, &options())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("matches all 2 pods of namespace shop"),
        "{err}"
    );
    assert_eq!(cluster.running().len(), 2);

    let allowed = pod_kill_only.replace(
        "    - name: kill-one",
        "    - name: kill-one\n      allowWholeNamespace: true",
    );
    let report = run_on(&cluster, &allowed, &options()).await.unwrap();
    assert!(report.faults[0].skipped.is_none(), "{:#?}", report.faults);
    assert_eq!(cluster.running().len(), 1);
}

/// `text` without its NetworkChaos fault.
fn strip_network_fault(text: &str) -> String {
    let start = text.find("    - name: slow-az2").unwrap();
    let end = text.find("    - name: kill-one").unwrap();
    format!("{}{}", &text[..start], &text[end..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftovers_of_dead_runs_are_deleted_and_those_of_live_runs_kept() {
    let Some(crds) = chaos_mesh_crds() else {
        return;
    };
    let cluster = Cluster::start(Some(&crds), 1).await;
    let _mesh = ChaosMesh::new().spawn(&cluster.api);
    let leftover = |name: &str, run: &str| {
        json!({
            "apiVersion": "chaos-mesh.org/v1alpha1",
            "kind": "NetworkChaos",
            "metadata": {
                "name": name,
                "namespace": NAMESPACE,
                "labels": { RUN_LABEL: run, MANAGED_BY.0: MANAGED_BY.1 },
            },
            "spec": { "action": "delay", "mode": "all", "selector": { "labelSelectors": { "app": "echo" } }, "delay": { "latency": "1ms" }, "duration": "1h" },
        })
    };
    cluster.api.put(leftover("dead-run", "deadbeef")).unwrap();
    cluster.api.put(leftover("live-run", "a11ve000")).unwrap();
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    cluster
        .api
        .put(json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": { "name": "faultline-run-a11ve000", "namespace": NAMESPACE },
            "spec": { "holderIdentity": "someone-else", "renewTime": now, "leaseDurationSeconds": 3600 },
        }))
        .unwrap();
    let report = run_on(&cluster, &strip_network_fault(SMOKE), &options())
        .await
        .unwrap();
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("NetworkChaos/dead-run") && !n.contains("live-run")),
        "{:#?}",
        report.notes
    );
    let left: Vec<String> = cluster
        .chaos_objects()
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, ["live-run"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_the_clusters_crd_rejects_is_refused_before_the_run() {
    let Some(mut crds) = chaos_mesh_crds() else {
        return;
    };
    // A cluster with an older NetworkChaos CRD whose delay has no jitter.
    for crd in &mut crds {
        if crd["spec"]["names"]["kind"] == "NetworkChaos" {
            for version in crd["spec"]["versions"].as_array_mut().unwrap() {
                let delay = &mut version["schema"]["openAPIV3Schema"]["properties"]["spec"]
                    ["properties"]["delay"]["properties"];
                delay.as_object_mut().unwrap().remove("jitter");
            }
        }
    }
    let cluster = Cluster::start(Some(&crds), 1).await;
    let err = run_on(&cluster, SMOKE, &options()).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("slow-az2: the cluster's NetworkChaos CRD rejects it"),
        "{message}"
    );
    assert!(message.contains("jitter"), "{message}");
    assert_eq!(creates(&cluster), 0);
}
