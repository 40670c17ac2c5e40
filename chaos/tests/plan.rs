//! `plan`: the timeline of an experiment per backend, selections that depend only on the
//! seed, and on `kube` exactly the Chaos Mesh objects a run creates, each admitted by Chaos
//! Mesh's CRD, labelled with the run and bounded by a duration.

#[path = "support/crd_files.rs"]
mod crd_files;
#[path = "support/crds.rs"]
mod crds;

use std::path::Path;

use faultline_chaos::plan::{plan, Backend, Event, Plan, PlanOptions, Targets};
use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::load::{load_bytes, load_file, Loaded, SpecDocument};

fn example(name: &str) -> Vec<Loaded> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../manifests/examples")
        .join(format!("{name}.yaml"));
    load_file(&path).unwrap_or_else(|e| panic!("{}", e[0]))
}

fn experiment(loaded: &[Loaded]) -> &Experiment {
    match &loaded[0].spec {
        SpecDocument::Experiment(experiment) => experiment,
        SpecDocument::Chaos(_) => panic!("not an experiment"),
    }
}

fn planned(loaded: &[Loaded], backend: Backend, seed: u64) -> Plan {
    let options = PlanOptions {
        backend,
        seed,
        run_id: None,
    };
    plan(experiment(loaded), &loaded[0].document, &options).unwrap_or_else(|e| panic!("{}", e[0]))
}

fn chosen(plan: &Plan, fault: &str) -> Vec<String> {
    plan.steps
        .iter()
        .find_map(|step| match &step.event {
            Event::Inject {
                fault: name,
                targets: Targets::Plan { instances, .. },
                ..
            } if name == fault => Some(instances.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no injection of {fault}"))
}

#[test]
fn the_timeline_is_in_order_with_injections_and_recoveries() {
    let loaded = example("zone-failover");
    let plan = planned(&loaded, Backend::Local, 1);
    let lines: Vec<String> = plan
        .steps
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s.at,
                serde_json::to_value(&s.event).unwrap()["event"]
                    .as_str()
                    .unwrap()
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "-5s warmupStarts",
            "0s measurementStarts",
            "10s steadyStateChecked",
            "10s inject",
            "25s inject",
            "40s recover",
            "50s recover",
            "1m recoveryChecked",
            "1m15s measurementEnds"
        ]
    );
    assert_eq!(
        chosen(&plan, "slow-az2"),
        ["echo-az2-0", "echo-az2-1", "echo-az2-2"]
    );
    assert_eq!(chosen(&plan, "az1-down").len(), 2, "mode fixed, value 2");
    let text = plan.to_text(experiment(&loaded));
    assert!(
        text.contains("inject az1-down: PodChaos pod-failure on echo-az1-"),
        "{text}"
    );
    assert!(
        text.contains("abort and roll back if errorRate above 20% for 5s"),
        "{text}"
    );
}

#[test]
fn a_seed_fixes_the_choice_and_other_seeds_vary_it() {
    let loaded = example("instance-crash");
    let first = chosen(&planned(&loaded, Backend::Sim, 7), "kill-one");
    assert_eq!(first.len(), 1, "mode one");
    assert_eq!(
        first,
        chosen(&planned(&loaded, Backend::Sim, 7), "kill-one")
    );
    let picks: std::collections::BTreeSet<Vec<String>> = (0..32)
        .map(|seed| chosen(&planned(&loaded, Backend::Sim, seed), "kill-one"))
        .collect();
    assert_eq!(
        picks.len(),
        3,
        "32 seeds reach every one of the 3 instances: {picks:?}"
    );
}

#[test]
fn network_chaos_targets_name_the_peer_side() {
    let loaded = example("zone-partition");
    let plan = planned(&loaded, Backend::Sim, 1);
    let peers = plan.steps.iter().find_map(|step| match &step.event {
        Event::Inject {
            peers: Some(Targets::Plan { instances, .. }),
            ..
        } => Some(instances.clone()),
        _ => None,
    });
    assert_eq!(peers, Some(vec!["faultline-probe".to_owned()]));
}

#[test]
fn kube_objects_are_labelled_bounded_and_admitted_by_chaos_mesh() {
    let validators = crds::crd_validators();
    let mut objects = 0;
    for name in [
        "zone-failover",
        "instance-crash",
        "zone-partition",
        "packet-loss",
        "retry-storm",
    ] {
        let loaded = example(name);
        let plan = planned(&loaded, Backend::Kube, 3);
        let spec = &experiment(&loaded).spec;
        assert_eq!(plan.objects.len(), spec.faults.len(), "{name}");
        assert!(plan.instances.is_empty(), "the cluster chooses pods");
        for (object, fault) in plan.objects.iter().zip(&spec.faults) {
            let labels = &object["metadata"]["labels"];
            assert_eq!(labels["faultline.dev/run"], plan.run_id.as_str());
            assert_eq!(labels["faultline.dev/experiment"], name);
            assert_eq!(labels["app.kubernetes.io/managed-by"], "faultline");
            assert_eq!(
                object["metadata"]["name"],
                format!("{name}-{}-{}", fault.name, plan.run_id)
            );
            let lasts = object["spec"]["duration"]
                .as_str()
                .expect("every object has a duration");
            assert_eq!(
                faultline_core::config::duration::parse(lasts).ok(),
                fault.effective_duration()
            );
            if let Some(validators) = &validators {
                let errors = crds::schema_errors(validators, object);
                assert!(errors.is_empty(), "{name}/{}: {errors:#?}", fault.name);
            }
            objects += 1;
        }
    }
    assert_eq!(objects, 6);
}

#[test]
fn protected_namespaces_and_selectors_of_nothing_are_refused() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests/examples/instance-crash.yaml"),
    )
    .unwrap();
    let protected = text.replace(
        "target: { service: Echo, callerZone: az1 }",
        "target: { service: Echo, callerZone: az1, namespace: kube-system }",
    );
    let loaded = load_bytes(protected.as_bytes(), Path::new("x.yaml")).unwrap();
    let options = PlanOptions {
        backend: Backend::Kube,
        seed: 1,
        run_id: None,
    };
    let errors = plan(experiment(&loaded), &loaded[0].document, &options).unwrap_err();
    assert!(
        errors[0].to_string().contains("kube-system is protected"),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].to_string().starts_with("x.yaml:"),
        "{}",
        errors[0]
    );

    let nothing = text.replace(
        "labelSelectors: { app: echo }",
        "labelSelectors: { app: nginx }",
    );
    let loaded = load_bytes(nothing.as_bytes(), Path::new("x.yaml")).unwrap();
    let options = PlanOptions {
        backend: Backend::Local,
        seed: 1,
        run_id: None,
    };
    let errors = plan(experiment(&loaded), &loaded[0].document, &options).unwrap_err();
    let message = errors[0].to_string();
    assert!(
        message.contains("selects no instance of the topology"),
        "{message}"
    );
    assert!(
        message.contains("spec.faults[0].spec.selector"),
        "{message}"
    );
}
