//! Link latency as the backends draw it: a distribution over whole units fitted to a mean
//! and a 99th percentile. The simulation's unit is its tick (1 ms of simulated time, which
//! tokio and turmoil resolve); the local fault proxies' is the microsecond.
//!
//! The fit: 1.5 % of the mass at the p99 (rounded to a unit), the rest on the two whole
//! units around the mean that is left, so that the mean and the p99 come out as asked (to
//! a unit). `base` units the network already takes are taken off before fitting (in the
//! simulation a round trip takes one tick); a latency below that cannot be modelled and
//! comes out as `base` (the simulation's report says so, and reaches sub-millisecond
//! figures by scaling time).

use faultline_core::rng::SplitMix64;

/// Mass of the tail point.
const TAIL: f64 = 0.015;

/// A distribution over whole units.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// (units, cumulative probability), increasing.
    points: Vec<(u64, f64)>,
}

impl Fitted {
    /// Always `units`.
    pub fn fixed(units: u64) -> Self {
        Self {
            points: vec![(units, 1.0)],
        }
    }

    /// Fitted to a mean and p99 in units (fractions allowed), less `base` units the
    /// network already takes.
    pub fn fit(mean: f64, p99: f64, base: f64) -> Self {
        let mean = (mean - base).max(0.0);
        let p99 = (p99 - base).max(mean);
        let tail = p99.round();
        let body_mean = ((mean - TAIL * tail) / (1.0 - TAIL)).max(0.0);
        if tail <= body_mean.ceil() {
            return Self::around(mean, 1.0, Vec::new());
        }
        Self::around(body_mean, 1.0 - TAIL, vec![(tail as u64, 1.0)])
    }

    /// `mass` spread on the two whole units around `mean`, then `rest`.
    fn around(mean: f64, mass: f64, rest: Vec<(u64, f64)>) -> Self {
        let low = mean.floor();
        let high_share = mean - low;
        let mut points = vec![(low as u64, mass * (1.0 - high_share))];
        if high_share > 0.0 {
            points.push((low as u64 + 1, mass));
        } else {
            points[0].1 = mass;
        }
        points.extend(rest);
        Self { points }
    }

    /// One draw.
    pub fn sample(&self, rng: &SplitMix64) -> u64 {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        self.points
            .iter()
            .find(|(_, cumulative)| u < *cumulative)
            .or(self.points.last())
            .map_or(0, |(units, _)| *units)
    }

    /// The mean, in units.
    pub fn mean(&self) -> f64 {
        let mut previous = 0.0;
        let mut mean = 0.0;
        for (units, cumulative) in &self.points {
            mean += *units as f64 * (cumulative - previous);
            previous = *cumulative;
        }
        mean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percentile(dist: &Fitted, q: f64) -> u64 {
        let rng = SplitMix64::new(1);
        let mut draws: Vec<u64> = (0..100_000).map(|_| dist.sample(&rng)).collect();
        draws.sort_unstable();
        draws[((draws.len() as f64) * q) as usize - 1]
    }

    #[test]
    fn the_origin_figures_fit_at_scale_ten() {
        // Same zone: 0.8 ms mean, 2.1 ms p99 at 100 us a tick, less the tick turmoil takes.
        let same = Fitted::fit(8.0, 21.0, 1.0);
        assert!((same.mean() - 7.0).abs() < 0.01, "{same:?}");
        assert_eq!(percentile(&same, 0.99), 20);
        let cross = Fitted::fit(32.0, 47.0, 1.0);
        assert!((cross.mean() - 31.0).abs() < 0.01, "{cross:?}");
        assert_eq!(percentile(&cross, 0.99), 46);
    }

    #[test]
    fn degenerate_inputs_stay_in_range() {
        assert_eq!(Fitted::fit(0.0, 0.0, 1.0), Fitted::fixed(0));
        let flat = Fitted::fit(5.0, 5.0, 0.0);
        assert_eq!(percentile(&flat, 0.99), 5);
        assert!((flat.mean() - 5.0).abs() < 1e-9);
        let huge = Fitted::fit(1e12, 1e13, 0.0);
        assert!(huge.sample(&SplitMix64::new(3)) > 0);
    }
}
