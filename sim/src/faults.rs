//! What each fault of an experiment does in the simulation: Chaos Mesh objects turned into
//! timed actions on the link model and on turmoil.
//!
//! | fault | in the simulation |
//! |---|---|
//! | NetworkChaos `delay` | link rule: netem's latency, jitter and correlation per chunk |
//! | NetworkChaos `loss` | link rule: segments lost and repaired as TCP does (`tcp_loss`) |
//! | NetworkChaos `corrupt` | as `loss`: TCP's checksum drops a corrupted segment, which is then retransmitted |
//! | NetworkChaos `bandwidth` | link rule: bytes drain at `rate` |
//! | NetworkChaos `netem` | its delay, loss and corrupt parts together |
//! | NetworkChaos `duplicate` | nothing: TCP discards duplicate segments (reported) |
//! | NetworkChaos `partition` | turmoil holds the links both ways until it heals (a one-way partition stops TCP both ways too: its ACKs cannot come back); held bytes arrive afterwards, as retransmissions would |
//! | PodChaos `pod-kill`, `container-kill` | the host crashes and restarts after [`RESTART_DELAY`] (a ReplicaSet's new pod) |
//! | PodChaos `pod-failure` | the host is down for the fault's duration, then restarts |
//! | HTTPChaos | method faults in the simulated servers' router (`method`); its delay is scaled |
//! | the other kinds | skipped, and reported as skipped |
//!
//! Direction (NetworkChaos): `to` (the default) acts on bytes from the selected instances
//! to the `target` instances (to every host without a `target`), `from` on bytes from the
//! target to the selected, `both` on both.

use std::collections::BTreeSet;
use std::time::Duration;

use faultline_chaos::plan::{self, Plan, Targets};
use faultline_chaos::report::FaultReport;
use faultline_chaos::spec::chaos_mesh::values::{fraction, rate_bytes_per_second};
use faultline_chaos::spec::chaos_mesh::{
    ChaosObject, MethodFault, NetworkChaosAction, NetworkChaosDirection, NetworkChaosSpec,
    PodChaosAction,
};
use faultline_chaos::spec::experiment::{ExperimentSpec, Fault};
use faultline_core::config::duration;

use crate::link::{Effect, Rule};
use crate::method::MethodRule;

/// How long a killed instance stays down before its replacement serves (unscaled).
pub const RESTART_DELAY: Duration = Duration::from_secs(1);

/// One thing the run does to the simulation.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    AddRule(Rule),
    AddMethodRule(MethodRule),
    /// Ends a fault's link and method rules.
    RemoveRules {
        fault: String,
    },
    Crash {
        host: String,
    },
    Restart {
        host: String,
    },
    Hold {
        a: String,
        b: String,
    },
    Release {
        a: String,
        b: String,
    },
}

/// An action and when it happens, from the start of measurement (unscaled).
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    pub at: Duration,
    pub action: Action,
}

/// The run's actions (in time order), the faults as the report shows them, and notes on
/// what was modelled or skipped.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    pub actions: Vec<Timed>,
    pub faults: Vec<FaultReport>,
    pub notes: Vec<String>,
}

/// The schedule of `spec`'s faults, on the hosts `plan` chose for them.
pub fn schedule(spec: &ExperimentSpec, plan: &Plan, hosts: &[String]) -> Schedule {
    let mut schedule = Schedule::default();
    for fault in &spec.faults {
        let chosen = plan.steps.iter().find_map(|step| match &step.event {
            plan::Event::Inject {
                fault: name,
                action,
                targets,
                peers,
                ..
            } if *name == fault.name => Some((action.clone(), targets.clone(), peers.clone())),
            _ => None,
        });
        let Some((action, targets, peers)) = chosen else {
            continue;
        };
        let mut report = FaultReport {
            name: fault.name.clone(),
            kind: fault.kind.clone(),
            action,
            targets: Vec::new(),
            start: fault.at,
            end: fault.end(),
            skipped: None,
        };
        let targets = match targets {
            Targets::Plan { instances, .. } => instances,
            Targets::Skipped { reason } => {
                report.skipped = Some(reason);
                schedule.faults.push(report);
                continue;
            }
            Targets::Cluster { .. } => Vec::new(),
        };
        let peers = match peers {
            Some(Targets::Plan { instances, .. }) => Some(instances),
            _ => None,
        };
        report.targets = targets.clone();
        match fault.chaos_object(&fault.name, &plan.namespace, &Default::default()) {
            Ok(ChaosObject::NetworkChaos(network)) => network_fault(
                fault,
                &network.spec,
                &targets,
                peers.as_deref(),
                hosts,
                &mut schedule,
            ),
            Ok(ChaosObject::PodChaos(pod)) => {
                pod_fault(fault, pod.spec.action, &targets, &mut schedule)
            }
            Ok(ChaosObject::HttpChaos(http)) => {
                let rule = MethodRule {
                    fault: fault.name.clone(),
                    hosts: set(&targets),
                    effect: MethodFault::from_spec(&http.spec),
                };
                at(&mut schedule, fault.at, Action::AddMethodRule(rule));
                if let Some(end) = fault.end() {
                    let fault = fault.name.clone();
                    at(&mut schedule, end, Action::RemoveRules { fault });
                }
            }
            Ok(_) => {
                report.skipped = Some(format!("{} is not simulated", fault.kind));
            }
            Err(errors) => report.skipped = Some(errors.to_string()),
        }
        schedule.faults.push(report);
    }
    schedule.actions.sort_by_key(|timed| timed.at);
    schedule
}

