//! Every Chaos Mesh object faultline parses, emits or ships validates against its kind's CRD
//! schema (`spec.versions[].schema.openAPIV3Schema` in ../shared/chaos-mesh/crds), and the
//! schema check itself refuses what it should.

#[path = "support/crd_files.rs"]
mod crd_files;
#[path = "support/crds.rs"]
mod crds;
#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/samples.rs"]
mod samples;

use faultline_chaos::spec::chaos_mesh::ChaosObject;
use serde_json::json;

#[test]
fn shipped_examples_and_their_rewrites_match_the_crds() {
    let Some(validators) = crds::crd_validators() else {
        return;
    };
    for (name, value) in fixtures::chaos_mesh_examples() {
        let errors = crds::schema_errors(&validators, &value);
        assert!(errors.is_empty(), "{name} as shipped: {errors:#?}");
        let object = ChaosObject::from_value(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
        let errors = crds::schema_errors(&validators, &object.to_value());
        assert!(errors.is_empty(), "{name} as emitted: {errors:#?}");
    }
}

#[test]
fn emitted_objects_of_every_kind_match_the_crds() {
    let Some(validators) = crds::crd_validators() else {
        return;
    };
    for value in samples::samples() {
        let name = &value["metadata"]["name"];
        let errors = crds::schema_errors(&validators, &value);
        assert!(errors.is_empty(), "{name} as written: {errors:#?}");
        let object = ChaosObject::from_value(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
        let errors = crds::schema_errors(&validators, &object.to_value());
        assert!(errors.is_empty(), "{name} as emitted: {errors:#?}");
    }
}

#[test]
fn the_schema_check_refuses_unknown_fields_and_bad_enums() {
    let Some(validators) = crds::crd_validators() else {
        return;
    };
    let unknown = json!({
        "apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos", "metadata": {"name": "x"},
        "spec": {"action": "pod-kill", "mode": "one", "selector": {}, "gracefulPeriod": 1},
    });
    let errors = crds::schema_errors(&validators, &unknown);
    assert!(
        errors.iter().any(|e| e.contains("gracefulPeriod")),
        "{errors:#?}"
    );
    let bad_enum = json!({
        "apiVersion": "chaos-mesh.org/v1alpha1", "kind": "NetworkChaos", "metadata": {"name": "x"},
        "spec": {"action": "jitter", "mode": "one", "selector": {}},
    });
    let errors = crds::schema_errors(&validators, &bad_enum);
    assert!(
        errors.iter().any(|e| e.contains("/spec/action")),
        "{errors:#?}"
    );
}
