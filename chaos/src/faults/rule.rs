//! What a fault does to the bytes between hosts ([`Rule`], [`Effect`]) and to the calls of
//! a method ([`MethodRule`]), read from NetworkChaos and HTTPChaos specs. Backends decide
//! how each effect is made: the simulation in its link model, the local backend in its
//! fault proxies.

use std::collections::BTreeSet;
use std::time::Duration;

use faultline_core::config::duration;

use crate::spec::chaos_mesh::values::{fraction, rate_bytes_per_second};
use crate::spec::chaos_mesh::{MethodFault, NetworkChaosAction, NetworkChaosSpec};

/// What a rule does to the bytes of a link.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// netem's delay: `latency` plus a uniform draw in `±jitter`, each draw
    /// `correlation` (0..=1) of the previous one.
    Delay {
        latency: Duration,
        jitter: Duration,
        correlation: f64,
    },
    /// A segment is lost with probability `probability`, then repaired by TCP.
    Loss { probability: f64 },
    /// A segment has one bit flipped with probability `probability`.
    Corrupt { probability: f64 },
    /// A segment is sent twice with probability `probability`.
    Duplicate { probability: f64 },
    /// At most `bytes_per_second` pass.
    Bandwidth { bytes_per_second: f64 },
    /// Nothing passes until the fault ends.
    Partition,
}

/// An effect on the links from any of `from` to any of `to` (every other host when
/// `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub fault: String,
    pub from: BTreeSet<String>,
    pub to: Option<BTreeSet<String>>,
    pub effect: Effect,
}

impl Rule {
    /// Whether it acts on bytes sent by `src` to `dst`.
    pub fn covers(&self, src: &str, dst: &str) -> bool {
        src != dst && self.from.contains(src) && self.to.as_ref().is_none_or(|to| to.contains(dst))
    }
}

/// A method fault on some hosts, for as long as its fault lasts.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodRule {
    pub fault: String,
    pub hosts: BTreeSet<String>,
    pub effect: MethodFault,
}

/// The effects of a NetworkChaos spec (`netem` combines delay, loss, duplicate and
/// corrupt).
pub fn effects(spec: &NetworkChaosSpec) -> Vec<Effect> {
    let action = spec.action;
    let netem = action == NetworkChaosAction::Netem;
    let mut effects = Vec::new();
    if action == NetworkChaosAction::Partition {
        return vec![Effect::Partition];
    }
    if let (true, Some(delay)) = (action == NetworkChaosAction::Delay || netem, &spec.delay) {
        let parse = |t: Option<&str>| t.and_then(|t| duration::parse(t).ok()).unwrap_or_default();
        effects.push(Effect::Delay {
            latency: parse(Some(&delay.latency)),
            jitter: parse(delay.jitter.as_deref()),
            correlation: fraction(delay.correlation.as_deref()).unwrap_or(0.0),
        });
    }
    let share = |acts: bool, value: Option<&String>| {
        value
            .filter(|_| acts || netem)
            .and_then(|v| fraction(Some(v)))
            .filter(|p| *p > 0.0)
            .map(|p| p.min(1.0))
    };
    if let Some(probability) = share(
        action == NetworkChaosAction::Loss,
        spec.loss.as_ref().map(|l| &l.loss),
    ) {
        effects.push(Effect::Loss { probability });
    }
    if let Some(probability) = share(
        action == NetworkChaosAction::Corrupt,
        spec.corrupt.as_ref().map(|c| &c.corrupt),
    ) {
        effects.push(Effect::Corrupt { probability });
    }
    if let Some(probability) = share(
        action == NetworkChaosAction::Duplicate,
        spec.duplicate.as_ref().map(|d| &d.duplicate),
    ) {
        effects.push(Effect::Duplicate { probability });
    }
    if action == NetworkChaosAction::Bandwidth {
        if let Some(rate) = spec
            .bandwidth
            .as_ref()
            .and_then(|b| rate_bytes_per_second(&b.rate))
        {
            effects.push(Effect::Bandwidth {
                bytes_per_second: rate,
            });
        }
    }
    effects
}
