//! `Backup`: hedged requests. When the first attempt of an idempotent call has not
//! answered after a delay, a second attempt goes out; the first success wins and the other
//! attempt is dropped (cancelled). If both fail, the later error is returned.
//!
//! The delay is fixed (Kitex's `BackupPolicy.RetryDelayMS`, suggested at the p99) or a
//! percentile of recently observed latency (`LatencyWindow`). A backup request is an extra
//! attempt like a retry: it needs the same admission (retry breaker, deadline, budget) and
//! is not sent for chain-stopped or non-idempotent calls. When the delay passes, either
//! `BackupRequest { after }` or `RetryDenied { reason }` is emitted. Only first attempts
//! are hedged (one backup per call, Kitex's default `MaxRetryTimes` for backups).
//!
//! Why not `tower::hedge`: it returns whichever attempt completes first, error or not,
//! where Kitex takes the first success; it only knows a percentile delay (no fixed one);
//! it cannot share the retry budget and breaker; and it replaces the error type with
//! `BoxError`.

use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tower::{Service, ServiceExt};

use super::control::{mark_retry, RetryControl};
use super::latency::LatencyWindow;
use crate::client::CallFuture;
use crate::event::{CallRef, EventKind};
use crate::rpc::{Call, Reply, RpcError};

/// When a backup request goes out. As data: `{ type: fixed, delay: 10ms }` or
/// `{ type: percentile, percentile: 0.99, minSamples: 100, period: 10s }`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
#[cfg_attr(
    feature = "schema",
    schemars(transform = crate::config::schema::flatten_tagged_union)
)]
pub enum BackupDelay {
    /// After a fixed time.
    Fixed {
        #[serde(with = "crate::config::duration")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
        delay: Duration,
    },
    /// After the `percentile` (0.0 ..= 1.0) of the latency of successful calls in the last
    /// `period`, once that period saw at least `min_samples` of them.
    Percentile {
        percentile: f64,
        min_samples: u64,
        #[serde(with = "crate::config::duration")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
        period: Duration,
    },
}

impl Default for BackupDelay {
    /// The p99 of the last 10 s, once it holds 100 calls.
    fn default() -> Self {
        BackupDelay::Percentile {
            percentile: 0.99,
            min_samples: 100,
            period: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
enum DelaySource {
    Fixed(Duration),
    Observed(LatencyWindow),
}

/// The hedging state one client shares across its calls.
#[derive(Debug)]
pub(crate) struct Hedge {
    delay: DelaySource,
    control: Arc<RetryControl>,
}

impl Hedge {
    pub(crate) fn new(delay: BackupDelay, control: Arc<RetryControl>) -> Self {
        let delay = match delay {
            BackupDelay::Fixed { delay } => DelaySource::Fixed(delay),
            BackupDelay::Percentile {
                percentile,
                min_samples,
                period,
            } => DelaySource::Observed(LatencyWindow::new(percentile, min_samples, period)),
        };
        Self { delay, control }
    }

    fn delay(&self) -> Option<Duration> {
        match &self.delay {
            DelaySource::Fixed(after) => Some(*after),
            DelaySource::Observed(window) => window.delay(),
        }
    }

    fn observe(&self, started: Instant, result: &Result<Reply, RpcError>) {
        if let (DelaySource::Observed(window), Ok(_)) = (&self.delay, result) {
            window.record(started.elapsed());
        }
    }
}

/// Sends a backup request when the first attempt is slow; passes calls through when no
/// backup policy is configured.
#[derive(Debug, Clone)]
pub struct Backup<S> {
    inner: S,
    hedge: Option<Arc<Hedge>>,
}

impl<S> Backup<S> {
    pub(crate) fn new(inner: S, hedge: Option<Arc<Hedge>>) -> Self {
        Self { inner, hedge }
    }
}

impl<S> Service<Call> for Backup<S>
where
    S: Service<Call, Response = Reply, Error = RpcError> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Reply;
    type Error = RpcError;
    type Future = CallFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RpcError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: Call) -> CallFuture {
        let hedge = match &self.hedge {
            Some(hedge) if call.attempt == 0 && hedge.control.eligible(&call).is_ok() => {
                hedge.clone()
            }
            _ => return Box::pin(self.inner.call(call)),
        };
        let delay = hedge.delay();
        let started = Instant::now();
        let spare = self.inner.clone();
        let primary = self.inner.call(call.clone());
        Box::pin(async move {
            let primary = pin!(primary);
            let result = match delay {
                None => primary.await,
                Some(after) => race(primary, spare, call, after, &hedge).await,
            };
            hedge.observe(started, &result);
            result
        })
    }
}

/// Waits `after` for `primary`, then (if admitted) races a backup attempt against it.
async fn race<F, S>(
    mut primary: std::pin::Pin<&mut F>,
    spare: S,
    mut call: Call,
    after: Duration,
    hedge: &Hedge,
) -> Result<Reply, RpcError>
where
    F: std::future::Future<Output = Result<Reply, RpcError>>,
    S: Service<Call, Response = Reply, Error = RpcError>,
{
    tokio::select! {
        biased;
        result = &mut primary => return result,
        () = tokio::time::sleep(after) => {}
    }
    if let Err(reason) = hedge.control.admit(&call, Duration::ZERO, true) {
        hedge.control.denied(&call, reason);
        return primary.await;
    }
    mark_retry(&mut call, 1);
    hedge.control.events.emit_for(
        CallRef::attempt(&call),
        EventKind::BackupRequest {
            method: call.method.clone(),
            after,
        },
    );
    let mut backup = pin!(spare.oneshot(call));
    tokio::select! {
        biased;
        result = &mut primary => match result {
            Ok(reply) => Ok(reply),
            Err(_) => backup.await,
        },
        result = &mut backup => match result {
            Ok(reply) => Ok(reply),
            Err(_) => primary.await,
        },
    }
}
