//! `BreakerConfig`: the window, the trip rule, the cooling schedule and the half-open probe
//! rule of one breaker, with Kitex-like defaults.
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | `bucket`, `buckets` | 100 ms x 100 | the sliding window: 10 s in 100 buckets |
//! | `min_samples` | 200 | the breaker trips only when the window holds at least this many calls |
//! | `error_rate` | 0.5 | ... and at least this fraction of them failed |
//! | `cooling_base` | 100 ms | how long the first trip keeps the breaker open |
//! | `cooling_cap` | 30 s | the most any trip keeps it open: each consecutive trip doubles the cooling time (100 ms, 200 ms, ... 25.6 s, then 30 s) |
//! | `half_open_probes` | 3 | probes allowed in flight at once while half-open |
//! | `half_open_successes` | 5 | successful probes that close the breaker; one failed probe re-opens it |
//!
//! "Consecutive" trips are trips with no return to CLOSED between them (a failed probe); closing
//! resets the streak. Times are kept with microsecond resolution.

use std::time::Duration;

/// How a breaker decides. `Default` gives the Kitex-like values in the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Width of one window bucket.
    pub bucket: Duration,
    /// Number of buckets: the window spans `bucket * buckets`.
    pub buckets: u32,
    /// Fewest calls in the window for the breaker to trip.
    pub min_samples: u64,
    /// Error rate (failures / calls in the window) at or above which it trips, in (0, 1].
    pub error_rate: f64,
    /// Cooling time after the first trip of a streak.
    pub cooling_base: Duration,
    /// Upper bound of the cooling time, however long the streak.
    pub cooling_cap: Duration,
    /// Probes admitted at once while half-open (1 ..= 65 535).
    pub half_open_probes: u16,
    /// Successful probes that close the breaker (1 ..= 65 535).
    pub half_open_successes: u16,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            bucket: Duration::from_millis(100),
            buckets: 100,
            min_samples: 200,
            error_rate: 0.5,
            cooling_base: Duration::from_millis(100),
            cooling_cap: Duration::from_secs(30),
            half_open_probes: 3,
            half_open_successes: 5,
        }
    }
}

/// A `BreakerConfig` that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakerConfigError {
    #[error("bucket must be at least 1 microsecond")]
    Bucket,
    #[error("buckets must be at least 1")]
    Buckets,
    #[error("error_rate must be in (0, 1]")]
    ErrorRate,
    #[error("cooling_cap must be at least cooling_base, and cooling_base at least 1 microsecond")]
    Cooling,
    #[error("half_open_probes and half_open_successes must be at least 1")]
    HalfOpen,
}

impl BreakerConfig {
    /// Checks that every setting is usable.
    pub fn validate(&self) -> Result<(), BreakerConfigError> {
        if self.bucket.as_micros() == 0 {
            return Err(BreakerConfigError::Bucket);
        }
        if self.buckets == 0 {
            return Err(BreakerConfigError::Buckets);
        }
        if !(self.error_rate > 0.0 && self.error_rate <= 1.0) {
            return Err(BreakerConfigError::ErrorRate);
        }
        if self.cooling_base.as_micros() == 0 || self.cooling_cap < self.cooling_base {
            return Err(BreakerConfigError::Cooling);
        }
        if self.half_open_probes == 0 || self.half_open_successes == 0 {
            return Err(BreakerConfigError::HalfOpen);
        }
        Ok(())
    }

    /// The window's span: `bucket * buckets`.
    pub fn window(&self) -> Duration {
        self.bucket * self.buckets
    }

    /// Cooling time in microseconds after the `trips`-th consecutive trip (`trips >= 1`):
    /// `cooling_base * 2^(trips - 1)`, at most `cooling_cap`.
    pub fn cooling_micros(&self, trips: u8) -> u64 {
        let base = micros(self.cooling_base);
        let factor = 1u64 << u32::from(trips.clamp(1, 64) - 1).min(63);
        base.saturating_mul(factor).min(micros(self.cooling_cap))
    }

    /// Whether a window of `samples` calls with `failures` failures trips the breaker.
    pub fn trips(&self, samples: u64, failures: u64) -> bool {
        samples > 0
            && samples >= self.min_samples
            && failures as f64 / samples as f64 >= self.error_rate
    }
}

/// A duration in whole microseconds, saturating (the breaker's time unit).
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_kitex_like() {
        let c = BreakerConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.window(), Duration::from_secs(10));
    }

    #[test]
    fn cooling_doubles_per_trip_up_to_the_cap() {
        let c = BreakerConfig::default();
        let ms: Vec<u64> = (1..=11).map(|t| c.cooling_micros(t) / 1000).collect();
        assert_eq!(
            ms,
            [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]
        );
        assert_eq!(c.cooling_micros(u8::MAX), 30_000_000);
    }

    #[test]
    fn invalid_settings_are_refused() {
        let bad = |f: fn(&mut BreakerConfig)| {
            let mut c = BreakerConfig::default();
            f(&mut c);
            c.validate()
        };
        assert_eq!(bad(|c| c.buckets = 0), Err(BreakerConfigError::Buckets));
        assert_eq!(
            bad(|c| c.bucket = Duration::ZERO),
            Err(BreakerConfigError::Bucket)
        );
        assert_eq!(
            bad(|c| c.error_rate = 0.0),
            Err(BreakerConfigError::ErrorRate)
        );
        assert_eq!(
            bad(|c| c.error_rate = f64::NAN),
            Err(BreakerConfigError::ErrorRate)
        );
        assert_eq!(
            bad(|c| c.cooling_cap = Duration::from_millis(1)),
            Err(BreakerConfigError::Cooling)
        );
        assert_eq!(
            bad(|c| c.half_open_successes = 0),
            Err(BreakerConfigError::HalfOpen)
        );
    }
}
