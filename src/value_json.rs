//! JSON rendering of decoded Thrift data for `faultline decode`: lossless and typed, so a
//! reader sees exactly what was on the wire (wire order, duplicate field ids, exact types).

use faultline_core::protocol::{MessageHeader, TType, Value};
use serde_json::{json, Map, Value as Json};

/// `{"<type>": <value>}` for scalars; structs, lists, sets and maps keep their wire types.
pub fn value(v: &Value) -> Json {
    match v {
        Value::Bool(b) => json!({ "bool": b }),
        Value::Byte(n) => json!({ "byte": n }),
        Value::I16(n) => json!({ "i16": n }),
        Value::I32(n) => json!({ "i32": n }),
        Value::I64(n) => json!({ "i64": n }),
        Value::Double(d) => json!({ "double": double(*d) }),
        Value::Binary(bytes) => match std::str::from_utf8(bytes) {
            Ok(s) => json!({ "string": s }),
            Err(_) => json!({ "binary": hex(bytes) }),
        },
        Value::Uuid(u) => json!({ "uuid": uuid(u) }),
        Value::Struct(fields) => {
            let fields: Vec<Json> = fields
                .iter()
                .map(|f| {
                    let mut obj = Map::new();
                    obj.insert("id".into(), json!(f.id));
                    if let Json::Object(inner) = value(&f.value) {
                        obj.extend(inner);
                    }
                    Json::Object(obj)
                })
                .collect();
            json!({ "struct": fields })
        }
        Value::List { elem, items } => json!({ "list": elements(*elem, items) }),
        Value::Set { elem, items } => json!({ "set": elements(*elem, items) }),
        Value::Map {
            key,
            value: val,
            entries,
        } => {
            let entries: Vec<Json> = entries
                .iter()
                .map(|(k, v)| json!([value(k), value(v)]))
                .collect();
            json!({ "map": { "key": key.name(), "value": val.name(), "entries": entries } })
        }
    }
}

/// The message envelope: name, kind, sequence id.
pub fn message_header(h: &MessageHeader) -> Json {
    json!({ "name": h.name, "type": h.kind.name(), "seq_id": h.seq_id })
}

fn elements(elem: TType, items: &[Value]) -> Json {
    json!({ "elem": elem.name(), "items": items.iter().map(value).collect::<Vec<_>>() })
}

/// Doubles that JSON cannot hold (NaN, infinities) are written as strings.
fn double(d: f64) -> Json {
    if d.is_finite() {
        json!(d)
    } else {
        json!(d.to_string())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn uuid(u: &[u8; 16]) -> String {
    let h = hex(u);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_core::protocol::Field;

    #[test]
    fn renders_typed_values() {
        let v = Value::Struct(vec![
            Field {
                id: 1,
                value: Value::string("hi"),
            },
            Field {
                id: -2,
                value: Value::Binary(vec![0xff, 0x00].into()),
            },
            Field {
                id: 3,
                value: Value::Double(f64::NAN),
            },
            Field {
                id: 4,
                value: Value::Uuid([0x11; 16]),
            },
        ]);
        assert_eq!(
            value(&v),
            json!({ "struct": [
                { "id": 1, "string": "hi" },
                { "id": -2, "binary": "ff00" },
                { "id": 3, "double": "NaN" },
                { "id": 4, "uuid": "11111111-1111-1111-1111-111111111111" },
            ]})
        );
    }

    #[test]
    fn renders_containers_with_their_types() {
        let v = Value::Map {
            key: TType::I32,
            value: TType::List,
            entries: vec![(
                Value::I32(1),
                Value::List {
                    elem: TType::Bool,
                    items: vec![Value::Bool(true)],
                },
            )],
        };
        assert_eq!(
            value(&v),
            json!({ "map": { "key": "i32", "value": "list", "entries": [
                [{ "i32": 1 }, { "list": { "elem": "bool", "items": [{ "bool": true }] } }]
            ]}})
        );
    }
}
