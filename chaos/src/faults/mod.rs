//! What an experiment's faults do, whatever runs them: Chaos Mesh objects turned into
//! timed actions on hosts ([`Action`]), with the instances the plan chose. Each backend
//! makes the actions real in its own way:
//!
//! | fault | action | simulation (`faultline-sim`) | local backend (`local`) |
//! |---|---|---|---|
//! | NetworkChaos `delay`, `loss`, `corrupt`, `duplicate`, `bandwidth`, `netem` | link [`Rule`]s | the link model | the fault proxies |
//! | NetworkChaos `partition` | a [`Effect::Partition`] rule | turmoil holds the links | the proxies hold the bytes |
//! | PodChaos `pod-kill`, `container-kill` | `Kill`, `Restart` after [`RESTART_DELAY`] (a ReplicaSet's new pod) | crash, restart | SIGKILL, the supervisor restarts |
//! | PodChaos `pod-failure` | `Pause`, `Resume` at the end | crash, restart | SIGSTOP, SIGCONT |
//! | HTTPChaos | a [`MethodRule`] | the servers' router | the proxies, which read frames |
//! | the other kinds | none: reported as skipped | | |
//!
//! Direction (NetworkChaos): `to` (the default) acts on bytes from the selected instances
//! to the `target` instances (to every other host without a `target`), `from` on bytes
//! from the target (every other host) to the selected, `both` on both.

pub mod latency;
mod rule;
pub mod tcp_loss;

use std::collections::BTreeSet;
use std::time::Duration;

use crate::plan::{self, Plan, Targets};
use crate::report::FaultReport;
use crate::spec::chaos_mesh::{
    ChaosObject, MethodFault, NetworkChaosDirection, NetworkChaosSpec, PodChaosAction,
};
use crate::spec::experiment::{ExperimentSpec, Fault};

pub use rule::{effects, Effect, MethodRule, Rule};

/// How long a killed instance stays down before its replacement serves.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);

/// One thing a run does to its hosts.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    AddRule(Rule),
    AddMethodRule(MethodRule),
    /// Ends a fault's link and method rules.
    RemoveRules {
        fault: String,
    },
    /// The host's process dies at once (SIGKILL).
    Kill {
        fault: String,
        host: String,
    },
    /// A killed host's replacement starts.
    Restart {
        fault: String,
        host: String,
    },
    /// The host stops running but keeps its connections (pod-failure).
    Pause {
        fault: String,
        host: String,
    },
    Resume {
        fault: String,
        host: String,
    },
}

impl Action {
    /// Whether it undoes a fault (what an abort still applies at once).
    pub fn recovers(&self) -> bool {
        matches!(
            self,
            Action::RemoveRules { .. } | Action::Restart { .. } | Action::Resume { .. }
        )
    }
}

/// An action and when it happens, from the start of measurement (unscaled).
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    pub at: Duration,
    pub action: Action,
}

/// The run's actions (in time order) and the faults as the report shows them.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    pub actions: Vec<Timed>,
    pub faults: Vec<FaultReport>,
}

