//! Interop with Apache Thrift's Python library (`thrift` 0.25.0 from PyPI), an
//! implementation nobody here wrote.
//!
//! `tests/interop/python/peer.py` drives the library's generic protocol API
//! (`writeFieldBegin`, `readListBegin`, `skip`, ...) from a JSON description of typed values;
//! see its doc string for the JSON shape. For a table of values covering every Thrift type
//! and the Compact protocol's corner cases, in Binary strict, Binary non-strict and Compact:
//!
//! - Python encodes, faultline decodes to the same `Value`;
//! - faultline encodes, Python decodes to the same typed values (and `skip`s them exactly);
//! - where both encodings are canonical (Binary strict, Compact) the bytes are identical.
//!
//! The live tests need `python3` with `thrift` importable. Without it they print a skip
//! notice, unless `CI` is set, where they fail. `tests/interop/vectors/` holds bytes that
//! Python produced (regenerate with `tests/interop/python/regen.py`); the vector tests
//! check them without Python, so the interop stays regression-tested everywhere.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use faultline_core::protocol::{
    encode_to_vec, expect_end, Binary, BinaryReader, Compact, CompactReader, DecodeError,
    DecodeLimits, Field, Message, MessageHeader, MessageType, ProtocolReader, TType, Value,
};
use serde_json::{json, Value as J};

// ------------------------------------------------------------------ typed JSON <-> Value

/// The wire type named `name` in the peer's JSON ("string" is Binary on the wire).
fn ttype_from_name(name: &str) -> TType {
    match name {
        "stop" => TType::Stop,
        "void" => TType::Void,
        "bool" => TType::Bool,
        "byte" => TType::Byte,
        "double" => TType::Double,
        "i16" => TType::I16,
        "i32" => TType::I32,
        "i64" => TType::I64,
        "binary" | "string" => TType::Binary,
        "struct" => TType::Struct,
        "map" => TType::Map,
        "set" => TType::Set,
        "list" => TType::List,
        "uuid" => TType::Uuid,
        other => panic!("unknown type name {other:?}"),
    }
}

fn tag(j: &J) -> (&str, &J) {
    let obj = j
        .as_object()
        .unwrap_or_else(|| panic!("typed value expected: {j}"));
    assert_eq!(obj.len(), 1, "typed value has exactly one key: {j}");
    let (k, v) = obj.iter().next().unwrap();
    (k.as_str(), v)
}

fn int(j: &J) -> i64 {
    j.as_i64()
        .unwrap_or_else(|| panic!("integer expected: {j}"))
}

fn hex_decode(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex {s}")))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Value` a typed JSON value stands for.
fn from_json(j: &J) -> Value {
    let (kind, v) = tag(j);
    match kind {
        "bool" => Value::Bool(v.as_bool().expect("bool")),
        "byte" => Value::Byte(i8::try_from(int(v)).expect("byte range")),
        "i16" => Value::I16(i16::try_from(int(v)).expect("i16 range")),
        "i32" => Value::I32(i32::try_from(int(v)).expect("i32 range")),
        "i64" => Value::I64(int(v)),
        "double" => Value::Double(f64::from_bits(
            u64::from_str_radix(v.as_str().expect("double bits"), 16).expect("double hex"),
        )),
        "string" => Value::string(v.as_str().expect("string")),
        "binary" => Value::Binary(hex_decode(v.as_str().expect("binary hex")).into()),
        "uuid" => Value::Uuid(
            hex_decode(v.as_str().expect("uuid hex"))
                .try_into()
                .expect("16 bytes"),
        ),
        "struct" => Value::Struct(
            v.as_array()
                .expect("field list")
                .iter()
                .map(|f| Field {
                    id: i16::try_from(int(&f[0])).expect("field id range"),
                    value: from_json(&f[1]),
                })
                .collect(),
        ),
        "list" | "set" => {
            let elem = ttype_from_name(v["elem"].as_str().expect("elem"));
            let items = v["items"].as_array().expect("items");
            let items = items.iter().map(from_json).collect();
            if kind == "list" {
                Value::List { elem, items }
            } else {
                Value::Set { elem, items }
            }
        }
        "map" => Value::Map {
            key: ttype_from_name(v["key"].as_str().expect("key")),
            value: ttype_from_name(v["value"].as_str().expect("value")),
            entries: v["entries"]
                .as_array()
                .expect("entries")
                .iter()
                .map(|e| (from_json(&e[0]), from_json(&e[1])))
                .collect(),
        },
        other => panic!("unknown value kind {other:?}"),
    }
}

fn message_from_json(j: &J) -> Message<Value> {
    let kind = u8::try_from(int(&j["type"])).expect("message type");
    Message {
        header: MessageHeader {
            name: j["name"].as_str().expect("name").to_owned(),
            kind: MessageType::from_id(kind).expect("message type id"),
            seq_id: i32::try_from(int(&j["seqid"])).expect("seq id range"),
        },
        body: from_json(&j["body"]),
    }
}

/// An empty Compact map carries no key or value types: faultline reads them as `Void`,
/// Python as `STOP`. Both sides are compared with those types set to `Void`.
fn compact_normal(value: &Value) -> Value {
    match value {
        Value::Struct(fields) => Value::Struct(
            fields
                .iter()
                .map(|f| Field {
                    id: f.id,
                    value: compact_normal(&f.value),
                })
                .collect(),
        ),
        Value::List { elem, items } => Value::List {
            elem: *elem,
            items: items.iter().map(compact_normal).collect(),
        },
        Value::Set { elem, items } => Value::Set {
            elem: *elem,
            items: items.iter().map(compact_normal).collect(),
        },
        Value::Map { entries, .. } if entries.is_empty() => Value::Map {
            key: TType::Void,
            value: TType::Void,
            entries: vec![],
        },
        Value::Map {
            key,
            value,
            entries,
        } => Value::Map {
            key: *key,
            value: *value,
            entries: entries
                .iter()
                .map(|(k, v)| (compact_normal(k), compact_normal(v)))
                .collect(),
        },
        scalar => scalar.clone(),
    }
}

/// The JSON as the wire knows it: "string" is only a hint for which Python read call to
/// use, so as a container's element, key or value type it is reported as "binary".
fn wire_json(j: &J) -> J {
    match j {
        J::Object(obj) => J::Object(
            obj.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("elem" | "key" | "value", J::String(name)) if name == "string" => {
                        (k.clone(), json!("binary"))
                    }
                    _ => (k.clone(), wire_json(v)),
                })
                .collect(),
        ),
        J::Array(items) => J::Array(items.iter().map(wire_json).collect()),
        other => other.clone(),
    }
}

