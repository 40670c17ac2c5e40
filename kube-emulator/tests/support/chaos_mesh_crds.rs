//! Chaos Mesh's CRDs from `<workspace>/../shared/chaos-mesh/crds`, read at test time (never
//! copied into the repository) as JSON, or `None` after a `SKIPPED:` notice when absent.

use std::path::PathBuf;

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Map, Value};

pub fn chaos_mesh_crds() -> Option<Vec<Value>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/chaos-mesh/crds");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        let notice = format!("SKIPPED: Chaos Mesh CRDs not found at {}", dir.display());
        println!("{notice}");
        eprintln!("{notice}");
        return None;
    };
    let mut crds: Vec<Value> = entries
        .map(|entry| {
            let path = entry.expect("CRD entry").path();
            let text = std::fs::read_to_string(&path).expect("CRD text");
            let documents = Yaml::load_from_str(&text).expect("CRD YAML");
            json(&documents[0])
        })
        .collect();
    crds.sort_by(|a, b| {
        a["metadata"]["name"]
            .as_str()
            .cmp(&b["metadata"]["name"].as_str())
    });
    assert_eq!(
        crds.len(),
        10,
        "expected the ten Chaos Mesh CRDs in {dir:?}"
    );
    Some(crds)
}

fn json(node: &Yaml<'_>) -> Value {
    match node {
        Yaml::Value(scalar) => match scalar {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => Value::Bool(*b),
            Scalar::Integer(i) => Value::from(*i),
            Scalar::FloatingPoint(f) => Value::from(f.into_inner()),
            Scalar::String(s) => Value::String(s.to_string()),
        },
        Yaml::Representation(text, _, _) => Value::String(text.to_string()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(json).collect()),
        Yaml::Mapping(entries) => {
            let fields: Map<String, Value> = entries
                .iter()
                .map(|(key, value)| {
                    let key = match json(key) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, json(value))
                })
                .collect();
            Value::Object(fields)
        }
        Yaml::Tagged(_, inner) => json(inner),
        _ => Value::Null,
    }
}