fn at(schedule: &mut Schedule, at: Duration, action: Action) {
    schedule.actions.push(Timed { at, action });
}

fn pod_fault(fault: &Fault, action: PodChaosAction, targets: &[String], schedule: &mut Schedule) {
    let back = match action {
        PodChaosAction::PodKill | PodChaosAction::ContainerKill => Some(fault.at + RESTART_DELAY),
        PodChaosAction::PodFailure => fault.end(),
    };
    for host in targets {
        at(schedule, fault.at, Action::Crash { host: host.clone() });
        if let Some(back) = back {
            at(schedule, back, Action::Restart { host: host.clone() });
        }
    }
}

fn set(hosts: &[String]) -> BTreeSet<String> {
    hosts.iter().cloned().collect()
}

fn network_fault(
    fault: &Fault,
    spec: &NetworkChaosSpec,
    targets: &[String],
    peers: Option<&[String]>,
    hosts: &[String],
    schedule: &mut Schedule,
) {
    let direction = spec.direction.unwrap_or(NetworkChaosDirection::To);
    let selected = set(targets);
    let others: BTreeSet<String> = match peers {
        Some(peers) => set(peers),
        None => hosts
            .iter()
            .filter(|h| !selected.contains(*h))
            .cloned()
            .collect(),
    };
    if spec.action == NetworkChaosAction::Partition {
        for a in &selected {
            for b in others.iter().filter(|b| *b != a) {
                let (a, b) = (a.clone(), b.clone());
                at(
                    schedule,
                    fault.at,
                    Action::Hold {
                        a: a.clone(),
                        b: b.clone(),
                    },
                );
                if let Some(end) = fault.end() {
                    at(schedule, end, Action::Release { a, b });
                }
            }
        }
        if direction != NetworkChaosDirection::Both {
            schedule.notes.push(format!(
                "{}: a one-way partition is simulated both ways (TCP's acknowledgements cannot cross it either)",
                fault.name
            ));
        }
        return;
    }
    let to = peers.map(set);
    let pairs: Vec<(BTreeSet<String>, Option<BTreeSet<String>>)> = match direction {
        NetworkChaosDirection::To => vec![(selected.clone(), to)],
        NetworkChaosDirection::From => vec![(others, Some(selected))],
        NetworkChaosDirection::Both => vec![(selected.clone(), to), (others, Some(selected))],
    };
    let effects = effects(fault, spec, schedule);
    for (from, to) in pairs {
        for effect in &effects {
            let rule = Rule {
                fault: fault.name.clone(),
                from: from.clone(),
                to: to.clone(),
                effect: effect.clone(),
            };
            at(schedule, fault.at, Action::AddRule(rule));
        }
    }
    if let Some(end) = fault.end() {
        at(
            schedule,
            end,
            Action::RemoveRules {
                fault: fault.name.clone(),
            },
        );
    }
}

