//! Open-loop load: calls start on a fixed schedule through the real client stack.
//!
//! Call `k` is due at `origin + k / rate`; the generator sleeps until then (tokio time:
//! virtual under turmoil) and starts it whatever earlier calls are doing, so a slow
//! service cannot lower the offered load, and each call's latency counts from when it was
//! due, not from when it happened to start (no coordinated omission). A call due while
//! `max_in_flight` calls are out is not made and counts as `Dropped`. Calls due during
//! the warm-up run but are not recorded.
//!
//! A time scale `S` (the simulation's, for sub-millisecond latencies; 1 elsewhere) runs
//! the schedule `S` times slower on the clock while everything is recorded in unscaled
//! time: a call due at `t` on the clock is recorded as due at `t / S`, with its latency
//! divided by `S`.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use faultline_core::client::EchoClient;
use faultline_core::event::{Event, EventSink};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{Outcome, Sample, Timeline};
use crate::spec::experiment::Workload;

/// What load to offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// Calls due per second (at least 1).
    pub rate: u32,
    pub warmup: Duration,
    pub duration: Duration,
    pub payload_bytes: usize,
    /// The message every call echoes (default: `payload_bytes` of `x`).
    pub message: Option<Arc<str>>,
    pub max_in_flight: usize,
    /// Clock time per unit of recorded time (at least 1).
    pub time_scale: u32,
}

impl From<&Workload> for Load {
    fn from(workload: &Workload) -> Self {
        Self {
            rate: workload.rate,
            warmup: workload.warmup,
            duration: workload.duration,
            payload_bytes: workload.payload_bytes,
            message: None,
            max_in_flight: workload.max_in_flight,
            time_scale: 1,
        }
    }
}

impl Load {
    fn scale(&self) -> u32 {
        self.time_scale.max(1)
    }

    /// When call `k` is due, from the origin, on the clock.
    fn due(&self, k: u64) -> Duration {
        let rate = u64::from(self.rate.max(1));
        let unscaled =
            Duration::from_secs(k / rate) + Duration::from_nanos((k % rate) * 1_000_000_000 / rate);
        unscaled.saturating_mul(self.scale())
    }

    /// How many calls are due in all, warm-up included.
    fn total(&self) -> u64 {
        let span = self.warmup.saturating_add(self.duration);
        let rate = u128::from(self.rate.max(1));
        u64::try_from(span.as_nanos() * rate / 1_000_000_000).unwrap_or(u64::MAX)
    }
}

/// Where a probe records: its timeline, and its origin and start of measurement on the
/// probe's clock. Make it where the probe runs (under turmoil: in the probe's host), just
/// before the client, and give the client's event bus [`ProbeHandle::event_sink`].
#[derive(Debug, Clone)]
pub struct ProbeHandle {
    timeline: Arc<Mutex<Timeline>>,
    origin: Instant,
    measured_from: Instant,
    scale: u32,
}

impl ProbeHandle {
    pub fn new(load: &Load) -> Self {
        let origin = Instant::now();
        Self {
            timeline: Arc::default(),
            origin,
            measured_from: origin + load.warmup.saturating_mul(load.scale()),
            scale: load.scale(),
        }
    }

    /// A sink for the client's events: each is counted in the second it happens.
    pub fn event_sink(&self) -> Arc<dyn EventSink> {
        let handle = self.clone();
        Arc::new(move |event: &Event| {
            if let Some(at) = handle.offset(Instant::now()) {
                handle.lock().record_event(at, event);
            }
        })
    }

    /// `instant` from the start of measurement, unscaled; `None` during the warm-up.
    pub fn offset(&self, instant: Instant) -> Option<Duration> {
        instant
            .checked_duration_since(self.measured_from)
            .map(|d| d / self.scale)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timeline> {
        self.timeline.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the timeline so far.
    pub fn timeline(&self) -> Timeline {
        self.lock().clone()
    }

    fn record(&self, sample: &Sample) {
        self.lock().record(sample);
    }
}

/// Offers `load` through `client`, recording into `probe`. `each_second` is called with
/// the timeline as every second of measurement begins (with the index of the second that
/// just ended); `Break` stops the load (an abort). Returns when every call made has ended.
pub async fn run(
    client: EchoClient,
    load: &Load,
    probe: &ProbeHandle,
    mut each_second: impl FnMut(u64, &Timeline) -> ControlFlow<()>,
) {
    let message = load
        .message
        .clone()
        .unwrap_or_else(|| "x".repeat(load.payload_bytes).into());
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut calls = JoinSet::new();
    let mut next_second = 1;
    for k in 0..load.total() {
        let due = probe.origin + load.due(k);
        tokio::time::sleep_until(due).await;
        while calls.try_join_next().is_some() {}
        let measured = probe.offset(due);
        if let Some(offset) = measured {
            if offset.as_secs() >= next_second {
                let ended = next_second - 1;
                next_second = offset.as_secs() + 1;
                if each_second(ended, &probe.lock()).is_break() {
                    break;
                }
            }
        }
        if in_flight.load(Ordering::Relaxed) >= load.max_in_flight {
            if let Some(offset) = measured {
                probe.record(&Sample {
                    due: offset,
                    latency: Duration::ZERO,
                    outcome: Outcome::Dropped,
                    instance: None,
                    zone: None,
                });
            }
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (client, message, probe, in_flight) = (
            client.clone(),
            message.clone(),
            probe.clone(),
            in_flight.clone(),
        );
        calls.spawn(async move {
            let result = client.echo_reply(&message).await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            let Some(offset) = measured else {
                return;
            };
            let latency = Instant::now().saturating_duration_since(due) / probe.scale;
            let sample = match result {
                Ok((_, reply)) => Sample {
                    due: offset,
                    latency,
                    outcome: match reply.is_fallback() {
                        true => Outcome::Fallback,
                        false => Outcome::Ok,
                    },
                    zone: reply.instance.as_ref().and_then(|i| i.zone.clone()),
                    instance: reply.instance.as_ref().map(|i| i.addr.clone()),
                },
                Err(error) => Sample {
                    due: offset,
                    latency,
                    outcome: Outcome::Error(error.kind()),
                    instance: None,
                    zone: None,
                },
            };
            probe.record(&sample);
        });
    }
    while calls.join_next().await.is_some() {}
}
