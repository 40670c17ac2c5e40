//! What `RetryConfig` (with its budget, retry breaker, backoff and backup settings) may
//! hold: every bound the retry layers rely on, checked at once with field paths.

use std::time::Duration;

use super::{Backoff, BackupDelay, BudgetConfig, RetryConfig};
use crate::breaker::BreakerConfig;
use crate::config::{self, FieldErrors, FieldPath, Validate};

impl RetryConfig {
    /// The most retries a call may get (Kitex caps failure retries at 5; more only
    /// multiplies load).
    pub const MAX_RETRIES: u32 = 10;
}

impl Validate for RetryConfig {
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors) {
        errors.in_range(
            || path.field("maxRetries"),
            self.max_retries,
            0..=Self::MAX_RETRIES,
        );
        errors.duration_in(
            || path.field("minRemaining"),
            self.min_remaining,
            config::ANY,
        );
        let backoff = path.field("backoff");
        match self.backoff {
            Backoff::None => {}
            Backoff::Fixed { delay } => {
                errors.duration_in(|| backoff.field("delay"), delay, config::ANY);
            }
            Backoff::Random { min, max } => {
                errors.duration_in(|| backoff.field("max"), max, config::ANY);
                errors.check(
                    min <= max,
                    || backoff.field("min"),
                    || {
                        format!(
                            "must be at most max ({}), got {}",
                            config::duration::format(max),
                            config::duration::format(min)
                        )
                    },
                );
            }
        }
        if self.budget.enabled {
            let budget = path.field("budget");
            errors.duration_in(
                || budget.field("ttl"),
                self.budget.ttl,
                BudgetConfig::TTL_RANGE,
            );
            errors.in_range(
                || budget.field("ratio"),
                self.budget.ratio,
                BudgetConfig::RATIO_RANGE,
            );
            errors.in_range(
                || budget.field("minPerSec"),
                self.budget.min_per_sec,
                BudgetConfig::MIN_PER_SEC_RANGE,
            );
        }
        if self.breaker.enabled {
            let breaker = path.field("breaker");
            errors.duration_in(
                || breaker.field("window"),
                self.breaker.window,
                config::POSITIVE,
            );
            errors.in_range(
                || breaker.field("buckets"),
                self.breaker.buckets,
                1..=BreakerConfig::MAX_BUCKETS,
            );
            errors.check(
                self.breaker.error_rate > 0.0 && self.breaker.error_rate <= 1.0,
                || breaker.field("errorRate"),
                || format!("must be in (0, 1], got {}", self.breaker.error_rate),
            );
        }
        let backup = path.field("backup");
        match self.backup {
            None => {}
            Some(BackupDelay::Fixed { delay }) => {
                errors.duration_in(|| backup.field("delay"), delay, config::ANY);
            }
            Some(BackupDelay::Percentile {
                percentile, period, ..
            }) => {
                errors.check(
                    percentile > 0.0 && percentile <= 1.0,
                    || backup.field("percentile"),
                    || format!("must be in (0, 1], got {percentile}"),
                );
                errors.duration_in(
                    || backup.field("period"),
                    period,
                    Duration::from_millis(1)..=config::MAX_DURATION,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(config: &RetryConfig) -> Vec<String> {
        match config.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.paths(),
        }
    }

    #[test]
    fn defaults_are_valid_and_an_empty_mapping_is_the_default() {
        assert!(paths(&RetryConfig::default()).is_empty());
        let parsed: RetryConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, RetryConfig::default());
    }

    #[test]
    fn every_bound_tower_or_the_layers_rely_on_is_checked() {
        let mut c = RetryConfig {
            max_retries: 1000,
            ..RetryConfig::default()
        };
        c.budget.ttl = Duration::from_secs(61);
        c.budget.ratio = f32::NAN;
        c.budget.min_per_sec = u32::MAX;
        c.breaker.buckets = 0;
        c.breaker.error_rate = 0.0;
        c.backoff = Backoff::Random {
            min: Duration::from_millis(20),
            max: Duration::from_millis(10),
        };
        c.backup = Some(BackupDelay::Percentile {
            percentile: 1.5,
            min_samples: 1,
            period: Duration::ZERO,
        });
        assert_eq!(
            paths(&c),
            [
                "maxRetries",
                "backoff.min",
                "budget.ttl",
                "budget.ratio",
                "budget.minPerSec",
                "breaker.buckets",
                "breaker.errorRate",
                "backup.percentile",
                "backup.period"
            ]
        );
        c.budget.enabled = false;
        c.breaker.enabled = false;
        assert_eq!(paths(&c).len(), 4, "disabled parts are not checked");
    }

    #[test]
    fn reads_the_documented_shape() {
        let c: RetryConfig = serde_json::from_value(serde_json::json!({
            "maxRetries": 1,
            "backoff": {"type": "random", "min": "10ms", "max": "50ms"},
            "budget": {"enabled": false},
            "backup": {"type": "percentile", "percentile": 0.99, "minSamples": 100, "period": "10s"}
        }))
        .unwrap();
        assert_eq!(c.max_retries, 1);
        assert!(!c.budget.enabled);
        assert_eq!(
            c.backoff,
            Backoff::Random {
                min: Duration::from_millis(10),
                max: Duration::from_millis(50)
            }
        );
        assert!(matches!(
            c.backup,
            Some(BackupDelay::Percentile {
                min_samples: 100,
                ..
            })
        ));
        let round = serde_json::to_value(&c).unwrap();
        assert_eq!(serde_json::from_value::<RetryConfig>(round).unwrap(), c);
        let err = serde_json::from_value::<RetryConfig>(serde_json::json!({
            "backoff": {"type": "fixed", "dealy": "1ms"}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `dealy`"), "{err}");
    }
}
