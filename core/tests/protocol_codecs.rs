//! Binary and Compact codecs: byte-exact vectors from the Thrift specification, Value round
//! trips (proptest), and the limits every reader enforces.

use bytes::Bytes;
use faultline_core::protocol::*;
use proptest::prelude::*;

fn binary_reader(buf: &[u8]) -> BinaryReader<'_> {
    BinaryReader::from_slice(buf, DecodeLimits::default())
}

fn compact_reader(buf: &[u8]) -> CompactReader<'_> {
    CompactReader::from_slice(buf, DecodeLimits::default())
}

fn call(name: &str, seq_id: i32, body: Value) -> Message<Value> {
    Message {
        header: MessageHeader {
            name: name.to_owned(),
            kind: MessageType::Call,
            seq_id,
        },
        body,
    }
}

fn field(id: i16, value: Value) -> Field {
    Field { id, value }
}

#[test]
fn binary_strict_message_bytes() {
    let msg = call(
        "echo",
        7,
        Value::Struct(vec![field(1, Value::string("hi"))]),
    );
    let bytes = encode_to_vec::<Binary, _>(&msg).unwrap();
    let expected: &[u8] = &[
        0x80, 0x01, 0x00, 0x01, // version | call
        0, 0, 0, 4, b'e', b'c', b'h', b'o', // name
        0, 0, 0, 7, // seq id
        11, 0, 1, 0, 0, 0, 2, b'h', b'i', // field 1: string "hi"
        0,    // stop
    ];
    assert_eq!(bytes, expected);
    let decoded = Message::<Value>::decode(&mut binary_reader(&bytes)).unwrap();
    assert_eq!(decoded, msg);
}

#[test]
fn binary_reads_old_non_strict_header() {
    let bytes: &[u8] = &[0, 0, 0, 4, b'e', b'c', b'h', b'o', 1, 0, 0, 0, 9, 0];
    let msg = Message::<Value>::decode(&mut binary_reader(bytes)).unwrap();
    assert_eq!(msg.header.name, "echo");
    assert_eq!(msg.header.kind, MessageType::Call);
    assert_eq!(msg.header.seq_id, 9);
    assert_eq!(msg.body, Value::Struct(vec![]));
}

#[test]
fn binary_rejects_bad_version_with_offset() {
    let err =
        Message::<Value>::decode(&mut binary_reader(&[0x80, 0x02, 0, 1, 0, 0, 0, 0])).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadVersion(0x8002_0001));
    assert_eq!(err.offset, 0);
}

#[test]
fn compact_message_and_field_deltas() {
    let body = Value::Struct(vec![
        field(1, Value::I32(-1)),
        field(2, Value::Bool(true)),
        field(3, Value::Bool(false)),
        field(20, Value::I64(300)),
        field(5, Value::Double(1.5)),
        field(6, Value::Struct(vec![field(1, Value::Byte(-2))])),
        field(7, Value::Byte(1)),
    ]);
    let msg = call("m", 300, body);
    let bytes = encode_to_vec::<Compact, _>(&msg).unwrap();
    let expected: &[u8] = &[
        0x82, 0x21, // protocol id, version 1 | call << 5
        0xAC, 0x02, // seq id 300 as varint
        1, b'm', // name
        0x15, 0x01, // field 1 delta 1, i32 zigzag(-1) = 1
        0x11, // field 2 delta 1, bool true
        0x12, // field 3 delta 1, bool false
        0x06, 0x28, 0xD8, 0x04, // field 20 long form: i64, zigzag(20)=40, zigzag(300)=600
        0x07, 0x0A, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, // field 5 long form, LE double
        0x1C, // field 6 delta 1, struct
        0x13, 0xFE, 0x00, // nested field 1 byte -2 (delta restarts at 0), stop
        0x13, 0x01, // field 7 delta 1: the nested struct restored last id 6
        0x00,
    ];
    assert_eq!(bytes, expected);
    let decoded = Message::<Value>::decode(&mut compact_reader(&bytes)).unwrap();
    assert_eq!(decoded, msg);
}

