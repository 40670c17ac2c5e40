//! The link model: what happens to bytes between two simulated hosts.
//!
//! Every chunk of bytes a host reads from a peer passes [`Links::arrival`], which says how
//! much later than turmoil delivered it the reader may see it, and whether it was lost
//! (then `faultline_chaos::faults::tcp_loss` says when TCP repairs it). Per directed link (peer -> reader):
//! - the topology's latency: a draw from the within-zone or across-zone distribution on
//!   chunks a server reads from the probe (the request direction carries the whole round
//!   trip's extra time; replies come back in turmoil's one tick);
//! - NetworkChaos rules active on the link: `delay` (latency, jitter and correlation, as
//!   netem draws them), `loss` (and `corrupt`, which TCP's checksum turns into loss),
//!   `bandwidth` (a rate: each chunk waits for the bytes before it to drain).
//!
//! `partition` is not here: the run holds turmoil's link, so bytes wait until it heals,
//! as TCP's retransmissions would deliver them.
//!
//! All draws come from one generator seeded by the run, in the order turmoil runs hosts:
//! one seed, one sequence.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use faultline_core::rng::SplitMix64;

use crate::scale::TimeScale;
use faultline_chaos::faults::latency::Fitted;
use faultline_chaos::faults::tcp_loss::{self, unit};
use faultline_chaos::faults::{Effect, Rule};

/// What became of a chunk: how long after its arrival the reader may have it, and
/// whether it was lost (then `delay` is the tail repair, which a later chunk may cut
/// short to `fast_repair`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    pub delay: Duration,
    pub lost: bool,
    pub fast_repair: Duration,
    /// How long the chunk occupies a bandwidth-limited link; zero without a limit.
    pub transmit: Duration,
}

/// The topology's hosts and the rules in force, shared by every host of a run.
#[derive(Debug)]
pub struct Links {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    rng: SplitMix64,
    scale: TimeScale,
    zone_of: BTreeMap<String, String>,
    servers: BTreeSet<String>,
    within: Fitted,
    across: Fitted,
    /// Mean round trip within and across zones, unscaled (for loss repair).
    rtt_within: Duration,
    rtt_across: Duration,
    rules: Vec<Rule>,
    /// The previous jitter draw per (rule index, src, dst), for correlation.
    jitter: BTreeMap<(usize, String, String), f64>,
}

/// The topology's side of the link model.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Host name to zone.
    pub zone_of: BTreeMap<String, String>,
    /// Hosts that run a server.
    pub servers: BTreeSet<String>,
    /// Extra round-trip ticks within a zone and across zones.
    pub within: Fitted,
    pub across: Fitted,
    /// Mean round trips, unscaled.
    pub rtt_within: Duration,
    pub rtt_across: Duration,
}

impl Links {
    pub fn new(topology: Topology, scale: TimeScale, seed: u64) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                rng: SplitMix64::new(seed),
                scale,
                zone_of: topology.zone_of,
                servers: topology.servers,
                within: topology.within,
                across: topology.across,
                rtt_within: topology.rtt_within,
                rtt_across: topology.rtt_across,
                rules: Vec::new(),
                jitter: BTreeMap::new(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn add(&self, rule: Rule) {
        self.lock().rules.push(rule);
    }

    /// Removes the rules of `fault`.
    pub fn remove(&self, fault: &str) {
        let mut state = self.lock();
        state.rules.retain(|rule| rule.fault != fault);
        state.jitter.clear();
    }

    /// A chunk of `len` bytes from `src` arrived at `dst`: what becomes of it.
    pub fn arrival(&self, src: &str, dst: &str, len: usize) -> Arrival {
        let mut state = self.lock();
        let state = &mut *state;
        let same_zone = state.zone_of.get(src) == state.zone_of.get(dst);
        let scale = state.scale;
        let tick = Duration::from_millis(1);
        let mut delay = Duration::ZERO;
        if state.servers.contains(dst) && !state.servers.contains(src) {
            let base = if same_zone {
                &state.within
            } else {
                &state.across
            };
            delay += tick * base.sample(&state.rng) as u32;
        }
        let rtt = scale
            .duration(if same_zone {
                state.rtt_within
            } else {
                state.rtt_across
            })
            .max(tick);
        let mut arrival = Arrival {
            delay,
            lost: false,
            fast_repair: tcp_loss::fast_repair(rtt),
            transmit: Duration::ZERO,
        };
        for (index, rule) in state.rules.iter().enumerate() {
            if !rule.covers(src, dst) {
                continue;
            }
            match &rule.effect {
                Effect::Delay {
                    latency,
                    jitter,
                    correlation,
                } => {
                    let fresh = unit(&state.rng) * 2.0 - 1.0;
                    let key = (index, src.to_owned(), dst.to_owned());
                    let last = state.jitter.get(&key).copied().unwrap_or(fresh);
                    let draw = correlation * last + (1.0 - correlation) * fresh;
                    state.jitter.insert(key, draw);
                    let extra = latency.as_secs_f64() + jitter.as_secs_f64() * draw;
                    let extra = scale.duration(Duration::from_secs_f64(extra.max(0.0)));
                    arrival.delay += round_to_tick(extra);
                }
                Effect::Loss { probability } | Effect::Corrupt { probability } => {
                    if unit(&state.rng) < *probability {
                        arrival.lost = true;
                        let unscaled_rtt = rtt / scale.factor();
                        let repair = tcp_loss::tail_repair(unscaled_rtt, *probability, &state.rng);
                        arrival.delay += round_to_tick(scale.duration(repair));
                    }
                }
                Effect::Bandwidth { bytes_per_second } => {
                    let seconds = len as f64 / bytes_per_second.max(1.0);
                    arrival.transmit +=
                        scale.duration(Duration::from_secs_f64(seconds.min(3600.0)));
                }
                Effect::Duplicate { .. } | Effect::Partition => {}
            }
        }
        arrival
    }
}

/// `d` rounded to whole ticks (the simulation's time resolution).
fn round_to_tick(d: Duration) -> Duration {
    Duration::from_millis(d.as_secs_f64().mul_add(1000.0, 0.5) as u64)
}
