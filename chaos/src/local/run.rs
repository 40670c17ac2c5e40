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

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use faultline_core::client::{Client, EchoClient};
use faultline_core::config::{duration, FieldErrors, Validate};
use faultline_core::event::{Event, EventBus, EventSink, Origin};
use faultline_core::lb::Discovery;
use faultline_core::net::Tcp;
use faultline_core::rpc::Instance;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::actions::Hands;
use super::calibrate::{corrected, round_trip, PathCost, UnderLoad};
use super::kernel_loss::KernelLoss;
use super::proxy::{Proxy, ProxyConfig, ProxyFaults, ProxyStats};
use super::supervisor::{ServerCommand, StartError, Supervisor, UnexpectedExit};
use crate::faults::latency::Fitted;
use crate::faults::{schedule, Timed, RESTART_DELAY};
use crate::hypothesis::{self, AbortMonitor};
use crate::plan::{self, Backend, PlanOptions, PROBE_NAME};
use crate::probe::{self, Load, Pacing, ProbeHandle, Timeline};
use crate::report::{Check, Report, ReportInput, Violation};
use crate::spec::experiment::{Experiment, ExperimentSpec, InstanceSpec, Latency};
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

/// One instance as started: where it listens, and where its fault proxy does (the
/// address the probe calls).
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub instance: String,
    pub zone: String,
    pub addr: SocketAddr,
    pub proxy: SocketAddr,
    pub pid: Option<u32>,
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
    Start(#[from] StartError),
    #[error("--loss kernel cannot run here: {0}")]
    KernelLoss(String),
    #[error("cannot start the fault proxy of {instance}: {source}")]
    Proxy {
        instance: String,
        source: std::io::Error,
    },
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
    fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops the run (the first reason wins).
    fn stop(&self, stop: Stop) {
        let mut current = Self::lock(&self.stop);
        if current.is_none() {
            *current = Some(stop);
            self.stopped.notify_waiters();
        }
    }

    fn stopped(&self) -> Option<Stop> {
        Self::lock(&self.stop).clone()
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
    let caller_zone = spec
        .target
        .caller_zone
        .clone()
        .or_else(|| instances.first().map(|i| i.zone.clone()))
        .unwrap_or_default();
    let mut hosts: Vec<String> = instances.iter().map(|i| i.name.clone()).collect();
    hosts.push(PROBE_NAME.to_owned());
    let mut schedule = schedule(spec, &plan, &hosts);

    let supervisor = Arc::new(Supervisor::start(&options.server, &instances).await?);
    let faults = ProxyFaults::new();
    let kernel = match options.kernel_loss {
        true => match KernelLoss::new() {
            Ok(kernel) => Some(kernel),
            Err(why) => {
                supervisor.shutdown().await;
                return Err(LocalError::KernelLoss(why));
            }
        },
        false => None,
    };
    let first = instances.first().map(|i| supervisor.addrs()[&i.name]);
    let overhead = match first {
        Some(addr) => round_trip(addr, &client_config).await,
        None => None,
    };
    let path_cost = Arc::new(PathCost::default());
    path_cost.set(overhead.unwrap_or_default());
    let links = Links {
        caller_zone: &caller_zone,
        path_cost: path_cost.clone(),
        seed: options.seed,
    };
    let proxies = match start_proxies(spec, &instances, &links, &supervisor, &faults).await {
        Ok(proxies) => proxies,
        Err(error) => {
            supervisor.shutdown().await;
            return Err(error);
        }
    };
    let discovery = Discovery::new(instances.iter().zip(&proxies).map(|(instance, proxy)| {
        Instance::new(proxy.local_addr().to_string()).with_zone("local", instance.zone.as_str())
    }));

    let pids = supervisor.pids();
    watch(RunEvent::Started(
        instances
            .iter()
            .zip(&proxies)
            .map(|(instance, proxy)| Started {
                instance: instance.name.clone(),
                zone: instance.zone.clone(),
                addr: supervisor.addrs()[&instance.name],
                proxy: proxy.local_addr(),
                pid: pids.get(&instance.name).copied().flatten(),
            })
            .collect(),
    ));
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
        path_cost.clone(),
        spec.topology.latency.within_zone.mean,
        (measured_from, load.warmup),
    ));
    let events = EventBus::default()
        .with_sink(Arc::new(move |event: &Event| {
            sinks.iter().for_each(|sink| sink.record(event))
        }))
        .with_origin(Origin::new(PROBE_NAME, Some(caller_zone.as_str().into())));
    let client = match Client::from_config(&client_config, Tcp, discovery, events) {
        Ok(client) => client,
        Err(errors) => {
            supervisor.shutdown().await;
            return Err(LocalError::Client(errors));
        }
    };

    let ports = instances
        .iter()
        .map(|i| (i.name.clone(), supervisor.addrs()[&i.name].port()))
        .collect();
    let hands = Arc::new(Hands::new(faults, supervisor.clone(), kernel, ports));
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
    let proxy_stats: Vec<_> = proxies.iter().map(Proxy::stats).collect();
    let names: BTreeMap<String, String> = proxies
        .iter()
        .map(|proxy| (proxy.local_addr().to_string(), proxy.server().to_owned()))
        .collect();
    drop(proxies);
    let exits = supervisor.unexpected_exits();
    let starts = supervisor.starts();
    supervisor.shutdown().await;

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
    let mut notes = model_notes(spec, &instances, supervisor.addrs());
    notes.push(match options.kernel_loss {
        true => "Loss ran in the kernel: nftables dropped packets on the instances' loopback ports and the real TCP stack repaired them.".to_owned(),
        false => "Loss ran in the proxies: a lost chunk was delivered late, as TCP repairs a lost segment (the TCP repair model), not dropped.".to_owned(),
    });
    notes.extend(hands.errors());
    notes.push(match overhead {
        Some(overhead) => format!(
            "A call took {} here without any modelled latency (median of sequential calls to one instance at the start); the proxies added the topology's round trips less that.",
            duration::format(overhead)
        ),
        None => "Calls to an instance failed at the start, so the cost of a call here was not measured: the proxies added the topology's round trips in full.".to_owned(),
    });
    if let Ok(Some((measured, cost))) = calibration.await {
        notes.push(format!(
            "Under the run's load, calls within the caller's zone took {} on average in the second half of the warm-up; from then on the proxies took {} off each round trip they added.",
            duration::format(measured),
            duration::format(cost)
        ));
    }
    notes.push(format!(
        "Proxies: {}.",
        proxy_stats
            .iter()
            .zip(&instances)
            .map(|(stats, instance)| format!("{} {}", instance.name, describe(stats)))
            .collect::<Vec<_>>()
            .join("; ")
    ));
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
        checks: vec![instances_stay_up(&starts, &exits, measured_from)],
        notes,
        replay: None,
    });
    // The client knows instances by their proxies' addresses; people know them by name.
    for change in &mut report.breaker {
        if let Some(name) = names.get(&change.key) {
            change.key = format!("{name} ({})", change.key);
        }
    }
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

