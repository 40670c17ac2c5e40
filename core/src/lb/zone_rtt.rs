//! `ZoneRtt`: one remote zone's measured round-trip time and whether it is degraded, with
//! hysteresis.
//!
//! The zone turns degraded when its RTT average rises above `threshold` (3.5 ms by
//! default) and recovers only when it falls below `recover_below` (3.3 ms), a lower bar:
//! an average hovering around 3.5 ms does not flip the zone, and its traffic, back and
//! forth on every sample. The bar is set above the 3.2 ms cross-zone average the origin
//! system measured, so a link back at its normal latency does recover.
//!
//! A zone is judged only from its `MIN_SAMPLES`-th sample on: the first call to a zone
//! usually pays for the connection's handshake too, and the first sample sets the average
//! outright, so one slow first call would otherwise mark a healthy zone degraded.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use super::Ewma;

/// Samples a zone needs before its average can mark it degraded.
pub(crate) const MIN_SAMPLES: u32 = 3;

#[derive(Debug)]
pub(crate) struct ZoneRtt {
    pub(crate) ewma: Ewma,
    samples: AtomicU32,
    degraded: AtomicBool,
}

/// The two bars of the hysteresis.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bars {
    pub(crate) threshold: Duration,
    pub(crate) recover_below: Duration,
}

impl ZoneRtt {
    pub(crate) fn new(alpha: f64) -> Self {
        Self {
            ewma: Ewma::new(alpha),
            samples: AtomicU32::new(0),
            degraded: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    /// Adds an RTT sample and moves the zone across a bar if the average crossed it;
    /// returns true when the zone changed state.
    pub(crate) fn record(&self, sample: Duration, bars: Bars) -> bool {
        let avg = self.ewma.record(sample);
        // Relaxed: a count, read only here; the decision below tolerates a racing sample.
        let seen = self
            .samples
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if seen < MIN_SAMPLES {
            return false;
        }
        if avg > bars.threshold {
            !self.degraded.swap(true, Ordering::Release)
        } else if avg < bars.recover_below {
            self.degraded.swap(false, Ordering::Release)
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARS: Bars = Bars {
        threshold: Duration::from_micros(3500),
        recover_below: Duration::from_micros(3300),
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_slow_first_call_does_not_degrade_a_healthy_zone() {
        let zone = ZoneRtt::new(0.3);
        // The first call also paid for the TCP handshake; the link itself is 2 ms.
        for sample in [ms(4), ms(2), ms(2), ms(2)] {
            assert!(!zone.record(sample, BARS));
            assert!(!zone.is_degraded());
        }
    }

    #[test]
    fn a_slow_zone_degrades_at_the_third_sample_and_recovers_below_the_lower_bar() {
        let zone = ZoneRtt::new(0.3);
        assert!(!zone.record(ms(6), BARS));
        assert!(!zone.record(ms(6), BARS));
        assert!(zone.record(ms(6), BARS), "judged from the third sample");
        assert!(zone.is_degraded());
        let mut recovered = false;
        for _ in 0..20 {
            recovered |= zone.record(ms(2), BARS);
        }
        assert!(recovered && !zone.is_degraded());
    }
}
