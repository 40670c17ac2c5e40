//! `faultline chaos controller`: runs `Experiment`s applied to the cluster.
//!
//! Replicas elect a leader through the Lease `faultline-controller` ([`super::lease`]);
//! only the leader reconciles, so two replicas never run one experiment. An Experiment
//! gets a finalizer, then runs once ([`reconcile`]): its status goes Pending (the run
//! checks the cluster) -> Running (the probe and the faults) -> Passed / Failed /
//! Aborted, with the per-clause verdict and summary figures; the report lands in a
//! ConfigMap next to it and each transition is a Kubernetes Event ([`status`]). Deleting
//! an Experiment interrupts its run, which rolls its faults back before the finalizer lets
//! it go. To run it again, delete and re-apply it.
//!
//! A controller that stops (shutdown, lost lease) interrupts its runs, which roll back.
//! One that dies leaves its Experiments Pending or Running: whichever replica leads next
//! finds them (every Experiment is reconciled when the controller starts) and rolls their
//! faults back — deleting every object labelled with their run id — and marks them
//! Aborted. It does not resume them: the probe's measurements died with the old leader,
//! and a verdict on half a run would mislead.

pub mod reconcile;
pub mod status;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::{watcher, Controller};
use kube::Client;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::hands::Patience;
use super::lease::{self, LeaseId};
use super::KubeError;
use crate::lock;
use crate::spec::experiment::Experiment;

/// The Lease the replicas elect their leader with.
pub const LEADER_LEASE: &str = "faultline-controller";

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// Where the leader Lease lives (the controller's own namespace, never injected into).
    pub lease_namespace: String,
    /// This replica (its pod name).
    pub identity: String,
    /// Only Experiments of this namespace (default: all).
    pub namespace: Option<String>,
    /// How long a leader that stops renewing keeps the lease.
    pub lease_duration: Duration,
    pub patience: Patience,
    /// How long a run waits for the target's first ready endpoint.
    pub endpoints_within: Duration,
}

/// A run in progress: how to interrupt it, and its task.
struct Running {
    interrupt: Option<oneshot::Sender<String>>,
    task: JoinHandle<()>,
}

/// What every reconciliation shares.
pub struct Context {
    pub client: Client,
    pub options: ControllerOptions,
    pub recorder: Recorder,
    /// By Experiment uid.
    runs: Mutex<BTreeMap<String, Running>>,
}

impl Context {
    /// Interrupts every run (with `reason`) and waits until each has rolled back and
    /// written its status.
    async fn stop_all(&self, reason: &str) {
        let runs: Vec<Running> = std::mem::take(&mut *lock(&self.runs))
            .into_values()
            .collect();
        for mut run in runs {
            if let Some(interrupt) = run.interrupt.take() {
                let _ = interrupt.send(reason.to_owned());
            }
            let _ = run.task.await;
        }
    }
}

/// Why the controller stopped on its own.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("lost the leader lease {0}: another replica leads now; every run of this one was rolled back")]
    LostLease(String),
    #[error(transparent)]
    Kube(#[from] KubeError),
}

/// Runs the controller until `shutdown` resolves (then it interrupts its runs, which roll
/// back, and gives up the lease) or it loses the leader lease.
pub async fn run(
    client: Client,
    options: ControllerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ControllerError> {
    let mut shutdown = std::pin::pin!(shutdown);
    let lease = LeaseId {
        namespace: options.lease_namespace.clone(),
        name: LEADER_LEASE.to_owned(),
        identity: options.identity.clone(),
        duration: options.lease_duration,
    };
    let (mut leader, election) = lease::hold(client.clone(), lease.clone());
    loop {
        let holding = leader.borrow_and_update().clone();
        if let Some(fatal) = holding.fatal {
            return Err(ControllerError::Kube(KubeError::Api(fatal)));
        }
        if holding.held {
            break;
        }
        tokio::select! {
            changed = leader.changed() => if changed.is_err() { break },
            () = &mut shutdown => {
                election.abort();
                return Ok(());
            }
        }
    }
    let reporter = Reporter {
        controller: status::MANAGER.to_owned(),
        instance: Some(options.identity.clone()),
    };
    let context = Arc::new(Context {
        recorder: Recorder::new(client.clone(), reporter),
        client: client.clone(),
        options: options.clone(),
        runs: Mutex::default(),
    });
    let experiments: Api<Experiment> = match &options.namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let controller = Controller::new(experiments, watcher::Config::default())
        .run(
            reconcile::reconcile,
            reconcile::error_policy,
            context.clone(),
        )
        .for_each(|_| async {});
    let lost = async {
        while leader.changed().await.is_ok() {
            if !leader.borrow().held {
                return;
            }
        }
    };
    let outcome = tokio::select! {
        () = controller => Ok(()),
        () = lost => Err(ControllerError::LostLease(LEADER_LEASE.to_owned())),
        () = &mut shutdown => Ok(()),
    };
    let reason = match outcome {
        Ok(()) => "the controller shut down",
        Err(_) => "the controller lost its leader lease",
    };
    context.stop_all(reason).await;
    election.abort();
    if outcome.is_ok() {
        let _ = lease::release(&client, &lease).await;
    }
    outcome
}