/// True when every binary in `v` is UTF-8. Python's `TProtocol.skip` reads binaries with
/// `readString`, so it cannot skip one that is not (a limitation of thrift 0.25.0's skip).
fn all_binaries_utf8(v: &Value) -> bool {
    match v {
        Value::Binary(b) => std::str::from_utf8(b).is_ok(),
        Value::Struct(fields) => fields.iter().all(|f| all_binaries_utf8(&f.value)),
        Value::List { items, .. } | Value::Set { items, .. } => items.iter().all(all_binaries_utf8),
        Value::Map { entries, .. } => entries
            .iter()
            .all(|(k, v)| all_binaries_utf8(k) && all_binaries_utf8(v)),
        _ => true,
    }
}

/// A JSON value shortened for a failure message.
fn brief(j: &J) -> String {
    let text = j.to_string();
    match text.char_indices().nth(400) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

/// The same normalisation on the JSON side (Python reports an empty map's types as "stop").
fn compact_normal_json(j: &J) -> J {
    match j {
        J::Object(obj) if obj.len() == 1 && obj.contains_key("map") => {
            let m = &obj["map"];
            let entries = m["entries"].as_array().expect("entries");
            if entries.is_empty() {
                json!({"map": {"key": "void", "value": "void", "entries": []}})
            } else {
                let entries: Vec<J> = entries
                    .iter()
                    .map(|e| json!([compact_normal_json(&e[0]), compact_normal_json(&e[1])]))
                    .collect();
                json!({"map": {"key": m["key"], "value": m["value"], "entries": entries}})
            }
        }
        J::Object(obj) => J::Object(
            obj.iter()
                .map(|(k, v)| (k.clone(), compact_normal_json(v)))
                .collect(),
        ),
        J::Array(items) => J::Array(items.iter().map(compact_normal_json).collect()),
        other => other.clone(),
    }
}

// ------------------------------------------------------------------ value builders

fn st(fields: Vec<(i16, J)>) -> J {
    json!({"struct": fields.into_iter().map(|(id, v)| json!([id, v])).collect::<Vec<_>>()})
}
fn b(v: bool) -> J {
    json!({ "bool": v })
}
fn i8v(v: i8) -> J {
    json!({ "byte": v })
}
fn i16v(v: i16) -> J {
    json!({ "i16": v })
}
fn i32v(v: i32) -> J {
    json!({ "i32": v })
}
fn i64v(v: i64) -> J {
    json!({ "i64": v })
}
fn dbits(bits: u64) -> J {
    json!({"double": format!("{bits:016x}")})
}
fn d(v: f64) -> J {
    dbits(v.to_bits())
}
fn s(v: &str) -> J {
    json!({ "string": v })
}
fn bin(v: &[u8]) -> J {
    json!({"binary": hex(v)})
}
fn uuid(v: [u8; 16]) -> J {
    json!({"uuid": hex(&v)})
}
fn list(elem: &str, items: Vec<J>) -> J {
    json!({"list": {"elem": elem, "items": items}})
}
fn set(elem: &str, items: Vec<J>) -> J {
    json!({"set": {"elem": elem, "items": items}})
}
fn map(key: &str, value: &str, entries: Vec<(J, J)>) -> J {
    let entries: Vec<J> = entries.into_iter().map(|(k, v)| json!([k, v])).collect();
    json!({"map": {"key": key, "value": value, "entries": entries}})
}
fn msg(name: &str, kind: MessageType, seq_id: i32, body: J) -> J {
    json!({"name": name, "type": kind as u8, "seqid": seq_id, "body": body})
}

// ------------------------------------------------------------------ the table

/// One struct body: every case is exchanged as a bare struct and as the body of a call.
struct Case {
    name: &'static str,
    body: J,
}

fn cases() -> Vec<Case> {
    let case = |name, body| Case { name, body };
    vec![
        case(
            "scalars",
            st(vec![
                (1, b(true)),
                (2, b(false)),
                (3, i8v(i8::MIN)),
                (4, i8v(i8::MAX)),
                (5, i16v(i16::MIN)),
                (6, i16v(i16::MAX)),
                (7, i32v(i32::MIN)),
                (8, i32v(i32::MAX)),
                (9, i64v(i64::MIN)),
                (10, i64v(i64::MAX)),
                (11, i32v(0)),
                (12, i64v(-1)),
                (13, i16v(-64)),
                (14, i8v(0)),
                (15, i64v(1 << 40)),
            ]),
        ),
        case(
            "doubles",
            st(vec![
                (1, d(0.0)),
                (2, d(-0.0)),
                (3, d(1.5)),
                (4, d(-2.5e-300)),
                (5, d(f64::MAX)),
                (6, d(f64::MIN_POSITIVE)),
                (7, dbits(1)), // smallest subnormal
                (8, d(f64::INFINITY)),
                (9, d(f64::NEG_INFINITY)),
                (10, dbits(0x7ff8_0000_0000_0000)), // canonical quiet NaN
                (11, dbits(0xfff8_0000_0000_0000)), // negative NaN
                (12, dbits(0x7ff4_0000_0000_0001)), // signalling NaN with a payload
                (13, d(0.1)),
            ]),
        ),
        case(
            "strings",
            st(vec![
                (1, s("")),
                (2, s("hello")),
                (3, s("héllo wörld ✓ 日本語 🎉")),
                (4, s("nul\u{0}inside")),
                (5, s(&"ü".repeat(100))), // 200 bytes: a two-byte Compact length
            ]),
        ),
        case(
            "binaries",
            st(vec![
                (1, bin(&[])),
                (2, bin(&[0x00, 0xff, 0x80, 0x7f, 0x0a, 0x0d])),
                (3, bin(&(0..=255).collect::<Vec<u8>>())),
                (4, bin(&[0xc3, 0x28, 0xff, 0xfe])), // not UTF-8
            ]),
        ),
        case(
            "uuids",
            st(vec![
                (1, uuid(std::array::from_fn(|i| i as u8))),
                (2, uuid([0xff; 16])),
                (3, uuid([0; 16])),
            ]),
        ),
        case(
            "nested_structs",
            st(vec![
                (
                    1,
                    st(vec![
                        (1, st(vec![(1, i32v(1)), (2, s("deep")), (3, b(true))])),
                        (15, b(true)),
                    ]),
                ),
                (2, st(vec![])),
                (3, b(false)), // delta from 2 after the nested struct restored it
                (40, st(vec![(40, i8v(1))])),
                (41, i8v(2)),
            ]),
        ),
        case(
            "field_ids",
            st(vec![
                (0, i32v(0)),     // id 0 (a result's success field): long form
                (15, b(true)),    // delta 15: short form
                (16, i32v(16)),   // delta 1
                (32, i32v(32)),   // delta 16: long form
                (32767, i64v(1)), // largest id
                (-1, s("neg")),   // negative id
                (-32768, b(false)),
                (-32767, i8v(3)), // delta 1 up from a negative id: short form
                (5, i32v(5)),     // large positive delta: long form
                (3, b(true)),     // backwards
                (3, i8v(9)),      // same id again: delta 0, long form
                (4, d(4.0)),
            ]),
        ),
        case(
            "bool_fields",
            st(vec![
                (1, b(true)),
                (2, b(false)),
                (17, b(true)),
                (34, b(false)),
                (-7, b(true)),
                (-6, b(false)),
                (100, b(true)),
            ]),
        ),
        case(
            "lists",
            st(vec![
                (1, list("i32", vec![])),
                (2, list("i32", vec![i32v(1), i32v(-1), i32v(i32::MAX)])),
                (3, list("bool", vec![b(true), b(false), b(true)])),
                (4, list("bool", (0..20).map(|i| b(i % 3 == 0)).collect())),
                (5, list("bool", vec![])),
                (6, list("string", vec![s("a"), s("日本"), s("")])),
                (7, list("binary", vec![bin(&[0]), bin(&[0xff, 0xfe])])),
                (8, list("double", vec![d(-0.0), d(f64::NAN), d(2.0)])),
                (
                    9,
                    list(
                        "list",
                        vec![list("i32", vec![]), list("i32", vec![i32v(7)])],
                    ),
                ),
                (
                    10,
                    list(
                        "struct",
                        vec![st(vec![(1, b(true))]), st(vec![]), st(vec![(9, b(false))])],
                    ),
                ),
                (
                    11,
                    list(
                        "map",
                        vec![
                            map("string", "i32", vec![(s("k"), i32v(1))]),
                            map("string", "i32", vec![]),
                        ],
                    ),
                ),
                (12, list("uuid", vec![uuid([7; 16])])),
                (13, list("byte", (0..15).map(i8v).collect())), // 15: long header
                (14, list("i64", (0..14).map(i64v).collect())), // 14: short header
                (15, list("i16", (0..300).map(|i| i16v(i - 150)).collect())),
                (16, list("set", vec![set("i16", vec![i16v(1)])])),
            ]),
        ),
        case(
            "sets",
            st(vec![
                (1, set("i32", vec![])),
                (2, set("string", vec![s("x"), s("ÿ")])),
                (3, set("bool", vec![b(false), b(true)])),
                (4, set("uuid", vec![uuid([1; 16]), uuid([2; 16])])),
                (5, set("double", vec![d(1.0)])),
            ]),
        ),
        case(
            "maps",
            st(vec![
                (1, map("string", "i32", vec![])),
                (
                    2,
                    map(
                        "i32",
                        "string",
                        vec![(i32v(1), s("one")), (i32v(-2), s("ø"))],
                    ),
                ),
                (
                    3,
                    map(
                        "string",
                        "list",
                        vec![(s("l"), list("i64", vec![i64v(i64::MIN)]))],
                    ),
                ),
                (
                    4,
                    map(
                        "bool",
                        "bool",
                        vec![(b(true), b(false)), (b(false), b(true))],
                    ),
                ),
                (5, map("double", "uuid", vec![(d(-0.0), uuid([9; 16]))])),
                (
                    6,
                    map(
                        "struct",
                        "struct",
                        vec![(st(vec![(1, b(true))]), st(vec![(2, i8v(-1))]))],
                    ),
                ),
                (
                    7,
                    map(
                        "i64",
                        "map",
                        vec![
                            (i64v(1), map("string", "binary", vec![])),
                            (
                                i64v(2),
                                map("string", "binary", vec![(s("b"), bin(&[0xca, 0xfe]))]),
                            ),
                        ],
                    ),
                ),
                (
                    8,
                    map(
                        "byte",
                        "set",
                        vec![
                            (i8v(1), set("bool", vec![b(true)])),
                            (i8v(2), set("bool", vec![])),
                        ],
                    ),
                ),
                (
                    9,
                    map("i16", "i16", (0..20).map(|i| (i16v(i), i16v(-i))).collect()),
                ),
            ]),
        ),
    ]
}

/// Envelopes: every message type, edge sequence ids, names that need care.
fn envelopes() -> Vec<(&'static str, J)> {
    let body = || st(vec![(1, s("x")), (2, b(true))]);
    let app_exception = st(vec![(1, s("internal error")), (2, i32v(6))]);
    let long_name = "m".repeat(200); // 200: a two-byte Compact name length
    vec![
        (
            "call_seq0_empty_name",
            msg("", MessageType::Call, 0, body()),
        ),
        (
            "reply_seq_minus1",
            msg("échø", MessageType::Reply, -1, body()),
        ),
        (
            "exception_seq_min",
            msg("fail", MessageType::Exception, i32::MIN, app_exception),
        ),
        (
            "oneway_seq_max",
            msg("fire", MessageType::Oneway, i32::MAX, st(vec![])),
        ),
        (
            "call_seq300_long_name",
            msg(&long_name, MessageType::Call, 300, body()),
        ),
        (
            "reply_success_field0",
            msg("get", MessageType::Reply, 42, st(vec![(0, s("ok"))])),
        ),
    ]
}

// ------------------------------------------------------------------ the Python peer

fn peer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/python/peer.py")
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether the peer can run: true when `thrift` 0.25.0 imports; otherwise a skip notice,
/// or a failure when `CI` is set.
fn peer_available() -> bool {
    static AVAILABLE: OnceLock<Result<String, String>> = OnceLock::new();
    let status = AVAILABLE.get_or_init(|| {
        match Command::new(python())
            .arg(peer_script())
            .arg("--check")
            .output()
        {
            Ok(out) if out.status.success() => {
                Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
            }
            Ok(out) => Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )),
            Err(err) => Err(format!("cannot run {}: {err}", python())),
        }
    });
    match status {
        Ok(version) => {
            assert_eq!(
                version, "0.25.0",
                "the Python peer must be thrift 0.25.0 (pip install thrift==0.25.0)"
            );
            true
        }
        Err(why) if std::env::var_os("CI").is_some() => panic!(
            "CI is set but the Python interop peer cannot run ({why}); \
             install it with: pip install thrift==0.25.0"
        ),
        Err(why) => {
            eprintln!("skipped: pip install thrift==0.25.0 ({})", why.trim());
            false
        }
    }
}

