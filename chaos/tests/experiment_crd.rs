//! The `Experiment` CRD: `manifests/crds/experiment.yaml` is what the Rust types generate
//! (a test that fails on drift), its schema is structural as Kubernetes requires, and every
//! shipped example experiment is admitted by it.

use std::path::{Path, PathBuf};

use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::located::parse_documents;
use faultline_chaos::yaml::to_yaml_stream;
use kube::CustomResourceExt;
use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn generated() -> Value {
    serde_json::to_value(Experiment::crd()).expect("CRD serializes")
}

fn schema() -> Value {
    generated()["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

#[test]
fn the_shipped_crd_is_the_generated_one() {
    let path = workspace().join("manifests/crds/experiment.yaml");
    let shipped = std::fs::read_to_string(&path).expect("manifests/crds/experiment.yaml");
    assert!(
        shipped == to_yaml_stream([&generated()]),
        "{} drifted from the Rust types: run `cargo run -- chaos crd > manifests/crds/experiment.yaml`",
        path.display()
    );
    let read = parse_documents(&shipped, &path).expect("the CRD reads back");
    assert_eq!(read[0].value(), &generated());
    assert_eq!(generated()["spec"]["group"], "faultline.dev");
    assert_eq!(generated()["spec"]["names"]["kind"], "Experiment");
}

/// Every way `schema` (at `at`) is not a structural schema.
fn structural_errors(schema: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(fields) = schema.as_object() else {
        return;
    };
    let open = fields.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
        || fields.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    if !fields.contains_key("type") && !open {
        errors.push(format!("{at}: no type"));
    }
    for junctor in ["oneOf", "anyOf", "allOf", "not"] {
        if fields.contains_key(junctor) {
            errors.push(format!("{at}: {junctor} (not structural)"));
        }
    }
    if fields.contains_key("$ref") {
        errors.push(format!("{at}: $ref"));
    }
    if let Some(Value::Object(properties)) = fields.get("properties") {
        for (name, property) in properties {
            structural_errors(property, &format!("{at}.{name}"), errors);
        }
    }
    for nested in ["items", "additionalProperties"] {
        if let Some(inner @ Value::Object(_)) = fields.get(nested) {
            structural_errors(inner, &format!("{at}[{nested}]"), errors);
        }
    }
}

#[test]
fn the_schema_is_structural() {
    let mut errors = Vec::new();
    structural_errors(&schema(), "openAPIV3Schema", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
    let mut broken = schema();
    broken["properties"]["spec"]["oneOf"] = serde_json::json!([{"type": "object"}]);
    let mut found = Vec::new();
    structural_errors(&broken, "openAPIV3Schema", &mut found);
    assert_eq!(found.len(), 1, "the check sees a oneOf: {found:#?}");
}

#[test]
fn every_example_experiment_is_admitted_by_the_crd() {
    let mut translated = schema();
    // The API server knows these three on every object; the CRD schema leaves them out.
    for implicit in ["apiVersion", "kind"] {
        translated["properties"][implicit] = serde_json::json!({"type": "string"});
    }
    translated["properties"]["metadata"] = serde_json::json!({"type": "object"});
    faultline_chaos::kube::schema::translate(&mut translated);
    let validator = jsonschema::draft4::new(&translated).expect("the CRD schema compiles");
    let dir = workspace().join("manifests/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("manifests/examples") {
        let path = entry.expect("entry").path();
        // Experiments only: examples/cluster/ holds the Kubernetes objects they run against.
        if !path.is_file() || path.extension().is_none_or(|ext| ext != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("example text");
        for document in parse_documents(&text, &path).expect("example YAML") {
            let errors: Vec<String> = validator
                .iter_errors(document.value())
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 5, "checked {checked} examples");
    let mut typo = parse_documents(
        &std::fs::read_to_string(dir.join("zone-failover.yaml")).expect("zone-failover"),
        Path::new("zone-failover.yaml"),
    )
    .expect("parses")[0]
        .value()
        .clone();
    typo["spec"]["workload"]["rat"] = Value::from(5);
    assert!(!validator.is_valid(&typo), "the CRD refuses unknown fields");
}
