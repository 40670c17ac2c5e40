//! A stand-in for Chaos Mesh's controller manager that works on the store directly (not
//! through HTTP), deterministically, on tokio time. For every chaos object (a kind ending in
//! `Chaos` in group `chaos-mesh.org`) it adds the `chaos-mesh/records` finalizer, sets
//! `status.experiment.desiredPhase`, selects the target pods into
//! `status.experiment.containerRecords`, injects after [`ChaosMesh::inject_after`] (PodChaos
//! `pod-kill` deletes the selected pods), recovers when `spec.duration` has passed since
//! creation, on the pause annotation and on deletion, derives `status.conditions`
//! (Selected, AllInjected, AllRecovered, Paused) from the records as Chaos Mesh does, and
//! removes its finalizer once everything is recovered.

mod duration;
mod experiment;
mod select;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::server::ApiServer;
use experiment::{Experiment, Id};

/// The group Chaos Mesh's resources are in.
pub const GROUP: &str = "chaos-mesh.org";
/// The finalizer Chaos Mesh puts on every chaos object.
pub const FINALIZER: &str = "chaos-mesh/records";
/// The annotation that pauses an experiment when `"true"`.
pub const PAUSE_ANNOTATION: &str = "experiment.chaos-mesh.org/pause";

/// What the stand-in does after selecting targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Select, inject after `inject_after`, recover: what Chaos Mesh does.
    Inject,
    /// Select but never inject: records stay `Not Injected` (to test timeouts).
    NeverInject,
    /// Fail selection with this message: no records, `Selected` stays `False`, and a
    /// `Warning` event with the message is recorded on the object.
    FailSelection(String),
}

/// The stand-in's configuration.
#[derive(Debug, Clone)]
pub struct ChaosMesh {
    inject_after: Duration,
    behaviour: Behaviour,
    seed: u64,
}

impl Default for ChaosMesh {
    fn default() -> Self {
        Self::new()
    }
}

impl ChaosMesh {
    /// Injects at once, with seed 0.
    pub fn new() -> Self {
        ChaosMesh {
            inject_after: Duration::ZERO,
            behaviour: Behaviour::Inject,
            seed: 0,
        }
    }

    /// Time from an experiment's selection (or unpausing) to its injection.
    pub fn inject_after(mut self, delay: Duration) -> Self {
        self.inject_after = delay;
        self
    }

    pub fn behaviour(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    /// The seed of the random choices of modes `one`, `fixed`, `fixed-percent` and
    /// `random-max-percent`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Starts the stand-in on `server`'s store; it runs until the handle is dropped.
    pub fn spawn(self, server: &ApiServer) -> ChaosMeshHandle {
        let server = server.clone();
        ChaosMeshHandle {
            task: tokio::spawn(async move { Controller::new(self, server).run().await }),
        }
    }
}

/// The running stand-in; dropping it stops it.
pub struct ChaosMeshHandle {
    task: JoinHandle<()>,
}

impl Drop for ChaosMeshHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Controller {
    config: ChaosMesh,
    server: ApiServer,
    experiments: BTreeMap<Id, Experiment>,
}

impl Controller {
    fn new(config: ChaosMesh, server: ApiServer) -> Self {
        Controller {
            config,
            server,
            experiments: BTreeMap::new(),
        }
    }

    async fn run(mut self) {
        let mut changes = self.server.changes();
        self.resync();
        loop {
            let wake = self
                .experiments
                .values()
                .filter_map(|e| e.next_deadline(&self.config))
                .min();
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(change) if change.group == GROUP && change.object["kind"].as_str().is_some_and(is_chaos) => {
                        let id = Id {
                            api_version: change.object["apiVersion"].as_str().unwrap_or_default().to_owned(),
                            kind: change.object["kind"].as_str().unwrap_or_default().to_owned(),
                            namespace: change.namespace.unwrap_or_default(),
                            name: change.name,
                        };
                        self.reconcile(id);
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => self.resync(),
                    Err(RecvError::Closed) => return,
                },
                () = sleep_until(wake) => {
                    let due: Vec<Id> = self.experiments.keys().cloned().collect();
                    due.into_iter().for_each(|id| self.reconcile(id));
                }
            }
        }
    }

    /// Reconciles every stored chaos object.
    fn resync(&mut self) {
        for (api_version, kind) in self.server.kinds(GROUP) {
            if !is_chaos(&kind) {
                continue;
            }
            for object in self.server.list(&api_version, &kind, None) {
                let id = Id {
                    api_version: api_version.clone(),
                    kind: kind.clone(),
                    namespace: object["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    name: object["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                };
                self.reconcile(id);
            }
        }
    }

    /// Moves one experiment on as far as it can go now, one write per step.
    fn reconcile(&mut self, id: Id) {
        let mut rng = select::Rng(self.config.seed);
        loop {
            let Some(object) =
                self.server
                    .get(&id.api_version, &id.kind, Some(&id.namespace), &id.name)
            else {
                self.experiments.remove(&id);
                return;
            };
            let uid = object["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let experiment = self
                .experiments
                .entry(id.clone())
                .or_insert_with(|| Experiment::new(uid.clone(), Instant::now()));
            if experiment.uid != uid {
                *experiment = Experiment::new(uid, Instant::now());
            }
            if !experiment.step(&self.config, &self.server, &id, &object, &mut rng) {
                return;
            }
        }
    }
}

fn is_chaos(kind: &str) -> bool {
    kind.ends_with("Chaos")
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