/// Runs one batch of requests through the Python peer; responses come back in order.
fn run_peer(requests: &[J]) -> Vec<J> {
    let mut child = Command::new(python())
        .arg(peer_script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the Python peer");
    let input = serde_json::to_vec(requests).expect("requests to JSON");
    child
        .stdin
        .take()
        .expect("peer stdin")
        .write_all(&input)
        .expect("write requests to the peer");
    let out = child.wait_with_output().expect("peer output");
    assert!(
        out.status.success(),
        "Python peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let responses: Vec<J> = serde_json::from_slice(&out.stdout).expect("peer JSON output");
    assert_eq!(responses.len(), requests.len(), "one response per request");
    responses
}

/// The `hex` of a successful response, or the peer's error.
fn ok_hex(response: &J) -> Result<Vec<u8>, String> {
    if response["ok"] == true {
        Ok(hex_decode(response["hex"].as_str().expect("hex")))
    } else {
        Err(response["error"].to_string())
    }
}

// ------------------------------------------------------------------ faultline's side

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    /// Binary, strict header on both sides.
    Binary,
    /// Binary with Python writing the old non-strict header (faultline always writes strict).
    BinaryNonStrict,
    Compact,
}

impl Proto {
    const ALL: [Proto; 3] = [Proto::Binary, Proto::BinaryNonStrict, Proto::Compact];

    fn peer_name(self) -> &'static str {
        match self {
            Proto::Binary => "binary",
            Proto::BinaryNonStrict => "binary-nonstrict",
            Proto::Compact => "compact",
        }
    }

    /// Whether Python's and faultline's encodings of the same value must be identical.
    fn canonical(self) -> bool {
        self != Proto::BinaryNonStrict
    }

    fn normal(self, value: &Value) -> Value {
        match self {
            Proto::Compact => compact_normal(value),
            _ => value.clone(),
        }
    }

    fn normal_json(self, j: &J) -> J {
        match self {
            Proto::Compact => compact_normal_json(&wire_json(j)),
            _ => wire_json(j),
        }
    }
}

