//! Open-loop load: calls start on a fixed schedule through the real client stack.
//!
//! Call `k` is due at `origin + k / rate`; the generator waits until then (as
//! [`Load::pacing`] says: tokio time, virtual under turmoil, or a precise pacing thread)
//! and starts it whatever earlier calls are doing, so a slow service cannot lower the
//! offered load, and each call's latency counts from when it was due, not from when it
//! happened to start (no coordinated omission). How late it started (the generator's own
//! scheduling lag: from due to the call task's first poll) is recorded beside it. A call
//! due while `max_in_flight` calls are out is not made and counts as `Dropped`. Calls due
//! during the warm-up run but are not recorded.
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

use super::pacing::Ticks;
use super::{Outcome, Pacing, Sample, Timeline};
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
    /// How calls are released: `Timer` under turmoil, `Precise` on a real runtime.
    pub pacing: Pacing,
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
            pacing: Pacing::Timer,
        }
    }
}

impl Load {
    fn scale(&self) -> u32 {
        self.time_scale.max(1)
    }

    /// When call `k` is due, from the origin, on the clock.
    pub(super) fn due(&self, k: u64) -> Duration {
        let rate = u64::from(self.rate.max(1));
        let unscaled =
            Duration::from_secs(k / rate) + Duration::from_nanos((k % rate) * 1_000_000_000 / rate);
        unscaled.saturating_mul(self.scale())
    }

    /// How many calls are due in all, warm-up included.
    pub(super) fn total(&self) -> u64 {
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
    let mut ticks = Ticks::new(load, probe.origin);
    while let Some(due) = ticks.next().await {
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
                    lag: Duration::ZERO,
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
            let lag = Instant::now().saturating_duration_since(due) / probe.scale;
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
                    lag,
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
                    lag,
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

#[cfg(test)]
mod tests {
    use faultline_core::client::{Client, ClientConfig};
    use faultline_core::echo;
    use faultline_core::event::EventBus;
    use faultline_core::lb::Discovery;
    use faultline_core::net::Tcp;
    use faultline_core::rpc::Instance;
    use faultline_core::server::ServerBuilder;

    use super::*;

    #[tokio::test]
    async fn precise_pacing_records_each_calls_scheduling_lag() {
        let server = ServerBuilder::new(echo::SERVICE)
            .bind(&Tcp, "127.0.0.1:0", echo::router())
            .await
            .expect("bind 127.0.0.1");
        let config = ClientConfig::default();
        let discovery = Discovery::new([Instance::new(server.local_addr().to_string())]);
        let client = Client::from_config(&config, Tcp, discovery, EventBus::default())
            .expect("the default client config is valid");
        let load = Load {
            rate: 500,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(200),
            payload_bytes: 4,
            message: None,
            max_in_flight: 1000,
            time_scale: 1,
            pacing: Pacing::Precise,
        };
        let probe = ProbeHandle::new(&load);
        let client = EchoClient::new(client, config.pool.protocol);
        run(client, &load, &probe, |_, _| ControlFlow::Continue(())).await;
        server.shutdown().await;

        let window = probe.timeline().window(Duration::ZERO, load.duration);
        assert_eq!(window.calls, load.total());
        assert_eq!(window.count(Outcome::answered), window.calls);
        let lag = window.scheduling_lag().expect("lag recorded");
        assert_eq!(lag.len(), window.calls);
        assert!(lag.max() <= window.latency.max(), "lag is part of latency");
    }
}
