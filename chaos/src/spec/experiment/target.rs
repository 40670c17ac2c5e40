//! The experiment's target (the service under test and how to reach it), its workload (the
//! open-loop load the probe offers) and its report settings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use faultline_core::config::duration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The service under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    /// The Thrift service name (TTHeader `ToService`).
    pub service: String,
    /// The Kubernetes namespace its pods run in (on a cluster).
    pub namespace: String,
    /// The port its instances listen on (on a cluster; local and simulated runs choose).
    pub port: u16,
    /// Labels of its pods; faults whose selector names none of the target's pods are
    /// reported, never silently dropped. Empty: `app: <service in lower case>`.
    pub selector: BTreeMap<String, String>,
    /// How the probe reaches it on a cluster, `host:port` (default: the Kubernetes Service
    /// `<service>.<namespace>.svc:<port>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The zone the probe (the caller) runs in; zone-aware balancing prefers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_zone: Option<String>,
}

impl Default for Target {
    fn default() -> Self {
        Self {
            service: faultline_core::echo::SERVICE.into(),
            namespace: "default".into(),
            port: 9000,
            selector: BTreeMap::new(),
            address: None,
            caller_zone: None,
        }
    }
}

impl Target {
    /// The target's pod labels: `selector`, or `app: <service in lower case>`.
    pub fn labels(&self) -> BTreeMap<String, String> {
        match self.selector.is_empty() {
            true => BTreeMap::from([("app".to_owned(), self.service.to_lowercase())]),
            false => self.selector.clone(),
        }
    }

    /// Where the probe calls it on a cluster.
    pub fn cluster_address(&self) -> String {
        self.address.clone().unwrap_or_else(|| {
            format!(
                "{}.{}.svc:{}",
                self.service.to_lowercase(),
                self.namespace,
                self.port
            )
        })
    }
}

/// The probe's open-loop load: calls start on schedule whatever the replies do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Workload {
    /// The method called (the example service has `echo`).
    pub method: String,
    /// Bytes of payload per call.
    pub payload_bytes: usize,
    /// Calls started per second.
    pub rate: u32,
    /// How long the measured load runs; fault offsets count from its start.
    #[serde(with = "duration")]
    #[schemars(with = "duration::Schema")]
    pub duration: Duration,
    /// Load before the measured part (connections warm, balancer RTTs measured); not judged.
    #[serde(with = "duration")]
    #[schemars(with = "duration::Schema")]
    pub warmup: Duration,
    /// Calls in flight at most; a call due while this many are out is counted as dropped.
    pub max_in_flight: usize,
}

impl Default for Workload {
    fn default() -> Self {
        Self {
            method: faultline_core::echo::METHOD.into(),
            payload_bytes: 64,
            rate: 100,
            duration: Duration::from_secs(60),
            warmup: Duration::from_secs(5),
            max_in_flight: 1000,
        }
    }
}

impl Workload {
    /// The most calls per second a workload may ask for.
    pub const MAX_RATE: u32 = 1_000_000;
    /// The largest payload a call may carry.
    pub const MAX_PAYLOAD: usize = 16 << 20;
    /// The longest a workload may run.
    pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
}

/// Where the report goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ReportSettings {
    /// The directory `report.json` and `report.html` are written to (default
    /// `faultline-reports/<experiment name>`; `--report-dir` overrides it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Write `report.json`.
    pub json: bool,
    /// Write `report.html`.
    pub html: bool,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            dir: None,
            json: true,
            html: true,
        }
    }
}
