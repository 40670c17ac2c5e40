//! Writing JSON values as a YAML stream (`---`-separated block documents), for what
//! faultline prints for people and for `kubectl apply -f -`: plans and the CRD.
//!
//! saphyr's emitter quotes every string a YAML 1.1 reader (Kubernetes') would take for
//! something else (`"yes"`, `"1.2"`, `"null"`), so what is written reads back as written.
//! Key order is the value's order.

use std::borrow::Cow;

use saphyr::{Mapping, Scalar, ScalarStyle, Yaml, YamlEmitter};
use serde_json::Value;

/// `documents` as one YAML stream, each starting with `---`.
pub fn to_yaml_stream<'a>(documents: impl IntoIterator<Item = &'a Value>) -> String {
    let mut out = String::new();
    for document in documents {
        let mut emitter = YamlEmitter::new(&mut out);
        emitter.multiline(true);
        // Writing to a String cannot fail, and every JSON value has a YAML form.
        let _ = emitter.dump(&yaml_of(document));
        out.push('\n');
    }
    out
}

fn yaml_of(value: &Value) -> Yaml<'_> {
    match value {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Yaml::Value(Scalar::Integer(i)),
            (None, Some(_)) if n.is_f64() => {
                Yaml::Value(Scalar::FloatingPoint(n.as_f64().unwrap_or_default().into()))
            }
            _ => Yaml::Representation(Cow::Owned(n.to_string()), ScalarStyle::Plain, None),
        },
        Value::String(s) => Yaml::Value(Scalar::String(Cow::Borrowed(s))),
        Value::Array(items) => Yaml::Sequence(items.iter().map(yaml_of).collect()),
        Value::Object(fields) => {
            let mut mapping = Mapping::new();
            for (key, value) in fields {
                mapping.insert(
                    Yaml::Value(Scalar::String(Cow::Borrowed(key))),
                    yaml_of(value),
                );
            }
            Yaml::Mapping(mapping)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn writes_documents_that_read_back_equal() {
        let docs = [
            json!({"kind": "NetworkChaos", "spec": {"value": "2", "flag": "yes", "n": 3, "x": 1.5,
                   "list": [{"a": null}, "on"], "empty": {}, "none": []}}),
            json!({"big": 18_446_744_073_709_551_615u64, "multi": "a\nb"}),
        ];
        let text = to_yaml_stream(&docs);
        assert!(text.starts_with("---\n"), "{text}");
        assert!(
            text.contains("\"yes\""),
            "YAML 1.1 booleans are quoted: {text}"
        );
        let read = crate::spec::located::parse_documents(&text, Path::new("out.yaml")).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].value(), &docs[0]);
        assert_eq!(read[1].value()["multi"], docs[1]["multi"]);
    }
}
