//! `manifests/rbac.yaml` grants exactly what the Kubernetes backend and the controller
//! use: the requests they make against the in-memory API server, over runs that take
//! every path (a run to its verdict and a rerun, a deletion mid-run, an injection that
//! never comes, native pod-kill), are compared with the ClusterRole's rules both ways.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/controller.rs"]
mod controller_support;
#[path = "support/crd_files.rs"]
mod crd_files;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cluster::{Cluster, NAMESPACE};
use controller_support::{controller_options as options, experiment_object};
use crd_files::chaos_mesh_crds;
use faultline_chaos::kube::controller;
use faultline_chaos::kube::hands::Patience;
use faultline_chaos::kube::run::{run, KubeOptions};
use faultline_chaos::spec::load::{load_bytes, SpecDocument};
use faultline_kube_emulator::chaos_mesh::{Behaviour, ChaosMesh};
use faultline_kube_emulator::Access;
use serde_json::Value;

const SMOKE: &str = include_str!("fixtures/kube/smoke.yaml");

/// Granted on purpose though no test run makes the call, and why.
const GRANTED_UNSEEN: [(&str, &str, &str, &str); 1] = [(
    "events.k8s.io",
    "events",
    "patch",
    "kube-runtime's Recorder patches an Event's series when the same event repeats within minutes",
)];

/// `(group, resource[/subresource], verb)` of every request that touched a resource.
fn used(log: &[Access]) -> BTreeSet<(String, String, String)> {
    log.iter()
        .filter(|a| !a.resource.is_empty())
        .map(|a| {
            let resource = match &a.subresource {
                Some(sub) => format!("{}/{sub}", a.resource),
                None => a.resource.clone(),
            };
            (a.group.clone(), resource, a.verb.as_str().to_owned())
        })
        .collect()
}

/// The ClusterRole's rules, flattened to `(group, resource, verb)`.
fn granted() -> BTreeSet<(String, String, String)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../manifests/rbac.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let documents = faultline_chaos::spec::located::parse_documents(&text, &path).unwrap();
    let role = documents
        .iter()
        .map(|d| d.value())
        .find(|v| v["kind"] == "ClusterRole")
        .expect("a ClusterRole");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    let mut rules = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                for verb in strings(&rule["verbs"]) {
                    rules.insert((group.clone(), resource.clone(), verb));
                }
            }
        }
    }
    rules
}

/// Waits on the change feed until the Experiment has a final phase or is gone.
async fn until(cluster: &Cluster, done: impl Fn(Option<Value>) -> bool) {
    let mut changes = cluster.api.changes();
    let get = || {
        cluster.api.get(
            "faultline.dev/v1alpha1",
            "Experiment",
            Some(NAMESPACE),
            "kube-smoke",
        )
    };
    tokio::time::timeout(Duration::from_secs(60), async {
        while !done(get()) {
            let _ = changes.recv().await;
        }
    })
    .await
    .expect("the awaited change never came");
}

fn finished(experiment: Option<Value>) -> bool {
    experiment.is_some_and(|e| {
        matches!(
            e["status"]["phase"].as_str(),
            Some("Passed" | "Failed" | "Aborted")
        )
    })
}

/// The controller: a run to its verdict, a rerun (the report ConfigMap exists), and a
/// deletion mid-run (three pods per zone: each run's pod-kill takes one of az1's).
async fn controller_paths() -> Option<Vec<Access>> {
    let crds = chaos_mesh_crds()?;
    let cluster = Cluster::start(Some(&crds), 3).await;
    cluster
        .api
        .put(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "faultline-system"}}))
        .unwrap();
    let _mesh = ChaosMesh::new().spawn(&cluster.api);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let controller = tokio::spawn(controller::run(cluster.api.client(), options("a"), async {
        let _ = stopped.await;
    }));
    // A run to its verdict, then a rerun (its report ConfigMap exists: patched).
    for _ in 0..2 {
        cluster.api.put(experiment_object()).unwrap();
        until(&cluster, finished).await;
        delete(&cluster);
        until(&cluster, |e| e.is_none()).await;
    }
    // A deletion mid-run.
    cluster.api.put(experiment_object()).unwrap();
    until(&cluster, |e| {
        e.is_some_and(|e| e["status"]["phase"] == "Running")
    })
    .await;
    delete(&cluster);
    until(&cluster, |e| e.is_none()).await;
    assert!(cluster.chaos_objects().is_empty());
    let _ = stop.send(());
    controller.await.unwrap().unwrap();
    Some(cluster.api.access_log())
}

