//! `Health`: passive outlier detection from call feedback, for the zone-aware balancer's
//! notion of "healthy capacity".
//!
//! An instance is ejected after `eject_after` consecutive failures and counts as healthy
//! again `eject_for` after its last failure (or at its next success). Failures are errors
//! that say something about the callee (`RpcError::counts_against_callee`) and refusals by
//! its instance breaker (`BreakerOpen`), which the layer below us reports when the breaker
//! is open. Reading it on a pick is one atomic load unless the instance is failing.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crate::rpc::{RpcError, RpcErrorKind};

/// When an instance is ejected, and for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ejection {
    pub(crate) after: u32,
    pub(crate) duration: Duration,
}

#[derive(Debug, Default)]
pub(crate) struct Health {
    consecutive_failures: AtomicU32,
    /// Time of the last failure, in nanoseconds since the balancer's origin.
    last_failure: AtomicU64,
}

impl Health {
    /// Whether the instance takes traffic at `now` (nanoseconds since the origin, computed
    /// only when needed).
    pub(crate) fn is_healthy(&self, ejection: Ejection, now: impl FnOnce() -> u64) -> bool {
        if self.consecutive_failures.load(Ordering::Relaxed) < ejection.after {
            return true;
        }
        let since = now().saturating_sub(self.last_failure.load(Ordering::Relaxed));
        u128::from(since) >= ejection.duration.as_nanos()
    }

    /// When an ejected instance counts as healthy again (nanoseconds since the origin), or
    /// `None` if it is not ejected at `now`.
    pub(crate) fn ejected_until(
        &self,
        ejection: Ejection,
        now: impl FnOnce() -> u64,
    ) -> Option<u64> {
        if self.is_healthy(ejection, now) {
            return None;
        }
        let duration = u64::try_from(ejection.duration.as_nanos()).unwrap_or(u64::MAX);
        Some(
            self.last_failure
                .load(Ordering::Relaxed)
                .saturating_add(duration),
        )
    }

    /// Records a call's outcome at `now`; returns true when it ejected the instance or
    /// ended its ejection.
    pub(crate) fn record(&self, error: Option<&RpcError>, now: u64, ejection: Ejection) -> bool {
        match error {
            None => self.consecutive_failures.swap(0, Ordering::Release) >= ejection.after,
            Some(e) if e.counts_against_callee() || e.kind() == RpcErrorKind::BreakerOpen => {
                self.last_failure.store(now, Ordering::Relaxed);
                self.consecutive_failures.fetch_add(1, Ordering::Release) + 1 == ejection.after
            }
            Some(_) => false,
        }
    }
}
