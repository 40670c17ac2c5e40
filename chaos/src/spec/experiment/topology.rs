//! The topology of local and simulated runs: zones, the instances in each and their labels,
//! and the latency of links within a zone and across zones (a distribution: mean and p99).
//!
//! Instances are named `<service>-<zone>-<i>` (lower case) and labelled `app: <service>`,
//! `zone: <zone>`, plus the zone's own labels, so Chaos Mesh selectors pick them as they
//! would pick pods.

use std::collections::BTreeMap;
use std::time::Duration;

use faultline_core::config::duration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Zones and links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Topology {
    pub zones: Vec<ZoneSpec>,
    pub latency: LinkLatency,
}

impl Default for Topology {
    /// One zone, `az1`, of three instances; no added link latency.
    fn default() -> Self {
        Self {
            zones: vec![ZoneSpec {
                name: "az1".into(),
                instances: 3,
                labels: BTreeMap::new(),
            }],
            latency: LinkLatency::default(),
        }
    }
}

/// One zone and its instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ZoneSpec {
    pub name: String,
    /// How many instances run in it.
    #[serde(default = "default_instances")]
    pub instances: u32,
    /// Labels every instance of the zone carries (beside `app` and `zone`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

fn default_instances() -> u32 {
    1
}

/// Link latency within a zone and across zones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct LinkLatency {
    pub within_zone: Latency,
    pub across_zones: Latency,
}

impl LinkLatency {
    /// For people: `within a zone mean 800us p99 2.1ms, across zones mean 3.2ms p99 4.7ms`.
    pub fn describe(&self) -> String {
        let f = duration::format;
        format!(
            "within a zone mean {} p99 {}, across zones mean {} p99 {}",
            f(self.within_zone.mean),
            f(self.within_zone.p99),
            f(self.across_zones.mean),
            f(self.across_zones.p99)
        )
    }
}

/// The round-trip time of a call between two hosts (the network's part of it): its mean
/// and its 99th percentile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Latency {
    #[serde(with = "duration")]
    #[schemars(with = "duration::Schema")]
    pub mean: Duration,
    /// At least `mean`; equal to it for a fixed latency.
    #[serde(with = "duration")]
    #[schemars(with = "duration::Schema")]
    pub p99: Duration,
}

/// One instance of the topology, as selectors see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSpec {
    pub name: String,
    pub zone: String,
    pub labels: BTreeMap<String, String>,
}

impl Topology {
    /// The most instances one zone may have.
    pub const MAX_INSTANCES_PER_ZONE: u32 = 64;

    /// Every instance, zone by zone in the order written, with its name and labels.
    pub fn instances(&self, service: &str) -> Vec<InstanceSpec> {
        let app = service.to_lowercase();
        self.zones
            .iter()
            .flat_map(|zone| {
                let app = app.clone();
                (0..zone.instances).map(move |i| {
                    let mut labels = zone.labels.clone();
                    labels.insert("app".into(), app.clone());
                    labels.insert("zone".into(), zone.name.clone());
                    InstanceSpec {
                        name: format!("{app}-{}-{i}", zone.name).to_lowercase(),
                        zone: zone.name.clone(),
                        labels,
                    }
                })
            })
            .collect()
    }
}
