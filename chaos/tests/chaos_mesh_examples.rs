//! Chaos Mesh's own example files (tests/fixtures/chaos-mesh) parse with
//! `ChaosObject::from_value`, pass `validate()`, and round-trip unchanged.

#[path = "support/fixtures.rs"]
mod fixtures;

use faultline_chaos::spec::chaos_mesh::{ChaosObject, Kind};
use std::collections::BTreeSet;

#[test]
fn every_example_parses_validates_and_round_trips() {
    let mut kinds = BTreeSet::new();
    for (name, value) in fixtures::chaos_mesh_examples() {
        let object = ChaosObject::from_value(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
        object
            .validate()
            .unwrap_or_else(|e| panic!("{name} fails validation: {e}"));
        assert_eq!(object.to_value(), value, "{name}: written back differently");
        let reparsed = ChaosObject::from_value(&object.to_value());
        assert_eq!(reparsed.as_ref(), Ok(&object), "{name}: round trip");
        kinds.insert(object.kind());
    }
    let expected: BTreeSet<Kind> = Kind::ALL.into_iter().collect();
    assert_eq!(kinds, expected, "the examples cover every kind");
}

#[test]
fn multi_document_files_yield_every_object() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/chaos-mesh");
    let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).expect("fixture");
    let text = format!(
        "{}\n---\n{}\n---\n",
        read("pod-kill-example.yaml"),
        read("network-delay-example.yaml")
    );
    let kinds: Vec<Kind> = fixtures::yaml_documents(&text)
        .iter()
        .map(|value| ChaosObject::from_value(value).map(|object| object.kind()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kinds, [Kind::PodChaos, Kind::NetworkChaos]);
}