#[test]
fn compact_collections_and_uuid() {
    let value = Value::Struct(vec![
        field(
            1,
            Value::List {
                elem: TType::Bool,
                items: vec![Value::Bool(true), Value::Bool(false)],
            },
        ),
        field(
            2,
            Value::Map {
                key: TType::Binary,
                value: TType::I16,
                entries: vec![(Value::string("k"), Value::I16(-3))],
            },
        ),
        field(3, Value::Uuid([0xAB; 16])),
        field(
            4,
            Value::Set {
                elem: TType::I32,
                items: (0..20).map(Value::I32).collect(),
            },
        ),
    ]);
    let bytes = encode_to_vec::<Compact, _>(&value).unwrap();
    assert_eq!(&bytes[..5], &[0x19, 0x21, 0x01, 0x02, 0x1B]);
    assert_eq!(&bytes[5..10], &[0x01, 0x84, 0x01, b'k', 0x05]);
    assert_eq!(bytes[10], 0x1D);
    assert_eq!(&bytes[11..27], &[0xAB; 16]);
    assert_eq!(&bytes[27..30], &[0x1A, 0xF5, 20]);
    let decoded = Value::decode(&mut compact_reader(&bytes), TType::Struct).unwrap();
    assert_eq!(decoded, value);
}

#[test]
fn compact_empty_map_carries_no_types() {
    let value = Value::Map {
        key: TType::I32,
        value: TType::I32,
        entries: vec![],
    };
    let bytes = encode_to_vec::<Compact, _>(&value).unwrap();
    assert_eq!(bytes, [0]);
    let decoded = Value::decode(&mut compact_reader(&bytes), TType::Map).unwrap();
    assert_eq!(
        decoded,
        Value::Map {
            key: TType::Void,
            value: TType::Void,
            entries: vec![]
        }
    );
}

#[test]
fn container_count_bounded_by_limit_and_remaining_bytes() {
    // A list of 2^31-1 i64 in a 20-byte input: refused at the header, before any allocation.
    let mut bytes = vec![10u8, 0x7F, 0xFF, 0xFF, 0xFF];
    bytes.resize(20, 0);
    let err = Value::decode(&mut binary_reader(&bytes), TType::List).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ContainerTooLarge {
            len: 0x7FFF_FFFF,
            limit: DecodeLimits::DEFAULT_MAX_FRAME
        }
    );
    assert_eq!(err.offset, 0);
    // Within the element limit, but 1,000,000 i64 cannot fit in the 15 bytes that remain.
    bytes[1..5].copy_from_slice(&1_000_000i32.to_be_bytes());
    let err = Value::decode(&mut binary_reader(&bytes), TType::List).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ContainerExceedsInput {
            len: 1_000_000,
            min_bytes: 8_000_000,
            remaining: 15
        }
    );
}

#[test]
fn negative_lengths_are_errors() {
    let err = binary_reader(&[0xFF, 0xFF, 0xFF, 0xFE])
        .read_binary()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NegativeLength(-2));
    let err = compact_reader(&[0xF9, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        .read_list_begin()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NegativeLength(-1));
}

#[test]
fn string_limit_is_enforced() {
    let limits = DecodeLimits {
        max_string: 3,
        ..DecodeLimits::default()
    };
    let err = BinaryReader::from_slice(&[0, 0, 0, 4, 1, 2, 3, 4], limits)
        .read_binary()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::StringTooLong { len: 4, limit: 3 });
}

#[test]
fn unknown_type_ids_are_errors_with_offsets() {
    let err = Value::decode(&mut binary_reader(&[7, 0, 1]), TType::Struct).unwrap_err();
    assert_eq!((err.kind, err.offset), (ErrorKind::InvalidType(7), 0));
    let err = Value::decode(&mut compact_reader(&[0x1E]), TType::Struct).unwrap_err();
    assert_eq!((err.kind, err.offset), (ErrorKind::InvalidType(14), 0));
    let err = Value::decode(&mut compact_reader(&[0x13, 0x00, 0x1E]), TType::Struct).unwrap_err();
    assert_eq!((err.kind, err.offset), (ErrorKind::InvalidType(14), 2));
}

#[test]
fn compact_field_id_overflow() {
    // Long-form field id 32767, then a delta of 1 pushes it past i16.
    let bytes = [0x03, 0xFE, 0xFF, 0x03, 0x00, 0x13, 0x00];
    let err = Value::decode(&mut compact_reader(&bytes), TType::Struct).unwrap_err();
    assert_eq!((err.kind, err.offset), (ErrorKind::FieldIdOverflow, 5));
}

#[test]
fn deep_nesting_is_refused_in_decode_and_skip() {
    // 10,000 nested lists of lists in Binary: depth error, not a stack overflow.
    let mut bytes = Vec::new();
    for _ in 0..10_000 {
        bytes.extend_from_slice(&[15, 0, 0, 0, 1]);
    }
    let err = Value::decode(&mut binary_reader(&bytes), TType::List).unwrap_err();
    assert_eq!(err.kind, ErrorKind::DepthExceeded { limit: 64 });
    let err = skip(&mut binary_reader(&bytes), TType::List).unwrap_err();
    assert_eq!(err.kind, ErrorKind::DepthExceeded { limit: 64 });
    assert_eq!(err.offset, 64 * 5);
}

