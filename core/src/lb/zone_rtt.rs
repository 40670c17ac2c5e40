//! `ZoneRtt`: one remote zone's measured round-trip time and whether it is degraded, with
//! hysteresis.
//!
//! The zone turns degraded when its RTT average rises above `threshold` (3.5 ms by
//! default) and recovers only when it falls below `recover_below` (3.3 ms), a lower bar:
//! an average hovering around 3.5 ms does not flip the zone, and its traffic, back and
//! forth on every sample. The bar is set above the 3.2 ms cross-zone average the origin
//! system measured, so a link back at its normal latency does recover.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Ewma;

#[derive(Debug)]
pub(crate) struct ZoneRtt {
    pub(crate) ewma: Ewma,
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
        if avg > bars.threshold {
            !self.degraded.swap(true, Ordering::Release)
        } else if avg < bars.recover_below {
            self.degraded.swap(false, Ordering::Release)
        } else {
            false
        }
    }
}
