//! `LatencyWindow`: the backup-request delay as a percentile of recently observed latency.
//!
//! As tower's `hedge` does, latencies are written into the current period's histogram and
//! the delay is read from the last completed period, so one slow burst cannot move the
//! delay mid-period. A period with fewer than `min_samples` latencies yields no delay (no
//! backup requests until there is enough data). Latencies are kept in whole milliseconds
//! (tokio's timer resolution) in a sparse histogram, and the percentile is computed once
//! per period, at rotation.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct LatencyWindow {
    percentile: f64,
    min_samples: u64,
    period: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    started: Instant,
    counts: BTreeMap<u64, u64>,
    samples: u64,
    delay: Option<Duration>,
}

impl LatencyWindow {
    pub(crate) fn new(percentile: f64, min_samples: u64, period: Duration) -> Self {
        Self {
            percentile: percentile.clamp(0.0, 1.0),
            min_samples: min_samples.max(1),
            period: period.max(Duration::from_millis(1)),
            state: Mutex::new(State {
                started: Instant::now(),
                counts: BTreeMap::new(),
                samples: 0,
                delay: None,
            }),
        }
    }

    /// Records one observed latency.
    pub(crate) fn record(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        let mut state = self.lock_rotated();
        *state.counts.entry(ms).or_default() += 1;
        state.samples += 1;
    }

    /// The delay after which to send a backup request, if the last period had enough data.
    pub(crate) fn delay(&self) -> Option<Duration> {
        self.lock_rotated().delay
    }

    fn lock_rotated(&self) -> std::sync::MutexGuard<'_, State> {
        let mut state = self.state.lock().expect("latency window lock");
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(state.started);
        if elapsed >= self.period {
            state.delay = if elapsed >= self.period.saturating_mul(2) {
                None
            } else {
                self.percentile_of(&state)
            };
            state.counts.clear();
            state.samples = 0;
            state.started = now;
        }
        state
    }

    fn percentile_of(&self, state: &State) -> Option<Duration> {
        if state.samples < self.min_samples {
            return None;
        }
        let rank = ((self.percentile * state.samples as f64).ceil() as u64).max(1);
        let mut seen = 0;
        state.counts.iter().find_map(|(&ms, &count)| {
            seen += count;
            (seen >= rank).then(|| Duration::from_millis(ms))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn delay_is_last_periods_percentile() {
        let window = LatencyWindow::new(0.9, 50, Duration::from_secs(1));
        for ms in 1..=100 {
            window.record(Duration::from_millis(ms));
        }
        assert_eq!(window.delay(), None, "the first period is still open");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(window.delay(), Some(Duration::from_millis(90)));
        for _ in 0..10 {
            window.record(Duration::from_millis(500));
        }
        assert_eq!(
            window.delay(),
            Some(Duration::from_millis(90)),
            "writes go to the current period"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(window.delay(), None, "10 samples are below min_samples");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_period_clears_the_delay() {
        let window = LatencyWindow::new(0.5, 1, Duration::from_secs(1));
        window.record(Duration::from_millis(7));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(window.delay(), Some(Duration::from_millis(7)));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(window.delay(), None);
    }
}
