//! A reference model of `Breaker`, and `check`, which runs a sequence of `Op`s against both
//! and panics when they disagree. The `breaker_model` fuzz target and the proptest below
//! share it: `faultline_core::breaker::model::{check, Op, CallResult}` with the `fuzzing`
//! feature (which also derives `arbitrary::Arbitrary` for the op types).
//!
//! The model is deliberately naive: every recorded call is kept in a `Vec` with its bucket
//! number and the window is a filter over it; states are a plain enum; cooling is computed
//! with `Duration` arithmetic. It shares no code with the breaker but the config and the
//! public result types. Time moves only forward, in whole milliseconds, as the ops say.

use std::time::Duration;

use super::WindowStats;
use super::{Admitted, Breaker, BreakerConfig, BreakerState, Outcome, Permit, Transition};
use crate::rpc::RpcError;

/// How a call ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum CallResult {
    Success,
    /// A failure that counts against the callee (a broken connection).
    Failure,
    /// The deadline passed: counts as a failure.
    Timeout,
    /// The caller gave up: says nothing about the callee.
    Cancelled,
}

/// One step of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum Op {
    /// Admit a call and, if admitted, finish it at once.
    Call(CallResult),
    /// Admit a call and keep it in flight (at most `MAX_IN_FLIGHT` are kept).
    Begin,
    /// Finish the in-flight call at `index` (modulo how many there are).
    End { index: u8, result: CallResult },
    /// Let time pass.
    Advance { ms: u16 },
}

/// Most calls `Op::Begin` keeps in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;

/// A small configuration under which short runs reach every state: 10 buckets of 10 ms,
/// 4 samples, error rate 0.5, cooling 20 ms doubling to 150 ms, 2 probes, 2 successes.
pub fn small_config() -> BreakerConfig {
    BreakerConfig {
        bucket: Duration::from_millis(10),
        buckets: 10,
        min_samples: 4,
        error_rate: 0.5,
        cooling_base: Duration::from_millis(20),
        cooling_cap: Duration::from_millis(150),
        half_open_probes: 2,
        half_open_successes: 2,
        ..BreakerConfig::default()
    }
}

/// Runs `ops` against a `Breaker` and the model, both built from `config` (which must be
/// valid), and panics at the first difference in admission, transition, state or window.
pub fn check(config: &BreakerConfig, ops: &[Op]) {
    let real = Breaker::new(config.clone()).expect("check needs a valid config");
    let mut model = Model::new(config.clone());
    let mut now = Duration::ZERO;
    let mut in_flight: Vec<(Permit, ModelPermit)> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        let at = now;
        let ctx = || format!("step {step}: {op:?} at {at:?}");
        match *op {
            Op::Advance { ms } => now += Duration::from_millis(u64::from(ms)),
            Op::Call(result) => {
                if let Some(pair) = admit_both(&real, &mut model, now, &ctx) {
                    finish_both(&real, &mut model, pair, result, now, &ctx);
                }
            }
            Op::Begin if in_flight.len() < MAX_IN_FLIGHT => {
                if let Some(pair) = admit_both(&real, &mut model, now, &ctx) {
                    in_flight.push(pair);
                }
            }
            Op::Begin => {}
            Op::End { index, result } if !in_flight.is_empty() => {
                let pair = in_flight.remove(usize::from(index) % in_flight.len());
                finish_both(&real, &mut model, pair, result, now, &ctx);
            }
            Op::End { .. } => {}
        }
        assert_eq!(real.state(), model.state.public(), "state, {}", ctx());
        assert_eq!(real.window(now), model.window(now), "window, {}", ctx());
    }
}

fn admit_both(
    real: &Breaker,
    model: &mut Model,
    now: Duration,
    ctx: &dyn Fn() -> String,
) -> Option<(Permit, ModelPermit)> {
    match (real.admit(now), model.admit(now)) {
        (Ok(Admitted { permit, transition }), Ok((expected, expected_transition))) => {
            assert_eq!(permit.is_probe(), expected.is_probe(), "permit, {}", ctx());
            assert_eq!(
                transition,
                expected_transition,
                "admit transition, {}",
                ctx()
            );
            Some((permit, expected))
        }
        (Err(rejected), Err(state)) => {
            assert_eq!(rejected.state, state, "refusing state, {}", ctx());
            None
        }
        (real, model) => panic!(
            "admission differs: breaker {real:?}, model {model:?}, {}",
            ctx()
        ),
    }
}

