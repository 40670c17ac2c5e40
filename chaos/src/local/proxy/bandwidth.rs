//! NetworkChaos `bandwidth`: a rate limit per direction. Each chunk occupies the link for
//! `len / rate` and starts when the bytes before it have drained (a token bucket without
//! burst), as the simulation's link model does.

use std::time::{Duration, Instant};

/// Longest one chunk may occupy the link (a bound against absurd rates).
const MAX_TRANSMIT: Duration = Duration::from_secs(3600);

/// When the link is free again.
#[derive(Debug, Default)]
pub(super) struct Drain {
    busy_until: Option<Instant>,
}

impl Drain {
    /// A chunk of `len` bytes at `bytes_per_second` arriving at `now`: when it has passed.
    pub fn pass(&mut self, now: Instant, len: usize, bytes_per_second: f64) -> Instant {
        let seconds = len as f64 / bytes_per_second.max(1.0);
        let transmit = Duration::try_from_secs_f64(seconds)
            .unwrap_or(MAX_TRANSMIT)
            .min(MAX_TRANSMIT);
        let start = self.busy_until.map_or(now, |busy| busy.max(now));
        let done = start + transmit;
        self.busy_until = Some(done);
        done
    }
}
