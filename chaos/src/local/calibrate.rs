//! What a call costs on this machine before any modelled latency, so that the proxies add
//! the topology's round trips less it: a call within a zone then takes what the topology
//! says, not that plus loopback, the client stack, the proxy's wake-ups and the server's
//! own time (the simulation likewise takes off the tick turmoil already spends).
//!
//! Measured twice: at the start, idle ([`round_trip`]: the median of sequential calls to
//! one instance, no proxy); then under the run's own load ([`UnderLoad`]: during the second
//! half of the warm-up, the mean of the probe's successful attempts in its own zone, whose
//! excess over the topology's within-zone mean is what the load adds). The proxies read
//! the current figure from a [`PathCost`] on every draw.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use faultline_core::client::{Client, ClientConfig, EchoClient};
use faultline_core::event::{Event, EventBus, EventKind, EventSink};
use faultline_core::lb::Discovery;
use faultline_core::net::Tcp;
use faultline_core::rpc::Instance;

/// Calls made and not counted (connection set-up, first allocations).
const WARM_UP: usize = 50;
/// Calls timed.
const TIMED: usize = 300;

/// The median round trip of a call to `addr` with `config`'s pool, transport and
/// protocol; `None` when calls fail (the run then adds the topology's figures in full).
pub async fn round_trip(addr: SocketAddr, config: &ClientConfig) -> Option<Duration> {
    let config = ClientConfig {
        pool: config.pool.clone(),
        ..ClientConfig::default()
    };
    let discovery = Discovery::new([Instance::new(addr.to_string())]);
    let client = Client::from_config(&config, Tcp, discovery, EventBus::default()).ok()?;
    let echo = EchoClient::new(client, config.pool.protocol);
    for _ in 0..WARM_UP {
        echo.echo("calibrate").await.ok()?;
    }
    let mut times = Vec::with_capacity(TIMED);
    for _ in 0..TIMED {
        let start = Instant::now();
        echo.echo("calibrate").await.ok()?;
        times.push(start.elapsed());
    }
    times.sort_unstable();
    Some(times[TIMED / 2])
}

/// What the path costs now, shared by the run and every proxy.
#[derive(Debug, Default)]
pub struct PathCost {
    micros: AtomicU64,
}

impl PathCost {
    pub fn get(&self) -> Duration {
        Duration::from_micros(self.micros.load(Ordering::Relaxed))
    }

    pub fn set(&self, cost: Duration) {
        let micros = u64::try_from(cost.as_micros()).unwrap_or(u64::MAX);
        self.micros.store(micros, Ordering::Relaxed);
    }
}

/// The probe's successful attempts in one zone while it collects: their mean latency.
#[derive(Debug)]
pub struct UnderLoad {
    zone: String,
    collecting: AtomicBool,
    sum: Mutex<(Duration, u32)>,
}

impl UnderLoad {
    pub fn new(zone: &str) -> Self {
        Self {
            zone: zone.to_owned(),
            collecting: AtomicBool::new(false),
            sum: Mutex::default(),
        }
    }

    pub fn start(&self) {
        self.collecting.store(true, Ordering::Relaxed);
    }

    /// Stops collecting; the mean of what was collected (`None`: nothing was).
    pub fn finish(&self) -> Option<Duration> {
        self.collecting.store(false, Ordering::Relaxed);
        let (sum, count) = *self.sum.lock().unwrap_or_else(PoisonError::into_inner);
        (count > 0).then(|| sum / count)
    }
}

impl EventSink for UnderLoad {
    fn record(&self, event: &Event) {
        if !self.collecting.load(Ordering::Relaxed) {
            return;
        }
        if let EventKind::AttemptFinished {
            zone: Some(zone),
            latency,
            error: None,
            ..
        } = &event.kind
        {
            if **zone == *self.zone {
                let mut sum = self.sum.lock().unwrap_or_else(PoisonError::into_inner);
                sum.0 = sum.0.saturating_add(*latency);
                sum.1 = sum.1.saturating_add(1);
            }
        }
    }
}

/// The path cost that makes calls within the caller's zone take `target` (the
/// topology's mean), given that they took `measured` with `current` taken off, within
/// `0..=target`.
pub fn corrected(current: Duration, measured: Duration, target: Duration) -> Duration {
    let excess = measured.as_secs_f64() - target.as_secs_f64();
    let cost = (current.as_secs_f64() + excess).clamp(0.0, target.as_secs_f64());
    Duration::from_secs_f64(cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_correction_takes_off_what_the_load_adds_and_stays_in_range() {
        let us = Duration::from_micros;
        assert_eq!(corrected(us(80), us(950), us(800)), us(230));
        assert_eq!(corrected(us(80), us(700), us(800)), Duration::ZERO);
        assert_eq!(corrected(us(80), us(5000), us(800)), us(800));
    }
}