/// The schedule of `spec`'s faults, on the hosts `plan` chose for them (`hosts`: every
/// host of the run, the probe's included).
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
                remove_at_end(fault, &mut schedule);
            }
            Ok(_) => {
                report.skipped = Some(format!("{} is not supported", fault.kind));
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

fn remove_at_end(fault: &Fault, schedule: &mut Schedule) {
    if let Some(end) = fault.end() {
        let name = fault.name.clone();
        at(schedule, end, Action::RemoveRules { fault: name });
    }
}

fn pod_fault(fault: &Fault, action: PodChaosAction, targets: &[String], schedule: &mut Schedule) {
    for host in targets {
        let (name, host) = (fault.name.clone(), host.clone());
        match action {
            PodChaosAction::PodKill | PodChaosAction::ContainerKill => {
                let kill = Action::Kill {
                    fault: name.clone(),
                    host: host.clone(),
                };
                at(schedule, fault.at, kill);
                let restart = Action::Restart { fault: name, host };
                at(schedule, fault.at + RESTART_DELAY, restart);
            }
            PodChaosAction::PodFailure => {
                let pause = Action::Pause {
                    fault: name.clone(),
                    host: host.clone(),
                };
                at(schedule, fault.at, pause);
                if let Some(end) = fault.end() {
                    at(schedule, end, Action::Resume { fault: name, host });
                }
            }
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
    let selected = set(targets);
    let others = || -> BTreeSet<String> {
        match peers {
            Some(peers) => set(peers),
            None => hosts
                .iter()
                .filter(|h| !selected.contains(*h))
                .cloned()
                .collect(),
        }
    };
    let to = peers.map(set);
    let pairs: Vec<(BTreeSet<String>, Option<BTreeSet<String>>)> =
        match spec.direction.unwrap_or(NetworkChaosDirection::To) {
            NetworkChaosDirection::To => vec![(selected.clone(), to)],
            NetworkChaosDirection::From => vec![(others(), Some(selected.clone()))],
            NetworkChaosDirection::Both => {
                vec![(selected.clone(), to), (others(), Some(selected.clone()))]
            }
        };
    for effect in effects(spec) {
        for (from, to) in &pairs {
            let rule = Rule {
                fault: fault.name.clone(),
                from: from.clone(),
                to: to.clone(),
                effect: effect.clone(),
            };
            at(schedule, fault.at, Action::AddRule(rule));
        }
    }
    remove_at_end(fault, schedule);
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::plan::{plan, Backend, PlanOptions};
    use crate::spec::load::{load_bytes, SpecDocument};

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
        let instances = experiment.spec.topology.instances("Echo");
        schedule(&experiment.spec, &planned, &plan::hosts(&instances))
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
    fn a_partition_both_ways_is_a_rule_each_way_until_it_ends() {
        let schedule = schedule_of(
            "    - name: cut
      at: 1s
      duration: 1s
      kind: NetworkChaos
      spec:
        action: partition
        mode: all
        selector: { labelSelectors: { zone: az2 } }
        direction: both
",
        );
        let rules: Vec<&Rule> = schedule
            .actions
            .iter()
            .filter_map(|t| match &t.action {
                Action::AddRule(rule) => Some(rule),
                _ => None,
            })
            .collect();
        assert_eq!(rules.len(), 2, "{rules:?}");
        assert!(rules.iter().all(|r| r.effect == Effect::Partition));
        assert!(rules
            .iter()
            .any(|r| r.covers("echo-az2-0", "faultline-probe")));
        assert!(rules
            .iter()
            .any(|r| r.covers("faultline-probe", "echo-az2-1")));
        assert!(!rules
            .iter()
            .any(|r| r.covers("echo-az1-0", "faultline-probe")));
        let removed = schedule.actions.iter().any(|t| {
            t.action
                == Action::RemoveRules {
                    fault: "cut".into(),
                }
                && t.at == Duration::from_secs(2)
        });
        assert!(removed, "{:?}", schedule.actions);
    }

    #[test]
    fn a_pod_failure_pauses_for_its_duration() {
        let schedule = schedule_of(
            "    - name: stop
      at: 1s
      duration: 3s
      kind: PodChaos
      spec: { action: pod-failure, mode: one, selector: { labelSelectors: { zone: az1 } } }
",
        );
        let [Timed {
            at: start,
            action: Action::Pause { host, .. },
        }, Timed {
            at: end,
            action: Action::Resume { host: resumed, .. },
        }] = &schedule.actions[..]
        else {
            panic!("{:?}", schedule.actions)
        };
        assert_eq!(
            (*start, *end),
            (Duration::from_secs(1), Duration::from_secs(4))
        );
        assert_eq!(host, resumed);
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
                Action::Kill { host, .. } => Some((t.at, host.clone())),
                _ => None,
            })
            .unwrap();
        let restart = schedule
            .actions
            .iter()
            .find_map(|t| match &t.action {
                Action::Restart { host, .. } => Some((t.at, host.clone())),
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
