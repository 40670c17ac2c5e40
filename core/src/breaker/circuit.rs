//! `Breaker`: one circuit breaker, driven by an explicit clock.
//!
//! Every method takes `now`, the time since an origin the caller picks (the tower layers use
//! `tokio::time::Instant` offsets, so turmoil's and tokio's paused clocks drive it; tests and
//! the fuzz model pass plain `Duration`s). The breaker never reads a clock itself.
//!
//! A call goes `admit(now)` -> (the call) -> `record(permit, outcome, now)`, or
//! `release(permit)` when the call ended in a way that says nothing about the callee
//! (cancelled, refused elsewhere). Rules:
//!
//! - CLOSED admits everything. Outcomes go into the window; after a failure, if the window
//!   holds at least `min_samples` calls with an error rate at or above `error_rate`, the
//!   breaker trips to OPEN (only a failure can trip it, as in Kitex).
//! - OPEN refuses until its cooling time has passed; then `end_cooling` (called by the
//!   layers' timer when the cooling ends) or the first `admit` after it, whichever comes
//!   first, moves it to HALF_OPEN (an `admit` doing so is the first probe). Cooling is
//!   `cooling_base * 2^(trips - 1)`, capped, where `trips` counts trips since the breaker
//!   was last CLOSED.
//! - HALF_OPEN admits at most `half_open_probes` probes in flight. `half_open_successes`
//!   successful probes close it (the window starts empty); one failed probe re-opens it.
//! - A permit is only good in the state (and half-open period) that issued it: an outcome
//!   that arrives after the breaker moved on is ignored, except that a CLOSED permit counts
//!   again once the breaker is CLOSED anew.
//!
//! State transitions return a `Transition` for the caller to report. State reads are
//! `Acquire` and transitions `AcqRel` compare-and-swaps: a thread that sees a new state also
//! sees what was written before it (the window floor on close). In CLOSED, `admit` is one
//! load and `record` one load plus one compare-and-swap on a bucket tally; no lock anywhere.

use std::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed},
};
use std::time::Duration;

use super::config::{micros, BreakerConfig};
use super::state::{episode, State, MAX_TRIPS};
use super::window::{Window, WindowStats};
use super::BreakerState;
use crate::config::{FieldErrors, Validate};
use crate::rpc::RpcError;

/// What a finished call says about the callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    /// Any error that counts against the callee, timeouts included.
    Failure,
}

impl Outcome {
    /// The outcome of a call that failed with `error`, or `None` when the error says nothing
    /// about the callee (`RpcError::counts_against_callee`).
    pub fn of_error(error: &RpcError) -> Option<Outcome> {
        error.counts_against_callee().then_some(Outcome::Failure)
    }
}

/// The right to make one call, handed back (moved) to `record` or `release`. A permit
/// dropped instead keeps its half-open probe slot taken for the rest of that period.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "hand the permit back to record() or release()"]
pub struct Permit(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Closed,
    Probe { episode: u32 },
}

impl Permit {
    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        matches!(self.0, Kind::Probe { .. })
    }
}

/// An admitted call: its permit, and the transition admitting it caused (OPEN -> HALF_OPEN).
#[derive(Debug, PartialEq)]
pub struct Admitted {
    pub permit: Permit,
    pub transition: Option<Transition>,
}

/// A refused call, and the state that refused it (OPEN, or HALF_OPEN with every probe out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    pub state: BreakerState,
}

/// A state change, with the evidence for it: for a trip, the window's calls and error rate;
/// for leaving HALF_OPEN, the probe outcomes of that period; none for OPEN -> HALF_OPEN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    pub from: BreakerState,
    pub to: BreakerState,
    pub samples: u64,
    pub error_rate: f64,
}

/// One circuit breaker. Share it by reference or `Arc`; every method takes `&self`.
pub struct Breaker {
    config: BreakerConfig,
    state: AtomicU64,
    window: Window,
    /// Source of half-open episode numbers; only uniqueness matters (`Relaxed`).
    episodes: AtomicU32,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Result<Self, FieldErrors> {
        config.validate()?;
        Ok(Self {
            window: Window::new(micros(config.bucket), config.buckets),
            config,
            state: AtomicU64::new(State::Closed.pack()),
            episodes: AtomicU32::new(0),
        })
    }

    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The current state. OPEN stays OPEN past its cooling time until the next `admit`.
    pub fn state(&self) -> BreakerState {
        State::unpack(self.state.load(Acquire)).public()
    }

    /// When an OPEN breaker's cooling ends (since the clock's origin); `None` unless OPEN.
    pub fn cooling_ends(&self) -> Option<Duration> {
        match State::unpack(self.state.load(Acquire)) {
            State::Open { until_us, .. } => Some(Duration::from_micros(until_us)),
            _ => None,
        }
    }

    /// Moves an OPEN breaker whose cooling has ended by `now` to HALF_OPEN with no probe in
    /// flight (the next `admit` takes the first probe slot), so that the move can be
    /// reported when it happens rather than at the next call. `None` when the breaker is
    /// not OPEN or still cooling.
    pub fn end_cooling(&self, now: Duration) -> Option<Transition> {
        let now = micros(now);
        let mut word = self.state.load(Acquire);
        loop {
            let State::Open { trips, until_us } = State::unpack(word) else {
                return None;
            };
            if now < until_us {
                return None;
            }
            let next = State::HalfOpen {
                trips,
                in_flight: 0,
                successes: 0,
                episode: episode(self.episodes.fetch_add(1, Relaxed)),
            };
            match self.transit(word, next) {
                Ok(()) => {
                    return Some(transition(
                        BreakerState::Open,
                        BreakerState::HalfOpen,
                        0,
                        0.0,
                    ))
                }
                Err(seen) => word = seen,
            }
        }
    }

