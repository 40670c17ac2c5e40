//! Zone-aware balancing: stay in the caller's zone, spill to other zones only for the
//! capacity the local zone is missing, weight those zones by measured round-trip time, and
//! pull traffic back home when they get slow.
//!
//! Per pick, from live state (no lock):
//! - *Healthy capacity* of a zone is the weight of its instances that [`Health`] has not
//!   ejected (consecutive failures in call feedback).
//! - *Spill*: the fraction of local capacity that is missing, `1 - healthy / configured`
//!   (all of it when the caller's zone has no instances: "cross zone, primary").
//! - *Remote share* = spill x (effective remote capacity / healthy remote capacity), where
//!   a degraded zone's capacity counts `degraded_weight` (5 %) of itself. With every remote
//!   zone degraded, traffic falls back to the local zone except that 5 % of the spill, which
//!   keeps RTT samples coming so recovery can be seen. When no local instance is healthy the
//!   remote share is 1 whatever the RTT; when no instance at all is healthy, the balancer
//!   ignores health and goes round robin over everything (ejection is advice, and an empty
//!   answer would turn a brown-out into an outage).
//! - Local or remote is decided by a counter, not a coin: pick `n` goes remote when
//!   `floor((n + 1) s) > floor(n s)`, so over any run of picks the remote count is within
//!   one of `s` times the picks.
//! - A remote pick chooses the zone with probability proportional to effective capacity /
//!   RTT average (a zone not measured yet counts as the best measured one), drawn from the
//!   seeded [`SplitMix64`]; inside a zone, smooth weighted round robin over its healthy
//!   instances.
//!
//! Each remote zone's RTT is an EWMA of successful calls' latencies ([`ZoneRtt`]); it turns
//! degraded above `threshold` (3.5 ms) and recovers below `recover_below` (3.3 ms).
//! `EventKind::ZoneWeights` is emitted whenever the remote share changes.
//!
//! The healthy capacities and the remote share are not summed on every pick: a picker
//! caches them in a [`View`] (behind an `ArcSwap`) stamped with the balancer's epoch, which
//! feedback bumps whenever an instance is ejected or readmitted or a zone degrades or
//! recovers, and with the earliest time an ejection runs out. A pick recomputes only when
//! one of the two has passed; otherwise it costs a load, a compare and the WRR step.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::time::Instant;

use super::health::{Ejection, Health};
use super::registry::Registry;
use super::zone_rtt::{Bars, ZoneRtt};
use super::{smooth_wrr_sequence, Balancer, Feedback, Picker};
use crate::event::{EventBus, EventKind};
use crate::rng::SplitMix64;
use crate::rpc::{Call, Instance};

/// Settings of [`ZoneAware`]; [`ZoneConfig::new`] gives the defaults. As data (every field
/// optional): `{ localZone: az1, threshold: 3.5ms, recoverBelow: 3.3ms, degradedWeight: 0.05,
/// alpha: 0.3, ejectAfter: 5, ejectFor: 10s, seed: 0 }`; an empty `localZone` means the
/// zone of the client the config is part of (`ClientConfig::zone`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ZoneConfig {
    /// The caller's zone.
    #[serde(skip_serializing_if = "str::is_empty")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub local_zone: Arc<str>,
    /// A remote zone whose RTT average rises above this is degraded.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub threshold: Duration,
    /// A degraded zone recovers when its RTT average falls below this.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub recover_below: Duration,
    /// The fraction of its capacity a degraded zone still counts with.
    pub degraded_weight: f64,
    /// Weight of each RTT sample in a zone's average.
    pub alpha: f64,
    /// Consecutive failures that eject an instance from its zone's healthy capacity.
    pub eject_after: u32,
    /// How long after its last failure an ejected instance counts as healthy again.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub eject_for: Duration,
    /// Seed of the zone draws.
    pub seed: u64,
}

impl Default for ZoneConfig {
    /// The defaults, with the local zone left to the client.
    fn default() -> Self {
        Self::new("")
    }
}

impl ZoneConfig {
    pub const DEFAULT_THRESHOLD: Duration = Duration::from_micros(3500);
    pub const DEFAULT_RECOVER_BELOW: Duration = Duration::from_micros(3300);

