//! `Deadline`: the per-call timeout at the top of the stack.
//!
//! A call's deadline is `CallOptions::deadline` when the caller set one, else now plus the
//! client's default timeout; the layer writes it back into the call so that retry (which
//! will not retry without enough time left) and the attempt layer (which puts the remaining
//! budget on the wire as RPCTimeout) see the same instant. When the deadline passes the
//! call fails with `RpcError::Timeout` and the inner future is dropped, which cancels every
//! attempt below. A `DeadlineExceeded { side: Client }` event is emitted once per call that
//! ends in a timeout at or after its deadline (whether this layer's timer fired or an
//! attempt below timed out at the same instant).
//!
//! Why not `tower::timeout`: it applies one fixed duration to every request, while Kitex
//! deadlines are per call (`CallOptions::deadline`), and it replaces the error type with
//! `BoxError`, which would break `Error = RpcError` for every layer above.

use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tower::{Layer, Service};

use super::CallFuture;
use crate::event::{CallRef, EventBus, EventKind, Side};
use crate::rpc::{Call, Reply, RpcError};

/// Applies `Deadline` with an optional default timeout for calls that carry no deadline.
#[derive(Debug, Clone)]
pub struct DeadlineLayer {
    default_timeout: Option<Duration>,
    events: EventBus,
}

impl DeadlineLayer {
    /// `default_timeout` applies to calls without `CallOptions::deadline`; `None` leaves
    /// such calls unbounded.
    pub fn new(default_timeout: Option<Duration>, events: EventBus) -> Self {
        Self {
            default_timeout,
            events,
        }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            default_timeout: self.default_timeout,
            events: self.events.clone(),
        }
    }
}

/// Fails a call with `RpcError::Timeout` when its deadline passes.
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    default_timeout: Option<Duration>,
    events: EventBus,
}

impl<S> Service<Call> for Deadline<S>
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
        let now = Instant::now();
        let deadline = call
            .options
            .deadline
            .or_else(|| self.default_timeout.map(|t| now + t));
        let Some(deadline) = deadline else {
            return Box::pin(self.inner.call(call));
        };
        call.options.deadline = Some(deadline);
        let budget = deadline.saturating_duration_since(now);
        let method = call.method.clone();
        let call_ref = CallRef::call(&call);
        let events = self.events.clone();
        let attempt = self.inner.call(call);
        Box::pin(async move {
            let result = match tokio::time::timeout_at(deadline, attempt).await {
                Ok(result) => result,
                Err(_) => Err(RpcError::Timeout { budget }),
            };
            match result {
                Err(RpcError::Timeout { .. }) if Instant::now() >= deadline => {
                    events.emit_for(
                        call_ref,
                        EventKind::DeadlineExceeded {
                            side: Side::Client,
                            method,
                            budget,
                        },
                    );
                    Err(RpcError::Timeout { budget })
                }
                other => other,
            }
        })
    }
}
