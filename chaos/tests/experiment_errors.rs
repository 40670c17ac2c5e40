//! Every kind of error in an experiment file names file, line and column and says what was
//! expected: one test per kind.

use std::path::Path;

use faultline_chaos::spec::load::{load_bytes, SpecDocument};

/// A valid experiment; each test breaks one line of it.
const BASE: &str = "\
apiVersion: faultline.dev/v1alpha1
kind: Experiment
metadata:
  name: base
spec:
  target: { service: Echo, callerZone: az1 }
  topology:
    zones:
      - { name: az1, instances: 2 }
      - { name: az2, instances: 2 }
  client:
    timeout: 100ms
  workload:
    rate: 100
    duration: 30s
  faults:
    - name: slow
      at: 5s
      duration: 10s
      kind: NetworkChaos
      spec:
        action: delay
        mode: all
        selector:
          labelSelectors: { zone: az2 }
        delay:
          latency: 5ms
  hypothesis:
    during:
      - { metric: p99, below: 10ms }
";

/// The errors of `text` as `line:column: message`.
fn errors(text: &str) -> Vec<String> {
    match load_bytes(text.as_bytes(), Path::new("exp.yaml")) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .iter()
            .map(|e| {
                assert_eq!(&*e.location.file, Path::new("exp.yaml"));
                format!("{}:{}: {}", e.location.line, e.location.column, e.message)
            })
            .collect(),
    }
}

/// `BASE` with `from` replaced by `to` (which must occur once).
fn with(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "{from:?} occurs once");
    BASE.replace(from, to)
}

fn assert_one(text: &str, at: &str, needle: &str) {
    let found = errors(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with(at), "expected at {at}: {}", found[0]);
    assert!(
        found[0].contains(needle),
        "expected {needle:?}: {}",
        found[0]
    );
}

#[test]
fn the_base_experiment_is_valid() {
    assert_eq!(errors(BASE), Vec::<String>::new());
    let loaded = load_bytes(BASE.as_bytes(), Path::new("exp.yaml")).unwrap();
    assert!(matches!(loaded[0].spec, SpecDocument::Experiment(_)));
}

#[test]
fn unknown_field_names_the_closest_valid_one() {
    assert_one(
        &with("    rate: 100", "    rat: 100"),
        "14:5:",
        "did you mean \"rate\"",
    );
    assert_one(
        &with("      at: 5s", "      start: 5s"),
        "18:7:",
        "unknown field \"start\"",
    );
    assert_one(
        &with("          latency: 5ms", "          laterncy: 5ms"),
        "27:11:",
        "did you mean \"latency\"",
    );
    assert_one(
        &with("spec:\n  target", "spek: {}\nspec:\n  target"),
        "5:1:",
        "an Experiment has apiVersion, kind, metadata, spec, status",
    );
}

#[test]
fn bad_durations_point_at_the_value() {
    assert_one(
        &with("    timeout: 100ms", "    timeout: 100"),
        "12:14:",
        "expected a duration such as \"3.5ms\"",
    );
    assert_one(
        &with("      at: 5s", "      at: 5 s"),
        "18:11:",
        "invalid duration",
    );
    assert_one(
        &with("          latency: 5ms", "          latency: 5mss"),
        "27:11:",
        "latency",
    );
}

#[test]
fn percentages_out_of_range_are_refused() {
    assert_one(
        &with(
            "      - { metric: p99, below: 10ms }",
            "      - { metric: errorRate, below: 120% }",
        ),
        "30:30:",
        "spec.hypothesis.during[0].below: a share must be in 0% ..= 100%",
    );
    let loss = with(
        "        action: delay",
        "        action: loss\n        loss: { loss: \"101\" }",
    )
    .replace("        delay:\n          latency: 5ms\n", "");
    let found = errors(&loss);
    assert!(
        found.iter().any(|e| e.contains("spec.loss.loss")),
        "{found:#?}"
    );
}

#[test]
fn a_mode_that_needs_a_value_says_so() {
    assert_one(
        &with("        mode: all", "        mode: fixed"),
        "21:7:",
        "spec.faults[0].spec.value: mode fixed needs value",
    );
    assert_one(
        &with(
            "        mode: all",
            "        mode: fixed-percent\n        value: \"150\"",
        ),
        "24:9:",
        "spec.faults[0].spec.value",
    );
}

