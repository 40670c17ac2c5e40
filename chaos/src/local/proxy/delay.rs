//! NetworkChaos `delay` and the topology's base latency, per chunk.
//!
//! `delay` draws as netem (and the simulation's link model, `faultline-sim`'s `link.rs`)
//! do: `latency` plus `jitter` times a uniform draw in `[-1, 1)`, each draw `correlation`
//! of the previous one on the same link (here: one connection direction; the state starts
//! afresh when the rules change, as the simulation's does when a fault ends). The base
//! latency is a draw in microseconds from the topology's fitted distribution, added on
//! the request direction only: it carries the whole round trip's extra time, as in the
//! simulation.

use std::time::Duration;

use faultline_core::rng::SplitMix64;

use crate::faults::latency::Fitted;
use crate::faults::tcp_loss::unit;

/// Longest delay one draw may add (a bound against absurd specs, not a model).
const MAX_DELAY: Duration = Duration::from_secs(3600);

/// The previous jitter draw of one delay rule on one direction.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Correlated {
    last: Option<f64>,
}

impl Correlated {
    /// One delay: `latency ± jitter`, correlated with the previous draw.
    pub fn draw(
        &mut self,
        latency: Duration,
        jitter: Duration,
        correlation: f64,
        rng: &SplitMix64,
    ) -> Duration {
        let fresh = unit(rng) * 2.0 - 1.0;
        let correlation = correlation.clamp(0.0, 1.0);
        let draw = correlation * self.last.unwrap_or(fresh) + (1.0 - correlation) * fresh;
        self.last = Some(draw);
        let seconds = latency.as_secs_f64() + jitter.as_secs_f64() * draw;
        Duration::try_from_secs_f64(seconds.max(0.0))
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY)
    }
}

/// One base-latency draw: `fitted` is in microseconds.
pub(super) fn base(fitted: &Fitted, rng: &SplitMix64) -> Duration {
    Duration::from_micros(fitted.sample(rng)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_within_the_jitter_and_follow_the_correlation() {
        let rng = SplitMix64::new(5);
        let (latency, jitter) = (Duration::from_millis(10), Duration::from_millis(2));
        let mut free = Correlated::default();
        let draws: Vec<Duration> = (0..1000)
            .map(|_| free.draw(latency, jitter, 0.0, &rng))
            .collect();
        assert!(draws
            .iter()
            .all(|d| *d >= latency - jitter && *d <= latency + jitter));
        let mean = draws.iter().sum::<Duration>() / 1000;
        assert!(
            mean.abs_diff(latency) < Duration::from_micros(200),
            "{mean:?}"
        );
        let mut stuck = Correlated::default();
        let first = stuck.draw(latency, jitter, 1.0, &rng);
        assert!((0..10).all(|_| stuck.draw(latency, jitter, 1.0, &rng) == first));
        assert_eq!(base(&Fitted::fixed(800), &rng), Duration::from_micros(800));
    }
}