    pub fn new(local_zone: impl Into<Arc<str>>) -> Self {
        Self {
            local_zone: local_zone.into(),
            threshold: Self::DEFAULT_THRESHOLD,
            recover_below: Self::DEFAULT_RECOVER_BELOW,
            degraded_weight: 0.05,
            alpha: 0.3,
            eject_after: 5,
            eject_for: Duration::from_secs(10),
            seed: 0,
        }
    }
}

/// The zone-aware balancer.
#[derive(Debug)]
pub struct ZoneAware {
    shared: Arc<Shared>,
    health: Registry<Health>,
    zones: Registry<ZoneRtt>,
}

#[derive(Debug)]
struct Shared {
    config: ZoneConfig,
    ejection: Ejection,
    bars: Bars,
    rng: SplitMix64,
    picks: AtomicU64,
    /// Bumped whenever feedback changes an instance's health or a zone's degradation.
    epoch: AtomicU64,
    /// The remote share last reported, in millionths; `u32::MAX` before the first.
    reported_share: AtomicU32,
    origin: Instant,
    events: Option<EventBus>,
}

impl ZoneAware {
    /// A zone-aware balancer; `events` receives `ZoneWeights` when the remote share changes.
    /// Its clock origin is `tokio::time::Instant::now()` at this call: under turmoil, make
    /// it inside the host it runs in (and again after a restart).
    pub fn new(config: ZoneConfig, events: Option<EventBus>) -> Self {
        let shared = Shared {
            ejection: Ejection {
                after: config.eject_after.max(1),
                duration: config.eject_for,
            },
            bars: Bars {
                threshold: config.threshold,
                recover_below: config.recover_below.min(config.threshold),
            },
            rng: SplitMix64::new(config.seed),
            picks: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            reported_share: AtomicU32::new(u32::MAX),
            origin: Instant::now(),
            events,
            config,
        };
        Self {
            shared: Arc::new(shared),
            health: Registry::default(),
            zones: Registry::default(),
        }
    }
}

impl Balancer for ZoneAware {
    fn build(&self, instances: Vec<Arc<Instance>>) -> Arc<dyn Picker> {
        let local_zone = &self.shared.config.local_zone;
        let health = self
            .health
            .get_all(instances.iter().map(|i| &i.addr), Health::default);
        let mut local = Vec::new();
        let mut remote_names: Vec<Arc<str>> = Vec::new();
        let mut remote_members: Vec<Vec<u32>> = Vec::new();
        let mut remote_of = Vec::with_capacity(instances.len());
        let unlabelled: Arc<str> = Arc::from("");
        for (i, instance) in instances.iter().enumerate() {
            let zone = instance.zone.as_ref().unwrap_or(&unlabelled);
            if zone == local_zone {
                local.push(i as u32);
                remote_of.push(None);
                continue;
            }
            let z = match remote_names.iter().position(|n| n == zone) {
                Some(z) => z,
                None => {
                    remote_names.push(zone.clone());
                    remote_members.push(Vec::new());
                    remote_names.len() - 1
                }
            };
            remote_members[z].push(i as u32);
            remote_of.push(Some(z));
        }
        let alpha = self.shared.config.alpha;
        let rtts = self.zones.get_all(&remote_names, || ZoneRtt::new(alpha));
        let remote = rtts
            .into_iter()
            .zip(remote_members)
            .map(|(rtt, members)| Remote {
                rtt,
                group: Group::new(members, &instances),
            })
            .collect();
        Arc::new(ZonePicker {
            local: Group::new(local, &instances),
            all: Group::new((0..instances.len() as u32).collect(), &instances),
            remote,
            remote_of,
            health,
            instances,
            shared: self.shared.clone(),
            view: ArcSwap::from_pointee(View::STALE),
        })
    }

    fn local_zone(&self) -> Option<&Arc<str>> {
        Some(&self.shared.config.local_zone)
    }
}

/// The instances of one zone with their smooth-WRR cycle.
#[derive(Debug)]
struct Group {
    members: Vec<u32>,
    sequence: Vec<u32>,
    next: AtomicUsize,
    weight: u64,
}

