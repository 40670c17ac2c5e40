//! Retry: failure retry and backup (hedged) requests, sharing one budget and one retry
//! breaker.
//!
//! `RetryLayer` wraps a service in tower's `Retry` with the `FailureRetry` policy, around
//! `Backup`, which hedges first attempts when a `BackupConfig` is given:
//!
//! ```text
//! Retry<FailureRetry, Backup<S>>
//! ```
//!
//! Defaults (`RetryConfig::default()`) follow Kitex's failure policy: at most 2 retries,
//! only for `RpcError::is_retryable()` errors of methods marked idempotent, no backoff,
//! chain-stop on, retry breaker at 10 % errors over 10 s (min 10 samples); plus a retry
//! budget of 10 % extra attempts (reserve 10 per second) and no retry with less than 5 ms
//! left before the deadline.

mod backoff;
mod backup;
mod breaker;
mod control;
mod latency;
mod policy;

use std::sync::Arc;
use std::time::Duration;

use tower::retry::budget::TpsBudget;
use tower::retry::Retry;
use tower::Layer;

pub use backoff::Backoff;
pub use backup::{Backup, BackupDelay};
pub use breaker::RetryBreakerConfig;
pub use control::{is_retry_request, BudgetConfig, RETRY_MARK_KEY};
pub use policy::FailureRetry;

use backoff::BackoffState;
use backup::Hedge;
use breaker::RetryBreaker;
use control::RetryControl;

use crate::event::EventBus;

/// Failure-retry settings, and the admission rules retries and backup requests share.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Retries after the first attempt (0 turns failure retry off).
    pub max_retries: u32,
    /// Retry (and hedge) calls not marked idempotent too.
    pub retry_non_idempotent: bool,
    pub backoff: Backoff,
    /// Seed for random backoff; `None` seeds from the process's randomness.
    pub seed: Option<u64>,
    /// `None` leaves retries unbounded by a budget.
    pub budget: Option<BudgetConfig>,
    /// `None` turns the retry breaker off.
    pub breaker: Option<RetryBreakerConfig>,
    /// Do not retry calls that are themselves retries from upstream.
    pub chain_stop: bool,
    /// No extra attempt unless at least this much time (after the backoff) is left.
    pub min_remaining: Duration,
    /// Backup requests; `None` turns them off.
    pub backup: Option<BackupDelay>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 2,
            retry_non_idempotent: false,
            backoff: Backoff::None,
            seed: None,
            budget: Some(BudgetConfig::default()),
            breaker: Some(RetryBreakerConfig::default()),
            chain_stop: true,
            min_remaining: Duration::from_millis(5),
            backup: None,
        }
    }
}

/// Applies failure retry and backup requests; the layers it makes share one budget and
/// one retry breaker, so build it once per client.
#[derive(Debug, Clone)]
pub struct RetryLayer {
    policy: FailureRetry,
    hedge: Option<Arc<Hedge>>,
}

impl RetryLayer {
    /// # Panics
    /// When the budget's `ttl` is outside 1 s ..= 60 s or its `ratio` outside
    /// 0.0 ..= 1000.0 (tower's `TpsBudget` bounds).
    pub fn new(config: RetryConfig, events: EventBus) -> Self {
        let control = Arc::new(RetryControl {
            budget: config
                .budget
                .map(|b| TpsBudget::new(b.ttl, b.min_per_sec, b.ratio)),
            breaker: config.breaker.map(RetryBreaker::new),
            chain_stop: config.chain_stop,
            retry_non_idempotent: config.retry_non_idempotent,
            min_remaining: config.min_remaining,
            events,
        });
        let hedge = config
            .backup
            .map(|delay| Arc::new(Hedge::new(delay, control.clone())));
        let policy = FailureRetry {
            control,
            backoff: Arc::new(BackoffState::new(config.backoff, config.seed)),
            max_retries: config.max_retries,
        };
        Self { policy, hedge }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<FailureRetry, Backup<S>>;

    fn layer(&self, inner: S) -> Self::Service {
        Retry::new(self.policy.clone(), Backup::new(inner, self.hedge.clone()))
    }
}
