//! Per-second aggregates of a run: the probe's calls (HDR latency histograms, outcomes,
//! per serving zone) and the client's events (attempts, retries, breaker changes), and
//! windows over them for the hypothesis and the report.
//!
//! Seconds count from the start of measurement; warm-up calls and events are not kept.
//! Latency percentiles cover every call made, failed ones included (a timed-out call
//! counts with its timeout): the caller waited that long either way. Beside them, the
//! generator's scheduling lag of the same calls (how late each started; part of its
//! latency) says how far the probe itself is from its schedule. Histograms keep 3
//! significant digits from 1 µs to an hour (lag from 0).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::breaker::{BreakerScope, BreakerState};
use faultline_core::event::{Event, EventKind, Side};
use faultline_core::rpc::RpcErrorKind;
use hdrhistogram::Histogram;

use super::{Outcome, Sample};

const HIGHEST_MICROS: u64 = 3_600_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_MICROS, 3).expect("static bounds are valid")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// One second of a run.
#[derive(Debug, Clone)]
pub struct Second {
    pub calls: u64,
    pub outcomes: BTreeMap<Outcome, u64>,
    pub latency: Histogram<u64>,
    /// The generator's scheduling lag of the calls made (µs, from when each was due to
    /// when it started).
    pub lag: Histogram<u64>,
    /// Calls answered by an instance of each zone (`""`: instances without a zone).
    pub zones: BTreeMap<Arc<str>, ZoneSecond>,
    /// Attempts that reached an instance (not refused by an instance breaker).
    pub attempts: u64,
    /// Calls the client stack finished (the probe's calls minus dropped ones).
    pub client_calls: u64,
    pub retries: u64,
}

/// One zone's calls in one second.
#[derive(Debug, Clone)]
pub struct ZoneSecond {
    pub calls: u64,
    pub latency: Histogram<u64>,
}

impl Default for Second {
    fn default() -> Self {
        Self {
            calls: 0,
            outcomes: BTreeMap::new(),
            latency: histogram(),
            lag: histogram(),
            zones: BTreeMap::new(),
            attempts: 0,
            client_calls: 0,
            retries: 0,
        }
    }
}

/// A breaker changing state, as the client reported it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakerChange {
    /// From the start of measurement.
    #[serde(with = "faultline_core::config::duration")]
    pub at: Duration,
    /// `service` or `instance`.
    pub kind: &'static str,
    /// The method (service breakers) or the instance address.
    pub key: String,
    pub from: BreakerState,
    pub to: BreakerState,
}

/// The run so far.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    seconds: Vec<Second>,
    breaker: Vec<BreakerChange>,
}

impl Timeline {
    /// The longest run a timeline keeps seconds for (as `Workload::MAX_DURATION`).
    const MAX_SECONDS: u64 = 24 * 3600;

    fn second(&mut self, at: Duration) -> Option<&mut Second> {
        let index = at.as_secs();
        if index >= Self::MAX_SECONDS {
            return None;
        }
        let index = index as usize;
        if self.seconds.len() <= index {
            self.seconds.resize_with(index + 1, Second::default);
        }
        self.seconds.get_mut(index)
    }

    /// Counts one call, in the second it was due.
    pub fn record(&mut self, sample: &Sample) {
        let Some(second) = self.second(sample.due) else {
            return;
        };
        second.calls += 1;
        *second.outcomes.entry(sample.outcome).or_default() += 1;
        if sample.outcome == Outcome::Dropped {
            return;
        }
        let latency = micros(sample.latency);
        second.latency.saturating_record(latency);
        let lag = u64::try_from(sample.lag.as_micros()).unwrap_or(u64::MAX);
        second.lag.saturating_record(lag);
        if sample.instance.is_some() {
            let zone = sample.zone.clone().unwrap_or_else(|| Arc::from(""));
            let zone = second.zones.entry(zone).or_insert_with(|| ZoneSecond {
                calls: 0,
                latency: histogram(),
            });
            zone.calls += 1;
            zone.latency.saturating_record(latency);
        }
    }

