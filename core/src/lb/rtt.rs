//! `Ewma`: an exponentially weighted moving average of latencies, lock-free.
//!
//! Per sample, `avg += alpha * (sample - avg)`; the first sample sets it. It counts samples,
//! not wall time, so a test (or a simulation) that feeds the same samples gets the same
//! averages. Stored as whole nanoseconds in one `AtomicU64` (0 = no sample yet) and updated
//! with a compare-and-swap loop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A lock-free latency EWMA.
#[derive(Debug)]
pub struct Ewma {
    nanos: AtomicU64,
    alpha: f64,
}

impl Ewma {
    /// `alpha` in `(0, 1]`: the weight of each new sample (clamped into that range).
    pub fn new(alpha: f64) -> Self {
        Self {
            nanos: AtomicU64::new(0),
            alpha: if alpha.is_nan() {
                1.0
            } else {
                alpha.clamp(f64::MIN_POSITIVE, 1.0)
            },
        }
    }

    /// Adds a sample; returns the new average.
    pub fn record(&self, sample: Duration) -> Duration {
        let sample = u64::try_from(sample.as_nanos()).unwrap_or(u64::MAX).max(1);
        let mut old = self.nanos.load(Ordering::Relaxed);
        loop {
            let new = if old == 0 {
                sample
            } else {
                let moved = old as f64 + self.alpha * (sample as f64 - old as f64);
                (moved.round() as u64).max(1)
            };
            match self
                .nanos
                .compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Duration::from_nanos(new),
                Err(current) => old = current,
            }
        }
    }

    /// The average, or `None` before the first sample.
    pub fn get(&self) -> Option<Duration> {
        match self.nanos.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sample_sets_then_moves_by_alpha() {
        let ewma = Ewma::new(0.5);
        assert_eq!(ewma.get(), None);
        assert_eq!(
            ewma.record(Duration::from_millis(4)),
            Duration::from_millis(4)
        );
        assert_eq!(
            ewma.record(Duration::from_millis(2)),
            Duration::from_millis(3)
        );
        assert_eq!(ewma.get(), Some(Duration::from_millis(3)));
    }
}
