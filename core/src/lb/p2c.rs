//! Power of two choices by EWMA latency: draw two instances by weight, send the call to
//! the one with the lower latency average.
//!
//! Latencies come back through `Picker::feedback`; each instance's [`Ewma`] is kept by
//! address across snapshot changes. An instance with no sample yet counts as
//! `P2cConfig::initial`, so new instances get tried. A failure that says something about
//! the callee counts as `failure_penalty` (or its latency, if longer), so a fast-failing
//! instance does not look fast. Draws come from a seeded [`SplitMix64`].
//!
//! Why not tower's `p2c` + `PeakEwma`: see the `lb` module doc (it picks before it sees
//! the request, and balances over per-endpoint services).

use std::sync::Arc;
use std::time::Duration;

use super::random::RandomPicker;
use super::registry::Registry;
use super::{Balancer, Ewma, Feedback, Picker};
use crate::rng::SplitMix64;
use crate::rpc::{Call, Instance, RpcErrorKind};

/// Settings of [`P2c`]. As data: `{ seed: 0, alpha: 0.3, initial: 1ms, failurePenalty: 1s }`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct P2cConfig {
    pub seed: u64,
    /// Weight of each new latency sample in the average, in (0, 1].
    pub alpha: f64,
    /// The latency assumed for an instance before its first sample.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub initial: Duration,
    /// The latency a failed call counts as, at least.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub failure_penalty: Duration,
}

impl Default for P2cConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            alpha: 0.3,
            initial: Duration::from_millis(1),
            failure_penalty: Duration::from_secs(1),
        }
    }
}

/// Power-of-two-choices balancer.
#[derive(Debug)]
pub struct P2c {
    config: P2cConfig,
    rng: Arc<SplitMix64>,
    latencies: Registry<Ewma>,
}

impl P2c {
    pub fn new(config: P2cConfig) -> Self {
        Self {
            rng: Arc::new(SplitMix64::new(config.seed)),
            latencies: Registry::default(),
            config,
        }
    }
}

impl Balancer for P2c {
    fn build(&self, instances: Vec<Arc<Instance>>) -> Arc<dyn Picker> {
        let alpha = self.config.alpha;
        let latencies = self
            .latencies
            .get_all(instances.iter().map(|i| &i.addr), || Ewma::new(alpha));
        Arc::new(P2cPicker {
            draw: RandomPicker::new(instances, self.rng.clone()),
            latencies,
            config: self.config,
        })
    }
}

struct P2cPicker {
    draw: RandomPicker,
    latencies: Vec<Arc<Ewma>>,
    config: P2cConfig,
}

impl P2cPicker {
    fn cost(&self, index: usize) -> Duration {
        self.latencies[index].get().unwrap_or(self.config.initial)
    }
}

impl Picker for P2cPicker {
    fn pick(&self, call: &Call) -> Option<usize> {
        let a = self.draw.pick(call)?;
        let b = self.draw.pick(call)?;
        // On a tie the first draw wins, so equal instances still share by weight.
        Some(if self.cost(b) < self.cost(a) { b } else { a })
    }

    fn instances(&self) -> &[Arc<Instance>] {
        self.draw.instances()
    }

    fn feedback(&self, index: usize, feedback: Feedback<'_>) {
        let sample = match feedback.error {
            None => feedback.latency,
            Some(e) if e.counts_against_callee() || e.kind() == RpcErrorKind::BreakerOpen => {
                feedback.latency.max(self.config.failure_penalty)
            }
            Some(_) => return,
        };
        if let Some(ewma) = self.latencies.get(index) {
            ewma.record(sample);
        }
    }
}
