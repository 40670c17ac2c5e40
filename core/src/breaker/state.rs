//! The breaker's whole state machine in one `u64`, so every transition is a single
//! compare-and-swap and no reader can see half of one.
//!
//! Layout, low bits first:
//!
//! | bits | CLOSED | OPEN | HALF_OPEN |
//! |---|---|---|---|
//! | 0..2 | 0 | 1 | 2 |
//! | 2..8 | 0 | trips in the streak (saturating at 63) | trips in the streak |
//! | 8..64 | 0 | reopen time, µs since origin (56 bits: 2 284 years) | probes in flight (16), successful probes (16), episode (24) |
//!
//! The episode number tells a probe of this half-open period from a late one of an earlier
//! period; it wraps after 2^24 half-open periods.

use crate::breaker_scope::BreakerState;

pub(crate) const MAX_TRIPS: u8 = 63;
const UNTIL_MAX: u64 = (1 << 56) - 1;
const EPISODE_MASK: u32 = (1 << 24) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Closed,
    Open {
        trips: u8,
        until_us: u64,
    },
    HalfOpen {
        trips: u8,
        in_flight: u16,
        successes: u16,
        episode: u32,
    },
}

impl State {
    /// Open after the `trips`-th consecutive trip until `until_us` (clamped to 56 bits).
    pub(crate) fn open(trips: u8, until_us: u64) -> Self {
        State::Open {
            trips: trips.min(MAX_TRIPS),
            until_us: until_us.min(UNTIL_MAX),
        }
    }

    pub(crate) fn public(self) -> BreakerState {
        match self {
            State::Closed => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    pub(crate) fn pack(self) -> u64 {
        match self {
            State::Closed => 0,
            State::Open { trips, until_us } => 1 | u64::from(trips) << 2 | until_us << 8,
            State::HalfOpen {
                trips,
                in_flight,
                successes,
                episode,
            } => {
                2 | u64::from(trips) << 2
                    | u64::from(in_flight) << 8
                    | u64::from(successes) << 24
                    | u64::from(episode & EPISODE_MASK) << 40
            }
        }
    }

    pub(crate) fn unpack(word: u64) -> Self {
        let trips = (word >> 2) as u8 & 0x3f;
        match word & 3 {
            0 => State::Closed,
            1 => State::Open {
                trips,
                until_us: word >> 8,
            },
            _ => State::HalfOpen {
                trips,
                in_flight: (word >> 8) as u16,
                successes: (word >> 24) as u16,
                episode: (word >> 40) as u32,
            },
        }
    }
}

/// The episode number as the state word keeps it.
pub(crate) fn episode(counter: u32) -> u32 {
    counter & EPISODE_MASK
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_state() -> impl Strategy<Value = State> {
        prop_oneof![
            Just(State::Closed),
            (any::<u8>(), any::<u64>()).prop_map(|(t, u)| State::open(t, u)),
            (0..=MAX_TRIPS, any::<u16>(), any::<u16>(), any::<u32>()).prop_map(
                |(trips, in_flight, successes, e)| State::HalfOpen {
                    trips,
                    in_flight,
                    successes,
                    episode: episode(e),
                }
            ),
        ]
    }

    proptest! {
        #[test]
        fn pack_unpack_round_trips(state in any_state()) {
            prop_assert_eq!(State::unpack(state.pack()), state);
        }
    }

    #[test]
    fn open_clamps_trips_and_time() {
        assert_eq!(
            State::open(200, u64::MAX),
            State::Open {
                trips: MAX_TRIPS,
                until_us: UNTIL_MAX
            }
        );
    }
}
