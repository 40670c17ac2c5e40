//! The faultline `Experiment` (`faultline.dev/v1alpha1`): what to attack, how to drive it,
//! which faults to inject when, and what must hold. One experiment file runs in the
//! simulation, on local processes and on a cluster.
//!
//! ```yaml
//! apiVersion: faultline.dev/v1alpha1
//! kind: Experiment
//! metadata: { name: zone-failover }
//! spec:
//!   target: { service: Echo, callerZone: az1 }
//!   topology:
//!     zones: [{ name: az1, instances: 3 }, { name: az2, instances: 3 }]
//!     latency: { withinZone: { mean: 800us, p99: 2.1ms }, acrossZones: { mean: 3.2ms, p99: 4.7ms } }
//!   client: { timeout: 100ms, balancer: { type: zoneAware } }
//!   workload: { rate: 1000, duration: 60s, warmup: 5s }
//!   faults:
//!     - name: slow-az2
//!       at: 20s
//!       duration: 20s
//!       kind: NetworkChaos
//!       spec: { action: delay, mode: all, selector: { labelSelectors: { zone: az2 } }, delay: { latency: 5ms } }
//!   hypothesis:
//!     before: [{ metric: p99, below: 5ms }]
//!     during: [{ metric: trafficShare, zone: az1, above: 90% }]
//!     after: [{ metric: errorRate, below: 1% }]
//!     recoverWithin: 10s
//!   abort: [{ metric: errorRate, above: 20%, for: 5s }]
//!   report: { dir: reports/zone-failover }
//! ```
//!
//! The parts, one file each: [`target`] (target, workload, report), [`topology`], [`fault`],
//! [`hypothesis`] (clauses and abort conditions), [`validate`] (the checks across them).
//! `Experiment` is a Kubernetes custom resource (kube's `CustomResource` derive over
//! [`ExperimentSpec`]); `faultline chaos crd` prints its CustomResourceDefinition.

mod fault;
mod hypothesis;
mod target;
mod topology;
mod validate;

use faultline_core::client::ClientConfig;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use fault::Fault;
pub use hypothesis::{
    AbortCondition, BreakerKind, Clause, Hypothesis, Metric, MetricKind, Threshold, ThresholdValue,
};
pub use target::{ReportSettings, Target, Workload};
pub use topology::{InstanceSpec, Latency, LinkLatency, Topology, ZoneSpec};
pub use validate::is_dns_label;

/// The API group and version of `Experiment`.
pub const API_VERSION: &str = "faultline.dev/v1alpha1";
/// The kind name of `Experiment`.
pub const KIND: &str = "Experiment";

/// What an experiment is: see the module doc for the shape. Every section but `faults` may
/// be left out; the defaults make a working run against the example service.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "faultline.dev",
    version = "v1alpha1",
    kind = "Experiment",
    namespaced,
    status = "ExperimentStatus",
    shortname = "flx",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExperimentSpec {
    /// The service under test and how to reach it.
    pub target: Target,
    /// Zones and instances for local and simulated runs (a cluster has its own).
    pub topology: Topology,
    /// The client stack the probe calls through (the caller's zone comes from
    /// `target.callerZone`).
    pub client: ClientConfig,
    /// The open-loop load the probe offers.
    pub workload: Workload,
    /// The fault schedule: Chaos Mesh specs with a start offset and a duration.
    pub faults: Vec<Fault>,
    /// What must hold before, during and after the faults.
    pub hypothesis: Hypothesis,
    /// Conditions that stop the run and roll every fault back at once.
    pub abort: Vec<AbortCondition>,
    /// Where the JSON and HTML reports go.
    pub report: ReportSettings,
}

/// Where a run of an experiment stands (written by the controller).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ExperimentStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The run id carried by every object the run created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// A one-line summary of the verdict or of why the run stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The controller replica that ran it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
    /// Each hypothesis clause: what was expected, what was observed, whether it held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clauses: Vec<ClauseStatus>,
    /// The whole measured run in figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<StatusSummary>,
    /// The ConfigMap (next to the Experiment) holding `report.json` and `report.html`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

/// One clause's verdict, as the status shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ClauseStatus {
    /// `before`, `during` or `after`.
    pub phase: String,
    /// The clause as written, in one line.
    pub clause: String,
    pub observed: String,
    pub passed: bool,
}

/// The run in figures, as the status shows them (durations as Chaos Mesh writes them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct StatusSummary {
    pub calls: u64,
    /// Errors per call, in percent (`0.12` is 0.12 %).
    pub error_percent: String,
    pub fallback_percent: String,
    pub p50: String,
    pub p99: String,
    /// How long measurement ran.
    pub measured: String,
}

/// The phases of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Phase {
    Pending,
    Running,
    Passed,
    Failed,
    Aborted,
}

impl ExperimentSpec {
    /// The client the probe builds: `client` with the caller's zone from the target.
    /// The zone the probe calls from: `target.callerZone`, else the first instance's.
    pub fn caller_zone(&self, instances: &[InstanceSpec]) -> String {
        self.target
            .caller_zone
            .clone()
            .or_else(|| instances.first().map(|i| i.zone.clone()))
            .unwrap_or_default()
    }

    pub fn effective_client(&self) -> ClientConfig {
        let mut client = self.client.clone();
        if client.zone.is_none() {
            client.zone = self.target.caller_zone.clone();
        }
        client
    }
}
