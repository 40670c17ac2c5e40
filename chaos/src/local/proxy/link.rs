//! One direction of a proxied connection as a link: the rules in force on it (re-read
//! whenever the table changes, so pooled connections see new faults) and what they do to
//! each chunk that enters it ([`Link::stamp`]): when it may be delivered, and whether it
//! was lost. The effects are in their own files (`delay`, `loss`, `corrupt`,
//! `duplicate`, `bandwidth`, `partition`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;

use super::bandwidth::Drain;
use super::delay::{self, Correlated};
use super::faults::Table;
use super::{corrupt, duplicate, loss, partition, Shared, Side};
use crate::faults::Effect;
use crate::spec::chaos_mesh::{HttpChaosTarget, MethodFault};

/// The rules acting on one direction now.
#[derive(Debug, Default)]
pub(super) struct View {
    /// Effects of the link rules covering this direction.
    pub effects: Vec<Effect>,
    /// Whether a partition holds this direction.
    pub partitioned: bool,
    /// The method faults acting on this direction's frames.
    pub methods: Vec<MethodFault>,
    /// Whether frames must be read whole (a method rule is in force on the server, so a
    /// frame may be held, replaced or answered by the proxy).
    pub framed: bool,
}

impl View {
    fn of(table: &Table, shared: &Shared, side: Side) -> Self {
        let config = &shared.config;
        let (src, dst) = match side {
            Side::Request => (&config.client, &config.server),
            Side::Response => (&config.server, &config.client),
        };
        let effects: Vec<Effect> = table
            .rules
            .iter()
            .filter(|rule| rule.covers(src, dst))
            .map(|rule| rule.effect.clone())
            .collect();
        let target = match side {
            Side::Request => HttpChaosTarget::Request,
            Side::Response => HttpChaosTarget::Response,
        };
        let at_server = || {
            table
                .methods
                .iter()
                .filter(|r| r.hosts.contains(&config.server))
        };
        Self {
            partitioned: partition::holds(&effects),
            effects,
            methods: at_server()
                .filter(|r| r.effect.target == target)
                .map(|r| r.effect.clone())
                .collect(),
            framed: at_server().next().is_some(),
        }
    }
}

/// When a chunk may be delivered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Stamp {
    pub ready: Instant,
    /// Lost and repaired: a later chunk cuts the wait to this much after its arrival.
    pub fast_repair: Option<Duration>,
    /// Lost for good: the connection resets at `ready`.
    pub doomed: bool,
}

/// One direction's link state.
pub(super) struct Link {
    shared: Arc<Shared>,
    side: Side,
    table: watch::Receiver<Arc<Table>>,
    pub view: View,
    /// Correlation state per delay rule, in the order of `view.effects`.
    jitter: Vec<Correlated>,
    drain: Drain,
    /// The rules changed since the view was made (`changed` saw it).
    stale: bool,
}

impl Link {
    pub fn new(shared: Arc<Shared>, side: Side) -> Self {
        let mut table = shared.faults.watch();
        let view = View::of(&table.borrow_and_update(), &shared, side);
        let mut link = Self {
            shared,
            side,
            table,
            view,
            jitter: Vec::new(),
            drain: Drain::default(),
            stale: false,
        };
        link.jitter = vec![Correlated::default(); link.view.effects.len()];
        link
    }

    /// Re-reads the rules if they changed.
    pub fn refresh(&mut self) {
        if std::mem::take(&mut self.stale) || self.table.has_changed().unwrap_or(false) {
            self.view = View::of(&self.table.borrow_and_update(), &self.shared, self.side);
            self.jitter = vec![Correlated::default(); self.view.effects.len()];
        }
    }

    /// Completes when the rules change (never if they no longer can); `refresh` then
    /// reads them.
    pub async fn changed(&mut self) {
        match self.table.changed().await {
            Ok(()) => self.stale = true,
            Err(_) => std::future::pending::<()>().await,
        }
    }

    /// A chunk entering the link at `now`: the effects in force act on it (`corrupt` may
    /// change its bytes) and say when it may be delivered.
    pub fn stamp(&mut self, chunk: &mut Bytes, now: Instant) -> Stamp {
        let shared = &*self.shared;
        let rng = &shared.rng;
        let mut delay = Duration::ZERO;
        if let (Side::Request, Some(base)) = (self.side, &shared.config.base_latency) {
            delay += delay::base(base, rng).saturating_sub(shared.config.path_cost.get());
        }
        let mut stamp = Stamp {
            ready: now,
            fast_repair: None,
            doomed: false,
        };
        let mut passed = now;
        for (effect, jitter) in self.view.effects.iter().zip(&mut self.jitter) {
            match effect {
                Effect::Delay {
                    latency,
                    jitter: spread,
                    correlation,
                } => delay += jitter.draw(*latency, *spread, *correlation, rng),
                Effect::Loss { probability } => {
                    match loss::draw(*probability, shared.config.rtt, rng) {
                        None => {}
                        Some(loss::Lost::Repaired { tail, fast }) => {
                            shared.stats.lost();
                            delay += tail;
                            stamp.fast_repair = Some(fast);
                        }
                        Some(loss::Lost::Doomed { after }) => {
                            shared.stats.lost();
                            delay += after;
                            stamp.doomed = true;
                        }
                    }
                }
                Effect::Corrupt { probability } => {
                    if crate::faults::tcp_loss::unit(rng) < *probability {
                        *chunk = corrupt::flip(std::mem::take(chunk), rng);
                        shared.stats.corrupted();
                    }
                }
                Effect::Duplicate { probability } => {
                    let twice = duplicate::duplicated(*probability, chunk.len(), rng);
                    shared.stats.duplicated(twice);
                }
                Effect::Bandwidth { bytes_per_second } => {
                    passed = passed.max(self.drain.pass(now, chunk.len(), *bytes_per_second));
                }
                Effect::Partition => shared.stats.held(chunk.len()),
            }
        }
        if stamp.doomed {
            stamp.fast_repair = None;
        }
        stamp.ready = (now + delay).max(passed);
        stamp
    }
}
