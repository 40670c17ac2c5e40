//! The `Experiment` controller against an in-memory API server (support/cluster.rs): a run
//! to its verdict (status, report ConfigMap, Events), deletion mid-run, a controller that
//! dies mid-run, and two replicas electing one leader.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/controller.rs"]
mod controller_support;
#[path = "support/crd_files.rs"]
mod crd_files;

use std::time::Duration;

use cluster::{Cluster, NAMESPACE};
use controller_support::{controller_options as options, experiment_object};
use crd_files::chaos_mesh_crds;
use faultline_chaos::kube::controller::{self, ControllerOptions};
use faultline_kube_emulator::chaos_mesh::ChaosMesh;
use faultline_kube_emulator::{ChangeKind, Verb};
use serde_json::Value;
use tokio::sync::oneshot;

const EXPERIMENTS: &str = "faultline.dev/v1alpha1";
/// A guard against a hang, never a synchronisation: every wait below ends on a change.
const AT_MOST: Duration = Duration::from_secs(60);

fn experiment(cluster: &Cluster) -> Option<Value> {
    cluster
        .api
        .get(EXPERIMENTS, "Experiment", Some(NAMESPACE), "kube-smoke")
}

fn phase(cluster: &Cluster) -> Option<String> {
    experiment(cluster).and_then(|e| e["status"]["phase"].as_str().map(str::to_owned))
}

/// Waits (on the change feed) until `done` holds.
async fn until(cluster: &Cluster, mut done: impl FnMut(&Cluster) -> bool) {
    let mut changes = cluster.api.changes();
    tokio::time::timeout(AT_MOST, async {
        while !done(cluster) {
            let _ = changes.recv().await;
        }
    })
    .await
    .expect("the awaited change never came");
}