/// What the proxies' links need besides the topology.
struct Links<'a> {
    caller_zone: &'a str,
    /// What a call costs here without any modelled latency.
    path_cost: Arc<PathCost>,
    seed: u64,
}

/// One proxy per instance, in the order of `instances`.
async fn start_proxies(
    spec: &ExperimentSpec,
    instances: &[InstanceSpec],
    links: &Links<'_>,
    supervisor: &Supervisor,
    faults: &Arc<ProxyFaults>,
) -> Result<Vec<Proxy>, LocalError> {
    let latency = &spec.topology.latency;
    let seed = links.seed;
    let mut proxies = Vec::with_capacity(instances.len());
    for (index, instance) in instances.iter().enumerate() {
        let link = match instance.zone == links.caller_zone {
            true => &latency.within_zone,
            false => &latency.across_zones,
        };
        let upstream = supervisor.addrs()[&instance.name];
        let config = ProxyConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream,
            server: instance.name.clone(),
            client: PROBE_NAME.to_owned(),
            base_latency: base_latency(link),
            path_cost: links.path_cost.clone(),
            rtt: link.mean,
            seed: seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        };
        let proxy = Proxy::start(config, faults.clone())
            .await
            .map_err(|source| LocalError::Proxy {
                instance: instance.name.clone(),
                source,
            })?;
        proxies.push(proxy);
    }
    Ok(proxies)
}

