//! When the probe's calls are released: the schedule of due instants, and how the
//! generator waits for each.
//!
//! - [`Pacing::Timer`] waits with tokio's timer. Under turmoil that is virtual time, so a
//!   simulation stays deterministic; on a real runtime the timer wheel's 1 ms resolution
//!   wakes up to a millisecond or more late.
//! - [`Pacing::Precise`] (real runtime only: it reads the wall clock) runs the schedule on a
//!   pacing thread: `std::thread::sleep` (a high-resolution timer, which still wakes
//!   ~0.1 ms late) until [`AHEAD`] before a call is due, then a tick over a channel wakes
//!   the generator, which yields to the runtime in a loop until the call is due. Waking
//!   the runtime ahead keeps a parked worker's wake-up (~0.1 ms on an idle VM) out of the
//!   call's start, and a worker in that loop keeps polling its I/O. The cost is a worker
//!   busy for up to [`AHEAD`] per call: always, from `1 / AHEAD` (3,333) calls per second.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Load;

/// How long before a call is due the pacing thread wakes the generator: the thread
/// sleep's usual overshoot (~0.1 ms) plus a parked worker's wake-up (~0.1 ms), and some.
const AHEAD: Duration = Duration::from_micros(300);

/// How the generator waits until a call is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// tokio's timer: virtual time under turmoil; ~1 ms late on a real runtime.
    Timer,
    /// A pacing thread on the wall clock wakes the generator ahead, which yields until the
    /// due time. Needs a runtime whose clock is the wall clock (not turmoil, not paused).
    Precise,
}

/// Load's due instants, each released no earlier than it is due.
pub(super) struct Ticks {
    load: Load,
    origin: Instant,
    next: u64,
    total: u64,
    /// `Precise`: the pacing thread's ticks.
    precise: Option<mpsc::UnboundedReceiver<()>>,
}

impl Ticks {
    pub(super) fn new(load: &Load, origin: Instant) -> Self {
        let precise = (load.pacing == Pacing::Precise).then(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let (load, origin) = (load.clone(), origin.into_std());
            std::thread::Builder::new()
                .name("probe-pacer".into())
                .spawn(move || {
                    for k in 0..load.total() {
                        let wake = origin + load.due(k);
                        let wake = wake.checked_sub(AHEAD).unwrap_or(wake);
                        std::thread::sleep(
                            wake.saturating_duration_since(std::time::Instant::now()),
                        );
                        if tx.send(()).is_err() {
                            return;
                        }
                    }
                })
                .expect("the probe's pacing thread starts");
            rx
        });
        Self {
            origin,
            next: 0,
            total: load.total(),
            load: load.clone(),
            precise,
        }
    }

    /// Waits for the next call's due instant and returns it; `None` after the last one.
    pub(super) async fn next(&mut self) -> Option<Instant> {
        if self.next >= self.total {
            return None;
        }
        let due = self.origin + self.load.due(self.next);
        self.next += 1;
        match &mut self.precise {
            None => tokio::time::sleep_until(due).await,
            Some(ticks) => {
                ticks.recv().await?;
                while Instant::now() < due {
                    tokio::task::yield_now().await;
                }
            }
        }
        Some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pacing: Pacing) -> Load {
        Load {
            rate: 2_000,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(100),
            payload_bytes: 1,
            message: None,
            max_in_flight: 1,
            time_scale: 1,
            pacing,
        }
    }

    #[tokio::test]
    async fn the_precise_pacer_releases_every_call_no_earlier_than_due() {
        let load = load(Pacing::Precise);
        let mut ticks = Ticks::new(&load, Instant::now());
        let mut released = 0;
        while let Some(due) = ticks.next().await {
            assert!(Instant::now() >= due, "tick {released} released early");
            released += 1;
        }
        assert_eq!(released, load.total());
    }

    #[tokio::test(start_paused = true)]
    async fn the_timer_pacer_keeps_the_schedule_on_tokio_time() {
        let load = load(Pacing::Timer);
        let origin = Instant::now();
        let mut ticks = Ticks::new(&load, origin);
        let mut k = 0;
        while let Some(due) = ticks.next().await {
            assert_eq!(due, origin + load.due(k));
            assert!(Instant::now() >= due, "tick {k} released early");
            k += 1;
        }
        assert_eq!(k, load.total());
    }
}
