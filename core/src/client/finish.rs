//! `Finish`: one `CallFinished { side: Client }` event per call, at the top of the stack.
//! It also gives each call its id (`Call::id`, from the event bus) when the caller did not,
//! so every event below can name the call.
//!
//! The event carries the callee service, method, the instance that answered (when a reply
//! came back), the error kind, whether the reply was a fallback, and the call's duration in
//! `tokio::time` (virtual under simulation). A call whose future is dropped before it
//! finishes is reported as `Cancelled`, so every call yields exactly one event.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tower::{Layer, Service};

use super::CallFuture;
use crate::event::{CallRef, EventBus, EventKind, Side};
use crate::rpc::{Call, Reply, RpcError, RpcErrorKind};

/// Applies `Finish` for calls to `service`.
#[derive(Debug, Clone)]
pub struct FinishLayer {
    service: Arc<str>,
    events: EventBus,
    default_timeout: Option<Duration>,
}

impl FinishLayer {
    pub fn new(service: impl Into<Arc<str>>, events: EventBus) -> Self {
        Self {
            service: service.into(),
            events,
            default_timeout: None,
        }
    }

    /// The timeout the deadline layer gives calls without a deadline, so that their
    /// `CallFinished::budget` says it.
    pub fn with_default_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.default_timeout = timeout;
        self
    }
}

impl<S> Layer<S> for FinishLayer {
    type Service = Finish<S>;

    fn layer(&self, inner: S) -> Finish<S> {
        Finish {
            inner,
            service: self.service.clone(),
            events: self.events.clone(),
            default_timeout: self.default_timeout,
        }
    }
}

/// Emits `CallFinished` when a call ends (or is dropped).
#[derive(Debug, Clone)]
pub struct Finish<S> {
    inner: S,
    service: Arc<str>,
    events: EventBus,
    default_timeout: Option<Duration>,
}

impl<S> Service<Call> for Finish<S>
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
        if call.id == 0 {
            call.id = self.events.next_call_id();
        }
        let started = Instant::now();
        let mut report = Report {
            service: self.service.clone(),
            method: call.method.clone(),
            events: self.events.clone(),
            call: CallRef::call(&call),
            budget: match call.options.deadline {
                Some(deadline) => Some(deadline.saturating_duration_since(started)),
                None => self.default_timeout,
            },
            started,
            done: false,
        };
        let attempt = self.inner.call(call);
        Box::pin(async move {
            let result = attempt.await;
            report.finish(&result);
            result
        })
    }
}

/// Emits the event once: on `finish`, or as `Cancelled` when dropped unfinished.
struct Report {
    service: Arc<str>,
    method: Arc<str>,
    events: EventBus,
    call: CallRef,
    budget: Option<Duration>,
    started: Instant,
    done: bool,
}

impl Report {
    fn finish(&mut self, result: &Result<Reply, RpcError>) {
        let (instance, error, fallback) = match result {
            Ok(reply) => (
                reply.instance.as_ref().map(|i| i.addr.clone()),
                None,
                reply.is_fallback(),
            ),
            Err(error) => (None, Some(error.kind()), false),
        };
        self.emit(instance, error, fallback);
    }

    fn emit(&mut self, instance: Option<Arc<str>>, error: Option<RpcErrorKind>, fallback: bool) {
        self.done = true;
        self.events.emit_for(
            self.call,
            EventKind::CallFinished {
                side: Side::Client,
                service: self.service.clone(),
                method: self.method.clone(),
                instance,
                error,
                fallback,
                duration: self.started.elapsed(),
                budget: self.budget,
            },
        );
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        if !self.done {
            self.emit(None, Some(RpcErrorKind::Cancelled), false);
        }
    }
}
