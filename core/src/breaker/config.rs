//! `BreakerConfig`: the window, the trip rule, the cooling schedule and the half-open probe
//! rule of one breaker, with Kitex-like defaults.
//!
//! | setting (as data) | default | meaning |
//! |---|---|---|
//! | `enabled` | true | whether the breaker is in the client stack at all |
//! | `bucket`, `buckets` | 100 ms x 100 | the sliding window: 10 s in 100 buckets (at most 10 000) |
//! | `minSamples` | 200 | the breaker trips only when the window holds at least this many calls |
//! | `errorRate` | 0.5 | ... and at least this fraction of them failed |
//! | `coolingBase` | 100 ms | how long the first trip keeps the breaker open |
//! | `coolingCap` | 30 s | the most any trip keeps it open: each consecutive trip doubles the cooling time (100 ms, 200 ms, ... 25.6 s, then 30 s) |
//! | `halfOpenProbes` | 3 | probes allowed in flight at once while half-open |
//! | `halfOpenSuccesses` | 5 | successful probes that close the breaker; one failed probe re-opens it |
//!
//! "Consecutive" trips are trips with no return to CLOSED between them (a failed probe); closing
//! resets the streak. Times are kept with microsecond resolution.

use std::time::Duration;

use crate::config::{duration, FieldErrors, FieldPath, Validate};

/// How a breaker decides. `Default` gives the Kitex-like values in the module doc. As data
/// (camelCase, Go durations): `{ enabled: true, bucket: 100ms, buckets: 100, minSamples: 200,
/// errorRate: 0.5, coolingBase: 100ms, coolingCap: 30s, halfOpenProbes: 3,
/// halfOpenSuccesses: 5 }`; every field may be left out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct BreakerConfig {
    /// Whether the breaker is in the stack at all (Kitex's `CBConfig.Enable`). A client
    /// built from a config leaves a disabled breaker's layer out.
    pub enabled: bool,
    /// Width of one window bucket.
    #[serde(with = "duration")]
    #[cfg_attr(feature = "schema", schemars(with = "duration::Schema"))]
    pub bucket: Duration,
    /// Number of buckets: the window spans `bucket * buckets`.
    pub buckets: u32,
    /// Fewest calls in the window for the breaker to trip.
    pub min_samples: u64,
    /// Error rate (failures / calls in the window) at or above which it trips, in (0, 1].
    pub error_rate: f64,
    /// Cooling time after the first trip of a streak.
    #[serde(with = "duration")]
    #[cfg_attr(feature = "schema", schemars(with = "duration::Schema"))]
    pub cooling_base: Duration,
    /// Upper bound of the cooling time, however long the streak.
    #[serde(with = "duration")]
    #[cfg_attr(feature = "schema", schemars(with = "duration::Schema"))]
    pub cooling_cap: Duration,
    /// Probes admitted at once while half-open (1 ..= 65 535).
    pub half_open_probes: u16,
    /// Successful probes that close the breaker (1 ..= 65 535).
    pub half_open_successes: u16,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
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

impl BreakerConfig {
    /// The most buckets a window may have (each costs a slot of memory per breaker).
    pub const MAX_BUCKETS: u32 = 10_000;
}

impl Validate for BreakerConfig {
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors) {
        errors.check(
            self.bucket >= Duration::from_micros(1),
            || path.field("bucket"),
            || {
                format!(
                    "must be at least 1us, got {}",
                    duration::format(self.bucket)
                )
            },
        );
        errors.check(
            (1..=Self::MAX_BUCKETS).contains(&self.buckets),
            || path.field("buckets"),
            || {
                format!(
                    "must be in 1 ..= {}, got {}",
                    Self::MAX_BUCKETS,
                    self.buckets
                )
            },
        );
        errors.check(
            self.error_rate > 0.0 && self.error_rate <= 1.0,
            || path.field("errorRate"),
            || format!("must be in (0, 1], got {}", self.error_rate),
        );
        errors.check(
            self.cooling_base >= Duration::from_micros(1),
            || path.field("coolingBase"),
            || "must be at least 1us".into(),
        );
        errors.check(
            self.cooling_cap >= self.cooling_base,
            || path.field("coolingCap"),
            || {
                format!(
                    "must be at least coolingBase ({}), got {}",
                    duration::format(self.cooling_base),
                    duration::format(self.cooling_cap)
                )
            },
        );
        errors.check(
            self.half_open_probes >= 1,
            || path.field("halfOpenProbes"),
            || "must be at least 1".into(),
        );
        errors.check(
            self.half_open_successes >= 1,
            || path.field("halfOpenSuccesses"),
            || "must be at least 1".into(),
        );
    }
}

impl BreakerConfig {
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
    fn invalid_settings_are_refused_with_their_paths() {
        let bad = |f: fn(&mut BreakerConfig)| {
            let mut c = BreakerConfig::default();
            f(&mut c);
            c.validate().unwrap_err().0[0].path.to_string()
        };
        assert_eq!(bad(|c| c.buckets = 0), "buckets");
        assert_eq!(bad(|c| c.buckets = u32::MAX), "buckets");
        assert_eq!(bad(|c| c.bucket = Duration::ZERO), "bucket");
        assert_eq!(bad(|c| c.error_rate = 0.0), "errorRate");
        assert_eq!(bad(|c| c.error_rate = f64::NAN), "errorRate");
        assert_eq!(
            bad(|c| c.cooling_cap = Duration::from_millis(1)),
            "coolingCap"
        );
        assert_eq!(bad(|c| c.half_open_successes = 0), "halfOpenSuccesses");
        let c = BreakerConfig {
            buckets: 0,
            error_rate: 2.0,
            ..BreakerConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().0.len(), 2, "every error at once");
    }

    #[test]
    fn an_empty_mapping_is_the_default_and_fields_are_camel_case() {
        let c: BreakerConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, BreakerConfig::default());
        let c: BreakerConfig =
            serde_json::from_str(r#"{"errorRate": 0.3, "coolingBase": "1.5s"}"#).unwrap();
        assert_eq!(c.error_rate, 0.3);
        assert_eq!(c.cooling_base, Duration::from_millis(1500));
        let err = serde_json::from_str::<BreakerConfig>(r#"{"error_rate": 0.3}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `error_rate`"),
            "{err}"
        );
    }
}