/// What a case is exchanged as: a bare struct or a whole message.
#[derive(Debug, Clone)]
enum Top {
    Struct(J),
    Message(J),
}

impl Top {
    fn kind(&self) -> &'static str {
        match self {
            Top::Struct(_) => "struct",
            Top::Message(_) => "message",
        }
    }

    fn json(&self) -> &J {
        match self {
            Top::Struct(j) | Top::Message(j) => j,
        }
    }

    fn encode_request(&self, proto: Proto) -> J {
        json!({"op": "encode", "proto": proto.peer_name(), self.kind(): self.json()})
    }

    fn decode_request(&self, proto: Proto, bytes: &[u8]) -> J {
        json!({"op": "decode", "proto": proto.peer_name(), "kind": self.kind(),
               "hex": hex(bytes), "expect": self.json()})
    }

    /// Whether Python's `skip` can walk this value (see `all_binaries_utf8`).
    fn python_can_skip(&self) -> bool {
        match self.expected() {
            Decoded::Struct(v) => all_binaries_utf8(&v),
            Decoded::Message(m) => all_binaries_utf8(&m.body),
        }
    }

    fn skip_request(&self, proto: Proto, bytes: &[u8]) -> J {
        json!({"op": "skip", "proto": proto.peer_name(), "kind": self.kind(), "hex": hex(bytes)})
    }

    /// The `Value` faultline should decode (struct) or the body plus envelope (message).
    fn expected(&self) -> Decoded {
        match self {
            Top::Struct(j) => Decoded::Struct(from_json(j)),
            Top::Message(j) => Decoded::Message(message_from_json(j)),
        }
    }

    /// faultline's encoding of this value.
    fn encode(&self, proto: Proto) -> Vec<u8> {
        match (self.expected(), proto) {
            (Decoded::Struct(v), Proto::Compact) => encode_to_vec::<Compact, _>(&v),
            (Decoded::Struct(v), _) => encode_to_vec::<Binary, _>(&v),
            (Decoded::Message(m), Proto::Compact) => encode_to_vec::<Compact, _>(&m),
            (Decoded::Message(m), _) => encode_to_vec::<Binary, _>(&m),
        }
        .expect("faultline encodes the case")
    }

    /// faultline's decoding of `bytes`, which must be consumed exactly.
    fn decode(&self, proto: Proto, bytes: &[u8]) -> Result<Decoded, DecodeError> {
        let limits = DecodeLimits::default();
        match proto {
            Proto::Compact => decode_top(&mut CompactReader::from_slice(bytes, limits), self),
            _ => decode_top(&mut BinaryReader::from_slice(bytes, limits), self),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Decoded {
    Struct(Value),
    Message(Message<Value>),
}

impl Decoded {
    fn normal(&self, proto: Proto) -> Decoded {
        match self {
            Decoded::Struct(v) => Decoded::Struct(proto.normal(v)),
            Decoded::Message(m) => Decoded::Message(Message {
                header: m.header.clone(),
                body: proto.normal(&m.body),
            }),
        }
    }
}

fn decode_top<'a, R: ProtocolReader<'a>>(
    reader: &mut R,
    top: &Top,
) -> Result<Decoded, DecodeError> {
    let decoded = match top {
        Top::Struct(_) => Decoded::Struct(Value::decode(reader, TType::Struct)?),
        Top::Message(_) => Decoded::Message(Value::decode_message(reader)?),
    };
    expect_end(reader)?;
    Ok(decoded)
}

/// Where two byte strings first differ, for failure messages.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// Every case as a struct and as a call body, plus the envelope cases.
fn tops() -> Vec<(String, Top)> {
    let mut tops = Vec::new();
    for (i, case) in cases().into_iter().enumerate() {
        tops.push((
            format!("{}/struct", case.name),
            Top::Struct(case.body.clone()),
        ));
        let call = msg(case.name, MessageType::Call, i as i32 + 1, case.body);
        tops.push((format!("{}/call", case.name), Top::Message(call)));
    }
    for (name, m) in envelopes() {
        tops.push((format!("{name}/message"), Top::Message(m)));
    }
    tops
}

/// Exchanges every case both ways in `proto`; returns one line per disagreement.
fn exchange(proto: Proto) -> Vec<String> {
    let tops = tops();
    let ours: Vec<Vec<u8>> = tops.iter().map(|(_, t)| t.encode(proto)).collect();

    // One batch: Python encodes each case, decodes and skips faultline's encoding.
    let mut requests = Vec::new();
    for ((_, top), bytes) in tops.iter().zip(&ours) {
        requests.push(top.encode_request(proto));
        requests.push(top.decode_request(proto, bytes));
        requests.push(top.skip_request(proto, bytes));
    }
    let responses = run_peer(&requests);

    let mut failures = Vec::new();
    for (((name, top), ours), answers) in tops.iter().zip(&ours).zip(responses.chunks(3)) {
        let what = format!("{name} [{}]", proto.peer_name());

        // Python encodes -> faultline decodes.
        match ok_hex(&answers[0]) {
            Err(e) => failures.push(format!("{what}: Python could not encode: {e}")),
            Ok(theirs) => {
                if proto.canonical() && theirs != *ours {
                    let at = first_difference(&theirs, ours);
                    failures.push(format!(
                        "{what}: bytes differ at offset {at}\n  python:    {}\n  faultline: {}",
                        hex(&theirs),
                        hex(ours)
                    ));
                }
                if proto == Proto::BinaryNonStrict && matches!(top, Top::Message(_)) {
                    // Python really wrote the old header: a name length, not 0x8001.
                    if theirs[0] & 0x80 != 0 {
                        failures.push(format!("{what}: Python wrote a strict header"));
                    }
                }
                match top.decode(proto, &theirs) {
                    Err(e) => failures.push(format!(
                        "{what}: faultline cannot decode Python's bytes: {e:?}\n  python: {}",
                        hex(&theirs)
                    )),
                    Ok(decoded) => {
                        let expected = top.expected().normal(proto);
                        if decoded.normal(proto) != expected {
                            failures.push(format!(
                                "{what}: faultline decoded Python's bytes to\n  {decoded:?}\n  expected\n  {expected:?}"
                            ));
                        }
                    }
                }
            }
        }

        // faultline encodes -> Python decodes (with its own readString for strings).
        let decoded = &answers[1];
        if decoded["ok"] != true {
            failures.push(format!(
                "{what}: Python cannot decode faultline's bytes: {}\n  faultline: {}",
                decoded["error"],
                hex(ours)
            ));
        } else {
            let got = proto.normal_json(&decoded[top.kind()]);
            let expected = proto.normal_json(top.json());
            if got != expected {
                failures.push(format!(
                    "{what}: Python decoded faultline's bytes to\n  {}\n  expected\n  {}",
                    brief(&got),
                    brief(&expected)
                ));
            }
            if decoded["trailing"] != 0 {
                failures.push(format!("{what}: Python left {} bytes", decoded["trailing"]));
            }
        }

        // Python's skip walks faultline's encoding to exactly its end.
        let skipped = &answers[2];
        if top.python_can_skip() && (skipped["ok"] != true || skipped["trailing"] != 0) {
            failures.push(format!("{what}: Python skip: {skipped}"));
        }
        if !top.python_can_skip() && skipped["ok"] != false {
            failures.push(format!(
                "{what}: Python's skip now handles non-UTF-8 binaries: skip it everywhere"
            ));
        }
    }
    failures
}

fn assert_no_failures(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} disagreement(s) with Apache Thrift Python:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn binary_strict_both_directions() {
    if peer_available() {
        assert_no_failures(exchange(Proto::Binary));
    }
}

#[test]
fn binary_non_strict_python_writes_faultline_reads() {
    if peer_available() {
        assert_no_failures(exchange(Proto::BinaryNonStrict));
    }
}

#[test]
fn compact_both_directions() {
    if peer_available() {
        assert_no_failures(exchange(Proto::Compact));
    }
}

/// The table really covers what it claims: a guard against the table shrinking silently.
#[test]
fn table_covers_every_type_both_as_struct_and_message() {
    let mut seen = std::collections::BTreeSet::new();
    fn walk(v: &Value, seen: &mut std::collections::BTreeSet<&'static str>) {
        seen.insert(v.ttype().name());
        match v {
            Value::Struct(fields) => fields.iter().for_each(|f| walk(&f.value, seen)),
            Value::List { items, .. } | Value::Set { items, .. } => {
                items.iter().for_each(|i| walk(i, seen))
            }
            Value::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                walk(k, seen);
                walk(v, seen)
            }),
            _ => {}
        }
    }
    for (_, top) in tops() {
        match top.expected() {
            Decoded::Struct(v) => walk(&v, &mut seen),
            Decoded::Message(m) => walk(&m.body, &mut seen),
        }
    }
    let all = [
        "bool", "byte", "i16", "i32", "i64", "double", "binary", "uuid", "struct", "list", "set",
        "map",
    ];
    assert_eq!(seen, all.into_iter().collect());
    let kinds: std::collections::BTreeSet<u8> = envelopes()
        .iter()
        .map(|(_, m)| int(&m["type"]) as u8)
        .collect();
    assert_eq!(kinds.len(), 4, "call, reply, exception and oneway");
}

