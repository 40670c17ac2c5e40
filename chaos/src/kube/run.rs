//! One run of an experiment on a cluster. The probe is the real client stack, reaching the
//! target through its EndpointSlices (or `target.address`); the faults are Chaos Mesh
//! objects created when due (or native pod-kills when Chaos Mesh is absent); the rest —
//! steady-state gate, abort conditions, interruption, hypothesis and report — is what
//! every wall-clock run shares ([`crate::runner`]).
//!
//! Before anything is created, the run refuses what it must: protected namespaces (and the
//! controller's own), kinds the cluster does not serve (without Chaos Mesh only pod-kill
//! runs), objects the cluster's CRD schema rejects, selectors that match a whole namespace.
//! Then it takes its run lease, deletes leftovers of dead runs, and starts.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::client::{Client as RpcClient, ClientConfig, EchoClient};
use faultline_core::config::Validate;
use faultline_core::net::Tcp;
use faultline_core::rng::SplitMix64;
use kube::Client;
use tokio::time::Instant;

use super::cleanup::{self, run_lease_name};
use super::connect::ChaosMesh;
use super::discovery;
use super::guard;
use super::hands::{KubeHands, KubeStep, Patience};
use super::lease::{self, LeaseId};
use super::metrics;
use super::pod_kill;
use super::KubeError;
use crate::plan::{self, Backend, Event, PlanOptions, Targets};
use crate::probe::{Load, Pacing, ProbeHandle};
use crate::report::{FaultReport, Report, ReportInput};
use crate::runner::{self, probe_events, Hands, Progress, Run};
use crate::spec::chaos_mesh::{ChaosObject, Kind};
use crate::spec::experiment::Experiment;
use crate::spec::located::Document;

/// How to run.
#[derive(Debug, Clone)]
pub struct KubeOptions {
    pub seed: u64,
    /// Labels every object; derived from the seed when not given (the controller gives the
    /// Experiment's uid-derived id, so two Experiments never share one).
    pub run_id: Option<String>,
    /// The controller's namespace, never injected into.
    pub own_namespace: Option<String>,
    /// Who holds the run's lease (host and process, or the controller's pod).
    pub identity: String,
    pub patience: Patience,
    /// How long the run's lease lasts without renewal.
    pub lease_duration: Duration,
    /// How long to wait for the target's first ready endpoint.
    pub endpoints_within: Duration,
}

impl Default for KubeOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            run_id: None,
            own_namespace: None,
            identity: format!("faultline-{}", std::process::id()),
            patience: Patience::default(),
            lease_duration: Duration::from_secs(30),
            endpoints_within: Duration::from_secs(30),
        }
    }
}

/// What a run tells its watcher.
#[derive(Debug, Clone, PartialEq)]
pub enum KubeEvent {
    /// Everything checked; the probe starts. What the run found on the cluster.
    Started {
        run_id: String,
        /// `address (zone, pod)` per ready endpoint of the target.
        endpoints: Vec<String>,
        /// Objects of dead runs deleted before starting.
        leftovers: Vec<String>,
        /// Whether Chaos Mesh is installed (else pod-kills run natively).
        chaos_mesh: bool,
    },
    /// A second of measurement ended.
    Second(Progress),
}

/// What the cluster must do for the run, checked before it starts.
struct Prepared {
    mesh: Arc<ChaosMesh>,
    steps: Vec<(Duration, KubeStep)>,
    notes: Vec<String>,
}

/// Runs `experiment` on the cluster `client` talks to.
pub async fn run(
    client: Client,
    experiment: &Experiment,
    document: &Document,
    options: &KubeOptions,
    interrupt: impl Future<Output = String> + Send + 'static,
    mut watch: impl FnMut(KubeEvent),
) -> Result<Report, KubeError> {
    let spec = &experiment.spec;
    let plan = plan::plan(
        experiment,
        document,
        &PlanOptions {
            backend: Backend::Kube,
            seed: options.seed,
            run_id: options.run_id.clone(),
        },
    )
    .map_err(KubeError::Plan)?;
    let namespace = plan.namespace.clone();
    if let Some(reason) = guard::protected(&namespace, options.own_namespace.as_deref()) {
        return Err(KubeError::Refused(vec![reason]));
    }
    let client_config = spec.effective_client().seeded(options.seed);
    client_config.validate().map_err(KubeError::Client)?;
    let prepared = prepare(&client, experiment, &plan, options).await?;

    let run_lease = LeaseId {
        namespace: namespace.clone(),
        name: run_lease_name(&plan.run_id),
        identity: options.identity.clone(),
        duration: options.lease_duration,
    };
    if !lease::try_acquire(&client, &run_lease)
        .await
        .map_err(|err| KubeError::Api(format!("taking the run's lease: {err}")))?
    {
        return Err(KubeError::Refused(vec![format!(
            "run {} is already running (its lease {} is held)",
            plan.run_id, run_lease.name
        )]));
    }
    let (held, renewal) = lease::hold(client.clone(), run_lease.clone());
    let outcome = run_holding_lease(
        &client,
        experiment,
        (&plan, &client_config),
        options,
        prepared,
        interrupt,
        &mut watch,
    )
    .await;
    drop(held);
    renewal.abort();
    let _ = lease::release(&client, &run_lease).await;
    outcome
}

