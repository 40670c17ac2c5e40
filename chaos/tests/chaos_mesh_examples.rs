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