/// faultline writes strict Binary only; Python's non-strict reader and its strict reader
/// both accept it, and Python's strict reader refuses the old header (so the non-strict
/// exchange above really exercised faultline's non-strict read path).
#[test]
fn python_strict_reader_refuses_non_strict_header() {
    if !peer_available() {
        return;
    }
    let call = Top::Message(msg("m", MessageType::Call, 5, st(vec![(1, i32v(1))])));
    let responses = run_peer(&[call.encode_request(Proto::BinaryNonStrict)]);
    let non_strict = ok_hex(&responses[0]).expect("Python writes non-strict");
    assert_eq!(&non_strict[..4], &[0, 0, 0, 1], "name length first");
    let responses = run_peer(&[call.decode_request(Proto::Binary, &non_strict)]);
    assert_eq!(
        responses[0]["ok"], false,
        "strict read must refuse: {}",
        responses[0]
    );
    assert_eq!(
        call.decode(Proto::Binary, &non_strict).unwrap(),
        call.expected()
    );
}

/// Python's THeader server-side detection classifies faultline's unframed (Buffered) and
/// 4-byte-length-prefixed output by the same first-bytes rules a Kitex server uses.
#[test]
fn python_detects_faultline_buffered_and_length_prefixed_output() {
    if !peer_available() {
        return;
    }
    let call = Top::Message(msg("ping", MessageType::Call, 77, st(vec![(1, s("é"))])));
    // (proto, length-prefixed, THeaderClientType Python must report)
    let variants = [
        (Proto::Binary, false, 2),  // UNFRAMED_BINARY
        (Proto::Compact, false, 4), // UNFRAMED_COMPACT
        (Proto::Binary, true, 1),   // FRAMED_BINARY
        (Proto::Compact, true, 3),  // FRAMED_COMPACT
    ];
    let requests: Vec<J> = variants
        .iter()
        .map(|&(proto, prefixed, _)| {
            let mut bytes = call.encode(proto);
            if prefixed {
                let len = u32::try_from(bytes.len()).unwrap().to_be_bytes();
                bytes.splice(0..0, len);
            }
            json!({"op": "decode", "transport": "detect", "kind": "message",
                   "hex": hex(&bytes), "expect": call.json()})
        })
        .collect();
    for (&(proto, prefixed, client_type), response) in variants.iter().zip(run_peer(&requests)) {
        let what = format!("{proto:?} prefixed={prefixed}");
        assert_eq!(response["ok"], true, "{what}: {response}");
        assert_eq!(response["client_type"], client_type, "{what}");
        assert_eq!(response["message"], *call.json(), "{what}");
        assert_eq!(response["trailing"], 0, "{what}");
    }
}

