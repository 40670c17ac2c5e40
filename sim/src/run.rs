//! One simulated run of an experiment: the topology as turmoil hosts running the real
//! server, the probe as a turmoil client running the real client stack
//! (`Client::from_config`) behind the open-loop probe, the faults applied on schedule,
//! every event checked, and the report.
//!
//! Everything random derives from the run's seed: turmoil's generator, the link model's
//! draws, the client's balancer and backoff seeds (`ClientConfig::seeded`) and the plan's
//! choice of instances. Hosts are driven one step (one tick, 1 ms of simulated time) at a
//! time; between steps the run applies the faults that are due.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use faultline_chaos::faults::latency::Fitted;
use faultline_chaos::faults::{schedule, Timed};
use faultline_chaos::hypothesis::AbortMonitor;
use faultline_chaos::plan::{self, Backend, PlanOptions, PROBE_NAME};
use faultline_chaos::probe::{self, Load, ProbeHandle, Timeline};
use faultline_chaos::report::{Report, ReportInput};
use faultline_chaos::spec::experiment::{Experiment, ExperimentSpec, InstanceSpec};
use faultline_chaos::spec::located::{Document, SpecError};
use faultline_core::client::{Client, EchoClient};
use faultline_core::config::{duration, FieldErrors, Validate};
use faultline_core::event::{Event, EventBus, EventSink, Origin};
use faultline_core::lb::Discovery;
use faultline_core::rpc::Instance;
use faultline_core::server::{ServerBuilder, ServerConfig};

use crate::checkers::Checkers;
use crate::faults::{self, World};
use crate::link::{self, Links};
use crate::method::{self as method_faults, MethodFaults};
use crate::net::SimNet;
use crate::scale::TimeScale;
use crate::trace::Trace;

/// The port every simulated instance serves on.
pub const PORT: u16 = 9000;
/// Simulated time a run may take beyond its workload (calls finishing, restarts).
const GRACE: Duration = Duration::from_secs(120);

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub seed: u64,
    /// `None`: [`TimeScale::for_experiment`].
    pub scale: Option<TimeScale>,
    /// The experiment file, for the replay command in the report.
    pub file: Option<std::path::PathBuf>,
}

/// What a run gives back.
pub struct RunOutcome {
    pub report: Report,
    /// FNV-1a of the event trace: equal for equal runs.
    pub trace_hash: u64,
    pub events: u64,
    pub scale: TimeScale,
}

/// Why a run could not happen.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Plan(Vec<SpecError>),
    #[error("the client configuration {0}")]
    Client(FieldErrors),
    #[error("the simulation failed: {0}")]
    Simulation(String),
    #[error("writing the trace: {0}")]
    Trace(std::io::Error),
}

/// What the probe hands back at the end.
#[derive(Default)]
struct ProbeResult {
    timeline: Timeline,
    aborted: Option<(String, Duration)>,
}

