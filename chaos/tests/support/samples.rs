//! Objects of every kind as faultline would write them, including what Chaos Mesh's own
//! examples lack (HTTPChaos abort, delay and replace; every NetworkChaos action).

use serde_json::{json, Value};

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop", "labels": {"faultline.dev/run": "r1"}},
        "spec": spec,
    })
}

fn selector() -> Value {
    json!({"namespaces": ["shop"], "labelSelectors": {"app": "cart"}})
}

/// One valid object per case, each named after what it shows.
pub fn samples() -> Vec<Value> {
    let network = |name: &str, extra: Value| {
        let mut spec = json!({"mode": "all", "selector": selector(), "duration": "30s"});
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        object("NetworkChaos", name, spec)
    };
    let http = |name: &str, extra: Value| {
        let mut spec = json!({"mode": "one", "selector": selector(), "target": "Request", "port": 8080, "path": "/cart/*"});
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        object("HTTPChaos", name, spec)
    };
    vec![
        network(
            "delay",
            json!({"action": "delay", "delay": {"latency": "100ms", "jitter": "10ms", "correlation": "50", "reorder": {"reorder": "10", "correlation": "0", "gap": 5}}}),
        ),
        network(
            "loss",
            json!({"action": "loss", "loss": {"loss": "12.5", "correlation": "25"}}),
        ),
        network(
            "duplicate",
            json!({"action": "duplicate", "duplicate": {"duplicate": "5"}}),
        ),
        network(
            "corrupt",
            json!({"action": "corrupt", "corrupt": {"corrupt": "1", "correlation": "0"}}),
        ),
        network(
            "bandwidth",
            json!({"action": "bandwidth", "bandwidth": {"rate": "1mbps", "limit": 100, "buffer": 10000}}),
        ),
        network(
            "netem",
            json!({"action": "netem", "delay": {"latency": "1s"}, "rate": {"rate": "10kbit"}}),
        ),
        network(
            "partition-both",
            json!({"action": "partition", "direction": "both", "target": {"mode": "fixed-percent", "value": "50", "selector": {"namespaces": ["db"]}}}),
        ),
        network(
            "partition-external",
            json!({"action": "partition", "direction": "to", "externalTargets": ["10.1.2.3", "example.com"]}),
        ),
        network(
            "delay-from-target",
            json!({"action": "delay", "direction": "from", "delay": {"latency": "5ms"}, "target": {"mode": "fixed", "value": "2", "selector": {"pods": {"db": ["db-0", "db-1"]}}}}),
        ),
        object(
            "PodChaos",
            "pod-kill",
            json!({"action": "pod-kill", "mode": "fixed", "value": "1", "selector": selector(), "gracePeriod": 0}),
        ),
        object(
            "PodChaos",
            "pod-failure",
            json!({"action": "pod-failure", "mode": "random-max-percent", "value": "30", "selector": selector(), "duration": "1m"}),
        ),
        object(
            "PodChaos",
            "container-kill",
            json!({"action": "container-kill", "mode": "all", "selector": {"expressionSelectors": [{"key": "tier", "operator": "In", "values": ["web"]}], "podPhaseSelectors": ["Running"]}, "containerNames": ["server"]}),
        ),
        http("http-abort", json!({"abort": true, "method": "POST"})),
        http("http-delay", json!({"delay": "2s", "duration": "1m"})),
        http(
            "http-replace",
            json!({"target": "Response", "code": 200, "replace": {"code": 503, "headers": {"Retry-After": "1"}, "body": "eyJlcnJvciI6dHJ1ZX0="}}),
        ),
        object(
            "DNSChaos",
            "dns",
            json!({"action": "error", "mode": "all", "patterns": ["cart.shop.svc"], "selector": selector()}),
        ),
        object(
            "StressChaos",
            "stress",
            json!({"mode": "one", "selector": selector(), "stressors": {"memory": {"workers": 1, "size": "256MB"}}}),
        ),
        object(
            "TimeChaos",
            "time",
            json!({"mode": "one", "selector": selector(), "timeOffset": "-5m"}),
        ),
        object(
            "IOChaos",
            "io",
            json!({"action": "latency", "mode": "one", "selector": selector(), "volumePath": "/data", "delay": "10ms", "percent": 50}),
        ),
        object(
            "Schedule",
            "schedule",
            json!({"schedule": "@every 1m", "type": "NetworkChaos", "historyLimit": 2, "concurrencyPolicy": "Forbid", "networkChaos": {"action": "loss", "mode": "all", "selector": selector(), "loss": {"loss": "10"}}}),
        ),
        object(
            "Workflow",
            "workflow",
            json!({"entry": "main", "templates": [{"name": "main", "templateType": "Serial", "children": ["pause"]}, {"name": "pause", "templateType": "Suspend", "deadline": "5s"}]}),
        ),
        object(
            "StatusCheck",
            "status-check",
            json!({"type": "HTTP", "http": {"url": "http://cart.shop.svc:8080/health", "method": "GET", "criteria": {"statusCode": "200"}}}),
        ),
    ]
}
