//! Retries stay within the configuration: no call is retried more than `maxRetries` times
//! (a backup request counts as one), and over the run the extra attempts stay within the
//! retry budget (`ratio` of the calls plus `minPerSec` for every second of the run and
//! the budget's window). A retry after an instance breaker's refusal sent nothing and is
//! free of the budget (it still counts against `maxRetries`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::client::ClientConfig;
use faultline_core::event::{Event, EventKind, Side};
use faultline_core::rpc::RpcErrorKind;

use super::Checker;

pub struct RetryBudget {
    max_retries: u32,
    /// (ratio, minPerSec, ttl) when the budget is on.
    budget: Option<(f64, u32, Duration)>,
    calls: u64,
    retries: u64,
    first: Option<Duration>,
    last: Duration,
    per_call: BTreeMap<(Arc<str>, u64), u32>,
}

impl RetryBudget {
    pub fn new(client: &ClientConfig) -> Self {
        let budget = &client.retry.budget;
        Self {
            max_retries: client.retry.max_retries,
            budget: budget.enabled.then_some((
                f64::from(budget.ratio),
                budget.min_per_sec,
                budget.ttl,
            )),
            calls: 0,
            retries: 0,
            first: None,
            last: Duration::ZERO,
            per_call: BTreeMap::new(),
        }
    }
}

impl Checker for RetryBudget {
    fn name(&self) -> &'static str {
        "retries-within-budget"
    }

    fn description(&self) -> &'static str {
        "retries per call within maxRetries, and extra attempts within the retry budget"
    }

    fn observe(&mut self, at: Duration, event: &Event) -> Option<String> {
        self.first.get_or_insert(at);
        self.last = self.last.max(at);
        match &event.kind {
            EventKind::CallFinished {
                side: Side::Client, ..
            } => {
                self.calls += 1;
                if let Some(call) = event.call {
                    self.per_call.remove(&(event.origin.host.clone(), call.id));
                }
                None
            }
            EventKind::Retry { .. } | EventKind::BackupRequest { .. } => {
                let free = matches!(
                    event.kind,
                    EventKind::Retry {
                        error: RpcErrorKind::BreakerOpen,
                        ..
                    }
                );
                if !free {
                    self.retries += 1;
                }
                let call = event.call?;
                let count = self
                    .per_call
                    .entry((event.origin.host.clone(), call.id))
                    .or_default();
                *count += 1;
                (*count > self.max_retries.max(1)).then(|| {
                    format!(
                        "call {} was resent {count} times; maxRetries is {}",
                        call.id, self.max_retries
                    )
                })
            }
            _ => None,
        }
    }

    fn finish(&mut self) -> Vec<String> {
        let Some((ratio, min_per_sec, ttl)) = self.budget else {
            return Vec::new();
        };
        let span = self.last.saturating_sub(self.first.unwrap_or_default()) + ttl;
        let allowed = ratio * self.calls as f64 + f64::from(min_per_sec) * span.as_secs_f64();
        match (self.retries as f64) <= allowed.ceil() {
            true => Vec::new(),
            false => vec![format!(
                "{} retries for {} calls: the budget allows {allowed:.0}",
                self.retries, self.calls
            )],
        }
    }
}