fn finish_both(
    real: &Breaker,
    model: &mut Model,
    (permit, expected): (Permit, ModelPermit),
    result: CallResult,
    now: Duration,
    ctx: &dyn Fn() -> String,
) {
    let error = match result {
        CallResult::Success => None,
        CallResult::Failure => Some(RpcError::Io {
            addr: "model:1".into(),
            kind: std::io::ErrorKind::ConnectionReset,
            detail: "reset".into(),
        }),
        CallResult::Timeout => Some(RpcError::Timeout {
            budget: Duration::from_millis(1),
        }),
        CallResult::Cancelled => Some(RpcError::Cancelled),
    };
    let outcome = match &error {
        None => Some(Outcome::Success),
        Some(error) => Outcome::of_error(error),
    };
    let transition = match outcome {
        Some(outcome) => real.record(permit, outcome, now),
        None => {
            real.release(permit);
            None
        }
    };
    let expected_transition = model.finish(expected, result, now);
    assert_eq!(
        transition,
        expected_transition,
        "record transition, {}",
        ctx()
    );
}

/// The model's state; `episode` numbers half-open periods from 0.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ModelState {
    Closed,
    Open {
        trips: u32,
        until: Duration,
    },
    HalfOpen {
        trips: u32,
        in_flight: u32,
        successes: u32,
        episode: u32,
    },
}

