//! The seed corpus of every fuzz target, generated, never written by hand.
//!
//! Sources: faultline's encoder (sample messages of every type in both protocols, as bare
//! structs, messages and frames of every transport, with Kitex and THeader metadata), the
//! Apache `thrift` crate's encoder (the old non-strict Binary header, which faultline never
//! writes) and the Python (Apache Thrift 0.25.0) vectors in `core/tests/interop/vectors/`.
//! The structure-aware targets get fixed pseudo-random inputs of a few sizes.
//!
//! `cargo run -p faultline-core --features fuzzing --example fuzz_seeds` writes them to
//! `fuzz/seeds/<target>/`; `core/tests/fuzz_replay.rs` checks that the committed corpus is
//! exactly what [`seeds`] makes and replays it.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use bytes::Bytes;

use super::apache::{self, Strictness};
use super::typed::{FuzzItem, FuzzKind, FuzzRequest};
use super::Proto;
use crate::frame::{encode_frame, Header, IntKey, Transport};
use crate::protocol::{
    encode_to_vec, Binary, Compact, Field, Message, MessageHeader, MessageType, ProtocolId, TType,
    Value,
};

/// One seed input: the target it is for, a file name, the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

fn field(id: i16, value: Value) -> Field {
    Field { id, value }
}

fn list(elem: TType, items: Vec<Value>) -> Value {
    Value::List { elem, items }
}

fn message(name: &str, kind: MessageType, seq_id: i32, body: Vec<Field>) -> Message<Value> {
    Message {
        header: MessageHeader {
            name: name.to_owned(),
            kind,
            seq_id,
        },
        body: Value::Struct(body),
    }
}

/// Messages that between them hold every type, edge values, field-id patterns (negative,
/// delta 15, long form), Compact's list header boundary and nesting.
fn sample_messages() -> Vec<(&'static str, Message<Value>)> {
    let echo = message(
        "echo",
        MessageType::Call,
        1,
        vec![
            field(1, Value::string("hello")),
            field(2, Value::I32(7)),
            field(3, list(TType::I64, vec![Value::I64(1), Value::I64(-2)])),
        ],
    );
    let everything = message(
        "get",
        MessageType::Reply,
        i32::MAX,
        vec![field(
            0,
            Value::Struct(vec![
                field(-1, Value::Bool(true)),
                field(1, Value::Bool(false)),
                field(2, Value::Byte(i8::MIN)),
                field(3, Value::I16(i16::MIN)),
                field(4, Value::I32(i32::MIN)),
                field(19, Value::I64(i64::MAX)),
                field(20, Value::Double(f64::NAN)),
                field(21, Value::Binary(Bytes::from_static(&[0xff, 0, 0x82]))),
                field(300, Value::Uuid(*b"0123456789abcdef")),
                field(
                    301,
                    Value::Set {
                        elem: TType::Binary,
                        items: vec![Value::string("a"), Value::string("")],
                    },
                ),
                field(
                    302,
                    Value::Map {
                        key: TType::I16,
                        value: TType::List,
                        entries: vec![(
                            Value::I16(-7),
                            list(
                                TType::Bool,
                                (0..16).map(|i| Value::Bool(i % 3 == 0)).collect(),
                            ),
                        )],
                    },
                ),
                field(
                    303,
                    Value::Map {
                        key: TType::Binary,
                        value: TType::Struct,
                        entries: Vec::new(),
                    },
                ),
                field(i16::MAX, Value::Struct(vec![field(1, Value::Double(-0.0))])),
            ]),
        )],
    );
    let exception = message(
        "missing",
        MessageType::Exception,
        -1,
        vec![
            field(1, Value::string("unknown method missing")),
            field(2, Value::I32(1)),
        ],
    );
    let deep = (0..12).fold(Value::I32(1), |inner, _| list(inner.ttype(), vec![inner]));
    let oneway = message("log", MessageType::Oneway, 0, vec![field(15, deep)]);
    vec![
        ("echo-call", echo),
        ("every-type-reply", everything),
        ("exception", exception),
        ("deep-oneway", oneway),
    ]
}