/// Runs `experiment` (read from `document`) once, writing the event trace to `trace`.
pub fn run(
    experiment: &Experiment,
    document: &Document,
    options: &RunOptions,
    trace: Option<Box<dyn Write + Send>>,
) -> Result<RunOutcome, RunError> {
    let spec = &experiment.spec;
    let name = experiment.metadata.name.clone().unwrap_or_default();
    let plan = plan::plan(
        experiment,
        document,
        &PlanOptions {
            backend: Backend::Sim,
            seed: options.seed,
            run_id: None,
        },
    )
    .map_err(RunError::Plan)?;
    let scale = options
        .scale
        .unwrap_or_else(|| TimeScale::for_experiment(spec));
    let client_config = spec.effective_client();
    let scaled_client = scale.client(&client_config).seeded(options.seed);
    scaled_client.validate().map_err(RunError::Client)?;

    let instances = spec.topology.instances(&spec.target.service);
    let caller_zone = spec.caller_zone(&instances);
    let hosts = plan::hosts(&instances);
    let links = Links::new(
        topology(spec, &instances, &caller_zone, scale),
        scale,
        options.seed ^ 0x51a7,
    );
    let schedule = schedule(spec, &plan, &hosts);
    let trace = Trace::new(Checkers::new(&client_config), scale, trace);
    let methods = Arc::new(MethodFaults::default());

    let mut sim = turmoil::Builder::new()
        .rng_seed(options.seed)
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(Duration::ZERO)
        .max_message_latency(Duration::ZERO)
        .tcp_capacity(1 << 16)
        .simulation_duration(scale.duration(spec.workload.warmup + spec.workload.duration + GRACE))
        .build();
    for instance in &instances {
        let host = instance.name.clone();
        let zone = instance.zone.clone();
        let config = scale.server(&ServerConfig {
            service: spec.target.service.clone(),
            zone: Some(zone.clone()),
            ..ServerConfig::default()
        });
        let (links, trace, methods) = (links.clone(), trace.clone(), methods.clone());
        sim.host(instance.name.as_str(), move || {
            let events = EventBus::default()
                .with_sink(Arc::new(trace.clone()))
                .with_origin(Origin::new(host.as_str(), Some(zone.as_str().into())));
            let (net, config) = (SimNet::new(&host, links.clone()), config.clone());
            let router = method_faults::router(host.as_str().into(), methods.clone());
            async move {
                let builder = ServerBuilder::from_config(&config)
                    .map_err(|errors| errors.to_string())?
                    .events(events);
                let _server = builder
                    .bind(&net, &format!("0.0.0.0:{PORT}"), router)
                    .await?;
                std::future::pending::<()>().await;
                Ok(())
            }
        });
    }

    let result = Arc::new(Mutex::new(ProbeResult::default()));
    let load = Load {
        time_scale: scale.factor(),
        ..Load::from(&spec.workload)
    };
    {
        let (links, trace, result) = (links.clone(), trace.clone(), result.clone());
        let discovery = Discovery::new(instances.iter().map(|i| {
            Instance::new(format!("{}:{PORT}", i.name)).with_zone("sim", i.zone.as_str())
        }));
        let origin = Origin::new(PROBE_NAME, Some(caller_zone.as_str().into()));
        let abort = spec.abort.clone();
        let protocol = scaled_client.pool.protocol;
        sim.client(PROBE_NAME, async move {
            let probe = ProbeHandle::new(&load);
            let sinks: [Arc<dyn EventSink>; 2] = [Arc::new(trace), probe.event_sink()];
            let events = EventBus::default()
                .with_sink(Arc::new(move |event: &Event| {
                    sinks.iter().for_each(|sink| sink.record(event))
                }))
                .with_origin(origin);
            let net = SimNet::new(PROBE_NAME, links);
            let client = Client::from_config(&scaled_client, net, discovery, events)
                .map_err(|errors| errors.to_string())?;
            let mut monitor = AbortMonitor::new(&abort);
            let mut aborted = None;
            probe::run(
                EchoClient::new(client, protocol),
                &load,
                &probe,
                |second, timeline| match monitor.check(second, timeline) {
                    Some(reason) => {
                        aborted = Some((reason, Duration::from_secs(second + 1)));
                        std::ops::ControlFlow::Break(())
                    }
                    None => std::ops::ControlFlow::Continue(()),
                },
            )
            .await;
            let mut result = result.lock().unwrap_or_else(PoisonError::into_inner);
            result.timeline = probe.timeline();
            result.aborted = aborted;
            Ok(())
        });
    }

    let world = World {
        links: &links,
        methods: &methods,
        scale,
        hosts: &hosts,
        held: Mutex::default(),
    };
    drive(
        &mut sim,
        &world,
        &schedule.actions,
        spec.workload.warmup,
        &result,
    )?;
    drop(sim);
    let summary = trace.finish();
    if let Some(err) = summary.write_error {
        return Err(RunError::Trace(err));
    }
    let result = std::mem::take(&mut *result.lock().unwrap_or_else(PoisonError::into_inner));
    let (aborted, measured) = match result.aborted {
        Some((reason, at)) => (Some(reason), at),
        None => (None, spec.workload.duration),
    };
    let mut notes = model_notes(spec, scale);
    notes.extend(faults::notes(&schedule, &hosts));
    let replay = options
        .file
        .as_ref()
        .map(|file| replay_command(file, options.seed, options.scale));
    let report = Report::build(ReportInput {
        experiment: &name,
        spec,
        backend: "sim",
        seed: options.seed,
        run_id: plan.run_id.clone(),
        timeline: &result.timeline,
        measured,
        aborted,
        faults: schedule.faults,
        checks: summary.checks,
        notes,
        replay,
    });
    Ok(RunOutcome {
        report,
        trace_hash: summary.hash,
        events: summary.events,
        scale,
    })
}