// ------------------------------------------------------------------ committed vectors

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/vectors")
}

/// One committed vector: a case from `cases.json` as Python encoded it.
struct Vector {
    file: String,
    proto: Proto,
    top: Top,
    bytes: Vec<u8>,
}

fn proto_from_name(name: &str) -> Proto {
    Proto::ALL
        .into_iter()
        .find(|p| p.peer_name() == name)
        .unwrap_or_else(|| panic!("unknown protocol {name:?}"))
}

/// The protocol-level vectors (`<case>.<proto>.hex`) listed by `cases.json`.
fn protocol_vectors() -> Vec<Vector> {
    let dir = vectors_dir();
    let index: J = serde_json::from_slice(
        &std::fs::read(dir.join("cases.json")).expect("tests/interop/vectors/cases.json"),
    )
    .expect("cases.json is JSON");
    let mut vectors = Vec::new();
    for case in index["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let top = if case.get("message").is_some() {
            Top::Message(case["message"].clone())
        } else {
            Top::Struct(case["struct"].clone())
        };
        for proto in case["protocols"].as_array().expect("protocols") {
            let proto = proto_from_name(proto.as_str().expect("protocol name"));
            let file = format!("{name}.{}.hex", proto.peer_name());
            let text = std::fs::read_to_string(dir.join(&file))
                .unwrap_or_else(|e| panic!("{file}: {e} (run tests/interop/python/regen.py)"));
            vectors.push(Vector {
                bytes: hex_decode(text.trim()),
                file,
                proto,
                top: top.clone(),
            });
        }
    }
    vectors
}

