//! The retry breaker: stops retrying a method while its recent error rate is high.
//!
//! Kitex's "retry circuit breaker" (`StopPolicy.CBPolicy`): when the callee is failing
//! broadly, retries only add load, so once the window holds at least `min_samples`
//! attempts and the share of failed ones reaches `error_rate`, retries and backup requests
//! are refused (`RetryDenial::RetryBreaker`) until the rate drops. It never refuses first
//! attempts — that is the service breaker's job.
//!
//! Defaults are Kitex's: error rate 0.1 (`defaultCBErrRate`), at least 10 samples
//! (`cbMinSample`), over a 10 s window of 100 buckets of 100 ms (the gopkg circuit
//! breaker panel the retryer records into). Each attempt is one sample; it failed when its
//! error `counts_against_callee()`. Kept per method, as Kitex keys its retry container.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// When the retry breaker stops retries.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RetryBreakerConfig {
    /// `false` turns the retry breaker off.
    pub enabled: bool,
    /// How far back attempts are counted.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub window: Duration,
    /// How many buckets the window slides by.
    pub buckets: u32,
    /// Fewer attempts than this in the window never stop retries.
    pub min_samples: u64,
    /// Failed share of attempts at or above which retries stop.
    pub error_rate: f64,
}

impl Default for RetryBreakerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window: Duration::from_secs(10),
            buckets: 100,
            min_samples: 10,
            error_rate: 0.1,
        }
    }
}

impl RetryBreakerConfig {
    /// No retry breaker.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    index: u64,
    total: u64,
    failed: u64,
}

/// Sliding windows of attempt outcomes, one per method.
#[derive(Debug)]
pub(crate) struct RetryBreaker {
    config: RetryBreakerConfig,
    bucket_len: Duration,
    epoch: Instant,
    windows: Mutex<HashMap<Arc<str>, Vec<Bucket>>>,
}

impl RetryBreaker {
    /// `config.buckets` is clamped into 1 ..= `BreakerConfig::MAX_BUCKETS` (each costs
    /// memory per method); `validate()` reports values outside it.
    pub(crate) fn new(config: RetryBreakerConfig) -> Self {
        let buckets = config
            .buckets
            .clamp(1, crate::breaker::BreakerConfig::MAX_BUCKETS);
        Self {
            config: RetryBreakerConfig { buckets, ..config },
            bucket_len: (config.window / buckets).max(Duration::from_millis(1)),
            epoch: Instant::now(),
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn now_index(&self) -> u64 {
        let since = Instant::now().saturating_duration_since(self.epoch);
        u64::try_from(since.as_nanos() / self.bucket_len.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Counts one attempt of `method`.
    pub(crate) fn record(&self, method: &Arc<str>, failed: bool) {
        let index = self.now_index();
        let n = self.config.buckets as usize;
        let mut windows = self.windows.lock().expect("retry breaker lock");
        let buckets = windows
            .entry(method.clone())
            .or_insert_with(|| vec![Bucket::default(); n]);
        let bucket = &mut buckets[(index % n as u64) as usize];
        if bucket.index != index {
            *bucket = Bucket {
                index,
                ..Bucket::default()
            };
        }
        bucket.total += 1;
        bucket.failed += u64::from(failed);
    }

    /// Whether retries of `method` are stopped now.
    pub(crate) fn is_open(&self, method: &str) -> bool {
        let index = self.now_index();
        let n = u64::from(self.config.buckets);
        let windows = self.windows.lock().expect("retry breaker lock");
        let Some(buckets) = windows.get(method) else {
            return false;
        };
        let (total, failed) = buckets
            .iter()
            .filter(|b| b.index <= index && index - b.index < n)
            .fold((0, 0), |(t, f), b| (t + b.total, f + b.failed));
        total >= self.config.min_samples
            && total > 0
            && failed as f64 / total as f64 >= self.config.error_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_at_the_rate_and_forgets_after_the_window() {
        let breaker = RetryBreaker::new(RetryBreakerConfig::default());
        let m: Arc<str> = "echo".into();
        for _ in 0..9 {
            breaker.record(&m, true);
        }
        assert!(!breaker.is_open("echo"), "9 samples are below min_samples");
        breaker.record(&m, true);
        assert!(breaker.is_open("echo"));
        assert!(!breaker.is_open("other"), "kept per method");
        tokio::time::advance(Duration::from_secs(5)).await;
        for _ in 0..80 {
            breaker.record(&m, false);
        }
        assert!(breaker.is_open("echo"), "10 of 90 failed: rate 0.11");
        for _ in 0..11 {
            breaker.record(&m, false);
        }
        assert!(!breaker.is_open("echo"), "10 of 101 failed: rate 0.099");
        for _ in 0..2 {
            breaker.record(&m, true);
        }
        assert!(breaker.is_open("echo"));
        tokio::time::advance(Duration::from_millis(5_001)).await;
        assert!(
            !breaker.is_open("echo"),
            "the failures at t=0 left the window: 2 of 93"
        );
    }
}