/// Reads what the cluster serves and turns the plan into steps; refuses what cannot run.
async fn prepare(
    client: &Client,
    experiment: &Experiment,
    plan: &plan::Plan,
    options: &KubeOptions,
) -> Result<Prepared, KubeError> {
    let spec = &experiment.spec;
    let mesh = ChaosMesh::discover(client, &Kind::ALL).await?;
    let installed = !mesh.schemas.is_empty();
    let mut typed = Vec::new();
    let mut steps = Vec::new();
    let mut refused = Vec::new();
    let mut notes = Vec::new();
    for (index, (fault, object)) in spec.faults.iter().zip(&plan.objects).enumerate() {
        let Some(kind) = Kind::from_name(&fault.kind) else {
            refused.push(format!("{}: unknown kind {}", fault.name, fault.kind));
            continue;
        };
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let chaos_object = match fault.chaos_object(name, &plan.namespace, &Default::default()) {
            Ok(chaos_object) => chaos_object,
            Err(errors) => {
                refused.push(format!("{}: {errors}", fault.name));
                continue;
            }
        };
        match mesh.schemas.get(&kind) {
            Some(schema) => {
                for error in schema.errors(object) {
                    refused.push(format!(
                        "{}: the cluster's {} CRD rejects it: {error}",
                        fault.name, kind
                    ));
                }
                steps.push((
                    fault.at,
                    KubeStep::Create {
                        fault: fault.name.clone(),
                        kind,
                        object: object.clone(),
                    },
                ));
            }
            None => match &chaos_object {
                ChaosObject::PodChaos(pod) if !installed && pod_kill::natively_supported(pod) => {
                    steps.push((
                        fault.at,
                        KubeStep::KillPods {
                            fault: fault.name.clone(),
                            pod: Box::new(pod.clone()),
                            seed: SplitMix64::new(options.seed ^ index as u64).next_u64(),
                        },
                    ));
                    notes.push(format!(
                        "{}: Chaos Mesh is not installed; faultline deleted the pods itself (native pod-kill)",
                        fault.name
                    ));
                }
                _ if !installed => refused.push(format!(
                    "{}: Chaos Mesh is not installed on this cluster (no CRD {}.chaos-mesh.org); without it only PodChaos pod-kill runs (faultline deletes the pods itself). Install Chaos Mesh (https://chaos-mesh.org/docs/quick-start/) or remove this fault.",
                    fault.name,
                    kind.plural()
                )),
                _ => refused.push(format!(
                    "{}: the cluster has Chaos Mesh but no {}.chaos-mesh.org CRD",
                    fault.name,
                    kind.plural()
                )),
            },
        }
        typed.push((fault.name.clone(), chaos_object));
    }
    if !refused.is_empty() {
        return Err(KubeError::Refused(refused));
    }
    guard::whole_namespaces(client, spec, &typed).await?;
    steps.sort_by_key(|(at, _)| *at);
    Ok(Prepared {
        mesh: Arc::new(mesh),
        steps,
        notes,
    })
}

