//! How a run on a cluster makes its faults: at each fault's start, the Chaos Mesh object
//! is created (or, without Chaos Mesh, a pod-kill deletes pods itself). A fault counts as
//! injected and in force once Chaos Mesh reports `AllInjected`, and as over once it
//! reports `AllRecovered` or the object is gone. Rolling back deletes every object of the
//! run; [`Hands::settled`] waits until they are all gone (Chaos Mesh recovers each before
//! letting its object go).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_core::rng::SplitMix64;
use kube::Client;
use serde_json::Value;
use tokio::task::JoinHandle;

use super::cleanup;
use super::connect::ChaosMesh;
use super::objects;
use super::pod_kill;
use crate::lock;
use crate::runner::Hands;
use crate::spec::chaos_mesh::{Kind, PodChaos};

/// One fault to start.
#[derive(Debug, Clone)]
pub enum KubeStep {
    /// Create the Chaos Mesh object for `fault`.
    Create {
        fault: String,
        kind: Kind,
        object: Value,
    },
    /// Kill the pods `pod` selects, without Chaos Mesh.
    KillPods {
        fault: String,
        pod: Box<PodChaos>,
        /// Seeds the `mode`/`value` choice.
        seed: u64,
    },
}

/// How long to wait for things the cluster does.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    /// For Chaos Mesh to report `AllInjected` after the object was created.
    pub inject: Duration,
    /// For every object of the run to be gone after the rollback.
    pub cleanup: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            inject: Duration::from_secs(30),
            cleanup: Duration::from_secs(60),
        }
    }
}

/// The run's means of making faults on a cluster.
pub struct KubeHands {
    client: Client,
    mesh: Arc<ChaosMesh>,
    namespace: String,
    run_id: String,
    patience: Patience,
    rolling_back: AtomicBool,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    injected: BTreeSet<String>,
    active: BTreeSet<String>,
    errors: Vec<String>,
    /// Per fault, the pods it acted on (`namespace/name`), as Chaos Mesh or faultline chose.
    chosen: BTreeMap<String, Vec<String>>,
}

impl KubeHands {
    pub fn new(
        client: Client,
        mesh: Arc<ChaosMesh>,
        namespace: &str,
        run_id: &str,
        patience: Patience,
    ) -> Self {
        Self {
            client,
            mesh,
            namespace: namespace.to_owned(),
            run_id: run_id.to_owned(),
            patience,
            rolling_back: AtomicBool::new(false),
            tasks: Mutex::default(),
            state: Arc::default(),
        }
    }

    /// Per fault, the pods it acted on.
    pub fn chosen(&self) -> BTreeMap<String, Vec<String>> {
        lock(&self.state).chosen.clone()
    }

    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        lock(&self.tasks).push(tokio::spawn(task));
    }

    fn create(&self, fault: &str, kind: Kind, object: &Value) {
        let Some(schema) = self.mesh.schemas.get(&kind) else {
            self.error(format!("{fault}: the cluster has no {kind} CRD"));
            return;
        };
        let api = objects::api(&self.client, schema, &self.namespace);
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (fault, object, state) = (fault.to_owned(), object.clone(), self.state.clone());
        let within = self.patience.inject;
        self.spawn(async move {
            let note = |message: String| lock(&state).errors.push(format!("{fault}: {message}"));
            if let Err(err) = objects::create(&api, &object).await {
                return note(format!("creating {kind}/{name} failed: {err}"));
            }
            let injected = match objects::injected(&api, &name, within).await {
                Ok(injected) => injected,
                Err(err) => return note(format!("{kind}/{name}: {err}")),
            };
            {
                let mut state = lock(&state);
                state.injected.insert(fault.clone());
                state.active.insert(fault.clone());
                state
                    .chosen
                    .insert(fault.clone(), objects::chosen_pods(&injected));
            }
            let recovered = objects::recovered(&api, &name).await;
            let mut state = lock(&state);
            state.active.remove(&fault);
            if let Err(err) = recovered {
                state.errors.push(format!("{fault}: {kind}/{name}: {err}"));
            }
        });
    }

    fn kill_pods(&self, fault: &str, pod: &PodChaos, seed: u64) {
        let (client, namespace) = (self.client.clone(), self.namespace.clone());
        let (fault, pod, state) = (fault.to_owned(), pod.clone(), self.state.clone());
        self.spawn(async move {
            let killed = pod_kill::kill(&client, &pod, &namespace, &SplitMix64::new(seed)).await;
            let mut state = lock(&state);
            match killed {
                Ok(killed) => {
                    state.injected.insert(fault.clone());
                    state.chosen.insert(fault, killed);
                }
                Err(err) => state.errors.push(format!("{fault}: pod-kill: {err}")),
            }
        });
    }

    fn error(&self, message: String) {
        lock(&self.state).errors.push(message);
    }

    /// Deletes every object of the run, noting what failed.
    async fn delete_all(&self) {
        if let Err(err) =
            cleanup::delete_run(&self.client, &self.mesh, &self.namespace, &self.run_id).await
        {
            self.error(format!("cleanup: {err}"));
        }
    }
}

impl Hands for KubeHands {
    type Step = KubeStep;

    fn apply(&self, step: &KubeStep) {
        if self.rolling_back.load(Ordering::SeqCst) {
            return;
        }
        match step {
            KubeStep::Create {
                fault,
                kind,
                object,
            } => self.create(fault, *kind, object),
            KubeStep::KillPods { fault, pod, seed } => self.kill_pods(fault, pod, *seed),
        }
    }

    fn rollback(&self) {
        if self.rolling_back.swap(true, Ordering::SeqCst) {
            return;
        }
        let (client, mesh, state) = (self.client.clone(), self.mesh.clone(), self.state.clone());
        let (namespace, run_id) = (self.namespace.clone(), self.run_id.clone());
        self.spawn(async move {
            if let Err(err) = cleanup::delete_run(&client, &mesh, &namespace, &run_id).await {
                lock(&state).errors.push(format!("rollback: {err}"));
            }
        });
    }

    /// Waits for every creation and deletion started, deletes whatever a creation made
    /// after the rollback began, and waits until no object of the run is left.
    async fn settled(&self) {
        loop {
            let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.tasks));
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                // Deletion ends the watches that wait for recovery.
                if !task.is_finished() {
                    self.delete_all().await;
                }
                let _ = task.await;
            }
        }
        self.delete_all().await;
        let left = cleanup::gone(
            &self.client,
            &self.mesh,
            &self.namespace,
            &self.run_id,
            self.patience.cleanup,
        )
        .await;
        if let Err(left) = left {
            self.error(format!(
                "cleanup: still present {}s after deletion (Chaos Mesh has not recovered them; check `kubectl get {} -n {}`): {}",
                self.patience.cleanup.as_secs(),
                left.iter().map(|l| l.split('/').next().unwrap_or("").to_lowercase()).collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(","),
                self.namespace,
                left.join(", ")
            ));
        }
    }

    fn injected(&self) -> BTreeSet<String> {
        lock(&self.state).injected.clone()
    }

    fn active(&self) -> Vec<String> {
        lock(&self.state).active.iter().cloned().collect()
    }

    fn errors(&self) -> Vec<String> {
        lock(&self.state).errors.clone()
    }
}