/// The metadata a Kitex client sends, and a THeader client's string headers.
fn sample_header(protocol: ProtocolId, kitex: bool, seq_id: i32) -> Header {
    let mut header = Header::new(protocol, seq_id);
    let md = &mut header.metadata;
    if kitex {
        header.flags = Header::FLAG_SUPPORT_OUT_OF_ORDER;
        md.set_int(IntKey::FromService, "client");
        md.set_int(IntKey::ToService, "echo");
        md.set_int(IntKey::ToMethod, "echo");
        md.set_int(IntKey::RpcTimeout, "1500");
        md.set_msg_type(MessageType::Call);
        md.acl_token = Some(Bytes::from_static(b"token"));
    }
    md.set_string("tc", "zone-a");
    header
}

fn sample_requests() -> Vec<(&'static str, FuzzRequest)> {
    let small = FuzzRequest::named("get");
    let mut full = FuzzRequest::named("put-all");
    full.kind = FuzzKind::Delete;
    full.tags = vec!["a".into(), "".into()];
    full.attrs = [("x".to_owned(), -1), ("y".to_owned(), i64::MAX)].into();
    full.items = vec![FuzzItem {
        key: "k".into(),
        version: 3,
        data: Some(Bytes::from_static(b"v")),
    }];
    full.by_id = [(7, vec![FuzzItem::default()]), (-1, Vec::new())].into();
    full.matrix = vec![vec![], vec![1, -1, i16::MAX]];
    full.flags = [0, -1, 127].into();
    full.child = Some(Box::new(FuzzRequest::named("child")));
    full.ids = Some(vec![1, 2, 3]);
    full.ratio = Some(0.5);
    full.trace = Some([0xab; 16]);
    full.dry_run = true;
    full.timeout_ms = 100;
    full.payload = Bytes::from_static(&[0, 1, 2]);
    full.far = Some(-5);
    full.negative = Some(true);
    vec![("small", small), ("full", full)]
}

/// Deterministic pseudo-random bytes (splitmix64) for the structure-aware targets.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

fn parse_hex(text: &str) -> io::Result<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad hex vector"))
        })
        .collect()
}

/// Collects seeds, keeping the first name for inputs that repeat within a target.
#[derive(Default)]
struct Corpus {
    seeds: Vec<Seed>,
}

impl Corpus {
    fn add(&mut self, targets: &[&'static str], name: &str, bytes: &[u8]) {
        for &target in targets {
            if !self
                .seeds
                .iter()
                .any(|s| s.target == target && s.bytes == bytes)
            {
                self.seeds.push(Seed {
                    target,
                    name: name.to_owned(),
                    bytes: bytes.to_vec(),
                });
            }
        }
    }
}

fn frame_targets(transport: Transport) -> &'static [&'static str] {
    match transport {
        Transport::Buffered => &["decode_auto"],
        Transport::Framed => &["decode_framed", "decode_auto"],
        Transport::TTHeader | Transport::TTHeaderFramed => &["decode_ttheader", "decode_auto"],
        Transport::THeader => &["decode_theader", "decode_auto"],
    }
}

fn encoded<T: crate::protocol::Encode>(value: &T, proto: Proto) -> Vec<u8> {
    match proto {
        Proto::Binary => encode_to_vec::<Binary, _>(value),
        Proto::Compact => encode_to_vec::<Compact, _>(value),
    }
    .expect("sample values encode")
}

fn framed(
    transport: Transport,
    header: Option<&Header>,
    m: &Message<Value>,
    proto: Proto,
) -> Vec<u8> {
    match proto {
        Proto::Binary => encode_frame::<Binary, _>(transport, header, m),
        Proto::Compact => encode_frame::<Compact, _>(transport, header, m),
    }
    .expect("sample frames encode")
    .to_vec()
}

fn proto_name(proto: Proto) -> &'static str {
    match proto {
        Proto::Binary => "binary",
        Proto::Compact => "compact",
    }
}

fn protocol_targets(proto: Proto) -> &'static [&'static str] {
    match proto {
        Proto::Binary => &[
            "decode_binary",
            "crosscheck_binary",
            "diff_binary",
            "diff_pilota_binary",
        ],
        Proto::Compact => &[
            "decode_compact",
            "crosscheck_compact",
            "diff_compact",
            "diff_pilota_compact",
        ],
    }
}

