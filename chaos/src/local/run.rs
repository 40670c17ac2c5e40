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
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_core::client::{Client, EchoClient};
use faultline_core::config::{duration, FieldErrors, Validate};
use faultline_core::event::{Event, EventBus, EventSink, Origin};
use faultline_core::net::Tcp;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::actions::Hands;
use super::calibrate::{corrected, PathCost, UnderLoad};
use super::cluster::{Cluster, ClusterError, Started};
use super::findings::{self, Calibration};
use super::kernel_loss::KernelLoss;
use super::lock;
use super::supervisor::ServerCommand;
use crate::faults::{schedule, Timed};
use crate::hypothesis::{self, AbortMonitor};
use crate::plan::{self, Backend, PlanOptions, PROBE_NAME};
use crate::probe::{self, Load, Pacing, ProbeHandle, Timeline};
use crate::report::{Report, ReportInput};
use crate::spec::experiment::{Experiment, ExperimentSpec};
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

/// What the run is doing, once a second.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Seconds of measurement done, and in all.
    pub second: u64,
    pub of: u64,
    /// The second that just ended: calls, their p99, error and fallback rates.
    pub calls: u64,
    pub p99: Option<Duration>,
    pub error_rate: Option<f64>,
    pub fallback_rate: Option<f64>,
    /// The faults in force now.
    pub active: Vec<String>,
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

/// Why the run stopped before its end.
#[derive(Debug, Clone)]
struct Stop {
    reason: String,
    /// From the start of measurement.
    at: Duration,
    /// An abort or an interruption (the steady state failing is not one: the verdict is
    /// then a failed `before` clause).
    aborts: bool,
}

/// What the scheduler, the probe and the interruption share.
#[derive(Default)]
struct Control {
    stop: Mutex<Option<Stop>>,
    stopped: Notify,
}

impl Control {
    /// Stops the run (the first reason wins).
    fn stop(&self, stop: Stop) {
        let mut current = lock(&self.stop);
        if current.is_none() {
            *current = Some(stop);
            self.stopped.notify_waiters();
        }
    }

    fn stopped(&self) -> Option<Stop> {
        lock(&self.stop).clone()
    }
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
    let under_load = Arc::new(UnderLoad::new(&caller_zone));
    let sinks: [Arc<dyn EventSink>; 2] = [probe.event_sink(), under_load.clone()];
    let calibration = tokio::spawn(calibrate_under_load(
        under_load,
        cluster.path_cost.clone(),
        spec.topology.latency.within_zone.mean,
        (measured_from, load.warmup),
    ));
    let events = EventBus::default()
        .with_sink(Arc::new(move |event: &Event| {
            sinks.iter().for_each(|sink| sink.record(event))
        }))
        .with_origin(Origin::new(PROBE_NAME, Some(caller_zone.as_str().into())));
    let client = match Client::from_config(&client_config, Tcp, cluster.discovery(), events) {
        Ok(client) => client,
        Err(errors) => {
            cluster.stop().await;
            return Err(LocalError::Client(errors));
        }
    };

    let hands = Arc::new(Hands::new(
        cluster.faults.clone(),
        cluster.supervisor.clone(),
        kernel,
        cluster.ports(),
    ));
    let control = Arc::new(Control::default());
    let scheduler = tokio::spawn(drive(
        Driver {
            spec: spec.clone(),
            actions: schedule.actions.clone(),
            hands: hands.clone(),
            probe: probe.clone(),
            control: control.clone(),
        },
        measured_from,
    ));
    let interruption = {
        let (control, hands) = (control.clone(), hands.clone());
        tokio::spawn(async move {
            let reason = interrupt.await;
            let at = Instant::now().saturating_duration_since(measured_from);
            control.stop(Stop {
                reason,
                at,
                aborts: true,
            });
            hands.rollback();
        })
    };

