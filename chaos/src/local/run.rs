//! One run of an experiment on this machine: the topology as `faultline serve` processes
//! ([`super::supervisor`]), each behind a fault proxy ([`super::proxy`]); the probe as the
//! real client stack (`Client::from_config` over real TCP) behind the open-loop generator;
//! the faults applied on schedule on the wall clock; the hypothesis and the report.
//!
//! Order of a run:
//! 1. plan (the seed picks the instances of each fault) and schedule;
//! 2. instances start, then their proxies (with the topology's link latency);
//! 3. the probe offers load; warm-up, then measurement;
//! 4. at the first fault's start the steady state (`before`) is judged on what was
//!    measured so far: if it does not hold, nothing is injected and the run stops there;
//! 5. each action happens when due; abort conditions are checked every second, and an
//!    abort or an interruption (Ctrl-C, SIGTERM) rolls every fault back at once;
//! 6. at the end every fault is rolled back, the instances and proxies stopped, and the
//!    report built, with the invariant check `instances-stay-up` (no instance exited
//!    without a fault killing it).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::client::{Client, EchoClient};
use faultline_core::config::{FieldErrors, Validate};
use faultline_core::net::Tcp;
use tokio::time::Instant;

use super::actions::LocalHands;
use super::calibrate::{corrected, PathCost, UnderLoad};
use super::cluster::{Cluster, ClusterError, Started};
use super::findings::{self, Calibration};
use super::kernel_loss::KernelLoss;
use super::supervisor::ServerCommand;
use crate::faults::schedule;
use crate::plan::{self, Backend, PlanOptions};
use crate::probe::{Load, Pacing, ProbeHandle};
use crate::report::{Report, ReportInput};
use crate::runner::{self, probe_events, Hands, Progress, Run};
use crate::spec::experiment::Experiment;
use crate::spec::located::{Document, SpecError};

/// How to run.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    pub seed: u64,
    /// How to start an instance (`faultline serve`).
    pub server: ServerCommand,
    /// Loss made by the kernel (nftables drops on the instances' ports) instead of the
    /// proxies: the real TCP stack repairs it. Needs root and nftables.
    pub kernel_loss: bool,
}

/// What a run tells its watcher (the progress display).
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// Every instance and its proxy are up; the probe starts.
    Started(Vec<Started>),
    /// A second of measurement ended.
    Second(Progress),
}

/// Why a run could not happen.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Plan(Vec<SpecError>),
    #[error("the client configuration {0}")]
    Client(FieldErrors),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("--loss kernel cannot run here: {0}")]
    KernelLoss(String),
}

/// Runs `experiment` (read from `document`) on this machine. `interrupt` resolves (with a
/// reason) when the user wants to stop; `watch` is told when everything started and then
/// every second what happens.
pub async fn run(
    experiment: &Experiment,
    document: &Document,
    options: &LocalOptions,
    interrupt: impl Future<Output = String> + Send + 'static,
    mut watch: impl FnMut(RunEvent),
) -> Result<Report, LocalError> {
    let spec = &experiment.spec;
    let name = experiment.metadata.name.clone().unwrap_or_default();
    let plan = plan::plan(
        experiment,
        document,
        &PlanOptions {
            backend: Backend::Local,
            seed: options.seed,
            run_id: None,
        },
    )
    .map_err(LocalError::Plan)?;
    let client_config = spec.effective_client().seeded(options.seed);
    client_config.validate().map_err(LocalError::Client)?;
    let instances = spec.topology.instances(&spec.target.service);
    let caller_zone = spec.caller_zone(&instances);
    let hosts = plan::hosts(&instances);
    let mut schedule = schedule(spec, &plan, &hosts);

    let kernel = match options.kernel_loss {
        true => Some(KernelLoss::new().map_err(LocalError::KernelLoss)?),
        false => None,
    };
    let cluster = Cluster::start(
        spec,
        &options.server,
        &caller_zone,
        &client_config,
        options.seed,
    )
    .await?;
    watch(RunEvent::Started(cluster.started()));
    let load = Load {
        pacing: Pacing::Precise,
        ..Load::from(&spec.workload)
    };
    let probe = ProbeHandle::new(&load);
    let measured_from = Instant::now() + load.warmup;
    let under_load: Arc<UnderLoad> = Arc::new(UnderLoad::new(&caller_zone));
    let calibration = tokio::spawn(calibrate_under_load(
        under_load.clone(),
        cluster.path_cost.clone(),
        spec.topology.latency.within_zone.mean,
        (measured_from, load.warmup),
    ));
    let events = probe_events(vec![probe.event_sink(), under_load], &caller_zone);
    let client = match Client::from_config(&client_config, Tcp, cluster.discovery(), events) {
        Ok(client) => client,
        Err(errors) => {
            cluster.stop().await;
            return Err(LocalError::Client(errors));
        }
    };

    let hands = Arc::new(LocalHands::new(
        cluster.faults.clone(),
        cluster.supervisor.clone(),
        kernel,
        cluster.ports(),
    ));
    let steps = schedule
        .actions
        .iter()
        .map(|timed| (timed.at, timed.action.clone()))
        .collect();
    let ran = runner::drive(
        Run {
            spec,
            hands: hands.clone(),
            steps,
            client: EchoClient::new(client, client_config.pool.protocol),
            load,
            probe,
            measured_from,
        },
        interrupt,
        |progress| watch(RunEvent::Second(progress)),
    )
    .await;
    let idle_cost = cluster.idle_cost;
    let stopped = cluster.stop().await;

    ran.mark_skipped(&mut schedule.faults);
    let calibration = Calibration {
        idle: idle_cost,
        under_load: calibration.await.ok().flatten(),
    };
    let mut notes = findings::notes(spec, &stopped, &calibration, options.kernel_loss);
    notes.extend(hands.errors());
    notes.extend(ran.stopped.clone());
    let mut report = Report::build(ReportInput {
        experiment: &name,
        spec,
        backend: "local",
        seed: options.seed,
        run_id: plan.run_id.clone(),
        timeline: &ran.timeline,
        measured: ran.measured,
        aborted: ran.aborted.clone(),
        faults: schedule.faults,
        checks: vec![findings::instances_stay_up(&stopped, measured_from)],
        notes,
        replay: None,
    });
    findings::name_breakers(&mut report, &stopped);
    Ok(report)
}

/// During the second half of the warm-up, measures what calls within the caller's zone
/// take under the run's load and corrects `path_cost` so that they take `target`; the
/// figures (measured mean, new cost) when there was anything to measure.
async fn calibrate_under_load(
    under_load: Arc<UnderLoad>,
    path_cost: Arc<PathCost>,
    target: Duration,
    (measured_from, warmup): (Instant, Duration),
) -> Option<(Duration, Duration)> {
    if warmup.is_zero() || target.is_zero() {
        return None;
    }
    tokio::time::sleep_until(measured_from - warmup / 2).await;
    under_load.start();
    tokio::time::sleep_until(measured_from).await;
    let measured = under_load.finish()?;
    let cost = corrected(path_cost.get(), measured, target);
    path_cost.set(cost);
    Some((measured, cost))
}
