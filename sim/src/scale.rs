//! Time scaling: how the simulation reaches below one tick (1 ms).
//!
//! At scale `S` every duration of the run is `S` times longer on the simulated clock and
//! every per-second quantity `S` times smaller: link latencies and fault delays, the
//! workload's schedule, fault times, every duration of the client's and servers'
//! configuration (timeouts, breaker windows and cooling, backoff, pool timeouts, the
//! zone-aware threshold) and `minPerSec` of the retry budget. The probe records in
//! unscaled time, so the report reads as the experiment was written. A tick then stands
//! for `1 ms / S`.
//!
//! [`TimeScale::for_experiment`] picks the smallest of 1, 10 and 100 at which every link
//! latency and fault delay of the experiment is a whole number of ticks (up to 100 µs
//! figures such as the origin's 0.8 ms need 10). Configuration values are scaled by
//! walking their serialized form: every string that reads as a duration is one (the
//! config types write every duration as one), except in the fields that hold free text.

use std::time::Duration;

use faultline_chaos::spec::chaos_mesh::{ChaosObject, NetworkChaos};
use faultline_chaos::spec::experiment::ExperimentSpec;
use faultline_core::client::ClientConfig;
use faultline_core::config::duration;
use faultline_core::server::ServerConfig;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Fields of the config types that hold text, not durations, even when the text reads as
/// one.
const TEXT_FIELDS: [&str; 6] = [
    "reply",
    "exception",
    "caller",
    "service",
    "zone",
    "localZone",
];
/// Fields that count per second.
const PER_SECOND_FIELDS: [&str; 1] = ["minPerSec"];
/// Durations with an upper bound below what scaling can reach: the retry budget's window
/// (tower's `TpsBudget` takes at most a minute). Scaled, they stop at the bound.
const CAPPED_FIELDS: [(&str, Duration); 1] = [("ttl", Duration::from_secs(60))];

/// Simulated time per unit of experiment time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeScale(u32);

impl TimeScale {
    pub const ONE: TimeScale = TimeScale(1);
    /// The scales `for_experiment` chooses among, and the largest `new` accepts.
    pub const CHOICES: [u32; 3] = [1, 10, 100];

    /// A scale of `factor` (1 ..= 100).
    pub fn new(factor: u32) -> Option<TimeScale> {
        (1..=100).contains(&factor).then_some(TimeScale(factor))
    }

    pub fn factor(self) -> u32 {
        self.0
    }

    /// The smallest scale at which the experiment's latencies are whole ticks.
    pub fn for_experiment(spec: &ExperimentSpec) -> TimeScale {
        let latencies = latencies(spec);
        let fits = |factor: u32| {
            latencies
                .iter()
                .all(|d| (d.as_nanos() * u128::from(factor)) % 1_000_000 == 0)
        };
        let factor = Self::CHOICES
            .into_iter()
            .find(|f| fits(*f))
            .unwrap_or(*Self::CHOICES.last().expect("choices are not empty"));
        TimeScale(factor)
    }

    /// `d` on the simulated clock.
    pub fn duration(self, d: Duration) -> Duration {
        d.saturating_mul(self.0)
    }

    /// `d` on the simulated clock, in whole ticks (ms), as a float.
    pub fn ticks(self, d: Duration) -> f64 {
        self.duration(d).as_secs_f64() * 1000.0
    }

    /// A config with every duration scaled and every per-second count divided.
    pub fn config<T: Serialize + DeserializeOwned>(self, config: &T) -> T {
        let mut value = serde_json::to_value(config).expect("config types serialize");
        self.walk(&mut value, faultline_core::config::MAX_DURATION);
        serde_json::from_value(value).expect("a scaled config reads back")
    }

    /// Scales the durations in `value`, none beyond `cap` (unless already beyond it).
    fn walk(self, value: &mut Value, cap: Duration) {
        match value {
            Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    if TEXT_FIELDS.contains(&key.as_str()) {
                        continue;
                    }
                    if PER_SECOND_FIELDS.contains(&key.as_str()) {
                        if let Some(n) = field.as_u64() {
                            *field = Value::from(n.div_ceil(u64::from(self.0)));
                        }
                        continue;
                    }
                    let cap = CAPPED_FIELDS
                        .iter()
                        .find(|(name, _)| name == key)
                        .map(|(_, cap)| *cap);
                    self.walk(field, cap.unwrap_or(faultline_core::config::MAX_DURATION));
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.walk(item, cap)),
            Value::String(text) => {
                if let Ok(d) = duration::parse(text) {
                    let scaled = self.duration(d).min(cap.max(d));
                    *text = duration::format(scaled);
                }
            }
            _ => {}
        }
    }

    pub fn client(self, config: &ClientConfig) -> ClientConfig {
        self.config(config)
    }

    pub fn server(self, config: &ServerConfig) -> ServerConfig {
        self.config(config)
    }
}

/// Every link latency and fault delay the experiment names.
fn latencies(spec: &ExperimentSpec) -> Vec<Duration> {
    let link = &spec.topology.latency;
    let mut all = vec![
        link.within_zone.mean,
        link.within_zone.p99,
        link.across_zones.mean,
        link.across_zones.p99,
    ];
    for fault in &spec.faults {
        let Ok(ChaosObject::NetworkChaos(NetworkChaos { spec: network, .. })) =
            fault.chaos_object(&fault.name, "default", &Default::default())
        else {
            continue;
        };
        if let Some(delay) = &network.delay {
            let texts = [Some(delay.latency.as_str()), delay.jitter.as_deref()];
            all.extend(
                texts
                    .into_iter()
                    .flatten()
                    .filter_map(|t| duration::parse(t).ok()),
            );
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_scale_every_duration_and_per_second_count_but_not_text() {
        let config: ClientConfig = serde_json::from_value(serde_json::json!({
            "service": "5ms",
            "timeout": "100ms",
            "retry": {"maxRetries": 2, "budget": {"minPerSec": 15, "ttl": "10s"},
                      "backoff": {"type": "random", "min": "1ms", "max": "3ms"}},
            "fallback": {"on": "anyError", "reply": "1s"},
            "balancer": {"type": "zoneAware", "threshold": "3.5ms"},
        }))
        .unwrap();
        let scaled = serde_json::to_value(TimeScale(10).client(&config)).unwrap();
        assert_eq!(scaled["service"], "5ms");
        assert_eq!(scaled["timeout"], "1s");
        assert_eq!(scaled["retry"]["budget"]["minPerSec"], 2);
        assert_eq!(
            scaled["retry"]["budget"]["ttl"], "1m",
            "capped at tower's bound"
        );
        assert_eq!(scaled["retry"]["backoff"]["max"], "30ms");
        assert_eq!(scaled["fallback"]["reply"], "1s");
        assert_eq!(scaled["balancer"]["threshold"], "35ms");
        assert_eq!(
            scaled["serviceBreaker"]["bucket"], "1s",
            "defaults scale too"
        );
        assert_eq!(TimeScale::ONE.client(&config), config);
    }
}