    let mut monitor = AbortMonitor::new(&spec.abort);
    let total = spec.workload.duration.as_secs().max(1);
    probe::run(
        EchoClient::new(client, client_config.pool.protocol),
        &load,
        &probe,
        |second, timeline| {
            if control.stopped().is_some() {
                return ControlFlow::Break(());
            }
            if let Some(reason) = monitor.check(second, timeline) {
                control.stop(Stop {
                    reason,
                    at: Duration::from_secs(second + 1),
                    aborts: true,
                });
                hands.rollback();
                return ControlFlow::Break(());
            }
            watch(RunEvent::Second(progress_of(
                second, total, timeline, &hands,
            )));
            ControlFlow::Continue(())
        },
    )
    .await;
    interruption.abort();
    control.stop(Stop {
        reason: String::new(),
        at: spec.workload.duration,
        aborts: false,
    });
    let _ = scheduler.await;
    hands.rollback();
    let idle_cost = cluster.idle_cost;
    let stopped = cluster.stop().await;

    let stop = control.stopped().filter(|s| !s.reason.is_empty());
    let measured = stop
        .as_ref()
        .map_or(spec.workload.duration, |s| s.at.min(spec.workload.duration));
    let injected = hands.injected();
    for fault in &mut schedule.faults {
        if fault.skipped.is_none() && !injected.contains(&fault.name) {
            fault.skipped = Some(match &stop {
                Some(stop) => format!("not injected: {}", stop.reason),
                None => "not injected".to_owned(),
            });
        }
    }
    let calibration = Calibration {
        idle: idle_cost,
        under_load: calibration.await.ok().flatten(),
    };
    let mut notes = findings::notes(spec, &stopped, &calibration, options.kernel_loss);
    notes.extend(hands.errors());
    let aborted = stop.as_ref().filter(|s| s.aborts).map(|s| s.reason.clone());
    if let Some(stop) = stop.as_ref().filter(|s| !s.aborts) {
        notes.push(stop.reason.clone());
    }
    let timeline = probe.timeline();
    let mut report = Report::build(ReportInput {
        experiment: &name,
        spec,
        backend: "local",
        seed: options.seed,
        run_id: plan.run_id.clone(),
        timeline: &timeline,
        measured,
        aborted,
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

/// What the scheduler needs.
struct Driver {
    spec: ExperimentSpec,
    actions: Vec<Timed>,
    hands: Arc<Hands>,
    probe: ProbeHandle,
    control: Arc<Control>,
}

/// Applies each action when it is due, until the run stops.
async fn drive(driver: Driver, measured_from: Instant) {
    let Driver {
        spec,
        actions,
        hands,
        probe,
        control,
    } = driver;
    let first_fault = actions.first().map(|timed| timed.at);
    let mut gate_checked = false;
    for timed in &actions {
        let due = measured_from + timed.at;
        tokio::select! {
            biased;
            () = control.stopped.notified() => break,
            () = tokio::time::sleep_until(due) => {}
        }
        if control.stopped().is_some() {
            break;
        }
        if !gate_checked && Some(timed.at) == first_fault {
            gate_checked = true;
            let verdicts = hypothesis::steady_state(&spec, &probe.timeline(), timed.at);
            if let Some(failed) = verdicts.iter().find(|v| !v.passed) {
                control.stop(Stop {
                    reason: format!(
                        "The steady state did not hold before the first fault ({}: observed {}): no fault was injected and the run stopped at {}.",
                        failed.clause,
                        failed.observed,
                        duration::format(timed.at)
                    ),
                    at: timed.at,
                    aborts: false,
                });
                break;
            }
        }
        hands.apply(&timed.action);
    }
}

fn progress_of(second: u64, of: u64, timeline: &Timeline, hands: &Hands) -> Progress {
    let from = Duration::from_secs(second);
    let window = timeline.window(from, from + Duration::from_secs(1));
    Progress {
        second: second + 1,
        of,
        calls: window.count(|_| true),
        p99: window
            .latency_of(None)
            .map(|h| crate::probe::timeline::quantile(h, 0.99)),
        error_rate: window.error_rate(),
        fallback_rate: window.fallback_rate(),
        active: hands.active(),
    }
}
