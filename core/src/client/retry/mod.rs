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
mod config;
mod control;
mod latency;
mod policy;

use std::sync::Arc;
use std::time::Duration;

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
/// As data (camelCase, every field optional): `{ maxRetries: 2, retryNonIdempotent: false,
/// backoff: { type: none }, seed: 7, budget: { ratio: 0.1 }, breaker: { errorRate: 0.1 },
/// chainStop: true, minRemaining: 5ms, backup: { type: fixed, delay: 10ms } }`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RetryConfig {
    /// Retries after the first attempt (0 turns failure retry off; at most
    /// [`RetryConfig::MAX_RETRIES`]).
    pub max_retries: u32,
    /// Retry (and hedge) calls not marked idempotent too.
    pub retry_non_idempotent: bool,
    pub backoff: Backoff,
    /// Seed for random backoff; `None` seeds from the process's randomness.
    pub seed: Option<u64>,
    /// The retry budget (`enabled: false` leaves retries unbounded by a budget).
    pub budget: BudgetConfig,
    /// The retry breaker (`enabled: false` turns it off).
    pub breaker: RetryBreakerConfig,
    /// Do not retry calls that are themselves retries from upstream.
    pub chain_stop: bool,
    /// No extra attempt unless at least this much time (after the backoff) is left.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub min_remaining: Duration,
    /// Backup requests; absent (`None`) turns them off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupDelay>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 2,
            retry_non_idempotent: false,
            backoff: Backoff::None,
            seed: None,
            budget: BudgetConfig::default(),
            breaker: RetryBreakerConfig::default(),
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
    /// Values `RetryConfig::validate` would refuse are clamped into range here rather than
    /// panicking (see `BudgetConfig::build`, `RetryBreaker::new`).
    pub fn new(config: RetryConfig, events: EventBus) -> Self {
        let control = Arc::new(RetryControl {
            budget: config.budget.build(),
            breaker: config
                .breaker
                .enabled
                .then(|| RetryBreaker::new(config.breaker)),
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