/// Steps the simulation until the probe is done, applying each action when it is due
/// (and, after an abort, every remaining recovery at once).
fn drive(
    sim: &mut turmoil::Sim<'_>,
    world: &World<'_>,
    actions: &[Timed],
    warmup: Duration,
    result: &Mutex<ProbeResult>,
) -> Result<(), RunError> {
    let measured_from = world.scale.duration(warmup);
    let mut next = 0;
    loop {
        let now = sim.elapsed();
        while let Some(timed) = actions.get(next) {
            if measured_from + world.scale.duration(timed.at) > now {
                break;
            }
            world.apply(sim, &timed.action);
            next += 1;
        }
        let aborted = result
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .aborted
            .is_some();
        if aborted {
            for timed in actions[next..].iter().filter(|t| t.action.recovers()) {
                world.apply(sim, &timed.action);
            }
            next = actions.len();
        }
        match sim.step() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) => return Err(RunError::Simulation(err.to_string())),
        }
    }
}

/// The link model's view of the topology, at `scale`.
fn topology(
    spec: &ExperimentSpec,
    instances: &[InstanceSpec],
    caller_zone: &str,
    scale: TimeScale,
) -> link::Topology {
    let mut zone_of: std::collections::BTreeMap<String, String> = instances
        .iter()
        .map(|i| (i.name.clone(), i.zone.clone()))
        .collect();
    zone_of.insert(PROBE_NAME.to_owned(), caller_zone.to_owned());
    let fit = |l: &faultline_chaos::spec::experiment::Latency| {
        Fitted::fit(scale.ticks(l.mean), scale.ticks(l.p99.max(l.mean)), 1.0)
    };
    let latency = &spec.topology.latency;
    link::Topology {
        zone_of,
        servers: instances.iter().map(|i| i.name.clone()).collect(),
        within: fit(&latency.within_zone),
        across: fit(&latency.across_zones),
        rtt_within: latency.within_zone.mean,
        rtt_across: latency.across_zones.mean,
    }
}

/// How the run modelled time and latency, for the report.
fn model_notes(spec: &ExperimentSpec, scale: TimeScale) -> Vec<String> {
    let latency = &spec.topology.latency;
    let tick = Duration::from_millis(1) / scale.factor();
    let mut notes = vec![
        format!(
            "Time scale {}: every duration ran {}x longer on the simulated clock, whose tick (1 ms) stands for {}; figures are reported unscaled.",
            scale.factor(),
            scale.factor(),
            duration::format(tick)
        ),
        format!(
            "Round trips are whole ticks drawn per request from distributions fitted to the topology ({}), one tick of which is turmoil's own.",
            latency.describe()
        ),
    ];
    let smallest = [latency.within_zone.mean, latency.across_zones.mean]
        .into_iter()
        .filter(|d| !d.is_zero())
        .min();
    if smallest.is_some_and(|d| d < tick) {
        notes.push(format!(
            "A round trip below one tick ({}) cannot be modelled: it took one tick.",
            duration::format(tick)
        ));
    }
    notes.push(
        "Lost segments are repaired as Linux does: fast retransmit a round trip after a later segment arrives; a lost last segment waits for the tail-loss probe (1.5 RTT + 200 ms) and doubling timeouts."
            .to_owned(),
    );
    notes.push(format!(
        "A killed instance (pod-kill, container-kill) is replaced {} later.",
        duration::format(faults::RESTART_DELAY)
    ));
    notes
}

/// The command that reruns seed `seed` of the experiment in `file` (at `scale` when one
/// was asked for; else the experiment's own).
pub fn replay_command(file: &Path, seed: u64, scale: Option<TimeScale>) -> String {
    let scale = scale.map_or(String::new(), |s| format!(" --time-scale {}", s.factor()));
    format!(
        "faultline sim replay {} --seed {seed}{scale}",
        shell_word(file)
    )
}

/// `path` as one shell word.
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    match text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        true => text,
        false => format!("'{}'", text.replace('\'', r"'\''")),
    }
}
