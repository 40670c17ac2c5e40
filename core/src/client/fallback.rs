//! `Fallback`: turns selected failures into a reply produced by a user function.
//!
//! A policy says which failures qualify (`FallbackOn`) and the function decides, per call
//! and error, whether it has a stand-in reply. A produced reply is marked
//! `ReplyOrigin::Fallback` (whatever the function set), so the caller can tell it from a
//! real one (`Reply::is_fallback`), and a `Fallback { reason }` event is emitted. When the
//! function returns `None` the original error goes up unchanged.
//!
//! The layer sits below retry, as the documented stack orders it: a fallback reply is a
//! success to the layers above, so it ends the call without further retries. It still
//! sees the call's deadline pass: the attempt layer below enforces the same instant and,
//! polled first by the outer timer, its `RpcError::Timeout` reaches fallback before the
//! deadline layer's own timer could end the call. Kitex
//! semantics (fallback decided per call from the error) have no tower counterpart, hence
//! our own layer.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{Layer, Service};

use super::CallFuture;
use crate::event::{CallRef, EventBus, EventKind, FallbackReason};
use crate::rpc::{Call, Reply, ReplyOrigin, RpcError};

/// The user function: a stand-in reply for a failed call, or `None` to keep the error.
pub type FallbackFn = Arc<dyn Fn(&Call, &RpcError) -> Option<Reply> + Send + Sync>;

/// Which failures a fallback may replace (as data: `timeoutOrBreakerOpen`, `anyError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum FallbackOn {
    /// Only timeouts and open circuit breakers (Kitex's `TimeoutAndCBFallback`).
    TimeoutOrBreakerOpen,
    /// Every error (Kitex's `ErrorFallback`).
    AnyError,
}

/// When to fall back and how.
#[derive(Clone)]
pub struct FallbackPolicy {
    pub on: FallbackOn,
    pub fallback: FallbackFn,
}

impl FallbackPolicy {
    pub fn new(
        on: FallbackOn,
        fallback: impl Fn(&Call, &RpcError) -> Option<Reply> + Send + Sync + 'static,
    ) -> Self {
        Self {
            on,
            fallback: Arc::new(fallback),
        }
    }

    /// The reason to report when `error` qualifies under this policy.
    fn reason(&self, error: &RpcError) -> Option<FallbackReason> {
        let reason = match error {
            RpcError::Timeout { .. } => FallbackReason::Timeout,
            RpcError::BreakerOpen(_) => FallbackReason::BreakerOpen,
            other => FallbackReason::Error(other.kind()),
        };
        match (self.on, reason) {
            (FallbackOn::AnyError, _) => Some(reason),
            (FallbackOn::TimeoutOrBreakerOpen, FallbackReason::Error(_)) => None,
            (FallbackOn::TimeoutOrBreakerOpen, _) => Some(reason),
        }
    }
}

impl fmt::Debug for FallbackPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackPolicy")
            .field("on", &self.on)
            .finish_non_exhaustive()
    }
}

/// Applies `Fallback`.
#[derive(Debug, Clone)]
pub struct FallbackLayer {
    policy: FallbackPolicy,
    events: EventBus,
}

impl FallbackLayer {
    pub fn new(policy: FallbackPolicy, events: EventBus) -> Self {
        Self { policy, events }
    }
}

impl<S> Layer<S> for FallbackLayer {
    type Service = Fallback<S>;

    fn layer(&self, inner: S) -> Fallback<S> {
        Fallback {
            inner,
            policy: self.policy.clone(),
            events: self.events.clone(),
        }
    }
}

/// Replaces qualifying failures with the policy's fallback reply.
#[derive(Debug, Clone)]
pub struct Fallback<S> {
    inner: S,
    policy: FallbackPolicy,
    events: EventBus,
}

impl<S> Service<Call> for Fallback<S>
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

    fn call(&mut self, call: Call) -> CallFuture {
        let kept = call.clone();
        let policy = self.policy.clone();
        let events = self.events.clone();
        let attempt = self.inner.call(call);
        Box::pin(async move {
            let error = match attempt.await {
                Ok(reply) => return Ok(reply),
                Err(error) => error,
            };
            let Some(reason) = policy.reason(&error) else {
                return Err(error);
            };
            let Some(mut reply) = (policy.fallback)(&kept, &error) else {
                return Err(error);
            };
            reply.origin = ReplyOrigin::Fallback;
            events.emit_for(
                CallRef::attempt(&kept),
                EventKind::Fallback {
                    method: kept.method.clone(),
                    reason,
                },
            );
            Ok(reply)
        })
    }
}