    /// Calls and failures in the window ending at `now`.
    pub fn window(&self, now: Duration) -> WindowStats {
        self.window.stats(micros(now))
    }

    /// Asks to make a call at `now`.
    pub fn admit(&self, now: Duration) -> Result<Admitted, Rejected> {
        let now = micros(now);
        let mut word = self.state.load(Acquire);
        loop {
            // The HALF_OPEN state this admission would write: (trips, in flight, successes,
            // episode) and the transition it makes.
            let (trips, in_flight, successes, episode, transition) = match State::unpack(word) {
                State::Closed => {
                    return Ok(Admitted {
                        permit: Permit(Kind::Closed),
                        transition: None,
                    })
                }
                State::Open { until_us, .. } if now < until_us => {
                    return Err(Rejected {
                        state: BreakerState::Open,
                    })
                }
                State::Open { trips, .. } => {
                    let episode = episode(self.episodes.fetch_add(1, Relaxed));
                    let opened = transition(BreakerState::Open, BreakerState::HalfOpen, 0, 0.0);
                    (trips, 1, 0, episode, Some(opened))
                }
                State::HalfOpen { in_flight, .. } if in_flight >= self.config.half_open_probes => {
                    return Err(Rejected {
                        state: BreakerState::HalfOpen,
                    })
                }
                State::HalfOpen {
                    trips,
                    in_flight,
                    successes,
                    episode,
                } => (trips, in_flight + 1, successes, episode, None),
            };
            let next = State::HalfOpen {
                trips,
                in_flight,
                successes,
                episode,
            };
            match self.transit(word, next) {
                Ok(()) => {
                    return Ok(Admitted {
                        permit: Permit(Kind::Probe { episode }),
                        transition,
                    })
                }
                Err(seen) => word = seen,
            }
        }
    }

    /// Reports how the call admitted with `permit` went, at `now`.
    pub fn record(&self, permit: Permit, outcome: Outcome, now: Duration) -> Option<Transition> {
        let now = micros(now);
        match permit.0 {
            Kind::Closed => self.record_closed(outcome, now),
            Kind::Probe { episode } => self.finish_probe(episode, Some(outcome), now),
        }
    }

    /// Hands back a permit whose call says nothing about the callee.
    pub fn release(&self, permit: Permit) {
        if let Kind::Probe { episode } = permit.0 {
            self.finish_probe(episode, None, 0);
        }
    }

    fn record_closed(&self, outcome: Outcome, now: u64) -> Option<Transition> {
        if self.state.load(Acquire) != State::Closed.pack() {
            return None;
        }
        let failed = outcome == Outcome::Failure;
        self.window.record(now, failed);
        if !failed {
            return None;
        }
        let stats = self.window.stats(now);
        if !self.config.trips(stats.samples, stats.failures) {
            return None;
        }
        let open = State::open(1, now.saturating_add(self.config.cooling_micros(1)));
        self.transit(State::Closed.pack(), open).ok().map(|()| {
            transition(
                BreakerState::Closed,
                BreakerState::Open,
                stats.samples,
                stats.error_rate(),
            )
        })
    }

    /// Ends probe `episode` with `outcome` (`None`: released without one).
    fn finish_probe(&self, id: u32, outcome: Option<Outcome>, now: u64) -> Option<Transition> {
        let mut word = self.state.load(Acquire);
        loop {
            let State::HalfOpen {
                trips,
                in_flight,
                successes,
                episode,
            } = State::unpack(word)
            else {
                return None;
            };
            if episode != id {
                return None;
            }
            let in_flight = in_flight.saturating_sub(1);
            let (next, samples, error_rate) = match outcome {
                None => (
                    State::HalfOpen {
                        trips,
                        in_flight,
                        successes,
                        episode,
                    },
                    0,
                    0.0,
                ),
                Some(Outcome::Success) if successes + 1 >= self.config.half_open_successes => {
                    // Before the transition, whose Release publishes the emptied window.
                    self.window.reset(now);
                    (State::Closed, u64::from(successes) + 1, 0.0)
                }
                Some(Outcome::Success) => (
                    State::HalfOpen {
                        trips,
                        in_flight,
                        successes: successes + 1,
                        episode,
                    },
                    0,
                    0.0,
                ),
                Some(Outcome::Failure) => {
                    let trips = trips.saturating_add(1).min(MAX_TRIPS);
                    let until = now.saturating_add(self.config.cooling_micros(trips));
                    let samples = u64::from(successes) + 1;
                    (State::open(trips, until), samples, 1.0 / samples as f64)
                }
            };
            match self.transit(word, next) {
                Ok(()) if matches!(next, State::HalfOpen { .. }) => return None,
                Ok(()) => {
                    let from = BreakerState::HalfOpen;
                    return Some(transition(from, next.public(), samples, error_rate));
                }
                Err(seen) => word = seen,
            }
        }
    }

    /// Moves from `current` to `next` if nobody moved first; `Err` carries what they moved to.
    fn transit(&self, current: u64, next: State) -> Result<(), u64> {
        self.state
            .compare_exchange(current, next.pack(), AcqRel, Acquire)
            .map(drop)
    }
}

fn transition(from: BreakerState, to: BreakerState, samples: u64, error_rate: f64) -> Transition {
    Transition {
        from,
        to,
        samples,
        error_rate,
    }
}
