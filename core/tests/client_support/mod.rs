//! Test doubles shared by the client layer tests: replies, errors, a recording transport
//! built on `tower::service_fn`, drop guards for cancellation, and event draining.

#![allow(dead_code)] // each test binary uses a different subset

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use faultline_core::client::{CallFuture, CallService};
use faultline_core::event::{Event, EventKind};
use faultline_core::frame::Metadata;
use faultline_core::protocol::{ApplicationException, MessageType};
use faultline_core::rpc::{Call, Reply, ReplyOrigin, RpcError};
use tokio::sync::broadcast;
use tokio::time::Instant;

/// A real (remote) reply whose body names the attempt that produced it.
pub fn reply(attempt: u32) -> Reply {
    Reply {
        kind: MessageType::Reply,
        body: Bytes::from(format!("attempt {attempt}")),
        metadata: Metadata::new(),
        instance: None,
        origin: ReplyOrigin::Remote,
    }
}

/// A retryable failure.
pub fn io_error() -> RpcError {
    RpcError::io(
        &Arc::from("10.0.0.1:8888"),
        &std::io::Error::from(std::io::ErrorKind::ConnectionReset),
    )
}

/// A failure no retry can fix.
pub fn app_error() -> RpcError {
    RpcError::Application(ApplicationException::new(6, "internal error"))
}

/// An idempotent call to `echo`.
pub fn idempotent() -> Call {
    let mut call = Call::new("echo", Bytes::from_static(b"args"));
    call.options.idempotent = true;
    call
}

/// What the transport saw of one attempt.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Duration,
    pub call: Call,
}

/// A transport that records every attempt (time since creation, the call) and answers
/// with `respond(attempt number, call)`.
#[derive(Clone)]
pub struct Recorder {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    start: Instant,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            seen: Arc::default(),
            start: Instant::now(),
        }
    }

    pub fn service<F, Fut>(&self, respond: F) -> impl CallService
    where
        F: Fn(usize, Call) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<Reply, RpcError>> + Send + 'static,
    {
        let seen = self.seen.clone();
        let start = self.start;
        tower::service_fn(move |call: Call| {
            let n = {
                let mut seen = seen.lock().unwrap();
                seen.push(Seen {
                    at: start.elapsed(),
                    call: call.clone(),
                });
                seen.len() - 1
            };
            let fut: CallFuture = Box::pin(respond(n, call));
            fut
        })
    }

    pub fn attempts(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// Sets its flag when dropped: proves a future was cancelled.
pub struct DropFlag(pub Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counts how many futures holding one of its guards were dropped.
#[derive(Clone, Default)]
pub struct DropCount(pub Arc<AtomicUsize>);

impl DropCount {
    pub fn guard(&self) -> DropCounted {
        DropCounted(self.0.clone())
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct DropCounted(Arc<AtomicUsize>);

impl Drop for DropCounted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Every event received so far.
pub fn drain(rx: &mut broadcast::Receiver<Arc<Event>>) -> Vec<EventKind> {
    let mut out = Vec::new();
    while let Ok(event) = rx.try_recv() {
        out.push(event.kind.clone());
    }
    out
}