#[test]
fn writer_refuses_to_nest_deeper_than_readers_accept() {
    let mut value = Value::Struct(vec![]);
    for _ in 0..MAX_WRITE_DEPTH {
        value = Value::Struct(vec![field(1, value)]);
    }
    assert_eq!(
        encode_to_vec::<Binary, _>(&value).unwrap_err(),
        EncodeError::DepthExceeded { limit: 64 }
    );
}

#[test]
fn mismatched_element_types_do_not_encode() {
    let value = Value::List {
        elem: TType::I32,
        items: vec![Value::string("x")],
    };
    assert!(matches!(
        encode_to_vec::<Compact, _>(&value),
        Err(EncodeError::TypeMismatch { .. })
    ));
}

#[test]
fn binaries_from_bytes_are_zero_copy() {
    let bytes = Bytes::from(encode_to_vec::<Binary, _>(&Value::string("payload")).unwrap());
    let mut reader = BinaryReader::new(Input::from_bytes(&bytes, 0, DecodeLimits::default()));
    let out = reader.read_bytes().unwrap();
    assert_eq!(&out[..], b"payload");
    assert_eq!(out.as_ptr(), bytes[4..].as_ptr());
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i8>().prop_map(Value::Byte),
        any::<i16>().prop_map(Value::I16),
        any::<i32>().prop_map(Value::I32),
        any::<i64>().prop_map(Value::I64),
        any::<f64>().prop_map(Value::Double),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(|b| Value::Binary(b.into())),
        any::<[u8; 16]>().prop_map(Value::Uuid),
    ]
}

/// Values whose containers are homogeneous (as the wire requires). Empty maps keep their
/// types in Binary only, so the strategy makes non-empty maps.
fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec((any::<i16>(), inner.clone()), 0..6).prop_map(|fs| {
                Value::Struct(
                    fs.into_iter()
                        .map(|(id, value)| Field { id, value })
                        .collect(),
                )
            }),
            (inner.clone(), 0usize..6).prop_map(|(seed, n)| Value::List {
                elem: seed.ttype(),
                items: vec![seed; n]
            }),
            proptest::collection::vec(inner.clone(), 1..4).prop_map(|items| {
                let elem = items[0].ttype();
                Value::Set {
                    elem,
                    items: items.into_iter().filter(|v| v.ttype() == elem).collect(),
                }
            }),
            (scalar(), inner, 1usize..4).prop_map(|(k, v, n)| Value::Map {
                key: k.ttype(),
                value: v.ttype(),
                entries: vec![(k, v); n]
            }),
        ]
    })
}

proptest! {
    #[test]
    fn value_round_trips_binary(v in value()) {
        let bytes = encode_to_vec::<Binary, _>(&v).unwrap();
        prop_assert_eq!(bytes.len(), encoded_len::<Binary, _>(&v).unwrap());
        let back = Value::decode(&mut binary_reader(&bytes), v.ttype()).unwrap();
        prop_assert_eq!(back, v);
    }

    #[test]
    fn value_round_trips_compact(v in value()) {
        let bytes = encode_to_vec::<Compact, _>(&v).unwrap();
        prop_assert_eq!(bytes.len(), encoded_len::<Compact, _>(&v).unwrap());
        let back = Value::decode(&mut compact_reader(&bytes), v.ttype()).unwrap();
        prop_assert_eq!(back, v.compact_view());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let limits = DecodeLimits::small();
        for ttype in [TType::Struct, TType::List, TType::Map] {
            let _ = Value::decode(&mut BinaryReader::from_slice(&bytes, limits), ttype);
            let _ = Value::decode(&mut CompactReader::from_slice(&bytes, limits), ttype);
            let _ = skip(&mut BinaryReader::from_slice(&bytes, limits), ttype);
            let _ = skip(&mut CompactReader::from_slice(&bytes, limits), ttype);
        }
        let _ = Message::<Value>::decode(&mut BinaryReader::from_slice(&bytes, limits));
        let _ = Message::<Value>::decode(&mut CompactReader::from_slice(&bytes, limits));
    }

    #[test]
    fn skip_consumes_exactly_what_decode_consumes(v in value()) {
        let bytes = encode_to_vec::<Compact, _>(&v).unwrap();
        let mut reader = compact_reader(&bytes);
        skip(&mut reader, v.ttype()).unwrap();
        prop_assert_eq!(reader.remaining(), 0);
    }
}
