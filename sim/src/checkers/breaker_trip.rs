//! A breaker opens (from CLOSED) only when its window held at least `minSamples` calls
//! at an error rate of at least `errorRate`: the trip rule, checked on the evidence each
//! transition carries.

use std::time::Duration;

use faultline_core::breaker::{BreakerConfig, BreakerScope, BreakerState};
use faultline_core::client::ClientConfig;
use faultline_core::event::{Event, EventKind};

use super::Checker;

pub struct BreakerTrip {
    service: BreakerConfig,
    instance: BreakerConfig,
}

impl BreakerTrip {
    pub fn new(client: &ClientConfig) -> Self {
        Self {
            service: client.service_breaker.clone(),
            instance: client.instance_breaker.clone(),
        }
    }
}

impl Checker for BreakerTrip {
    fn name(&self) -> &'static str {
        "breaker-trips-by-its-window"
    }

    fn description(&self) -> &'static str {
        "a breaker opens only after its window met minSamples and errorRate"
    }

    fn observe(&mut self, _at: Duration, event: &Event) -> Option<String> {
        let EventKind::BreakerTransition {
            scope,
            from: BreakerState::Closed,
            to: BreakerState::Open,
            samples,
            error_rate,
        } = &event.kind
        else {
            return None;
        };
        let config = match scope {
            BreakerScope::Service { .. } => &self.service,
            BreakerScope::Instance { .. } => &self.instance,
        };
        let enough = *samples >= config.min_samples;
        // The window's rate against the threshold, allowing for float rounding.
        let failing = *error_rate + 1e-9 >= config.error_rate;
        (!enough || !failing).then(|| {
            format!(
                "{scope} opened with {samples} samples at {:.2}% errors; it needs {} samples at {:.2}%",
                error_rate * 100.0,
                config.min_samples,
                config.error_rate * 100.0
            )
        })
    }
}