#[test]
fn a_selector_of_every_pod_is_refused_unless_allowed() {
    let empty = with("          labelSelectors: { zone: az2 }", "          {}")
        .replace("        selector:\n          {}", "        selector: {}");
    assert_one(&empty, "24:9:", "every pod of the namespace");
    let allowed = empty.replace(
        "      kind: NetworkChaos",
        "      kind: NetworkChaos\n      allowWholeNamespace: true",
    );
    assert_eq!(errors(&allowed), Vec::<String>::new());
}

#[test]
fn a_fault_that_ends_after_the_workload_is_refused() {
    assert_one(
        &with("      duration: 10s", "      duration: 30s"),
        "19:7:",
        "would end after the workload",
    );
}

#[test]
fn a_fault_needs_a_duration_and_a_known_kind() {
    assert_one(
        &with("      duration: 10s\n", ""),
        "17:7:",
        "needs a duration",
    );
    assert_one(
        &with("      kind: NetworkChaos", "      kind: NetworkKaos"),
        "20:7:",
        "known kinds: NetworkChaos",
    );
}

#[test]
fn a_hypothesis_on_an_unknown_metric_names_the_valid_ones() {
    assert_one(
        &with(
            "      - { metric: p99, below: 10ms }",
            "      - { metric: p98, below: 10ms }",
        ),
        "30:19:",
        "unknown variant \"p98\", did you mean \"p99\"?",
    );
    assert_one(
        &with(
            "      - { metric: p99, below: 10ms }",
            "      - { metric: trafficShare, above: 90% }",
        ),
        "30:9:",
        "needs the zone",
    );
    assert_one(
        &with(
            "      - { metric: p99, below: 10ms }",
            "      - { metric: p99, below: 10ms, zone: az9 }",
        ),
        "30:37:",
        "unknown zone \"az9\"",
    );
}

#[test]
fn config_values_out_of_range_name_their_field() {
    assert_one(
        &with(
            "    timeout: 100ms",
            "    timeout: 100ms\n    serviceBreaker: { errorRate: 1.5 }",
        ),
        "13:23:",
        "spec.client.serviceBreaker.errorRate: must be in (0, 1]",
    );
    assert_one(
        &with("    rate: 100", "    rate: 0"),
        "14:5:",
        "must be in 1 ..= 1000000",
    );
    assert_one(
        &with(
            "    timeout: 100ms",
            "    timeout: 100ms\n    balancer: { type: zoneAware, degradedWeight: 2 }",
        ),
        "13:34:",
        "spec.client.balancer.degradedWeight: must be in 0 ..= 1, got 2",
    );
}

#[test]
fn all_errors_of_a_file_come_back_at_once_in_order() {
    let text =
        with("    rate: 100", "    rate: 0").replace("      duration: 10s", "      duration: 40s");
    let found = errors(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("14:5:") && found[1].starts_with("19:7:"),
        "{found:#?}"
    );
}

#[test]
fn yaml_syntax_errors_and_later_documents_keep_their_position() {
    assert_one(&with("    rate: 100", "    rate: [100"), "15:", "");
    let two = format!(
        "{BASE}---\n{}",
        BASE.replace("    rate: 100", "    rate: 0")
    );
    let found = errors(&two);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("45:5:"), "{found:#?}");
}

#[test]
fn plain_chaos_mesh_objects_are_accepted_and_checked() {
    let object = "\
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: { name: kill, namespace: default }
spec:
  action: pod-kill
  mode: one
  selector:
    labelSelectors: { app: echo }
";
    let loaded = load_bytes(object.as_bytes(), Path::new("exp.yaml")).unwrap();
    assert!(matches!(loaded[0].spec, SpecDocument::Chaos(_)));
    assert_one(
        &object.replace("mode: one", "mode: fixed"),
        "4:1:",
        "spec.value: mode fixed needs value",
    );
    assert_one(
        &object.replace("kind: PodChaos", "kind: PodKaos"),
        "2:1:",
        "unknown kind",
    );
}
