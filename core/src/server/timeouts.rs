//! The server's timeouts and their defaults, and [`Deadlines`]: when one connection's read
//! or idle timeout falls due, from when its bytes arrived and its calls finished.
//!
//! All times are `tokio::time` instants, so they are virtual under turmoil and in paused
//! tests.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::MAX_DURATION;

/// A frame that has started arriving must be whole within this long. Kitex's server
/// `ReadWriteTimeout` is 5 s too; it lets a 16 MiB frame through at about 3.4 MB/s, and
/// keeps a client that sends a byte now and then from holding a connection slot for long.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// A reply must be taken by the peer's socket within this long: Kitex's `ReadWriteTimeout`
/// bounds writes too, and 5 s is ample for a reply to a peer that reads at all.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection with no request in flight and no bytes for this long is closed: Kitex's
/// `MaxConnectionIdleTime`, 10 min. Far above a client pool's idle timeout, so clients
/// close their idle connections first and never write into one the server is closing.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long a shutdown waits for requests in flight before cancelling them: Kitex's
/// `ExitWaitTime`, 5 s. Well inside Kubernetes' default 30 s termination grace period,
/// so a pod drains before it is killed.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A server's timeouts, each at most [`MAX_DURATION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Timeouts {
    pub read: Duration,
    pub write: Duration,
    pub idle: Duration,
    pub drain: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            read: DEFAULT_READ_TIMEOUT,
            write: DEFAULT_WRITE_TIMEOUT,
            idle: DEFAULT_IDLE_TIMEOUT,
            drain: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

/// A timeout as given, capped at [`MAX_DURATION`] ("never" in practice) so that adding it
/// to a clock reading cannot overflow.
pub(super) fn capped(d: Duration) -> Duration {
    d.min(MAX_DURATION)
}

/// Which timeout fell due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expired {
    Read,
    Idle,
}

/// One connection's read and idle clocks.
#[derive(Debug)]
pub(super) struct Deadlines {
    read: Duration,
    idle: Duration,
    /// When the first bytes of the frame being read arrived; `None` between frames.
    frame_started: Option<Instant>,
    /// The last time bytes arrived or the last call in flight finished.
    quiet_since: Instant,
}

impl Deadlines {
    pub fn new(timeouts: &Timeouts, now: Instant) -> Self {
        Self {
            read: timeouts.read,
            idle: timeouts.idle,
            frame_started: None,
            quiet_since: now,
        }
    }

    /// Bytes arrived at `now`; `buffered` of them (old and new) wait for their frame's end.
    /// A frame taken whole restarts the read clock for what follows it.
    pub fn bytes_arrived(&mut self, now: Instant, frames_taken: bool, buffered: bool) {
        self.quiet_since = now;
        self.frame_started = match (buffered, frames_taken) {
            (false, _) => None,
            (true, true) => Some(now),
            (true, false) => Some(self.frame_started.unwrap_or(now)),
        };
    }

    /// The last call in flight finished at `now`.
    pub fn calls_done(&mut self, now: Instant) {
        self.quiet_since = now;
    }

    /// The next timeout and when it falls due: the read timeout while a frame is arriving,
    /// else the idle timeout while no call is in flight, else none.
    pub fn next(&self, calls_in_flight: bool) -> Option<(Instant, Expired)> {
        let (since, after, which) = match (self.frame_started, calls_in_flight) {
            (Some(started), _) => (started, self.read, Expired::Read),
            (None, false) => (self.quiet_since, self.idle, Expired::Idle),
            (None, true) => return None,
        };
        since.checked_add(after).map(|at| (at, which))
    }
}

/// Resolves at `deadline`'s instant with its kind; never without one.
pub(super) async fn expiry(deadline: Option<(Instant, Expired)>) -> Expired {
    match deadline {
        Some((at, which)) => {
            tokio::time::sleep_until(at).await;
            which
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_clock_runs_while_a_frame_arrives_and_idle_clock_while_nothing_is_in_flight() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let timeouts = Timeouts {
            read: 5 * s,
            write: s,
            idle: 60 * s,
            drain: s,
        };
        let mut d = Deadlines::new(&timeouts, t0);
        assert_eq!(d.next(false), Some((t0 + 60 * s, Expired::Idle)));
        assert_eq!(d.next(true), None, "no idle clock with a call in flight");
        d.bytes_arrived(t0 + s, false, true);
        assert_eq!(d.next(true), Some((t0 + 6 * s, Expired::Read)));
        d.bytes_arrived(t0 + 3 * s, false, true);
        assert_eq!(
            d.next(true),
            Some((t0 + 6 * s, Expired::Read)),
            "more bytes of the same frame do not restart the read clock"
        );
        d.bytes_arrived(t0 + 4 * s, true, true);
        assert_eq!(d.next(true), Some((t0 + 9 * s, Expired::Read)));
        d.bytes_arrived(t0 + 5 * s, true, false);
        assert_eq!(d.next(true), None);
        d.calls_done(t0 + 7 * s);
        assert_eq!(d.next(false), Some((t0 + 67 * s, Expired::Idle)));
    }

    #[test]
    fn capped_timeouts_never_overflow_a_clock_reading() {
        let timeouts = Timeouts {
            read: capped(Duration::MAX),
            write: capped(Duration::MAX),
            idle: capped(Duration::MAX),
            drain: capped(Duration::MAX),
        };
        let d = Deadlines::new(&timeouts, Instant::now());
        assert!(d.next(false).is_some());
    }
}
