//! `RetryControl`: what failure retries and backup requests share — the retry budget, the
//! retry breaker, chain-stop, the deadline floor — and the retry mark in metadata.
//!
//! The budget is tower's `retry::budget::TpsBudget`, whose semantics fit Kitex's "extra
//! load at most a share of requests": every call deposits once, every retry or backup
//! request withdraws `1 / ratio` deposits, deposits expire after `ttl` (kept in 10 slots),
//! and a reserve of `min_per_sec * ttl` retries per window lets a quiet client still retry.
//! It reads `tokio::time::Instant`, so it runs in virtual time under simulation.
//!
//! Chain-stop: Kitex marks every retry with the persistent metainfo key `RetryReq`
//! (kitex `pkg/retry/util.go` `TransitKey`, value = the retry count), which travels in the
//! TTHeader string block as `RPC_PERSIST_RetryReq` and which a Kitex server propagates to
//! the calls it makes. A first attempt that arrives already marked is itself part of an
//! upstream retry and is not retried again here.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tower::retry::budget::{Budget, TpsBudget};

use super::breaker::RetryBreaker;
use crate::event::{CallRef, EventBus, EventKind, RetryDenial};
use crate::frame::Metadata;
use crate::rpc::Call;

/// The TTHeader string key that marks a call as a retry (Kitex's `RetryReq`, persistent).
pub const RETRY_MARK_KEY: &str = "RPC_PERSIST_RetryReq";

/// Whether `metadata` marks its call as a retry.
pub fn is_retry_request(metadata: &Metadata) -> bool {
    metadata.string_value(RETRY_MARK_KEY).is_some()
}

/// Marks `call` as retry number `attempt` (Kitex writes the retry count in decimal).
pub(crate) fn mark_retry(call: &mut Call, attempt: u32) {
    call.attempt = attempt;
    call.metadata
        .set_string(RETRY_MARK_KEY, attempt.to_string());
}

/// The retry budget: extra attempts at most `ratio` of calls, plus a reserve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct BudgetConfig {
    /// `false` leaves retries unbounded by a budget.
    pub enabled: bool,
    /// How long a call's deposit counts; 1 s ..= 60 s (tower's bounds).
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub ttl: Duration,
    /// Retries per second of `ttl` allowed even without deposits.
    pub min_per_sec: u32,
    /// Extra attempts per call, 0.0 ..= 1000.0 (0.1 = 10 %).
    pub ratio: f32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl: Duration::from_secs(10),
            min_per_sec: 10,
            ratio: 0.1,
        }
    }
}

impl BudgetConfig {
    /// The bounds tower's `TpsBudget` accepts for `ttl`.
    pub const TTL_RANGE: std::ops::RangeInclusive<Duration> =
        Duration::from_secs(1)..=Duration::from_secs(60);
    /// The bounds tower's `TpsBudget` accepts for `ratio`.
    pub const RATIO_RANGE: std::ops::RangeInclusive<f32> = 0.0..=1000.0;
    /// The bounds faultline accepts for `min_per_sec` (tower's `TpsBudget` panics at
    /// `i32::MAX` and above).
    pub const MIN_PER_SEC_RANGE: std::ops::RangeInclusive<u32> = 0..=1_000_000;

    /// No budget: retries bounded only by the other rules.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// tower's budget, with `ttl`, `ratio` and `min_per_sec` clamped into range (tower
    /// panics outside them; `validate()` reports such values before a config gets here).
    pub(crate) fn build(&self) -> Option<TpsBudget> {
        if !self.enabled {
            return None;
        }
        let ttl = self
            .ttl
            .clamp(*Self::TTL_RANGE.start(), *Self::TTL_RANGE.end());
        let ratio = match self.ratio.is_nan() {
            true => 0.0,
            false => self
                .ratio
                .clamp(*Self::RATIO_RANGE.start(), *Self::RATIO_RANGE.end()),
        };
        let min_per_sec = self.min_per_sec.min(*Self::MIN_PER_SEC_RANGE.end());
        Some(TpsBudget::new(ttl, min_per_sec, ratio))
    }
}

/// Admission for extra attempts, shared by failure retry and backup requests.
#[derive(Debug)]
pub(crate) struct RetryControl {
    pub(crate) budget: Option<TpsBudget>,
    pub(crate) breaker: Option<RetryBreaker>,
    pub(crate) chain_stop: bool,
    pub(crate) retry_non_idempotent: bool,
    pub(crate) min_remaining: Duration,
    pub(crate) events: EventBus,
}

impl RetryControl {
    /// Counts a new call into the budget.
    pub(crate) fn deposit(&self) {
        if let Some(budget) = &self.budget {
            budget.deposit();
        }
    }

    /// Counts one finished attempt into the retry breaker.
    pub(crate) fn record(&self, method: &Arc<str>, failed: bool) {
        if let Some(breaker) = &self.breaker {
            breaker.record(method, failed);
        }
    }

    /// Whether `call` may ever get an extra attempt: idempotent, and not an upstream retry.
    pub(crate) fn eligible(&self, call: &Call) -> Result<(), RetryDenial> {
        if !call.options.idempotent && !self.retry_non_idempotent {
            return Err(RetryDenial::NotIdempotent);
        }
        if self.chain_stop && call.attempt == 0 && is_retry_request(&call.metadata) {
            return Err(RetryDenial::ChainStop);
        }
        Ok(())
    }

    /// Whether an extra attempt of `call` that leaves after `wait` may go now. The budget
    /// is checked last: a withdrawal is only made for an attempt that will be sent. With
    /// `charge` false (the previous attempt was refused before it was sent, by an instance
    /// breaker) the retry adds no load to the callee and takes nothing from the budget.
    pub(crate) fn admit(
        &self,
        call: &Call,
        wait: Duration,
        charge: bool,
    ) -> Result<(), RetryDenial> {
        if self
            .breaker
            .as_ref()
            .is_some_and(|b| b.is_open(&call.method))
        {
            return Err(RetryDenial::RetryBreaker);
        }
        if let Some(deadline) = call.options.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left < wait + self.min_remaining {
                return Err(RetryDenial::Deadline);
            }
        }
        if charge && self.budget.as_ref().is_some_and(|b| !b.withdraw()) {
            return Err(RetryDenial::Budget);
        }
        Ok(())
    }

    pub(crate) fn denied(&self, call: &Call, reason: RetryDenial) {
        self.events.emit_for(
            CallRef::attempt(call),
            EventKind::RetryDenied {
                method: call.method.clone(),
                reason,
            },
        );
    }
}