impl ModelState {
    fn public(self) -> BreakerState {
        match self {
            ModelState::Closed => BreakerState::Closed,
            ModelState::Open { .. } => BreakerState::Open,
            ModelState::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ModelPermit {
    Closed,
    Probe(u32),
}

impl ModelPermit {
    fn is_probe(self) -> bool {
        matches!(self, ModelPermit::Probe(_))
    }
}

struct Model {
    config: BreakerConfig,
    state: ModelState,
    /// Every call recorded while CLOSED: (bucket number, failed).
    calls: Vec<(u128, bool)>,
    /// Buckets before this one were emptied by the last close.
    floor: u128,
    episodes: u32,
}

impl Model {
    fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: ModelState::Closed,
            calls: Vec::new(),
            floor: 0,
            episodes: 0,
        }
    }

    fn bucket(&self, now: Duration) -> u128 {
        now.as_micros() / self.config.bucket.as_micros()
    }

    fn window(&self, now: Duration) -> WindowStats {
        let current = self.bucket(now);
        let span = u128::from(self.config.buckets);
        let live = self
            .calls
            .iter()
            .filter(|(bucket, _)| *bucket >= self.floor && *bucket + span > current);
        WindowStats {
            samples: live.clone().count() as u64,
            failures: live.filter(|(_, failed)| *failed).count() as u64,
        }
    }

    /// The base, doubled for each trip after the first, never above the cap.
    fn cooling(&self, trips: u32) -> Duration {
        let cap = self.config.cooling_cap;
        (1..trips).fold(self.config.cooling_base.min(cap), |d, _| {
            d.saturating_mul(2).min(cap)
        })
    }

    fn admit(&mut self, now: Duration) -> Result<(ModelPermit, Option<Transition>), BreakerState> {
        match self.state {
            ModelState::Closed => Ok((ModelPermit::Closed, None)),
            ModelState::Open { until, .. } if now < until => Err(BreakerState::Open),
            ModelState::Open { trips, .. } => {
                let episode = self.episodes;
                self.episodes += 1;
                self.state = ModelState::HalfOpen {
                    trips,
                    in_flight: 1,
                    successes: 0,
                    episode,
                };
                let t = transition(BreakerState::Open, BreakerState::HalfOpen, 0, 0.0);
                Ok((ModelPermit::Probe(episode), Some(t)))
            }
            ModelState::HalfOpen {
                ref mut in_flight,
                episode,
                ..
            } => {
                if *in_flight >= u32::from(self.config.half_open_probes) {
                    return Err(BreakerState::HalfOpen);
                }
                *in_flight += 1;
                Ok((ModelPermit::Probe(episode), None))
            }
        }
    }

    fn finish(
        &mut self,
        permit: ModelPermit,
        result: CallResult,
        now: Duration,
    ) -> Option<Transition> {
        let failed = match result {
            CallResult::Success => false,
            CallResult::Failure | CallResult::Timeout => true,
            CallResult::Cancelled => {
                if let (
                    ModelPermit::Probe(id),
                    ModelState::HalfOpen {
                        in_flight, episode, ..
                    },
                ) = (permit, &mut self.state)
                {
                    if id == *episode {
                        *in_flight -= 1;
                    }
                }
                return None;
            }
        };
        match (permit, self.state) {
            (ModelPermit::Closed, ModelState::Closed) => {
                self.calls.push((self.bucket(now), failed));
                let stats = self.window(now);
                let trips = failed
                    && stats.samples >= self.config.min_samples
                    && stats.failures as f64 / stats.samples as f64 >= self.config.error_rate;
                if !trips {
                    return None;
                }
                self.state = ModelState::Open {
                    trips: 1,
                    until: now + self.cooling(1),
                };
                Some(transition(
                    BreakerState::Closed,
                    BreakerState::Open,
                    stats.samples,
                    stats.error_rate(),
                ))
            }
            (
                ModelPermit::Probe(id),
                ModelState::HalfOpen {
                    trips,
                    in_flight,
                    successes,
                    episode,
                },
            ) if id == episode => {
                if failed {
                    self.state = ModelState::Open {
                        trips: trips + 1,
                        until: now + self.cooling(trips + 1),
                    };
                    let samples = u64::from(successes) + 1;
                    let rate = 1.0 / samples as f64;
                    return Some(transition(
                        BreakerState::HalfOpen,
                        BreakerState::Open,
                        samples,
                        rate,
                    ));
                }
                if successes + 1 >= u32::from(self.config.half_open_successes) {
                    self.state = ModelState::Closed;
                    self.floor = self.bucket(now);
                    self.calls.clear();
                    let samples = u64::from(successes) + 1;
                    return Some(transition(
                        BreakerState::HalfOpen,
                        BreakerState::Closed,
                        samples,
                        0.0,
                    ));
                }
                self.state = ModelState::HalfOpen {
                    trips,
                    in_flight: in_flight - 1,
                    successes: successes + 1,
                    episode,
                };
                None
            }
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn result() -> impl Strategy<Value = CallResult> {
        prop_oneof![
            4 => Just(CallResult::Success),
            3 => Just(CallResult::Failure),
            2 => Just(CallResult::Timeout),
            1 => Just(CallResult::Cancelled),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => result().prop_map(Op::Call),
            2 => Just(Op::Begin),
            2 => (any::<u8>(), result()).prop_map(|(index, result)| Op::End { index, result }),
            3 => (0u16..60).prop_map(|ms| Op::Advance { ms }),
            1 => (0u16..400).prop_map(|ms| Op::Advance { ms }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn breaker_agrees_with_the_model(ops in prop::collection::vec(op(), 0..400)) {
            check(&small_config(), &ops);
        }

        #[test]
        fn breaker_agrees_with_the_model_on_one_bucket(ops in prop::collection::vec(op(), 0..200)) {
            let config = BreakerConfig { buckets: 1, half_open_probes: 1, ..small_config() };
            check(&config, &ops);
        }
    }

    #[test]
    fn the_model_reaches_every_transition() {
        // Four failures trip; cooling passes; two probes succeed; closed again.
        let mut ops = vec![Op::Call(CallResult::Failure); 4];
        ops.push(Op::Advance { ms: 20 });
        ops.extend([Op::Begin, Op::Begin, Op::Call(CallResult::Success)]);
        ops.extend([Op::End {
            index: 0,
            result: CallResult::Success,
        }]);
        ops.extend([Op::End {
            index: 0,
            result: CallResult::Success,
        }]);
        check(&small_config(), &ops);
        let mut model = Model::new(small_config());
        let mut now = Duration::ZERO;
        for _ in 0..4 {
            let (permit, _) = model.admit(now).unwrap();
            model.finish(permit, CallResult::Failure, now);
        }
        assert_eq!(model.state.public(), BreakerState::Open);
        now += Duration::from_millis(20);
        let (a, t) = model.admit(now).unwrap();
        assert_eq!(t.map(|t| t.to), Some(BreakerState::HalfOpen));
        let (b, _) = model.admit(now).unwrap();
        assert_eq!(model.admit(now), Err(BreakerState::HalfOpen));
        assert_eq!(model.finish(a, CallResult::Success, now), None);
        let closed = model.finish(b, CallResult::Success, now);
        assert_eq!(closed.map(|t| t.to), Some(BreakerState::Closed));
    }
}
