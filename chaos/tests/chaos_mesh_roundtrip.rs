//! Reading and writing Chaos Mesh objects: every kind round-trips, and what cannot be read
//! is refused with the path to it.

#[path = "support/samples.rs"]
mod samples;

use faultline_chaos::spec::chaos_mesh::{ChaosObject, Kind, NetworkChaosAction, SelectorMode};
use faultline_core::config::FieldErrors;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn sample(name: &str) -> Value {
    samples::samples()
        .into_iter()
        .find(|s| s["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no sample {name}"))
}

fn only_error(errors: FieldErrors) -> (String, String) {
    assert_eq!(errors.0.len(), 1, "{errors}");
    let error = &errors.0[0];
    (error.path.to_string(), error.message.clone())
}

#[test]
fn every_kind_round_trips() {
    let mut kinds = BTreeSet::new();
    for value in samples::samples() {
        let object = ChaosObject::from_value(&value).unwrap_or_else(|e| panic!("{value}: {e}"));
        object.validate().unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(object.to_value(), value);
        assert_eq!(serde_json::to_value(&object).ok(), Some(value.clone()));
        assert_eq!(
            ChaosObject::from_value(&object.to_value()),
            Ok(object.clone())
        );
        kinds.insert(object.kind());
    }
    assert_eq!(kinds, Kind::ALL.into_iter().collect());
}

#[test]
fn typed_kinds_expose_their_spec() {
    let object = ChaosObject::from_value(&sample("delay"));
    let Ok(ChaosObject::NetworkChaos(chaos)) = object else {
        panic!("not a NetworkChaos: {object:?}");
    };
    assert_eq!(chaos.spec.action, NetworkChaosAction::Delay);
    assert_eq!(chaos.spec.mode, SelectorMode::All);
    assert_eq!(
        chaos.spec.delay.map(|d| d.latency).as_deref(),
        Some("100ms")
    );
    assert_eq!(chaos.metadata.namespace.as_deref(), Some("shop"));
    assert_eq!(
        chaos
            .metadata
            .labels
            .get("faultline.dev/run")
            .map(String::as_str),
        Some("r1")
    );
}

#[test]
fn raw_kinds_keep_every_field() {
    let mut value = sample("workflow");
    value["status"] = json!({"conditions": [{"type": "Accomplished", "status": "True"}]});
    value["metadata"]["uid"] = json!("1234");
    let object = ChaosObject::from_value(&value).expect("workflow");
    assert_eq!(object.kind(), Kind::Workflow);
    assert_eq!(object.metadata().other.get("uid"), Some(&json!("1234")));
    assert_eq!(object.to_value(), value);
}

#[test]
fn unknown_kind_lists_the_known_ones() {
    let mut value = sample("pod-kill");
    value["kind"] = json!("KernelChaos");
    let (path, message) = only_error(ChaosObject::from_value(&value).unwrap_err());
    assert_eq!(path, "kind");
    assert!(message.contains("KernelChaos"), "{message}");
    for kind in Kind::ALL {
        assert!(message.contains(kind.as_str()), "{message} lacks {kind}");
    }
}

#[test]
fn other_api_versions_are_refused() {
    let mut value = sample("pod-kill");
    value["apiVersion"] = json!("chaos-mesh.org/v1beta1");
    let (path, message) = only_error(ChaosObject::from_value(&value).unwrap_err());
    assert_eq!(path, "apiVersion");
    assert!(message.contains("chaos-mesh.org/v1alpha1"), "{message}");
    assert!(
        message.contains("v1beta1") && message.contains("StatusCheck"),
        "{message}"
    );
}

#[test]
fn a_non_mapping_is_refused() {
    let (path, _) = only_error(ChaosObject::from_value(&json!([1, 2])).unwrap_err());
    assert_eq!(path, "(root)");
}

#[test]
fn unknown_fields_in_typed_kinds_are_refused_with_their_path() {
    let mut value = sample("delay");
    value["spec"]["delay"]["latencyy"] = json!("1s");
    let (path, message) = only_error(ChaosObject::from_value(&value).unwrap_err());
    assert_eq!(path, "spec.delay.latencyy");
    assert!(
        message.contains(r#"unknown field "latencyy", did you mean "latency"?"#),
        "{message}"
    );
}

#[test]
fn a_wrong_type_points_at_the_value() {
    let mut value = sample("container-kill");
    value["spec"]["containerNames"][0] = json!(7);
    let (path, _) = only_error(ChaosObject::from_value(&value).unwrap_err());
    assert_eq!(path, "spec.containerNames[0]");
    let mut value = sample("loss");
    value["spec"]["mode"] = json!("some");
    let (path, message) = only_error(ChaosObject::from_value(&value).unwrap_err());
    assert_eq!(path, "spec.mode");
    assert!(message.contains("fixed-percent"), "{message}");
}

#[test]
fn a_missing_required_field_is_named() {
    let mut value = sample("pod-kill");
    if let Some(spec) = value["spec"].as_object_mut() {
        spec.remove("selector");
    }
    let (path, message) = only_error(ChaosObject::from_value(&value).unwrap_err());
    assert_eq!(path, "spec");
    assert!(message.contains(r#"missing field "selector""#), "{message}");
}

/// JSON pointers to every value inside `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => fields.iter().for_each(|(k, v)| {
            let key = k.replace('~', "~0").replace('/', "~1");
            pointers(v, format!("{at}/{key}"), out)
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

#[test]
fn no_value_anywhere_makes_reading_validating_or_writing_panic() {
    let replacements = [
        json!(null),
        json!(-1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1.5e300),
        json!(""),
        json!("-9223372036854775809"),
        json!("NaN"),
        json!([]),
        json!({}),
        json!({"kind": "PodChaos"}),
    ];
    for sample in samples::samples() {
        let mut paths = Vec::new();
        pointers(&sample, String::new(), &mut paths);
        for path in &paths {
            for replacement in &replacements {
                let mut value = sample.clone();
                if let Some(slot) = value.pointer_mut(path) {
                    *slot = replacement.clone();
                }
                if let Ok(object) = ChaosObject::from_value(&value) {
                    let _ = object.validate();
                    assert_eq!(ChaosObject::from_value(&object.to_value()), Ok(object));
                }
            }
        }
    }
}
