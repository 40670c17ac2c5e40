//! One Experiment's reconciliation: a new one is checked (with the same rules as an
//! experiment file) and started; one found Pending or Running that this replica does not
//! run was left by a controller that died, and is rolled back and marked Aborted; a finished one is
//! left alone; a deleted one has its run interrupted (rolling its faults back) before the
//! finalizer lets it go.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{finalizer, Event as Finalizer};
use kube::{Resource, ResourceExt};
use tokio::sync::oneshot;

use super::status;
use super::{Context, Running};
use crate::kube::cleanup;
use crate::kube::connect::ChaosMesh;
use crate::kube::run::{self as kube_run, KubeEvent, KubeOptions};
use crate::kube::KubeError;
use crate::lock;
use crate::spec::chaos_mesh::Kind;
use crate::spec::experiment::{Experiment, ExperimentStatus, Phase};
use crate::spec::load::{load_bytes, SpecDocument};
use crate::spec::located::Document;

/// The finalizer every Experiment carries while the controller may have faults out.
pub const FINALIZER: &str = "faultline.dev/rollback";
/// The annotation that seeds a run (default 1).
pub const SEED_ANNOTATION: &str = "faultline.dev/seed";

/// Why a reconciliation failed (it is retried).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReconcileError(String);

pub async fn reconcile(
    experiment: Arc<Experiment>,
    context: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let namespace = experiment.namespace().unwrap_or_default();
    let api: Api<Experiment> = Api::namespaced(context.client.clone(), &namespace);
    finalizer(&api, FINALIZER, experiment, |event| async {
        match event {
            Finalizer::Apply(experiment) => apply(&experiment, &context).await,
            Finalizer::Cleanup(experiment) => cleanup(&experiment, &context).await,
        }
    })
    .await
    .map_err(|err| ReconcileError(err.to_string()))
}