/// The reasons of the Events about the Experiment, in the order they were created.
fn reasons(cluster: &Cluster) -> Vec<String> {
    let mut events = cluster
        .api
        .list("events.k8s.io/v1", "Event", Some(NAMESPACE));
    let version = |e: &Value| {
        e["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    events.sort_by_key(version);
    events
        .iter()
        .filter(|e| e["regarding"]["name"] == "kube-smoke")
        .map(|e| e["reason"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn finished(cluster: &Cluster) -> bool {
    matches!(
        phase(cluster).as_deref(),
        Some("Passed" | "Failed" | "Aborted")
    )
}

fn injected(cluster: &Cluster) -> bool {
    cluster.chaos_objects().iter().any(|o| {
        o["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "AllInjected" && c["status"] == "True")
        })
    })
}

/// A controller on its own runtime, so that dropping it kills every task it started, as a
/// crash would.
struct Replica {
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<oneshot::Sender<()>>,
    done: Option<oneshot::Receiver<Result<(), String>>>,
}

impl Replica {
    fn start(cluster: &Cluster, identity: &str) -> Replica {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let (report, done) = oneshot::channel();
        let api = cluster.api.clone();
        let options = options(identity);
        runtime.spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            let outcome = controller::run(api.client(), options, shutdown).await;
            let _ = report.send(outcome.map_err(|err| err.to_string()));
        });
        Replica {
            runtime: Some(runtime),
            stop: Some(stop),
            done: Some(done),
        }
    }

    /// Stops it as SIGTERM does: its runs roll back, it gives the lease up.
    async fn shut_down(mut self) -> Result<(), String> {
        let _ = self.stop.take().unwrap().send(());
        let outcome = self.done.take().unwrap().await.unwrap();
        outcome
    }

    /// Kills it: every task it started stops where it is.
    fn crash(mut self) {
        self.runtime.take().unwrap().shutdown_background();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn cluster() -> Option<Cluster> {
    let crds = chaos_mesh_crds()?;
    let cluster = Cluster::start(Some(&crds), 2).await;
    cluster
        .api
        .put(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "faultline-system"}}))
        .unwrap();
    Some(cluster)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_runs_to_its_verdict_with_status_report_and_events() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let _mesh = ChaosMesh::new().spawn(&cluster.api);
    let replica = Replica::start(&cluster, "replica-a");
    let mut changes = cluster.api.changes();
    let applied = cluster.api.put(experiment_object()).unwrap();
    until(&cluster, finished).await;
    let mut phases: Vec<String> = Vec::new();
    while let Ok(change) = changes.try_recv() {
        let phase = change.object["status"]["phase"].as_str().map(str::to_owned);
        if let (true, Some(phase)) = (change.resource == "experiments", phase) {
            if phases.last() != Some(&phase) {
                phases.push(phase);
            }
        }
    }
    assert_eq!(phases, ["Pending", "Running", "Passed"]);

    let object = experiment(&cluster).unwrap();
    let status = &object["status"];
    assert_eq!(status["phase"], "Passed", "{status:#}");
    let uid = applied["metadata"]["uid"].as_str().unwrap();
    let run_id = format!(
        "{:08x}",
        faultline_core::lb::stable_hash(uid.as_bytes()) >> 32
    );
    assert_eq!(status["runId"], run_id.as_str());
    assert_eq!(status["controller"], "replica-a");
    let clauses = status["clauses"].as_array().unwrap();
    assert_eq!(clauses.len(), 2, "{status:#}");
    assert!(clauses.iter().all(|c| c["passed"] == true));
    assert!(
        status["summary"]["calls"].as_u64().unwrap() > 300,
        "{status:#}"
    );
    assert_eq!(
        object["metadata"]["finalizers"][0],
        "faultline.dev/rollback"
    );

    let report_name = status["report"].as_str().unwrap();
    assert_eq!(report_name, "faultline-report-kube-smoke");
    let map = cluster
        .api
        .get("v1", "ConfigMap", Some(NAMESPACE), report_name)
        .unwrap();
    let report: Value = serde_json::from_str(map["data"]["report.json"].as_str().unwrap()).unwrap();
    assert_eq!(report["verdict"], "passed");
    assert_eq!(report["backend"], "kube");
    assert!(map["data"]["report.html"]
        .as_str()
        .unwrap()
        .contains("<svg"));
    assert_eq!(
        map["metadata"]["ownerReferences"][0]["uid"],
        applied["metadata"]["uid"]
    );

    // The Event follows the status write that ends the run.
    until(&cluster, |c| reasons(c).contains(&"Passed".to_owned())).await;
    assert_eq!(reasons(&cluster), ["Started", "Passed"]);
    assert!(cluster.chaos_objects().is_empty());
    assert_eq!(
        cluster.running().len(),
        3,
        "Chaos Mesh's pod-kill took one az1 pod"
    );
    replica.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_running_experiment_rolls_its_faults_back_before_it_goes() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let _mesh = ChaosMesh::new().spawn(&cluster.api);
    let replica = Replica::start(&cluster, "replica-a");
    cluster.api.put(experiment_object()).unwrap();
    until(&cluster, injected).await;

    let mut changes = cluster.api.changes();
    cluster
        .api
        .delete(EXPERIMENTS, "Experiment", Some(NAMESPACE), "kube-smoke")
        .unwrap();
    let left_when_gone = tokio::time::timeout(AT_MOST, async {
        loop {
            let change = changes.recv().await.unwrap();
            if change.kind == ChangeKind::Deleted && change.resource == "experiments" {
                return cluster.chaos_objects();
            }
        }
    })
    .await
    .unwrap();
    assert!(
        left_when_gone.is_empty(),
        "gone before its faults: {left_when_gone:#?}"
    );
    replica.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_that_dies_mid_run_is_rolled_back_by_the_next_leader() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let _mesh = ChaosMesh::new().spawn(&cluster.api);
    let first = Replica::start(&cluster, "replica-a");
    cluster.api.put(experiment_object()).unwrap();
    until(&cluster, injected).await;
    first.crash();
    assert_eq!(phase(&cluster).as_deref(), Some("Running"));
    assert!(
        !cluster.chaos_objects().is_empty(),
        "the dead run left its fault"
    );

    let second = Replica::start(&cluster, "replica-b");
    until(&cluster, finished).await;
    let status = experiment(&cluster).unwrap()["status"].clone();
    assert_eq!(status["phase"], "Aborted", "{status:#}");
    assert_eq!(status["controller"], "replica-b");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("(replica-a) stopped mid-run")
            && message.contains("rolled its faults back"),
        "{message}"
    );
    assert!(
        cluster.chaos_objects().is_empty(),
        "{:#?}",
        cluster.chaos_objects()
    );
    second.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_elect_one_leader_and_only_it_runs_the_experiment() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let _mesh = ChaosMesh::new().spawn(&cluster.api);
    let replicas = [
        Replica::start(&cluster, "replica-a"),
        Replica::start(&cluster, "replica-b"),
    ];
    cluster.api.put(experiment_object()).unwrap();
    until(&cluster, finished).await;

    let status = experiment(&cluster).unwrap()["status"].clone();
    assert_eq!(status["phase"], "Passed", "{status:#}");
    let leader = status["controller"].as_str().unwrap().to_owned();
    let lease = cluster
        .api
        .get(
            "coordination.k8s.io/v1",
            "Lease",
            Some("faultline-system"),
            "faultline-controller",
        )
        .unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], leader.as_str());
    let creates: Vec<u16> = cluster
        .api
        .access_log()
        .iter()
        .filter(|a| a.verb == Verb::Create && a.group == "chaos-mesh.org")
        .map(|a| a.code)
        .collect();
    assert_eq!(
        creates,
        [201, 201],
        "each fault created once, by one replica"
    );
    for replica in replicas {
        replica.shut_down().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_namespace_that_does_not_exist_stops_the_controller_with_a_clear_error() {
    let cluster = Cluster::start(None, 1).await;
    let options = ControllerOptions {
        lease_namespace: "nowhere".into(),
        ..options("replica-a")
    };
    let outcome = tokio::time::timeout(
        AT_MOST,
        controller::run(cluster.api.client(), options, std::future::pending()),
    )
    .await
    .expect("it gives up instead of waiting for ever");
    let message = outcome.unwrap_err().to_string();
    assert!(
        message.contains("lease nowhere/faultline-controller"),
        "{message}"
    );
    assert!(message.contains("NotFound"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_the_cluster_refuses_ends_aborted_with_the_reason_and_creates_nothing() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let _mesh = ChaosMesh::new().spawn(&cluster.api);
    let replica = Replica::start(&cluster, "replica-a");
    let mut object = experiment_object();
    object["spec"]["faults"][1]["spec"]["selector"] =
        serde_json::json!({ "labelSelectors": { "app": "echo" } });
    cluster.api.put(object).unwrap();
    until(&cluster, finished).await;

    let status = experiment(&cluster).unwrap()["status"].clone();
    assert_eq!(status["phase"], "Aborted", "{status:#}");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("matches all 4 pods of namespace shop"),
        "{message}"
    );
    let creates = cluster
        .api
        .access_log()
        .iter()
        .filter(|a| a.verb == Verb::Create && a.group == "chaos-mesh.org")
        .count();
    assert_eq!(creates, 0);
    replica.shut_down().await.unwrap();
}
