//! What every run on the wall clock shares, local processes and a cluster alike: the probe
//! offering load through the real client stack, the fault steps applied when due by the
//! backend's [`Hands`], the steady-state gate before the first fault, abort conditions
//! checked every second, an interruption (Ctrl-C, SIGTERM) that rolls every fault back at
//! once, and the progress a watcher sees. The backend builds the client (its discovery)
//! and the report (its own checks and notes) around [`drive`].

use std::collections::BTreeSet;
use std::future::Future;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use faultline_core::client::EchoClient;
use faultline_core::config::duration;
use faultline_core::event::{Event, EventBus, EventSink, Origin};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::hypothesis::{self, AbortMonitor};
use crate::plan::PROBE_NAME;
use crate::probe::{self, Load, ProbeHandle, Timeline};
use crate::report::FaultReport;
use crate::spec::experiment::ExperimentSpec;

/// How a backend makes faults happen and undoes them.
pub trait Hands: Send + Sync + 'static {
    /// One thing to do at one time (a proxy rule, a signal, a Chaos Mesh object, ...).
    type Step: Send + Sync + 'static;
    /// Starts `step` now, without blocking (a backend that calls an API spawns the call).
    fn apply(&self, step: &Self::Step);
    /// Starts undoing every fault in force, without blocking; safe to call again.
    fn rollback(&self);
    /// Resolves once everything `apply` and `rollback` started has finished.
    fn settled(&self) -> impl Future<Output = ()> + Send;
    /// The faults injected so far.
    fn injected(&self) -> BTreeSet<String>;
    /// The faults in force now.
    fn active(&self) -> Vec<String>;
    /// What went wrong while applying or undoing faults, for the report's notes.
    fn errors(&self) -> Vec<String>;
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

/// One run to drive.
pub struct Run<'a, H: Hands> {
    pub spec: &'a ExperimentSpec,
    pub hands: Arc<H>,
    /// The steps in time order, as offsets from the start of measurement.
    pub steps: Vec<(Duration, H::Step)>,
    /// The probe's client (the real stack, its events going to `probe`).
    pub client: EchoClient,
    pub load: Load,
    pub probe: ProbeHandle,
    /// When measurement starts (after the warm-up).
    pub measured_from: Instant,
}

/// What a driven run leaves for the report.
#[derive(Debug)]
pub struct Ran {
    pub timeline: Timeline,
    /// How much of the workload was measured (less than its duration when it stopped).
    pub measured: Duration,
    /// Why the run was aborted (an abort condition or an interruption), if it was.
    pub aborted: Option<String>,
    /// Why it stopped early without an abort (the steady state did not hold), if it did.
    pub stopped: Option<String>,
    pub injected: BTreeSet<String>,
}

impl Ran {
    /// Marks the faults that were never injected as skipped, saying why.
    pub fn mark_skipped(&self, faults: &mut [FaultReport]) {
        let why = self.aborted.as_ref().or(self.stopped.as_ref());
        for fault in faults {
            if fault.skipped.is_none() && !self.injected.contains(&fault.name) {
                fault.skipped = Some(match why {
                    Some(reason) => format!("not injected: {reason}"),
                    None => "not injected".to_owned(),
                });
            }
        }
    }
}

/// The probe's event bus: every event to each of `sinks`, emitted as the probe in
/// `caller_zone`.
pub fn probe_events(sinks: Vec<Arc<dyn EventSink>>, caller_zone: &str) -> EventBus {
    EventBus::default()
        .with_sink(Arc::new(move |event: &Event| {
            sinks.iter().for_each(|sink| sink.record(event))
        }))
        .with_origin(Origin::new(PROBE_NAME, Some(caller_zone.into())))
}

/// Runs the probe and the steps until the workload ends, an abort condition holds or
/// `interrupt` resolves (with a reason); rolls every fault back and waits until that is
/// done. `watch` hears about every second of measurement.
pub async fn drive<H: Hands>(
    run: Run<'_, H>,
    interrupt: impl Future<Output = String> + Send + 'static,
    mut watch: impl FnMut(Progress),
) -> Ran {
    let Run {
        spec,
        hands,
        steps,
        client,
        load,
        probe,
        measured_from,
    } = run;
    let control = Arc::new(Control::default());
    let scheduler = tokio::spawn(schedule(
        Scheduler {
            spec: spec.clone(),
            steps,
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
    probe::run(client, &load, &probe, |second, timeline| {
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
        watch(progress_of(second, total, timeline, hands.active()));
        ControlFlow::Continue(())
    })
    .await;
    interruption.abort();
    control.stop(Stop {
        reason: String::new(),
        at: spec.workload.duration,
        aborts: false,
    });
    let _ = scheduler.await;
    hands.rollback();
    hands.settled().await;

    let stop = control.stopped().filter(|s| !s.reason.is_empty());
    let measured = stop
        .as_ref()
        .map_or(spec.workload.duration, |s| s.at.min(spec.workload.duration));
    let (aborted, stopped) = match stop {
        Some(stop) if stop.aborts => (Some(stop.reason), None),
        Some(stop) => (None, Some(stop.reason)),
        None => (None, None),
    };
    Ran {
        timeline: probe.timeline(),
        measured,
        aborted,
        stopped,
        injected: hands.injected(),
    }
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
        let mut current = self.stop.lock().unwrap_or_else(PoisonError::into_inner);
        if current.is_none() {
            *current = Some(stop);
            self.stopped.notify_waiters();
        }
    }

    fn stopped(&self) -> Option<Stop> {
        self.stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What the scheduler needs.
struct Scheduler<H: Hands> {
    spec: ExperimentSpec,
    steps: Vec<(Duration, H::Step)>,
    hands: Arc<H>,
    probe: ProbeHandle,
    control: Arc<Control>,
}

/// Applies each step when it is due, until the run stops; before the first, judges the
/// steady state and stops the run (injecting nothing) when it does not hold.
async fn schedule<H: Hands>(scheduler: Scheduler<H>, measured_from: Instant) {
    let Scheduler {
        spec,
        steps,
        hands,
        probe,
        control,
    } = scheduler;
    let first_fault = steps.first().map(|(at, _)| *at);
    let mut gate_checked = false;
    for (at, step) in &steps {
        tokio::select! {
            biased;
            () = control.stopped.notified() => break,
            () = tokio::time::sleep_until(measured_from + *at) => {}
        }
        if control.stopped().is_some() {
            break;
        }
        if !gate_checked && Some(*at) == first_fault {
            gate_checked = true;
            let verdicts = hypothesis::steady_state(&spec, &probe.timeline(), *at);
            if let Some(failed) = verdicts.iter().find(|v| !v.passed) {
                control.stop(Stop {
                    reason: format!(
                        "The steady state did not hold before the first fault ({}: observed {}): no fault was injected and the run stopped at {}.",
                        failed.clause,
                        failed.observed,
                        duration::format(*at)
                    ),
                    at: *at,
                    aborts: false,
                });
                break;
            }
        }
        hands.apply(step);
    }
}

fn progress_of(second: u64, of: u64, timeline: &Timeline, active: Vec<String>) -> Progress {
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
        active,
    }
}