/// A link's round-trip latency in microseconds; `None` when it has none.
fn base_latency(link: &Latency) -> Option<Fitted> {
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let (mean, p99) = (micros(link.mean), micros(link.p99.max(link.mean)));
    (mean > 0.0).then(|| Fitted::fit(mean, p99, 0.0))
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

/// A proxy's counters in one phrase.
fn describe(stats: &ProxyStats) -> String {
    let mut parts = vec![format!(
        "{} connections, {} B to the server, {} B back",
        stats.connections, stats.bytes_to_server, stats.bytes_to_client
    )];
    let counted = [
        (stats.segments_lost, "segments lost and repaired"),
        (stats.bits_corrupted, "bits corrupted"),
        (stats.bytes_duplicated, "bytes duplicated"),
        (stats.bytes_held_by_partitions, "bytes held by partitions"),
        (stats.method_faults_applied, "method faults applied"),
        (stats.connections_reset, "connections reset"),
    ];
    parts.extend(
        counted
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}")),
    );
    parts.join(", ")
}

/// The check that no instance exited unless a fault killed it.
fn instances_stay_up(
    starts: &BTreeMap<String, u32>,
    exits: &[UnexpectedExit],
    measured_from: Instant,
) -> Check {
    Check {
        name: "instances-stay-up".to_owned(),
        description: "No instance process exited unless a fault killed it (a crash on hostile bytes, a panic, an OOM kill).".to_owned(),
        checked: starts.values().map(|n| u64::from(*n)).sum(),
        violations: exits
            .iter()
            .map(|exit| Violation {
                at: exit.at.saturating_duration_since(measured_from),
                event: format!("{{\"instance\":\"{}\"}}", exit.instance),
                message: format!("{} exited: {}", exit.instance, exit.status),
            })
            .collect(),
    }
}

/// How the local backend made the run, for the report.
fn model_notes(
    spec: &ExperimentSpec,
    instances: &[InstanceSpec],
    addrs: &BTreeMap<String, SocketAddr>,
) -> Vec<String> {
    let latency = &spec.topology.latency;
    vec![
        format!(
            "Each instance is a `faultline serve` process behind a fault proxy on loopback; the proxy adds the topology's round trip to requests (within a zone mean {} p99 {}, across zones mean {} p99 {}).",
            duration::format(latency.within_zone.mean),
            duration::format(latency.within_zone.p99),
            duration::format(latency.across_zones.mean),
            duration::format(latency.across_zones.p99)
        ),
        "Network faults are made by the proxies in user space: lost segments are delivered late as TCP repairs them, corrupted ones have a bit flipped past TCP's checksum (the servers' decoders see them), duplicated ones change nothing a TCP reader sees, a partition holds the bytes until it heals.".to_owned(),
        format!(
            "pod-kill and container-kill send SIGKILL; the instance is started again {} later. pod-failure sends SIGSTOP for the fault's duration, then SIGCONT.",
            duration::format(RESTART_DELAY)
        ),
        format!(
            "Instances: {}.",
            instances
                .iter()
                .map(|i| format!("{} ({}) on {}", i.name, i.zone, addrs.get(&i.name).map_or_else(String::new, ToString::to_string)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ]
}
