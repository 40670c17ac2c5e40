//! How the simulation makes an experiment's faults (`faultline_chaos::faults` turns them
//! into timed actions; this applies them to turmoil, the link model and the servers'
//! method faults):
//!
//! | action | in the simulation |
//! |---|---|
//! | link rule: `delay`, `loss`, `bandwidth` | the link model ([`crate::link`]): netem's draws per chunk; lost segments repaired as TCP does |
//! | link rule: `corrupt` | as `loss`: TCP's checksum drops a corrupted segment, which is then retransmitted |
//! | link rule: `duplicate` | nothing: TCP discards duplicate segments (reported) |
//! | link rule: `partition` | turmoil holds the links both ways until it heals (a one-way partition stops TCP both ways too: its ACKs cannot come back); held bytes arrive afterwards, as retransmissions would |
//! | `Kill`, `Restart` | the host crashes; it restarts [`RESTART_DELAY`] later |
//! | `Pause`, `Resume` (pod-failure) | the host is down for the fault's duration, then restarts |
//! | method rule (HTTPChaos) | the servers' router ([`crate::method`]); its delay is scaled |

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use faultline_chaos::faults::{Action, Effect, Rule, Schedule};

pub use faultline_chaos::faults::RESTART_DELAY;

use crate::link::Links;
use crate::method::MethodFaults;
use crate::scale::TimeScale;

/// What actions act on besides turmoil.
pub struct World<'a> {
    pub links: &'a Links,
    pub methods: &'a MethodFaults,
    pub scale: TimeScale,
    /// Every host of the run.
    pub hosts: &'a [String],
    /// The host pairs each partition holds.
    pub held: Mutex<BTreeMap<String, BTreeSet<(String, String)>>>,
}

impl World<'_> {
    /// Makes `action` happen now.
    pub fn apply(&self, sim: &mut turmoil::Sim<'_>, action: &Action) {
        match action {
            Action::AddRule(rule) if rule.effect == Effect::Partition => {
                let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
                let pairs = held.entry(rule.fault.clone()).or_default();
                for pair in partitioned(rule, self.hosts) {
                    if pairs.insert(pair.clone()) {
                        sim.hold(pair.0.as_str(), pair.1.as_str());
                    }
                }
            }
            Action::AddRule(rule) => self.links.add(rule.clone()),
            Action::AddMethodRule(rule) => {
                let mut rule = rule.clone();
                rule.effect.delay = rule.effect.delay.map(|d| self.scale.duration(d));
                self.methods.add(rule);
            }
            Action::RemoveRules { fault } => {
                self.links.remove(fault);
                self.methods.remove(fault);
                let held = self
                    .held
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(fault);
                for (a, b) in held.into_iter().flatten() {
                    sim.release(a.as_str(), b.as_str());
                }
            }
            Action::Kill { host, .. } | Action::Pause { host, .. } => sim.crash(host.as_str()),
            Action::Restart { host, .. } | Action::Resume { host, .. } => sim.bounce(host.as_str()),
        }
    }
}

/// The host pairs (each once, in name order) a partition rule cuts.
fn partitioned(rule: &Rule, hosts: &[String]) -> Vec<(String, String)> {
    let mut pairs = BTreeSet::new();
    for a in &rule.from {
        for b in hosts.iter().filter(|b| rule.covers(a, b)) {
            let pair = match a < b {
                true => (a.clone(), b.clone()),
                false => (b.clone(), a.clone()),
            };
            pairs.insert(pair);
        }
    }
    pairs.into_iter().collect()
}

/// What the simulation made differently from what a fault asks, for the report.
pub fn notes(schedule: &Schedule, hosts: &[String]) -> Vec<String> {
    let mut notes = BTreeSet::new();
    let rules: Vec<&Rule> = schedule
        .actions
        .iter()
        .filter_map(|timed| match &timed.action {
            Action::AddRule(rule) => Some(rule),
            _ => None,
        })
        .collect();
    for rule in &rules {
        let fault = &rule.fault;
        match rule.effect {
            Effect::Corrupt { .. } => notes.insert(format!(
                "{fault}: corrupted segments are simulated as lost (TCP's checksum drops them; the local backend flips bits past the checksum instead)"
            )),
            Effect::Duplicate { .. } => notes.insert(format!(
                "{fault}: duplicated segments change nothing a TCP reader sees; simulated as no effect"
            )),
            Effect::Partition => {
                let cuts = |a: &str, b: &str| {
                    rules.iter().any(|r| {
                        r.fault == *fault && r.effect == Effect::Partition && r.covers(a, b)
                    })
                };
                let one_way = partitioned(rule, hosts)
                    .iter()
                    .any(|(a, b)| !(cuts(a, b) && cuts(b, a)));
                match one_way {
                    true => notes.insert(format!(
                        "{fault}: a one-way partition is simulated both ways (TCP's acknowledgements cannot cross it either)"
                    )),
                    false => false,
                }
            }
            _ => false,
        };
    }
    notes.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use faultline_chaos::faults::Timed;

    use super::*;

    fn hosts() -> Vec<String> {
        ["a0", "a1", "b0", "faultline-probe"]
            .map(String::from)
            .to_vec()
    }

    fn partition(from: &[&str], to: Option<&[&str]>) -> Rule {
        let set = |hosts: &[&str]| hosts.iter().map(|h| h.to_string()).collect();
        Rule {
            fault: "cut".into(),
            from: set(from),
            to: to.map(set),
            effect: Effect::Partition,
        }
    }

    fn schedule(rules: Vec<Rule>) -> Schedule {
        Schedule {
            actions: rules
                .into_iter()
                .map(|rule| Timed {
                    at: Default::default(),
                    action: Action::AddRule(rule),
                })
                .collect(),
            faults: Vec::new(),
        }
    }

    #[test]
    fn a_partition_holds_each_pair_once_from_the_selected_to_every_other_host() {
        let pairs = partitioned(&partition(&["b0"], None), &hosts());
        let expected = [("a0", "b0"), ("a1", "b0"), ("b0", "faultline-probe")]
            .map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(pairs, expected);
    }

    #[test]
    fn only_a_one_way_partition_is_noted() {
        let one_way = schedule(vec![partition(&["b0"], None)]);
        assert!(notes(&one_way, &hosts())[0].contains("one-way"));
        let others = ["a0", "a1", "faultline-probe"];
        let both = schedule(vec![
            partition(&["b0"], None),
            partition(&others, Some(&["b0"])),
        ]);
        assert_eq!(notes(&both, &hosts()), Vec::<String>::new());
    }
}