/// Every seed of every target; `vectors` is `core/tests/interop/vectors`.
pub fn seeds(vectors: &Path) -> io::Result<Vec<Seed>> {
    let mut corpus = Corpus::default();
    let mut auto_stream = Vec::new();
    for (name, m) in sample_messages() {
        for proto in Proto::ALL {
            let p = proto_name(proto);
            let targets = protocol_targets(proto);
            corpus.add(targets, &format!("fl-{name}.{p}"), &encoded(&m, proto));
            corpus.add(
                targets,
                &format!("fl-{name}.{p}.struct"),
                &encoded(&m.body, proto),
            );
            let apache_bytes = apache::encode_message(&m, proto, Strictness::NonStrict)
                .map_err(|e| io::Error::other(e.to_string()))?;
            corpus.add(
                targets,
                &format!("apache-{name}.{p}-nonstrict"),
                &apache_bytes,
            );
            let protocol = match proto {
                Proto::Binary => ProtocolId::Binary,
                Proto::Compact => ProtocolId::Compact,
            };
            for transport in Transport::ALL {
                let header = transport.has_header().then(|| {
                    sample_header(protocol, transport != Transport::THeader, m.header.seq_id)
                });
                let bytes = framed(transport, header.as_ref(), &m, proto);
                corpus.add(
                    frame_targets(transport),
                    &format!("fl-{name}.{p}.{transport}"),
                    &bytes,
                );
                if name == "echo-call" {
                    auto_stream.extend_from_slice(&bytes);
                }
            }
        }
    }
    corpus.add(
        &["decode_auto"],
        "fl-echo-call.every-transport-stream",
        &auto_stream,
    );

    for (name, request) in sample_requests() {
        for proto in Proto::ALL {
            let p = proto_name(proto);
            corpus.add(
                &["decode_typed"],
                &format!("fl-{name}.{p}"),
                &encoded(&request, proto),
            );
            let m = Message {
                header: MessageHeader {
                    name: "call".to_owned(),
                    kind: MessageType::Call,
                    seq_id: 9,
                },
                body: request.clone(),
            };
            corpus.add(
                &["decode_typed"],
                &format!("fl-{name}.{p}.message"),
                &encoded(&m, proto),
            );
        }
    }

    let mut files: Vec<_> = fs::read_dir(vectors)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    files.sort();
    for path in files {
        let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".hex") else {
            continue;
        };
        let bytes = parse_hex(&fs::read_to_string(&path)?)?;
        let parts: Vec<&str> = stem.split('.').collect();
        let targets: &[&str] = match parts.as_slice() {
            [_, "binary" | "binary-nonstrict"] => &[
                "decode_binary",
                "crosscheck_binary",
                "diff_binary",
                "diff_pilota_binary",
                "decode_auto",
            ],
            [_, "compact"] => &[
                "decode_compact",
                "crosscheck_compact",
                "diff_compact",
                "diff_pilota_compact",
                "decode_auto",
            ],
            [_, _, "framed"] => frame_targets(Transport::Framed),
            [_, _, "header"] => frame_targets(Transport::THeader),
            _ => continue,
        };
        corpus.add(targets, &format!("py-{stem}"), &bytes);
    }

    let structured = [
        "roundtrip_value",
        "roundtrip_typed",
        "roundtrip_metadata",
        "breaker_model",
        "server_session",
        "client_session",
    ];
    for (i, target) in structured.iter().enumerate() {
        for len in [32, 256, 1024, 4096] {
            corpus.add(
                &[target],
                &format!("noise-{len}"),
                &noise(i as u64 * 7919 + len as u64, len),
            );
        }
    }
    Ok(corpus.seeds)
}

/// The seeds by target, then by file name.
pub fn by_target(seeds: &[Seed]) -> BTreeMap<&'static str, BTreeMap<String, Vec<u8>>> {
    let mut out: BTreeMap<_, BTreeMap<_, _>> = BTreeMap::new();
    for seed in seeds {
        out.entry(seed.target)
            .or_default()
            .insert(seed.name.clone(), seed.bytes.clone());
    }
    out
}

/// Replaces `dir/<target>/` with the seeds of each target.
pub fn write(dir: &Path, seeds: &[Seed]) -> io::Result<()> {
    for (target, files) in by_target(seeds) {
        let target_dir = dir.join(target);
        if target_dir.exists() {
            fs::remove_dir_all(&target_dir)?;
        }
        fs::create_dir_all(&target_dir)?;
        for (name, bytes) in files {
            fs::write(target_dir.join(name), bytes)?;
        }
    }
    Ok(())
}