fn delete(cluster: &Cluster) {
    cluster
        .api
        .delete(
            "faultline.dev/v1alpha1",
            "Experiment",
            Some(NAMESPACE),
            "kube-smoke",
        )
        .unwrap();
}

/// A run whose faults Chaos Mesh never injects (the backend reads the object to say why).
async fn never_injected() -> Option<Vec<Access>> {
    let crds = chaos_mesh_crds()?;
    let cluster = Cluster::start(Some(&crds), 1).await;
    let _mesh = ChaosMesh::new()
        .behaviour(Behaviour::NeverInject)
        .spawn(&cluster.api);
    let report = direct_run(&cluster, Duration::from_millis(500)).await;
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("did not report AllInjected")),
        "{:#?}",
        report.notes
    );
    Some(cluster.api.access_log())
}

/// Native pod-kill, without Chaos Mesh.
async fn native_pod_kill() -> Vec<Access> {
    let cluster = Cluster::start(None, 1).await;
    let start = SMOKE.find("    - name: slow-az2").unwrap();
    let end = SMOKE.find("    - name: kill-one").unwrap();
    let text = format!("{}{}", &SMOKE[..start], &SMOKE[end..]);
    let (experiment, document) = loaded(&text);
    run(
        cluster.api.client(),
        &experiment,
        &document,
        &KubeOptions::default(),
        std::future::pending(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(cluster.running().len(), 1);
    cluster.api.access_log()
}

fn loaded(
    text: &str,
) -> (
    faultline_chaos::spec::experiment::Experiment,
    faultline_chaos::spec::located::Document,
) {
    load_bytes(text.as_bytes(), Path::new("smoke.yaml"))
        .unwrap()
        .into_iter()
        .find_map(|l| match l.spec {
            SpecDocument::Experiment(e) => Some((*e, l.document)),
            SpecDocument::Chaos(_) => None,
        })
        .unwrap()
}

async fn direct_run(cluster: &Cluster, inject: Duration) -> faultline_chaos::report::Report {
    let (experiment, document) = loaded(SMOKE);
    let options = KubeOptions {
        patience: Patience {
            inject,
            cleanup: Duration::from_secs(10),
        },
        ..KubeOptions::default()
    };
    run(
        cluster.api.client(),
        &experiment,
        &document,
        &options,
        std::future::pending(),
        |_| {},
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_role_grants_exactly_the_calls_the_code_makes() {
    let Some(mut log) = controller_paths().await else {
        return;
    };
    log.extend(never_injected().await.unwrap_or_default());
    log.extend(native_pod_kill().await);
    let failed: Vec<&Access> = log.iter().filter(|a| a.code == 403).collect();
    assert!(failed.is_empty(), "{failed:#?}");

    let used = used(&log);
    let granted = granted();
    let missing: Vec<_> = used.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "used but not granted by manifests/rbac.yaml: {missing:#?}"
    );
    let unseen: Vec<_> = granted
        .difference(&used)
        .filter(|(group, resource, verb)| {
            // The ten Chaos Mesh kinds share one rule; the runs here use two of them.
            let shared_rule = group == "chaos-mesh.org"
                && used.contains(&(group.clone(), "networkchaos".into(), verb.clone()));
            let explained = GRANTED_UNSEEN
                .iter()
                .any(|(g, r, v, _)| g == group && r == resource && v == verb);
            !shared_rule && !explained
        })
        .collect();
    assert!(unseen.is_empty(), "granted but never used: {unseen:#?}");
}
