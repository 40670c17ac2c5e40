//! Backoff between failure retries: none, fixed, or random within bounds.
//!
//! Random backoff draws whole milliseconds uniformly in `[min, max]` (Kitex draws whole
//! milliseconds too, and tokio's timer resolves 1 ms) from the crate's `SplitMix64`. The
//! seed is configurable so a simulation replays the same waits (the simulation always sets
//! one, from the run's seed: `ClientConfig::seeded`); without one it comes from the
//! process's random hasher keys, which is what a real client wants.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

use crate::rng::SplitMix64;

/// How long to wait before a failure retry. As data: `{ type: none }`,
/// `{ type: fixed, delay: 10ms }` or `{ type: random, min: 10ms, max: 50ms }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    schemars(transform = crate::config::schema::flatten_tagged_union)
)]
pub enum Backoff {
    /// Retry at once (Kitex's default).
    #[default]
    None,
    /// Wait the same time before every retry.
    Fixed {
        #[serde(with = "crate::config::duration")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
        delay: Duration,
    },
    /// Wait a uniformly drawn whole number of milliseconds in `[min, max]`.
    Random {
        #[serde(with = "crate::config::duration")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
        min: Duration,
        #[serde(with = "crate::config::duration")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
        max: Duration,
    },
}

/// A `Backoff` with its random generator, shared by all calls of one client.
#[derive(Debug)]
pub(crate) struct BackoffState {
    backoff: Backoff,
    rng: SplitMix64,
}

impl BackoffState {
    pub(crate) fn new(backoff: Backoff, seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(|| RandomState::new().hash_one(0x5eed_u64));
        Self {
            backoff,
            rng: SplitMix64::new(seed),
        }
    }

    /// The wait before the next retry.
    pub(crate) fn next(&self) -> Duration {
        match self.backoff {
            Backoff::None => Duration::ZERO,
            Backoff::Fixed { delay } => delay,
            Backoff::Random { min, max } => {
                let lo = u64::try_from(min.as_millis()).unwrap_or(u64::MAX);
                let hi = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
                if hi <= lo {
                    return min;
                }
                let span = (hi - lo).saturating_add(1);
                Duration::from_millis(lo.saturating_add(self.rng.below(span)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_stays_in_bounds_and_replays_by_seed() {
        let bounds = Backoff::Random {
            min: Duration::from_millis(10),
            max: Duration::from_millis(20),
        };
        let a = BackoffState::new(bounds, Some(7));
        let b = BackoffState::new(bounds, Some(7));
        let draws: Vec<_> = (0..200).map(|_| a.next()).collect();
        assert!(draws.iter().all(|d| (10..=20).contains(&d.as_millis())));
        assert!(draws.iter().any(|d| d.as_millis() == 10));
        assert!(draws.iter().any(|d| d.as_millis() == 20));
        assert_eq!(draws, (0..200).map(|_| b.next()).collect::<Vec<_>>());
        let c = BackoffState::new(bounds, Some(8));
        assert_ne!(draws, (0..200).map(|_| c.next()).collect::<Vec<_>>());
    }

    #[test]
    fn fixed_and_none() {
        let fixed = BackoffState::new(
            Backoff::Fixed {
                delay: Duration::from_millis(5),
            },
            None,
        );
        assert_eq!(fixed.next(), Duration::from_millis(5));
        assert_eq!(
            BackoffState::new(Backoff::None, None).next(),
            Duration::ZERO
        );
    }
}