pub fn error_policy(_: Arc<Experiment>, _: &ReconcileError, _: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

/// The run id of `experiment`: a hash of its uid, so two Experiments (even two of one
/// name) never share one.
pub fn run_id_of(experiment: &Experiment) -> String {
    let uid = experiment.uid().unwrap_or_default();
    format!(
        "{:08x}",
        faultline_core::lb::stable_hash(uid.as_bytes()) >> 32
    )
}

async fn apply(experiment: &Experiment, context: &Arc<Context>) -> Result<Action, ReconcileError> {
    let uid = experiment.uid().unwrap_or_default();
    if lock(&context.runs).contains_key(&uid) {
        return Ok(Action::await_change());
    }
    let phase = experiment.status.as_ref().and_then(|s| s.phase);
    match phase {
        None => start(experiment, context).await,
        Some(Phase::Pending | Phase::Running) => orphaned(experiment, context).await,
        Some(Phase::Passed | Phase::Failed | Phase::Aborted) => Ok(Action::await_change()),
    }
}

/// Checks `experiment` and starts its run.
async fn start(experiment: &Experiment, context: &Arc<Context>) -> Result<Action, ReconcileError> {
    let identity = context.options.identity.clone();
    let run_id = run_id_of(experiment);
    let (checked, document) = match checked(experiment) {
        Ok(found) => found,
        Err(message) => {
            let status = ExperimentStatus {
                phase: Some(Phase::Failed),
                message: Some(format!("invalid experiment: {message}")),
                controller: Some(identity),
                ..ExperimentStatus::default()
            };
            write(context, experiment, &status).await?;
            status::event(&context.recorder, experiment, true, "Invalid", message).await;
            return Ok(Action::await_change());
        }
    };
    let (interrupt, interrupted) = oneshot::channel::<String>();
    let uid = experiment.uid().unwrap_or_default();
    // Held while spawning: the run is on the books before it can write any status.
    let mut runs = lock(&context.runs);
    let task = tokio::spawn(execute(
        context.clone(),
        experiment.clone(),
        checked,
        document,
        run_id.clone(),
        interrupted,
    ));
    runs.insert(
        uid,
        Running {
            interrupt: Some(interrupt),
            task,
        },
    );
    Ok(Action::await_change())
}

/// The run of one Experiment: Pending while the run checks the cluster (refusals happen
/// here), Running once the probe starts, then its verdict.
async fn execute(
    context: Arc<Context>,
    experiment: Experiment,
    checked: Experiment,
    document: Document,
    run_id: String,
    interrupted: oneshot::Receiver<String>,
) {
    let identity = context.options.identity.clone();
    let pending = in_phase(
        Phase::Pending,
        &run_id,
        &identity,
        format!("accepted by {identity}: checking the cluster"),
    );
    let status = match status::write(&context.client, &experiment, &pending).await {
        Err(err) => aborted(
            &run_id,
            &identity,
            format!("could not mark it Pending: {err}"),
        ),
        Ok(()) => {
            run(
                &context,
                &experiment,
                (&checked, &document),
                &run_id,
                interrupted,
            )
            .await
        }
    };
    let warning = status.phase != Some(Phase::Passed);
    let reason = format!("{:?}", status.phase.unwrap_or(Phase::Aborted));
    let note = status.message.clone().unwrap_or_default();
    if status::write(&context.client, &experiment, &status)
        .await
        .is_ok()
    {
        status::event(&context.recorder, &experiment, warning, &reason, note).await;
    }
    lock(&context.runs).remove(&experiment.uid().unwrap_or_default());
}

/// Runs it; marks it Running (with an Event) when the probe starts; its final status.
async fn run(
    context: &Arc<Context>,
    experiment: &Experiment,
    (checked, document): (&Experiment, &Document),
    run_id: &str,
    interrupted: oneshot::Receiver<String>,
) -> ExperimentStatus {
    let identity = context.options.identity.clone();
    let options = KubeOptions {
        seed: seed_of(experiment),
        run_id: Some(run_id.to_owned()),
        own_namespace: Some(context.options.lease_namespace.clone()),
        identity: identity.clone(),
        patience: context.options.patience,
        lease_duration: context.options.lease_duration,
        endpoints_within: context.options.endpoints_within,
    };
    let interrupt = async move {
        interrupted
            .await
            .unwrap_or_else(|_| "the controller stopped".to_owned())
    };
    let (started, on_start) = oneshot::channel::<()>();
    let mut started = Some(started);
    let running = {
        let (context, experiment) = (context.clone(), experiment.clone());
        let status = in_phase(
            Phase::Running,
            run_id,
            &identity,
            format!("running on {identity}"),
        );
        tokio::spawn(async move {
            if on_start.await.is_ok()
                && status::write(&context.client, &experiment, &status)
                    .await
                    .is_ok()
            {
                let note = format!("run {} started", status.run_id.unwrap_or_default());
                status::event(&context.recorder, &experiment, false, "Started", note).await;
            }
        })
    };
    // Moved in: the sender goes when the run ends, so a run that never started ends the writer.
    let watch = move |event| {
        if let (KubeEvent::Started { .. }, Some(started)) = (event, started.take()) {
            let _ = started.send(());
        }
    };
    let outcome = kube_run::run(
        context.client.clone(),
        checked,
        document,
        &options,
        interrupt,
        watch,
    )
    .await;
    // The Running write lands before the verdict (or never, when the run did not start).
    let _ = running.await;
    match outcome {
        Ok(report) => {
            let stored = status::store_report(&context.client, experiment, &report).await;
            let mut status =
                status::finished(&report, run_id, &identity, stored.as_ref().ok().cloned());
            if let Err(err) = stored {
                status.message = Some(format!("{}; {err}", status.message.unwrap_or_default()));
            }
            status
        }
        Err(err) => aborted(run_id, &identity, format!("could not run: {err}")),
    }
}

fn aborted(run_id: &str, identity: &str, message: String) -> ExperimentStatus {
    in_phase(Phase::Aborted, run_id, identity, message)
}

/// The status of run `run_id` in `phase`, run by `identity`, saying `message`.
fn in_phase(phase: Phase, run_id: &str, identity: &str, message: String) -> ExperimentStatus {
    ExperimentStatus {
        phase: Some(phase),
        run_id: Some(run_id.to_owned()),
        message: Some(message),
        controller: Some(identity.to_owned()),
        ..ExperimentStatus::default()
    }
}

/// A Running Experiment no replica runs: its controller died. Rolls its faults back.
async fn orphaned(
    experiment: &Experiment,
    context: &Arc<Context>,
) -> Result<Action, ReconcileError> {
    let run_id = experiment
        .status
        .as_ref()
        .and_then(|s| s.run_id.clone())
        .unwrap_or_else(|| run_id_of(experiment));
    let deleted = roll_back(experiment, context, &run_id).await?;
    let previous = experiment
        .status
        .as_ref()
        .and_then(|s| s.controller.clone())
        .unwrap_or_else(|| "another replica".to_owned());
    let message = format!(
        "the controller that ran it ({previous}) stopped mid-run; {} took over and rolled its faults back ({deleted} object(s) deleted); not resumed, since its measurements were lost",
        context.options.identity
    );
    write(
        context,
        experiment,
        &aborted(&run_id, &context.options.identity, message.clone()),
    )
    .await?;
    status::event(&context.recorder, experiment, true, "RolledBack", message).await;
    Ok(Action::await_change())
}

/// The Experiment is being deleted: interrupts its run (which rolls back), or rolls back
/// what a dead run left.
async fn cleanup(
    experiment: &Experiment,
    context: &Arc<Context>,
) -> Result<Action, ReconcileError> {
    let uid = experiment.uid().unwrap_or_default();
    let running = lock(&context.runs).remove(&uid);
    if let Some(mut running) = running {
        if let Some(interrupt) = running.interrupt.take() {
            let _ = interrupt
                .send("the Experiment was deleted: every fault was rolled back".to_owned());
        }
        let _ = running.task.await;
    }
    if let Some(run_id) = experiment.status.as_ref().and_then(|s| s.run_id.clone()) {
        roll_back(experiment, context, &run_id).await?;
    }
    Ok(Action::await_change())
}

/// Deletes every Chaos Mesh object of run `run_id` in the experiment's target namespace
/// and waits until they are gone; how many there were.
async fn roll_back(
    experiment: &Experiment,
    context: &Context,
    run_id: &str,
) -> Result<usize, ReconcileError> {
    let client = &context.client;
    let namespace = &experiment.spec.target.namespace;
    let fail = |err: String| ReconcileError(format!("rolling back run {run_id}: {err}"));
    let mesh = ChaosMesh::discover(client, &Kind::ALL)
        .await
        .map_err(|err: KubeError| fail(err.to_string()))?;
    let deleted = cleanup::delete_run(client, &mesh, namespace, run_id)
        .await
        .map_err(fail)?;
    cleanup::gone(
        client,
        &mesh,
        namespace,
        run_id,
        context.options.patience.cleanup,
    )
    .await
    .map_err(|left| fail(format!("still present: {}", left.join(", "))))?;
    Ok(deleted)
}

async fn write(
    context: &Context,
    experiment: &Experiment,
    status: &ExperimentStatus,
) -> Result<(), ReconcileError> {
    status::write(&context.client, experiment, status)
        .await
        .map_err(|err| ReconcileError(format!("writing the status: {err}")))
}

fn seed_of(experiment: &Experiment) -> u64 {
    experiment
        .annotations()
        .get(SEED_ANNOTATION)
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(1)
}

/// The Experiment checked by every rule an experiment file is checked by, and the
/// document its errors (and the plan's) are located in.
fn checked(experiment: &Experiment) -> Result<(Experiment, Document), String> {
    let mut clean = serde_json::json!({
        "apiVersion": crate::spec::experiment::API_VERSION,
        "kind": crate::spec::experiment::KIND,
        "metadata": { "name": experiment.name_any() },
        "spec": serde_json::to_value(&experiment.spec).map_err(|err| err.to_string())?,
    });
    if let Some(namespace) = experiment.meta().namespace.as_ref() {
        clean["metadata"]["namespace"] = namespace.clone().into();
    }
    let text = crate::yaml::to_yaml_stream([&clean]);
    let path = PathBuf::from(format!(
        "experiments/{}/{}.yaml",
        experiment.namespace().unwrap_or_default(),
        experiment.name_any()
    ));
    let loaded = load_bytes(text.as_bytes(), &path).map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    loaded
        .into_iter()
        .find_map(|loaded| match loaded.spec {
            SpecDocument::Experiment(checked) => Some((*checked, loaded.document)),
            SpecDocument::Chaos(_) => None,
        })
        .ok_or_else(|| "no Experiment".to_owned())
}
