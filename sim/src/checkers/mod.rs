//! Checkers: invariants every simulated run is held to, whatever its hypothesis says. They
//! read the lossless event record of every host as it happens; a violation fails the run
//! and names the event that broke it.
//!
//! One file per invariant:
//! - [`open_instance`]: no attempt reaches an instance whose breaker is open, other than
//!   half-open probes;
//! - [`breaker_trip`]: a breaker opens only when its window met the trip criteria;
//! - [`fallback`]: a call that failed in a way the fallback policy covers got the fallback;
//! - [`retry_budget`]: retries stay within `maxRetries` per call and the budget per run;
//! - [`one_outcome`]: every call ends exactly once (never counted failed and succeeded);
//! - [`server_deadline`]: no server works on a call past the deadline it was sent.

mod breaker_trip;
mod fallback;
mod one_outcome;
mod open_instance;
mod retry_budget;
mod server_deadline;

use std::time::Duration;

use faultline_chaos::report::{Check, Violation};
use faultline_core::client::ClientConfig;
use faultline_core::event::Event;

/// Violations kept per checker (the count goes on).
const KEPT: usize = 20;

/// One invariant.
pub trait Checker: Send {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// Looks at one event, `at` into the run (unscaled); `Some` says what it broke.
    fn observe(&mut self, at: Duration, event: &Event) -> Option<String>;
    /// Run-level judgement once every event is in.
    fn finish(&mut self) -> Vec<String> {
        Vec::new()
    }
}

struct Tracked {
    checker: Box<dyn Checker>,
    checked: u64,
    violations: Vec<Violation>,
}

/// Every checker of a run, fed one event at a time.
pub struct Checkers {
    tracked: Vec<Tracked>,
    last_at: Duration,
}

impl Checkers {
    /// The checkers for a probe client configured as `client` (unscaled).
    pub fn new(client: &ClientConfig) -> Self {
        let checkers: Vec<Box<dyn Checker>> = vec![
            Box::new(open_instance::OpenInstance::default()),
            Box::new(breaker_trip::BreakerTrip::new(client)),
            Box::new(fallback::Fallback::new(client)),
            Box::new(retry_budget::RetryBudget::new(client)),
            Box::new(one_outcome::OneOutcome::default()),
            Box::new(server_deadline::ServerDeadline),
        ];
        Self {
            tracked: checkers
                .into_iter()
                .map(|checker| Tracked {
                    checker,
                    checked: 0,
                    violations: Vec::new(),
                })
                .collect(),
            last_at: Duration::ZERO,
        }
    }

    /// Feeds `event`, which happened `at` into the run (unscaled).
    pub fn observe(&mut self, at: Duration, event: &Event) {
        self.last_at = at;
        for tracked in &mut self.tracked {
            tracked.checked += 1;
            if let Some(message) = tracked.checker.observe(at, event) {
                if tracked.violations.len() < KEPT {
                    tracked.violations.push(Violation {
                        at,
                        event: serde_json::to_string(event).unwrap_or_default(),
                        message,
                    });
                }
            }
        }
    }

    /// The checks, with the run-level judgements added.
    pub fn finish(mut self) -> Vec<Check> {
        let at = self.last_at;
        self.tracked
            .iter_mut()
            .map(|tracked| {
                for message in tracked.checker.finish() {
                    tracked.violations.push(Violation {
                        at,
                        event: String::new(),
                        message,
                    });
                }
                Check {
                    name: tracked.checker.name().to_owned(),
                    description: tracked.checker.description().to_owned(),
                    checked: tracked.checked,
                    violations: std::mem::take(&mut tracked.violations),
                }
            })
            .collect()
    }
}