impl Group {
    fn new(members: Vec<u32>, instances: &[Arc<Instance>]) -> Self {
        let weights: Vec<u32> = members
            .iter()
            .map(|&m| instances[m as usize].weight)
            .collect();
        Self {
            sequence: smooth_wrr_sequence(&weights),
            weight: weights.iter().map(|&w| u64::from(w)).sum(),
            members,
            next: AtomicUsize::new(0),
        }
    }

    /// The next healthy instance in the cycle, skipping ejected ones.
    fn pick(&self, healthy: &dyn Fn(usize) -> bool) -> Option<usize> {
        let len = self.sequence.len();
        for _ in 0..len {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            let member = self.members[self.sequence[n % len] as usize] as usize;
            if healthy(member) {
                return Some(member);
            }
        }
        None
    }
}

#[derive(Debug)]
struct Remote {
    rtt: Arc<ZoneRtt>,
    group: Group,
}

/// What a pick needs from the zones' health, computed when it changes.
#[derive(Debug)]
struct View {
    /// The balancer epoch this was computed at.
    epoch: u64,
    /// When the earliest ejection counted here runs out (`u64::MAX`: none).
    until: u64,
    local_healthy: u64,
    /// Healthy capacity of each remote zone, in `ZonePicker::remote` order.
    remote_healthy: Vec<u64>,
    /// The remote share in millionths.
    share_ppm: u64,
}

impl View {
    const STALE: View = View {
        epoch: u64::MAX,
        until: 0,
        local_healthy: 0,
        remote_healthy: Vec::new(),
        share_ppm: 0,
    };
}

struct ZonePicker {
    view: ArcSwap<View>,
    instances: Vec<Arc<Instance>>,
    health: Vec<Arc<Health>>,
    /// For each instance, the index of its remote zone (`None`: local).
    remote_of: Vec<Option<usize>>,
    local: Group,
    remote: Vec<Remote>,
    all: Group,
    shared: Arc<Shared>,
}

const MILLION: u64 = 1_000_000;