/// Without Python: faultline decodes every committed Python encoding to the expected value,
/// and (for canonical encodings) re-encodes it to the very same bytes.
#[test]
fn committed_python_vectors_decode_and_reencode() {
    let vectors = protocol_vectors();
    assert!(
        vectors.len() >= 19,
        "vectors went missing: {}",
        vectors.len()
    );
    for v in &vectors {
        let decoded = v
            .top
            .decode(v.proto, &v.bytes)
            .unwrap_or_else(|e| panic!("{}: faultline cannot decode: {e:?}", v.file));
        assert_eq!(
            decoded.normal(v.proto),
            v.top.expected().normal(v.proto),
            "{}",
            v.file
        );
        if v.proto.canonical() {
            assert_eq!(hex(&v.top.encode(v.proto)), hex(&v.bytes), "{}", v.file);
        }
    }
}

/// With Python: the committed vectors are still what thrift 0.25.0 writes (not stale).
#[test]
fn committed_python_vectors_match_live_python() {
    if !peer_available() {
        return;
    }
    let vectors = protocol_vectors();
    let requests: Vec<J> = vectors
        .iter()
        .map(|v| v.top.encode_request(v.proto))
        .collect();
    for (v, response) in vectors.iter().zip(run_peer(&requests)) {
        let live = ok_hex(&response).unwrap_or_else(|e| panic!("{}: {e}", v.file));
        assert_eq!(
            hex(&live),
            hex(&v.bytes),
            "{} is stale: run tests/interop/python/regen.py",
            v.file
        );
    }
}