    /// Counts one client event that happened `at` from the start of measurement.
    pub fn record_event(&mut self, at: Duration, event: &Event) {
        match &event.kind {
            EventKind::BreakerTransition {
                scope, from, to, ..
            } => {
                let (kind, key) = match scope {
                    BreakerScope::Service { method, .. } => ("service", method.to_string()),
                    BreakerScope::Instance { addr } => ("instance", addr.to_string()),
                };
                self.breaker.push(BreakerChange {
                    at,
                    kind,
                    key,
                    from: *from,
                    to: *to,
                });
            }
            EventKind::AttemptFinished { error, .. }
                if *error != Some(RpcErrorKind::BreakerOpen) =>
            {
                if let Some(second) = self.second(at) {
                    second.attempts += 1;
                }
            }
            EventKind::CallFinished {
                side: Side::Client, ..
            } => {
                if let Some(second) = self.second(at) {
                    second.client_calls += 1;
                }
            }
            EventKind::Retry { .. } | EventKind::BackupRequest { .. } => {
                if let Some(second) = self.second(at) {
                    second.retries += 1;
                }
            }
            _ => {}
        }
    }

    pub fn seconds(&self) -> &[Second] {
        &self.seconds
    }

    pub fn breaker_changes(&self) -> &[BreakerChange] {
        &self.breaker
    }

    /// The whole seconds that `[from, to)` touches, merged.
    pub fn window(&self, from: Duration, to: Duration) -> Window {
        let first = from.as_secs() as usize;
        let last = (to.as_nanos().div_ceil(1_000_000_000) as usize).min(self.seconds.len());
        let mut window = Window::default();
        for second in self.seconds.get(first..last).unwrap_or_default() {
            window.add(second);
        }
        window
    }
}

/// Seconds merged: what a clause is judged on (the same counts as one second).
pub type Window = Second;

impl Window {
    fn add(&mut self, second: &Second) {
        self.calls += second.calls;
        for (outcome, n) in &second.outcomes {
            *self.outcomes.entry(*outcome).or_default() += n;
        }
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&second.latency);
        let _ = self.lag.add(&second.lag);
        for (zone, stats) in &second.zones {
            let merged = self
                .zones
                .entry(zone.clone())
                .or_insert_with(|| ZoneSecond {
                    calls: 0,
                    latency: histogram(),
                });
            merged.calls += stats.calls;
            let _ = merged.latency.add(&stats.latency);
        }
        self.attempts += second.attempts;
        self.client_calls += second.client_calls;
        self.retries += second.retries;
    }

    /// The calls whose outcome `pick` accepts.
    pub fn count(&self, pick: impl Fn(Outcome) -> bool) -> u64 {
        self.outcomes
            .iter()
            .filter(|(o, _)| pick(**o))
            .map(|(_, n)| n)
            .sum()
    }

    fn share(part: u64, whole: u64) -> Option<f64> {
        (whole > 0).then(|| part as f64 / whole as f64)
    }

    /// Failed and dropped calls over all calls due.
    pub fn error_rate(&self) -> Option<f64> {
        let failed = self.count(|o| matches!(o, Outcome::Error(_) | Outcome::Dropped));
        Self::share(failed, self.calls)
    }

    pub fn fallback_rate(&self) -> Option<f64> {
        Self::share(self.count(|o| o == Outcome::Fallback), self.calls)
    }

    /// The share of calls answered by an instance that `zone`'s instances answered.
    pub fn traffic_share(&self, zone: &str) -> Option<f64> {
        let total: u64 = self.zones.values().map(|z| z.calls).sum();
        let part = self.zones.get(zone).map_or(0, |z| z.calls);
        Self::share(part, total)
    }

    /// Attempts that reached an instance per call the client made.
    pub fn retry_amplification(&self) -> Option<f64> {
        Self::share(self.attempts, self.client_calls)
    }

    /// The latency histogram of every call, or of the calls `zone` answered.
    pub fn latency_of(&self, zone: Option<&str>) -> Option<&Histogram<u64>> {
        let histogram = match zone {
            None => &self.latency,
            Some(zone) => &self.zones.get(zone)?.latency,
        };
        (!histogram.is_empty()).then_some(histogram)
    }

    /// The generator's scheduling lag of every call made (none when no call was made).
    pub fn scheduling_lag(&self) -> Option<&Histogram<u64>> {
        (!self.lag.is_empty()).then_some(&self.lag)
    }
}

/// A histogram's value at quantile `q` as a duration.
pub fn quantile(histogram: &Histogram<u64>, q: f64) -> Duration {
    Duration::from_micros(histogram.value_at_quantile(q))
}

/// A histogram's mean as a duration.
pub fn mean(histogram: &Histogram<u64>) -> Duration {
    Duration::from_secs_f64(histogram.mean() / 1e6)
}
