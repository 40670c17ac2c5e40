//! `ChaosObject::validate`: one test per Chaos Mesh admission rule, each checking the exact
//! path of the error and that the message says what is allowed.

use faultline_chaos::spec::chaos_mesh::ChaosObject;
use serde_json::{json, Value};

fn object(kind: &str, spec: Value) -> Value {
    json!({"apiVersion": "chaos-mesh.org/v1alpha1", "kind": kind, "metadata": {"name": "t"}, "spec": spec})
}

fn network(extra: Value) -> Value {
    let mut spec = json!({"action": "delay", "mode": "one", "selector": {"namespaces": ["a"]}, "delay": {"latency": "10ms"}});
    merge(&mut spec, extra);
    object("NetworkChaos", spec)
}

fn pod(extra: Value) -> Value {
    let mut spec = json!({"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["a"]}});
    merge(&mut spec, extra);
    object("PodChaos", spec)
}

fn http(extra: Value) -> Value {
    let mut spec = json!({"mode": "one", "selector": {"namespaces": ["a"]}, "target": "Request", "port": 80, "abort": true});
    merge(&mut spec, extra);
    object("HTTPChaos", spec)
}

fn merge(spec: &mut Value, extra: Value) {
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        for (key, value) in extra {
            match value {
                Value::Null => spec.remove(&key),
                value => spec.insert(key, value),
            };
        }
    }
}

/// (path, message) of every validation error of `value`, which must parse.
fn errors(value: &Value) -> Vec<(String, String)> {
    let object = ChaosObject::from_value(value).unwrap_or_else(|e| panic!("{value}: {e}"));
    match object.validate() {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .0
            .into_iter()
            .map(|e| (e.path.to_string(), e.message))
            .collect(),
    }
}

/// `value` fails validation exactly once, at `path`, with a message containing `says`.
fn refused(value: Value, path: &str, says: &str) {
    let found = errors(&value);
    assert_eq!(found.len(), 1, "{value}: {found:?}");
    assert_eq!(found[0].0, path, "{found:?}");
    assert!(found[0].1.contains(says), "{:?} lacks {says:?}", found[0].1);
}

fn accepted(value: Value) {
    assert_eq!(errors(&value), Vec::new(), "{value}");
}

#[test]
fn mode_fixed_needs_a_positive_whole_value() {
    refused(
        network(json!({"mode": "fixed"})),
        "spec.value",
        "whole number of pods > 0",
    );
    refused(
        network(json!({"mode": "fixed", "value": "0"})),
        "spec.value",
        "got \"0\"",
    );
    refused(
        network(json!({"mode": "fixed", "value": "2.5"})),
        "spec.value",
        "> 0",
    );
    accepted(network(json!({"mode": "fixed", "value": "3"})));
    accepted(network(json!({"mode": "fixed", "value": "+3"})));
}

#[test]
fn mode_fixed_percent_needs_1_to_100() {
    refused(
        pod(json!({"mode": "fixed-percent", "value": "0"})),
        "spec.value",
        "1..=100",
    );
    refused(
        pod(json!({"mode": "fixed-percent", "value": "101"})),
        "spec.value",
        "1..=100",
    );
    accepted(pod(json!({"mode": "fixed-percent", "value": "100"})));
    accepted(pod(json!({"mode": "fixed-percent", "value": "1"})));
}

#[test]
fn mode_random_max_percent_needs_1_to_100() {
    refused(
        http(json!({"mode": "random-max-percent"})),
        "spec.value",
        "random-max-percent",
    );
    refused(
        http(json!({"mode": "random-max-percent", "value": "150"})),
        "spec.value",
        "1..=100",
    );
    accepted(http(json!({"mode": "random-max-percent", "value": "50"})));
}

#[test]
fn modes_one_and_all_ignore_value() {
    accepted(pod(json!({"mode": "all", "value": "junk"})));
    accepted(pod(json!({"mode": "one", "value": ""})));
}

#[test]
fn network_target_mode_needs_its_value() {
    let target = json!({"target": {"mode": "fixed", "selector": {"namespaces": ["b"]}}});
    refused(network(target), "spec.target.value", "mode fixed");
}

#[test]
fn expression_selectors_follow_kubernetes_operators() {
    let with = |second: Value| {
        let first = json!({"key": "app", "operator": "Exists"});
        pod(json!({"selector": {"expressionSelectors": [first, second]}}))
    };
    let path = "spec.selector.expressionSelectors[1]";
    refused(
        with(json!({"key": "tier", "operator": "In"})),
        &format!("{path}.values"),
        "at least one value",
    );
    refused(
        with(json!({"key": "tier", "operator": "NotIn", "values": []})),
        &format!("{path}.values"),
        "at least one value",
    );
    refused(
        with(json!({"key": "tier", "operator": "Exists", "values": ["x"]})),
        &format!("{path}.values"),
        "takes no values",
    );
    refused(
        with(json!({"key": "tier", "operator": "Equals", "values": ["x"]})),
        &format!("{path}.operator"),
        "In, NotIn, Exists, DoesNotExist",
    );
    accepted(with(json!({"key": "tier", "operator": "DoesNotExist"})));
}

#[test]
fn target_selector_expressions_are_checked_too() {
    let target = json!({"direction": "both", "target": {"mode": "all", "selector": {"expressionSelectors": [{"key": "a", "operator": "In"}]}}});
    refused(
        network(target),
        "spec.target.selector.expressionSelectors[0].values",
        "at least one value",
    );
}

#[test]
fn duration_must_be_go_syntax() {
    refused(
        pod(json!({"duration": "10 seconds"})),
        "spec.duration",
        "invalid duration",
    );
    refused(network(json!({"duration": "-5s"})), "spec.duration", "sign");
    refused(
        http(json!({"duration": "5"})),
        "spec.duration",
        "invalid duration",
    );
    accepted(pod(json!({"duration": "1m30s"})));
    accepted(pod(json!({"duration": ""})));
}

#[test]
fn each_netem_action_needs_its_parameters() {
    refused(
        network(json!({"delay": null})),
        "spec.delay",
        "action delay needs spec.delay",
    );
    refused(
        network(json!({"action": "loss"})),
        "spec.loss",
        "action loss needs spec.loss",
    );
    refused(
        network(json!({"action": "duplicate"})),
        "spec.duplicate",
        "needs spec.duplicate",
    );
    refused(
        network(json!({"action": "corrupt"})),
        "spec.corrupt",
        "needs spec.corrupt",
    );
    refused(
        network(json!({"action": "bandwidth"})),
        "spec.bandwidth",
        "needs spec.bandwidth",
    );
    refused(
        network(json!({"action": "netem", "delay": null})),
        "spec.action",
        "at least one of delay, loss",
    );
    accepted(network(
        json!({"action": "netem", "delay": null, "rate": {"rate": "1mbps"}}),
    ));
    accepted(network(json!({"action": "partition", "delay": null})));
}

#[test]
fn delay_latency_and_jitter_are_durations() {
    refused(
        network(json!({"delay": {"latency": "fast"}})),
        "spec.delay.latency",
        "invalid duration",
    );
    refused(
        network(json!({"delay": {"latency": ""}})),
        "spec.delay.latency",
        "required",
    );
    refused(
        network(json!({"delay": {"latency": "1ms", "jitter": "1 ms"}})),
        "spec.delay.jitter",
        "invalid duration",
    );
}

#[test]
fn correlations_are_decimal_percentages() {
    refused(
        network(json!({"delay": {"latency": "1ms", "correlation": "high"}})),
        "spec.delay.correlation",
        "0..=100",
    );
    refused(
        network(json!({"action": "loss", "loss": {"loss": "1", "correlation": "100.5"}})),
        "spec.loss.correlation",
        "0..=100",
    );
    accepted(network(
        json!({"delay": {"latency": "1ms", "correlation": ""}}),
    ));
}

#[test]
fn reorder_is_a_percentage() {
    let reorder = |r: &str| {
        network(json!({"delay": {"latency": "1ms", "reorder": {"reorder": r, "gap": 1}}}))
    };
    refused(reorder("101"), "spec.delay.reorder.reorder", "0..=100");
    refused(reorder(""), "spec.delay.reorder.reorder", "required");
    accepted(reorder("50"));
}

#[test]
fn loss_duplicate_corrupt_are_percentages() {
    refused(
        network(json!({"action": "loss", "loss": {"loss": "150"}})),
        "spec.loss.loss",
        "got \"150\"",
    );
    refused(
        network(json!({"action": "duplicate", "duplicate": {"duplicate": "-1"}})),
        "spec.duplicate.duplicate",
        "0..=100",
    );
    refused(
        network(json!({"action": "corrupt", "corrupt": {"corrupt": "ten"}})),
        "spec.corrupt.corrupt",
        "decimal percentage",
    );
    accepted(network(
        json!({"action": "corrupt", "corrupt": {"corrupt": "0.01"}}),
    ));
}

#[test]
fn bandwidth_rate_limit_buffer() {
    let bandwidth =
        |b: Value| network(json!({"action": "bandwidth", "delay": null, "bandwidth": b}));
    refused(
        bandwidth(json!({"rate": "fast", "limit": 1, "buffer": 1})),
        "spec.bandwidth.rate",
        "unit",
    );
    refused(
        bandwidth(json!({"rate": "1.5mbps", "limit": 1, "buffer": 1})),
        "spec.bandwidth.rate",
        "unsigned integer",
    );
    refused(
        bandwidth(json!({"rate": "1mbps", "limit": 0, "buffer": 1})),
        "spec.bandwidth.limit",
        ">= 1",
    );
    refused(
        bandwidth(json!({"rate": "1mbps", "limit": 1, "buffer": 0})),
        "spec.bandwidth.buffer",
        ">= 1",
    );
    refused(
        bandwidth(json!({"rate": "1mbps", "limit": 1, "buffer": 1, "peakrate": -1})),
        "spec.bandwidth.peakrate",
        ">= 0",
    );
    refused(
        bandwidth(json!({"rate": "1mbps", "limit": 1, "buffer": 1, "minburst": -1})),
        "spec.bandwidth.minburst",
        ">= 0",
    );
    accepted(bandwidth(
        json!({"rate": " 10 KBPS ", "limit": 1, "buffer": 1}),
    ));
    accepted(bandwidth(
        json!({"rate": "100bit", "limit": 1, "buffer": 1}),
    ));
}

#[test]
fn netem_rate_is_a_rate() {
    refused(
        network(json!({"rate": {"rate": "1 gigabit"}})),
        "spec.rate.rate",
        "unit",
    );
}

#[test]
fn direction_from_or_both_needs_a_target() {
    refused(
        network(json!({"direction": "from"})),
        "spec.direction",
        "needs spec.target",
    );
    refused(
        network(json!({"direction": "both"})),
        "spec.direction",
        "needs spec.target",
    );
    accepted(network(json!({"direction": "to"})));
    let target = json!({"mode": "all", "selector": {"namespaces": ["b"]}});
    accepted(network(json!({"direction": "both", "target": target})));
}

#[test]
fn external_targets_only_with_direction_to() {
    let target = json!({"mode": "all", "selector": {"namespaces": ["b"]}});
    let spec = json!({"direction": "from", "target": target, "externalTargets": ["1.2.3.4"]});
    refused(network(spec), "spec.direction", "externalTargets");
    accepted(network(
        json!({"direction": "to", "externalTargets": ["1.2.3.4"]}),
    ));
}

#[test]
fn partition_takes_any_direction() {
    let partition = |extra: Value| {
        let mut spec = json!({"action": "partition", "delay": null});
        merge(&mut spec, extra);
        network(spec)
    };
    accepted(partition(json!({"direction": "both"})));
    accepted(partition(
        json!({"direction": "from", "externalTargets": ["example.com"]}),
    ));
}

#[test]
fn container_kill_needs_container_names() {
    refused(
        pod(json!({"action": "container-kill"})),
        "spec.containerNames",
        "container-kill needs at least one container name",
    );
    refused(
        pod(json!({"action": "container-kill", "containerNames": []})),
        "spec.containerNames",
        "container name",
    );
    accepted(pod(
        json!({"action": "container-kill", "containerNames": ["app"]}),
    ));
    accepted(pod(json!({"action": "pod-failure"})));
}

#[test]
fn grace_period_is_not_negative() {
    refused(pod(json!({"gracePeriod": -1})), "spec.gracePeriod", ">= 0");
    accepted(pod(json!({"gracePeriod": 30})));
}

#[test]
fn http_port_is_required_and_in_range() {
    refused(http(json!({"port": null})), "spec.port", "got 0");
    refused(http(json!({"port": -1})), "spec.port", "1..=65535");
    refused(http(json!({"port": 70000})), "spec.port", "1..=65535");
}

#[test]
fn http_method_is_standard_for_requests() {
    refused(http(json!({"method": "FETCH"})), "spec.method", "GET, POST");
    refused(http(json!({"method": "get"})), "spec.method", "got \"get\"");
    accepted(http(json!({"method": "DELETE"})));
    accepted(http(json!({"target": "Response", "method": "FETCH"})));
}

#[test]
fn http_delay_is_a_duration() {
    refused(
        http(json!({"delay": "soon"})),
        "spec.delay",
        "invalid duration",
    );
    refused(
        http(json!({"delay": ""})),
        "spec.delay",
        "must be a duration",
    );
    accepted(http(json!({"delay": "1.5s"})));
}

#[test]
fn every_error_is_reported_at_once_in_document_order() {
    let value = network(
        json!({"mode": "fixed", "duration": "x", "direction": "from", "delay": {"latency": "y"}}),
    );
    let paths: Vec<String> = errors(&value).into_iter().map(|(path, _)| path).collect();
    assert_eq!(
        paths,
        [
            "spec.value",
            "spec.duration",
            "spec.delay.latency",
            "spec.direction"
        ]
    );
}

#[test]
fn raw_kinds_are_left_to_the_cluster() {
    accepted(object(
        "StressChaos",
        json!({"mode": "fixed", "selector": {}}),
    ));
}