/// The run proper, once its lease is held.
async fn run_holding_lease(
    client: &Client,
    experiment: &Experiment,
    (plan, client_config): (&plan::Plan, &ClientConfig),
    options: &KubeOptions,
    prepared: Prepared,
    interrupt: impl Future<Output = String> + Send + 'static,
    watch: &mut impl FnMut(KubeEvent),
) -> Result<Report, KubeError> {
    let spec = &experiment.spec;
    let namespace = &plan.namespace;
    let Prepared {
        mesh,
        steps,
        mut notes,
    } = prepared;
    let leftovers = cleanup::leftovers(client, &mesh, namespace)
        .await
        .map_err(KubeError::Api)?;
    if !leftovers.is_empty() {
        notes.push(format!(
            "deleted {} leftover object(s) of earlier runs that no longer run: {}",
            leftovers.len(),
            leftovers.join(", ")
        ));
    }
    let endpoints = discovery::follow(client, &spec.target)
        .await
        .map_err(KubeError::Api)?;
    let deadline = Instant::now() + options.endpoints_within;
    let mut changes = endpoints.discovery.changed();
    while endpoints.discovery.snapshot().instances.is_empty() {
        if !matches!(
            tokio::time::timeout_at(deadline, changes.changed()).await,
            Ok(Ok(()))
        ) {
            return Err(KubeError::Api(format!(
                "no ready endpoint of service {} in namespace {namespace} within {}s (EndpointSlices labelled {}={}); is the service there, and are its pods ready?",
                spec.target.service.to_lowercase(),
                options.endpoints_within.as_secs(),
                discovery::SERVICE_NAME_LABEL,
                spec.target.service.to_lowercase(),
            )));
        }
    }
    let found: Vec<String> = endpoints
        .discovery
        .snapshot()
        .instances
        .iter()
        .map(|i| {
            format!(
                "{} ({}, {})",
                i.addr,
                i.zone.as_deref().unwrap_or("no zone"),
                i.tags.get("pod").map_or("-", String::as_str)
            )
        })
        .collect();
    watch(KubeEvent::Started {
        run_id: plan.run_id.clone(),
        endpoints: found,
        leftovers,
        chaos_mesh: !mesh.schemas.is_empty(),
    });

    let caller_zone = spec.target.caller_zone.clone().unwrap_or_default();
    let load = Load {
        pacing: Pacing::Precise,
        ..Load::from(&spec.workload)
    };
    let probe = ProbeHandle::new(&load);
    let measured_from = Instant::now() + load.warmup;
    let events = probe_events(vec![probe.event_sink()], &caller_zone);
    let rpc = RpcClient::from_config(client_config, Tcp, endpoints.discovery.clone(), events)
        .map_err(KubeError::Client)?;
    let scraped = metrics::scraped_pods(client, &spec.target)
        .await
        .unwrap_or_else(|err| {
            notes.push(format!("target metrics: {err}"));
            Vec::new()
        });
    let metrics_before = metrics::scrape_all(&scraped).await;
    let hands = Arc::new(KubeHands::new(
        client.clone(),
        mesh,
        namespace,
        &plan.run_id,
        options.patience,
    ));
    let ran = runner::drive(
        Run {
            spec,
            hands: hands.clone(),
            steps,
            client: EchoClient::new(rpc, client_config.pool.protocol),
            load,
            probe,
            measured_from,
        },
        interrupt,
        |progress| watch(KubeEvent::Second(progress)),
    )
    .await;
    drop(endpoints);
    let metrics_after = metrics::scrape_all(&scraped).await;

    let mut faults = fault_reports(experiment, plan, &hands.chosen());
    ran.mark_skipped(&mut faults);
    notes.extend(hands.errors());
    notes.extend(ran.stopped.clone());
    let mut report = Report::build(ReportInput {
        experiment: &experiment.metadata.name.clone().unwrap_or_default(),
        spec,
        backend: "kube",
        seed: options.seed,
        run_id: plan.run_id.clone(),
        timeline: &ran.timeline,
        measured: ran.measured,
        aborted: ran.aborted.clone(),
        faults,
        checks: Vec::new(),
        notes,
        replay: None,
    });
    report.target_metrics = metrics::compare(&metrics_before, &metrics_after);
    Ok(report)
}

/// The faults as the report shows them: the pods each acted on when known, else the
/// selection the plan describes.
fn fault_reports(
    experiment: &Experiment,
    plan: &plan::Plan,
    chosen: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<FaultReport> {
    let mut reports = Vec::new();
    for step in &plan.steps {
        let Event::Inject {
            fault,
            kind,
            action,
            targets,
            ..
        } = &step.event
        else {
            continue;
        };
        let Some(spec) = experiment.spec.faults.iter().find(|f| &f.name == fault) else {
            continue;
        };
        let targets = match (chosen.get(fault), targets) {
            (Some(pods), _) if !pods.is_empty() => pods.clone(),
            (
                _,
                Targets::Cluster {
                    namespace,
                    selection,
                },
            ) => vec![format!("{namespace}: {selection}")],
            (_, Targets::Plan { instances, .. }) => instances.clone(),
            (_, Targets::Skipped { reason }) => vec![reason.clone()],
        };
        reports.push(FaultReport {
            name: fault.clone(),
            kind: kind.clone(),
            action: action.clone(),
            targets,
            start: spec.at,
            end: spec.end(),
            skipped: None,
        });
    }
    reports
}