impl ZonePicker {
    fn now(&self) -> u64 {
        u64::try_from(self.shared.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// A remote zone's capacity after the degraded discount.
    fn effective(&self, remote: &Remote, healthy_weight: u64) -> f64 {
        let w = healthy_weight as f64;
        if remote.rtt.is_degraded() {
            w * self.shared.config.degraded_weight
        } else {
            w
        }
    }

    /// The best measured remote RTT, if any zone has one.
    fn best_rtt(&self) -> Option<Duration> {
        self.remote.iter().filter_map(|r| r.rtt.ewma.get()).min()
    }

    fn report(&self, share_ppm: u64) {
        let Some(events) = &self.shared.events else {
            return;
        };
        let ppm = share_ppm as u32;
        let share = share_ppm as f64 / MILLION as f64;
        let reported = &self.shared.reported_share;
        if reported.load(Ordering::Relaxed) != ppm && reported.swap(ppm, Ordering::Relaxed) != ppm {
            events.emit(EventKind::ZoneWeights {
                local_zone: self.shared.config.local_zone.clone(),
                remote_share: share,
                remote_rtt: self.best_rtt().unwrap_or_default(),
            });
        }
    }

    /// Whether pick `n` of a run at remote share `ppm` (millionths) goes remote.
    fn goes_remote(&self, ppm: u64) -> bool {
        match ppm {
            0 => false,
            MILLION.. => true,
            _ => {
                let n = u128::from(self.shared.picks.fetch_add(1, Ordering::Relaxed));
                let ppm = u128::from(ppm);
                let million = u128::from(MILLION);
                (n + 1) * ppm / million > n * ppm / million
            }
        }
    }

    fn pick_remote(&self, view: &View, healthy: &dyn Fn(usize) -> bool) -> Option<usize> {
        let best = self.best_rtt().unwrap_or(Duration::from_millis(1));
        let weight = |(r, &w): (&Remote, &u64)| {
            let rtt = r.rtt.ewma.get().unwrap_or(best).as_secs_f64();
            self.effective(r, w) / rtt
        };
        let zones = || self.remote.iter().zip(&view.remote_healthy);
        let total: f64 = zones().map(weight).sum();
        if total <= 0.0 {
            return None;
        }
        let mut draw = self.shared.rng.next_u64() as f64 / 2f64.powi(64) * total;
        for zone in zones() {
            let w = weight(zone);
            if w > 0.0 && draw < w {
                return zone.0.group.pick(healthy);
            }
            draw -= w;
        }
        // Rounding left the draw past the last zone: take the last one with capacity.
        zones()
            .rev()
            .find(|&z| weight(z) > 0.0)
            .and_then(|z| z.0.group.pick(healthy))
    }

    /// The current view, recomputed if feedback changed health or an ejection ran out.
    fn view(&self, clock: &dyn Fn() -> u64) -> arc_swap::Guard<Arc<View>> {
        let epoch = self.shared.epoch.load(Ordering::Acquire);
        let view = self.view.load();
        if view.epoch == epoch && (view.until == u64::MAX || clock() < view.until) {
            return view;
        }
        let fresh = self.compute(epoch, clock);
        if fresh.share_ppm != view.share_ppm || view.epoch == u64::MAX {
            self.report(fresh.share_ppm);
        }
        self.view.store(Arc::new(fresh));
        self.view.load()
    }

    fn compute(&self, epoch: u64, clock: &dyn Fn() -> u64) -> View {
        let ejection = self.shared.ejection;
        let mut until = u64::MAX;
        let mut healthy_weight = |group: &Group| -> u64 {
            let mut sum = 0;
            for &m in &group.members {
                match self.health[m as usize].ejected_until(ejection, clock) {
                    None => sum += u64::from(self.instances[m as usize].weight),
                    Some(t) => until = until.min(t),
                }
            }
            sum
        };
        let local_healthy = healthy_weight(&self.local);
        let remote_healthy: Vec<u64> = self
            .remote
            .iter()
            .map(|r| healthy_weight(&r.group))
            .collect();
        let total_remote: u64 = remote_healthy.iter().sum();
        let effective: f64 = self
            .remote
            .iter()
            .zip(&remote_healthy)
            .map(|(r, &w)| self.effective(r, w))
            .sum();
        let share = if local_healthy == 0 {
            if total_remote == 0 {
                0.0
            } else {
                1.0
            }
        } else if total_remote == 0 {
            0.0
        } else {
            let spill = 1.0 - local_healthy as f64 / self.local.weight as f64;
            spill * effective / total_remote as f64
        };
        View {
            epoch,
            until,
            local_healthy,
            remote_healthy,
            share_ppm: (share * MILLION as f64).round() as u64,
        }
    }
}

impl Picker for ZonePicker {
    fn pick(&self, _call: &Call) -> Option<usize> {
        let now = Cell::new(None);
        let clock = || match now.get() {
            Some(n) => n,
            None => {
                let n = self.now();
                now.set(Some(n));
                n
            }
        };
        let ejection = self.shared.ejection;
        let healthy = |i: usize| self.health[i].is_healthy(ejection, clock);
        let view = self.view(&clock);
        if view.local_healthy == 0 && view.remote_healthy.iter().all(|&w| w == 0) {
            return self.all.pick(&|_| true);
        }
        if self.goes_remote(view.share_ppm) {
            self.pick_remote(&view, &healthy)
                .or_else(|| self.local.pick(&healthy))
        } else {
            self.local.pick(&healthy)
        }
    }

    fn instances(&self) -> &[Arc<Instance>] {
        &self.instances
    }

    fn feedback(&self, index: usize, feedback: Feedback<'_>) {
        let Some(health) = self.health.get(index) else {
            return;
        };
        let mut changed = health.record(feedback.error, self.now(), self.shared.ejection);
        if let (Some(Some(z)), None) = (self.remote_of.get(index), feedback.error) {
            changed |= self.remote[*z]
                .rtt
                .record(feedback.latency, self.shared.bars);
        }
        if changed {
            self.shared.epoch.fetch_add(1, Ordering::Release);
        }
    }
}
