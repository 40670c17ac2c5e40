//! `AttemptDeadline`: the per-attempt end of deadline handling, right above the transport.
//!
//! Each attempt (first try, retry, backup request) passes here just before it leaves. The
//! layer computes the attempt's deadline — the call's deadline, capped by an optional
//! per-attempt timeout (Kitex's RPC timeout when retries are on) — writes the remaining
//! budget into the call's metadata as RPCTimeout (int key 12, whole milliseconds, at least
//! 1 so a server never reads 0 as "no timeout"), and fails the attempt with
//! `RpcError::Timeout` when that deadline passes. An attempt with no time left is not sent.
//!
//! When the client's events are observed (`EventBus::is_observed`), it also stamps the
//! attempt's `event::CALL_HEADER` (`"<call id>.<attempt>"`, a TTHeader string key) so the
//! server's events name the same call; unobserved clients send nothing extra.
//!
//! Sitting below the breakers, it lets them (and fallback and retry above them) see an
//! attempt's timeout as that attempt's failure, not only as the whole call's.
//!
//! Why not `tower::timeout`: the duration differs per attempt (it shrinks as the call's
//! deadline approaches) and the error must stay `RpcError`.

use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tower::{Layer, Service};

use super::CallFuture;
use crate::event::{CallRef, EventBus, CALL_HEADER};
use crate::rpc::{Call, Reply, RpcError};

/// Applies `AttemptDeadline` with an optional per-attempt timeout.
#[derive(Debug, Clone, Default)]
pub struct AttemptDeadlineLayer {
    attempt_timeout: Option<Duration>,
    events: Option<EventBus>,
}

impl AttemptDeadlineLayer {
    /// `attempt_timeout` caps each attempt; `None` gives each attempt what is left of the
    /// call's deadline.
    pub fn new(attempt_timeout: Option<Duration>) -> Self {
        Self {
            attempt_timeout,
            events: None,
        }
    }

    /// Stamps the call header on attempts while `events` is observed.
    pub fn stamping(mut self, events: EventBus) -> Self {
        self.events = Some(events);
        self
    }
}

impl<S> Layer<S> for AttemptDeadlineLayer {
    type Service = AttemptDeadline<S>;

    fn layer(&self, inner: S) -> AttemptDeadline<S> {
        AttemptDeadline {
            inner,
            attempt_timeout: self.attempt_timeout,
            events: self.events.clone(),
        }
    }
}

/// Stamps RPCTimeout on each attempt and times the attempt out.
#[derive(Debug, Clone)]
pub struct AttemptDeadline<S> {
    inner: S,
    attempt_timeout: Option<Duration>,
    events: Option<EventBus>,
}

impl<S> Service<Call> for AttemptDeadline<S>
where
    S: Service<Call, Response = Reply, Error = RpcError>,
    S::Future: Send + 'static,
{
    type Response = Reply;
    type Error = RpcError;
    type Future = CallFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RpcError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut call: Call) -> CallFuture {
        if self.events.as_ref().is_some_and(EventBus::is_observed) {
            let value = CallRef::header_value(&call);
            call.metadata.set_string(CALL_HEADER, value);
        }
        let now = Instant::now();
        let capped = self.attempt_timeout.map(|t| now + t);
        let deadline = match (call.options.deadline, capped) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let Some(deadline) = deadline else {
            return Box::pin(self.inner.call(call));
        };
        let budget = deadline.saturating_duration_since(now);
        if budget.is_zero() {
            return Box::pin(std::future::ready(Err(RpcError::Timeout { budget })));
        }
        call.metadata
            .set_rpc_timeout(budget.max(Duration::from_millis(1)));
        let attempt = self.inner.call(call);
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, attempt).await {
                Ok(result) => result,
                Err(_) => Err(RpcError::Timeout { budget }),
            }
        })
    }
}