/// The link effects of a NetworkChaos spec.
fn effects(fault: &Fault, spec: &NetworkChaosSpec, schedule: &mut Schedule) -> Vec<Effect> {
    let mut effects = Vec::new();
    let netem = spec.action == NetworkChaosAction::Netem;
    if spec.action == NetworkChaosAction::Delay || netem {
        if let Some(delay) = &spec.delay {
            let parse =
                |t: Option<&str>| t.and_then(|t| duration::parse(t).ok()).unwrap_or_default();
            effects.push(Effect::Delay {
                latency: parse(Some(&delay.latency)),
                jitter: parse(delay.jitter.as_deref()),
                correlation: fraction(delay.correlation.as_deref()).unwrap_or(0.0),
            });
        }
    }
    let mut loss = 0.0;
    if spec.action == NetworkChaosAction::Loss || netem {
        loss += spec
            .loss
            .as_ref()
            .and_then(|l| fraction(Some(&l.loss)))
            .unwrap_or(0.0);
    }
    if spec.action == NetworkChaosAction::Corrupt || netem {
        if let Some(corrupt) = spec
            .corrupt
            .as_ref()
            .and_then(|c| fraction(Some(&c.corrupt)))
        {
            loss += corrupt;
            schedule.notes.push(format!(
                "{}: corrupted segments are simulated as lost (TCP's checksum drops them; the local backend flips bits past the checksum instead)",
                fault.name
            ));
        }
    }
    if loss > 0.0 {
        effects.push(Effect::Loss {
            probability: loss.min(1.0),
        });
    }
    if spec.action == NetworkChaosAction::Bandwidth {
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
    if spec.action == NetworkChaosAction::Duplicate {
        schedule.notes.push(format!(
            "{}: duplicated segments change nothing a TCP reader sees; simulated as no effect",
            fault.name
        ));
    }
    effects
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use faultline_chaos::plan::{plan, Backend, PlanOptions};
    use faultline_chaos::spec::load::{load_bytes, SpecDocument};

    use super::*;

    /// The schedule of an experiment with two zones of two instances and `fault`.
    fn schedule_of(fault: &str) -> Schedule {
        let text = format!(
            "apiVersion: faultline.dev/v1alpha1
kind: Experiment
metadata: {{ name: t }}
spec:
  target: {{ service: Echo, callerZone: az1 }}
  topology:
    zones: [{{ name: az1, instances: 2 }}, {{ name: az2, instances: 2 }}]
  faults:
{fault}"
        );
        let loaded = load_bytes(text.as_bytes(), Path::new("t.yaml")).unwrap();
        let SpecDocument::Experiment(experiment) = &loaded[0].spec else {
            panic!()
        };
        let options = PlanOptions {
            backend: Backend::Sim,
            seed: 1,
            run_id: None,
        };
        let planned = plan(experiment, &loaded[0].document, &options).unwrap();
        let mut hosts: Vec<String> = planned.instances.clone();
        hosts.push(plan::PROBE_NAME.to_owned());
        schedule(&experiment.spec, &planned, &hosts)
    }

    fn names(set: &BTreeSet<String>) -> Vec<&str> {
        set.iter().map(String::as_str).collect()
    }

    #[test]
    fn a_delay_from_a_target_acts_on_bytes_from_the_target_to_the_selected() {
        let schedule = schedule_of(
            "    - name: slow
      at: 1s
      duration: 2s
      kind: NetworkChaos
      spec:
        action: delay
        mode: all
        selector: { labelSelectors: { zone: az2 } }
        direction: from
        target: { mode: all, selector: { labelSelectors: { app: faultline-probe } } }
        delay: { latency: 2ms, jitter: 1ms, correlation: \"50\" }
",
        );
        let [Timed {
            at: start,
            action: Action::AddRule(rule),
        }, Timed {
            at: end,
            action: Action::RemoveRules { fault },
        }] = &schedule.actions[..]
        else {
            panic!("{:?}", schedule.actions)
        };
        assert_eq!(
            (*start, *end),
            (Duration::from_secs(1), Duration::from_secs(3))
        );
        assert_eq!(fault, "slow");
        assert_eq!(names(&rule.from), ["faultline-probe"]);
        assert_eq!(
            names(rule.to.as_ref().unwrap()),
            ["echo-az2-0", "echo-az2-1"]
        );
        assert_eq!(
            rule.effect,
            Effect::Delay {
                latency: Duration::from_millis(2),
                jitter: Duration::from_millis(1),
                correlation: 0.5
            }
        );
    }

    #[test]
    fn a_partition_holds_every_pair_and_releases_it() {
        let schedule = schedule_of(
            "    - name: cut
      at: 1s
      duration: 1s
      kind: NetworkChaos
      spec:
        action: partition
        mode: all
        selector: { labelSelectors: { zone: az2 } }
        direction: to
",
        );
        let holds: Vec<_> = schedule
            .actions
            .iter()
            .filter_map(|t| match &t.action {
                Action::Hold { a, b } => Some((a.as_str(), b.as_str())),
                _ => None,
            })
            .collect();
        // Each az2 instance from each other host: the two az1 instances and the probe.
        assert_eq!(holds.len(), 6, "{holds:?}");
        assert!(holds.contains(&("echo-az2-0", "faultline-probe")));
        let releases = schedule
            .actions
            .iter()
            .filter(|t| {
                matches!(t.action, Action::Release { .. }) && t.at == Duration::from_secs(2)
            })
            .count();
        assert_eq!(releases, 6);
        assert!(
            schedule.notes.iter().any(|n| n.contains("one-way")),
            "{:?}",
            schedule.notes
        );
    }

    #[test]
    fn kills_restart_and_unsimulated_kinds_are_reported_skipped() {
        let schedule = schedule_of(
            "    - name: kill
      at: 1s
      duration: 5s
      kind: PodChaos
      spec: { action: pod-kill, mode: one, selector: { labelSelectors: { zone: az1 } } }
    - name: stress
      at: 1s
      duration: 1s
      kind: StressChaos
      spec:
        mode: one
        selector: { labelSelectors: { zone: az1 } }
        stressors: { cpu: { workers: 1 } }
",
        );
        let crash = schedule
            .actions
            .iter()
            .find_map(|t| match &t.action {
                Action::Crash { host } => Some((t.at, host.clone())),
                _ => None,
            })
            .unwrap();
        let restart = schedule
            .actions
            .iter()
            .find_map(|t| match &t.action {
                Action::Restart { host } => Some((t.at, host.clone())),
                _ => None,
            })
            .unwrap();
        assert_eq!(restart.0, crash.0 + RESTART_DELAY);
        assert_eq!(restart.1, crash.1);
        let stress = schedule.faults.iter().find(|f| f.name == "stress").unwrap();
        assert!(stress
            .skipped
            .as_deref()
            .unwrap_or_default()
            .contains("StressChaos"));
    }
}
