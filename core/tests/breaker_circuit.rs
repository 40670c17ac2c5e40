//! `Breaker` state machine, driven by explicit times: the trip rule at its exact edges,
//! cooling and its exponential growth with a cap, the half-open probe limit, closing after
//! enough successful probes, re-opening on a failed one, and late permits.

use std::time::Duration;

use faultline_core::breaker::{
    Breaker, BreakerConfig, BreakerState, Outcome, Permit, Rejected, Transition,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn breaker() -> Breaker {
    Breaker::new(BreakerConfig::default()).unwrap()
}

/// Admits and records one call at `now`, returning the transition it caused, if any.
fn call(b: &Breaker, outcome: Outcome, now: Duration) -> Option<Transition> {
    let admitted = b.admit(now).expect("admitted");
    admitted
        .transition
        .or_else(|| b.record(admitted.permit, outcome, now))
}

/// `successes` then `failures` calls at `now`; returns the transition of the last call.
fn calls(b: &Breaker, successes: u64, failures: u64, now: Duration) -> Option<Transition> {
    let mut last = None;
    for _ in 0..successes {
        last = call(b, Outcome::Success, now);
    }
    for _ in 0..failures {
        last = call(b, Outcome::Failure, now);
    }
    last
}

/// Trips `b` at `now` with the default config (200 failures).
fn trip(b: &Breaker, now: Duration) {
    let t = calls(b, 0, 200, now).expect("tripped");
    assert_eq!((t.from, t.to), (BreakerState::Closed, BreakerState::Open));
}

fn probe(b: &Breaker, now: Duration) -> Permit {
    b.admit(now).expect("probe admitted").permit
}

#[test]
fn trips_exactly_at_min_samples_and_error_rate() {
    let b = breaker();
    // 100 successes, 99 failures: 199 samples, below min_samples.
    assert_eq!(calls(&b, 100, 99, ms(0)), None);
    assert_eq!(b.state(), BreakerState::Closed);
    // The 200th sample is a failure: 100 / 200 = 0.5 trips.
    let t = calls(&b, 0, 1, ms(0)).unwrap();
    assert_eq!(
        t,
        Transition {
            from: BreakerState::Closed,
            to: BreakerState::Open,
            samples: 200,
            error_rate: 0.5
        }
    );
    assert_eq!(
        b.admit(ms(1)),
        Err(Rejected {
            state: BreakerState::Open
        })
    );
}

#[test]
fn stays_closed_below_either_threshold() {
    // Enough samples, error rate just under 0.5.
    let b = breaker();
    assert_eq!(calls(&b, 1001, 1000, ms(0)), None);
    assert_eq!(b.state(), BreakerState::Closed);
    // Every call failed, but one sample short.
    let b = breaker();
    assert_eq!(calls(&b, 0, 199, ms(0)), None);
    assert_eq!(b.window(ms(0)).samples, 199);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn a_success_never_trips() {
    let b = breaker();
    calls(&b, 0, 199, ms(0));
    assert_eq!(calls(&b, 1, 0, ms(0)), None);
    assert_eq!(b.state(), BreakerState::Closed);
    // The next failure sees 201 samples, 200 failed.
    assert!(call(&b, Outcome::Failure, ms(0)).is_some());
}

#[test]
fn failures_that_left_the_window_do_not_count() {
    let b = breaker();
    calls(&b, 0, 150, ms(0));
    // 10 s later the window holds only the new calls.
    assert_eq!(calls(&b, 0, 150, ms(10_000)), None);
    assert_eq!(b.window(ms(10_000)).samples, 150);
    assert!(calls(&b, 0, 50, ms(10_050)).is_some());
}

#[test]
fn open_half_opens_after_cooling() {
    let b = breaker();
    trip(&b, ms(1000));
    assert!(b.admit(ms(1099)).is_err());
    let admitted = b.admit(ms(1100)).unwrap();
    assert!(admitted.permit.is_probe());
    let t = admitted.transition.unwrap();
    assert_eq!((t.from, t.to), (BreakerState::Open, BreakerState::HalfOpen));
    assert_eq!(b.state(), BreakerState::HalfOpen);
}

#[test]
fn cooling_doubles_on_each_failed_probe_up_to_the_cap() {
    let config = BreakerConfig {
        cooling_cap: ms(1000),
        ..BreakerConfig::default()
    };
    let b = Breaker::new(config).unwrap();
    let mut now = ms(0);
    trip(&b, now);
    for cooling in [100, 200, 400, 800, 1000, 1000] {
        assert!(b.admit(now + ms(cooling - 1)).is_err(), "cooling {cooling}");
        now += ms(cooling);
        let p = probe(&b, now);
        let t = b.record(p, Outcome::Failure, now).unwrap();
        assert_eq!((t.from, t.to), (BreakerState::HalfOpen, BreakerState::Open));
    }
    // Closing ends the streak: the next trip cools for the base time again.
    now += ms(1000);
    for _ in 0..5 {
        let p = probe(&b, now);
        b.record(p, Outcome::Success, now);
    }
    assert_eq!(b.state(), BreakerState::Closed);
    trip(&b, now);
    assert!(b.admit(now + ms(99)).is_err());
    assert!(b.admit(now + ms(100)).is_ok());
}

#[test]
fn half_open_admits_at_most_the_probe_limit() {
    let b = breaker();
    trip(&b, ms(0));
    let [first, second, _third] = [(); 3].map(|()| probe(&b, ms(100)));
    assert_eq!(
        b.admit(ms(100)),
        Err(Rejected {
            state: BreakerState::HalfOpen
        })
    );
    // A finished probe frees its slot.
    assert_eq!(b.record(first, Outcome::Success, ms(101)), None);
    let fourth = probe(&b, ms(101));
    assert!(b.admit(ms(101)).is_err());
    // So does a released one (a cancelled call).
    b.release(second);
    let fifth = probe(&b, ms(102));
    assert!(fourth.is_probe() && fifth.is_probe());
}

#[test]
fn closes_after_enough_successful_probes_with_an_empty_window() {
    let b = breaker();
    trip(&b, ms(0));
    for i in 0..4 {
        let p = probe(&b, ms(100));
        assert_eq!(b.record(p, Outcome::Success, ms(100)), None, "probe {i}");
        assert_eq!(b.state(), BreakerState::HalfOpen);
    }
    let p = probe(&b, ms(100));
    let t = b.record(p, Outcome::Success, ms(100)).unwrap();
    assert_eq!(
        t,
        Transition {
            from: BreakerState::HalfOpen,
            to: BreakerState::Closed,
            samples: 5,
            error_rate: 0.0
        }
    );
    // The 200 failures from before the trip are forgotten.
    assert_eq!(b.window(ms(100)).samples, 0);
    assert_eq!(calls(&b, 0, 199, ms(100)), None);
}

#[test]
fn a_failed_probe_reopens() {
    let b = breaker();
    trip(&b, ms(0));
    let first = probe(&b, ms(100));
    let second = probe(&b, ms(100));
    b.record(first, Outcome::Success, ms(100));
    let t = b.record(second, Outcome::Failure, ms(110)).unwrap();
    assert_eq!(
        t,
        Transition {
            from: BreakerState::HalfOpen,
            to: BreakerState::Open,
            samples: 2,
            error_rate: 0.5
        }
    );
    // Second trip of the streak: 200 ms of cooling from the failed probe.
    assert!(b.admit(ms(309)).is_err());
    assert!(b.admit(ms(310)).is_ok());
}

#[test]
fn a_late_probe_from_an_earlier_half_open_period_is_ignored() {
    let b = breaker();
    trip(&b, ms(0));
    let stale = probe(&b, ms(100));
    let failing = probe(&b, ms(100));
    b.record(failing, Outcome::Failure, ms(100));
    // Half-open again after 200 ms; the old probe's success must not count here.
    let p = probe(&b, ms(300));
    assert_eq!(b.record(stale, Outcome::Success, ms(300)), None);
    assert_eq!(b.record(p, Outcome::Success, ms(300)), None);
    // Four more successes are needed to close; had the stale one counted, three would do.
    for _ in 0..3 {
        let p = probe(&b, ms(300));
        assert_eq!(b.record(p, Outcome::Success, ms(300)), None);
    }
    assert_eq!(b.state(), BreakerState::HalfOpen);
    let p = probe(&b, ms(300));
    assert!(b.record(p, Outcome::Success, ms(300)).is_some());
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn outcomes_of_closed_permits_are_ignored_while_open() {
    let b = breaker();
    let late = b.admit(ms(0)).unwrap().permit;
    trip(&b, ms(0));
    assert_eq!(b.record(late, Outcome::Failure, ms(1)), None);
    assert_eq!(b.window(ms(1)).samples, 200);
}
