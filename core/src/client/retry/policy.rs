//! `FailureRetry`: the `tower::retry::Policy` that decides whether a failed attempt is
//! resent.
//!
//! tower's `Retry` fits: it keeps a clone of the request, asks the policy after each
//! attempt, waits on the future the policy returns (the backoff) and resends; dropping its
//! future drops the attempt in flight. The policy adds Kitex's stop rules. Every failed
//! attempt yields exactly one event: `Retry { attempt }` (the number the resent attempt
//! carries) or `RetryDenied { reason }`, checked in this order: error not retryable, refused
//! by the service breaker (`ServiceBreakerOpen`: the retry would meet the same open
//! breaker; an instance breaker's refusal is retried, as another instance may take it),
//! method not idempotent, chain-stop, max retries, retry breaker, deadline (the wait plus the
//! minimum remaining budget must fit), budget. Each attempt's outcome feeds the retry
//! breaker; each call deposits once into the budget (when its first attempt is cloned).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tower::retry::Policy;

use super::backoff::BackoffState;
use super::control::{mark_retry, RetryControl};
use crate::breaker_scope::BreakerScope;
use crate::event::{CallRef, EventKind, RetryDenial};
use crate::rpc::{Call, Reply, RpcError};

/// The failure-retry policy; cheap to clone (tower clones it per call).
#[derive(Debug, Clone)]
pub struct FailureRetry {
    pub(crate) control: Arc<RetryControl>,
    pub(crate) backoff: Arc<BackoffState>,
    pub(crate) max_retries: u32,
}

impl FailureRetry {
    /// The wait before resending `call` after `error`, or why it is not resent.
    fn decide(&self, call: &Call, error: &RpcError) -> Result<std::time::Duration, RetryDenial> {
        if !error.is_retryable() {
            return Err(RetryDenial::NotRetryable);
        }
        if let RpcError::BreakerOpen(BreakerScope::Service { .. }) = error {
            return Err(RetryDenial::ServiceBreakerOpen);
        }
        self.control.eligible(call)?;
        if call.attempt >= self.max_retries {
            return Err(RetryDenial::MaxAttempts);
        }
        let wait = self.backoff.next();
        let sent = !matches!(error, RpcError::BreakerOpen(BreakerScope::Instance { .. }));
        self.control.admit(call, wait, sent)?;
        Ok(wait)
    }
}

impl Policy<Call, Reply, RpcError> for FailureRetry {
    type Future = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn retry(
        &mut self,
        call: &mut Call,
        result: &mut Result<Reply, RpcError>,
    ) -> Option<Self::Future> {
        let error = match result {
            Ok(_) => {
                self.control.record(&call.method, false);
                return None;
            }
            Err(error) => error,
        };
        self.control
            .record(&call.method, error.counts_against_callee());
        match self.decide(call, error) {
            Ok(wait) => {
                let next = call.attempt + 1;
                mark_retry(call, next);
                self.control.events.emit_for(
                    CallRef::attempt(call),
                    EventKind::Retry {
                        method: call.method.clone(),
                        attempt: next,
                        error: error.kind(),
                    },
                );
                Some(Box::pin(tokio::time::sleep(wait)))
            }
            Err(reason) => {
                self.control.denied(call, reason);
                None
            }
        }
    }

    fn clone_request(&mut self, call: &Call) -> Option<Call> {
        if call.attempt == 0 {
            self.control.deposit();
        }
        Some(call.clone())
    }
}
