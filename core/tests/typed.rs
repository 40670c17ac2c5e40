//! Typed messages end to end: `#[derive(Thrift)]` structs and enums and the std impls,
//! round-tripped through Binary and Compact, checked against hand-computed bytes, and fed
//! unknown fields, wrong types, missing required fields, deep nesting and random bytes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Debug;

use bytes::Bytes;
use faultline_core::protocol::{
    decode_from_bytes, decode_from_slice, encode_to_vec, encoded_len, Binary, Compact, DecodeError,
    DecodeLimits, EncodeError, ErrorKind, Message, MessageHeader, MessageType, Protocol, TType,
    ThriftType,
};
use faultline_core::Thrift;
use proptest::prelude::*;

#[derive(Thrift, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
enum Color {
    #[default]
    Red = 1,
    Green = 2,
    Blue = -5,
}

#[derive(Thrift, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
struct Point {
    #[thrift(id = 1)]
    x: i32,
    #[thrift(id = 2)]
    y: i32,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct Everything {
    #[thrift(id = 1)]
    flag: bool,
    #[thrift(id = 2)]
    byte: i8,
    #[thrift(id = 3)]
    short: i16,
    #[thrift(id = 4)]
    int: i32,
    #[thrift(id = 5)]
    long: i64,
    #[thrift(id = 6)]
    dbl: f64,
    #[thrift(id = 7)]
    text: String,
    #[thrift(id = 8)]
    bin: Bytes,
    #[thrift(id = 9)]
    uuid: [u8; 16],
    #[thrift(id = 10)]
    point: Point,
    #[thrift(id = 11)]
    points: Vec<Point>,
    #[thrift(id = 12)]
    point_set: BTreeSet<Point>,
    #[thrift(id = 13)]
    tags: HashSet<String>,
    #[thrift(id = 14)]
    by_name: HashMap<String, Point>,
    #[thrift(id = 15)]
    colors_by_key: BTreeMap<i64, Vec<Color>>,
    #[thrift(id = 16)]
    color: Color,
    #[thrift(id = 17)]
    opt_present: Option<String>,
    #[thrift(id = 18)]
    opt_absent: Option<Point>,
    #[thrift(id = 19, required)]
    req: i64,
    #[thrift(id = 20, default = "42")]
    with_default: i32,
    #[thrift(id = 21)]
    boxed: Box<Point>,
    #[thrift(id = 0)]
    zero_id: bool,
    #[thrift(id = -3)]
    negative_id: i16,
    #[thrift(id = 22)]
    r#type: String,
    #[thrift(id = 23)]
    empty_map: HashMap<i32, String>,
    #[thrift(id = 24)]
    nested: Vec<Vec<i32>>,
    #[thrift(id = 25)]
    bools: Vec<bool>,
    #[thrift(id = 26)]
    flag_false: bool,
    #[thrift(id = 27)]
    empty_list: Vec<String>,
    #[thrift(id = 300)]
    far_id: i64,
    #[thrift(id = 28)]
    opt_enum: Option<Color>,
}

fn everything() -> Everything {
    Everything {
        flag: true,
        byte: -7,
        short: -300,
        int: 1 << 20,
        long: i64::MIN,
        dbl: -1.5e300,
        text: "héllo".to_owned(),
        bin: Bytes::from_static(&[0, 1, 2, 0xff]),
        uuid: *b"0123456789abcdef",
        point: Point { x: 1, y: -1 },
        points: (0..20).map(|i| Point { x: i, y: i * i }).collect(),
        point_set: [Point { x: 3, y: 4 }, Point { x: 5, y: 6 }]
            .into_iter()
            .collect(),
        tags: ["a", "b", ""].iter().map(|s| s.to_string()).collect(),
        by_name: [("p".to_owned(), Point { x: 9, y: 9 })]
            .into_iter()
            .collect(),
        colors_by_key: [
            (1, vec![Color::Red, Color::Blue]),
            (-1, vec![]),
            (i64::MAX, vec![Color::Green]),
        ]
        .into_iter()
        .collect(),
        color: Color::Blue,
        opt_present: Some("here".to_owned()),
        opt_absent: None,
        req: 77,
        with_default: 5,
        boxed: Box::new(Point { x: -2, y: 2 }),
        zero_id: true,
        negative_id: -9,
        r#type: "kw".to_owned(),
        empty_map: HashMap::new(),
        nested: vec![vec![], vec![1, 2, 3]],
        bools: vec![true, false, true],
        flag_false: false,
        empty_list: vec![],
        far_id: 123_456_789_012,
        opt_enum: Some(Color::Green),
    }
}

/// Encodes in `P`, checks the size estimate, decodes from a slice and from `Bytes`.
fn roundtrip_in<P: Protocol, T: ThriftType + PartialEq + Debug>(value: &T) -> Vec<u8> {
    let bytes = encode_to_vec::<P, T>(value).expect("encode");
    assert_eq!(encoded_len::<P, T>(value).expect("size"), bytes.len());
    let back: T = decode_from_slice::<P, T>(&bytes, DecodeLimits::default()).expect("decode");
    assert_eq!(&back, value);
    let owned = Bytes::from(bytes.clone());
    let back: T = decode_from_bytes::<P, T>(&owned, DecodeLimits::default()).expect("decode");
    assert_eq!(&back, value);
    bytes
}

fn roundtrip<T: ThriftType + PartialEq + Debug>(value: &T) {
    roundtrip_in::<Binary, T>(value);
    roundtrip_in::<Compact, T>(value);
}

fn decode<P: Protocol, T: ThriftType>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_from_slice::<P, T>(bytes, DecodeLimits::default())
}

#[test]
fn every_field_kind_round_trips() {
    roundtrip(&everything());
    let mut sparse = everything();
    sparse.opt_present = None;
    sparse.opt_enum = None;
    sparse.opt_absent = Some(Point::default());
    roundtrip(&sparse);
}

#[test]
fn std_types_round_trip_on_their_own() {
    roundtrip(&true);
    roundtrip(&i8::MIN);
    roundtrip(&i16::MAX);
    roundtrip(&i32::MIN);
    roundtrip(&i64::MAX);
    roundtrip(&0.25f64);
    roundtrip(&String::from("s"));
    roundtrip(&Bytes::from_static(b"raw"));
    roundtrip(&[7u8; 16]);
    roundtrip(&vec![1i64, 2, 3]);
    roundtrip(&vec![vec![String::from("x")]]);
    roundtrip(&[1i32, 2].into_iter().collect::<HashSet<_>>());
    roundtrip(&[(1i8, 2.0f64)].into_iter().collect::<BTreeMap<_, _>>());
    roundtrip(&Box::new(Color::Green));
    roundtrip(&HashMap::<String, Vec<Point>>::new());
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct Echo {
    #[thrift(id = 1)]
    message: String,
}

#[test]
fn binary_encoding_matches_hand_computed_bytes() {
    let value = Echo {
        message: "hi".to_owned(),
    };
    let expected = [
        0x0B, 0x00, 0x01, // field header: binary, id 1
        0x00, 0x00, 0x00, 0x02, // i32 length
        b'h', b'i', // bytes
        0x00, // stop
    ];
    assert_eq!(
        encode_to_vec::<Binary, _>(&value).expect("encode"),
        expected
    );
    assert_eq!(decode::<Binary, Echo>(&expected).expect("decode"), value);
}

#[test]
fn compact_encoding_matches_hand_computed_bytes() {
    let value = Echo {
        message: "hi".to_owned(),
    };
    // field header: delta 1, compact type 8 (binary); varint length; bytes; stop
    let expected = [0x18, 0x02, b'h', b'i', 0x00];
    assert_eq!(
        encode_to_vec::<Compact, _>(&value).expect("encode"),
        expected
    );
    assert_eq!(decode::<Compact, Echo>(&expected).expect("decode"), value);
}

#[test]
fn enum_encodes_as_i32_and_rejects_unknown_values() {
    assert_eq!(
        encode_to_vec::<Binary, _>(&Color::Blue).expect("encode"),
        (-5i32).to_be_bytes()
    );
    let err = decode::<Binary, Color>(&99i32.to_be_bytes()).expect_err("unknown value");
    assert_eq!(err.kind, ErrorKind::UnknownEnumValue(99));
    assert_eq!(err.offset, 0);
    // Compact: zigzag(99) = 198 = 0xC6 0x01
    let err = decode::<Compact, Color>(&[0xC6, 0x01]).expect_err("unknown value");
    assert_eq!(err.kind, ErrorKind::UnknownEnumValue(99));
}

#[derive(Thrift, Debug, PartialEq)]
#[thrift(crate = "::faultline_core")]
struct Defaults {
    #[thrift(id = 1)]
    plain: String,
    #[thrift(id = 2, default = "42")]
    answer: i32,
    #[thrift(id = 3, default = vec![Color::Green])]
    colors: Vec<Color>,
    #[thrift(id = 4)]
    maybe: Option<i64>,
    #[thrift(id = 5)]
    color: Color,
}

#[test]
fn absent_fields_take_their_defaults() {
    // An empty struct is just a stop byte, in both protocols.
    for bytes in [
        decode::<Binary, Defaults>(&[0]),
        decode::<Compact, Defaults>(&[0]),
    ] {
        assert_eq!(
            bytes.expect("decode"),
            Defaults {
                plain: String::new(),
                answer: 42,
                colors: vec![Color::Green],
                maybe: None,
                color: Color::Red,
            }
        );
    }
}

#[test]
fn default_fields_are_always_written_optional_only_when_some() {
    let value = Defaults {
        plain: String::new(),
        answer: 0,
        colors: vec![],
        maybe: None,
        color: Color::Red,
    };
    let bytes = encode_to_vec::<Binary, _>(&value).expect("encode");
    // plain (3 + 4), answer (3 + 4), colors (3 + 5), color (3 + 4), stop (1); no field 4.
    assert_eq!(bytes.len(), 7 + 7 + 8 + 7 + 1);
    roundtrip(&value);
}

#[derive(Thrift, Debug, PartialEq)]
struct Request {
    #[thrift(id = 1)]
    name: String,
    #[thrift(id = 2, required)]
    seq: i64,
    #[thrift(id = 3)]
    tags: Option<Vec<String>>,
    #[thrift(id = 4)]
    attrs: HashMap<String, String>,
    #[thrift(id = 5)]
    points: Vec<Point>,
    #[thrift(id = 6)]
    payload: Bytes,
    #[thrift(id = 7)]
    color: Option<Color>,
    #[thrift(id = 8)]
    next: Option<Box<Request>>,
}

#[test]
fn missing_required_field_names_it() {
    for err in [
        decode::<Binary, Request>(&[0]).expect_err("missing"),
        decode::<Compact, Request>(&[0]).expect_err("missing"),
    ] {
        assert_eq!(err.kind, ErrorKind::MissingField { id: 2, name: "seq" });
        assert!(err.to_string().contains("seq"), "{err}");
    }
}

#[derive(Thrift, Debug, PartialEq)]
struct Narrow {
    #[thrift(id = 7)]
    text: String,
    #[thrift(id = 19, required)]
    req: i64,
}

#[derive(Thrift, Debug, PartialEq)]
struct Nothing;

#[derive(Thrift, Debug, PartialEq)]
struct NothingNamed {}

fn check_skips_unknown<P: Protocol>() {
    let bytes = encode_to_vec::<P, _>(&everything()).expect("encode");
    assert_eq!(
        decode::<P, Narrow>(&bytes).expect("decode"),
        Narrow {
            text: "héllo".to_owned(),
            req: 77
        }
    );
    assert_eq!(decode::<P, Nothing>(&bytes).expect("decode"), Nothing);
    assert_eq!(
        decode::<P, NothingNamed>(&bytes).expect("decode"),
        NothingNamed {}
    );
    // Unknown fields nested inside a known struct are skipped too.
    let outer = Outer {
        inner: everything(),
        after: 5,
    };
    let bytes = encode_to_vec::<P, _>(&outer).expect("encode");
    assert_eq!(
        decode::<P, OuterNarrow>(&bytes).expect("decode"),
        OuterNarrow {
            inner: Narrow {
                text: "héllo".to_owned(),
                req: 77
            },
            after: 5
        }
    );
}

#[derive(Thrift, Debug, PartialEq)]
struct Outer {
    #[thrift(id = 1, required)]
    inner: Everything,
    #[thrift(id = 2)]
    after: i32,
}

#[derive(Thrift, Debug, PartialEq)]
struct OuterNarrow {
    #[thrift(id = 1, required)]
    inner: Narrow,
    #[thrift(id = 2)]
    after: i32,
}

#[test]
fn unknown_fields_of_every_type_are_skipped() {
    check_skips_unknown::<Binary>();
    check_skips_unknown::<Compact>();
}

/// Declares known ids of `Everything` with other types.
#[derive(Thrift, Debug, PartialEq)]
struct WrongTypes {
    #[thrift(id = 7)]
    text: i64,
    #[thrift(id = 4)]
    int: Option<String>,
    #[thrift(id = 11)]
    points: Vec<Color>,
    #[thrift(id = 10)]
    point: Option<Vec<Point>>,
    #[thrift(id = 3, default = "-1")]
    short: i32,
    #[thrift(id = 1)]
    flag: Option<i8>,
}

#[derive(Thrift, Debug, PartialEq)]
struct WrongRequired {
    #[thrift(id = 19, required)]
    req: String,
}

fn check_wrong_types<P: Protocol>() {
    let bytes = encode_to_vec::<P, _>(&everything()).expect("encode");
    // Field 11 is a list on the wire and declared as one, so its element type is checked.
    let err = decode::<P, WrongTypes>(&bytes).expect_err("list<struct> as list<i32>");
    assert_eq!(
        err.kind,
        ErrorKind::TypeMismatch {
            expected: TType::I32,
            found: TType::Struct
        }
    );

    let mut value = everything();
    value.points.clear();
    let bytes = encode_to_vec::<P, _>(&value).expect("encode");
    // ... except that an empty list of another element type still is a type mismatch.
    assert!(decode::<P, WrongTypes>(&bytes).is_err());

    // With field 11 out of the way, every other mismatch is skipped.
    #[derive(Thrift, Debug, PartialEq)]
    struct Shadow {
        #[thrift(id = 7)]
        text: String,
        #[thrift(id = 19, required)]
        req: i64,
    }
    let bytes = encode_to_vec::<P, _>(&Shadow {
        text: "t".to_owned(),
        req: 1,
    })
    .expect("encode");
    #[derive(Thrift, Debug, PartialEq)]
    struct ShadowWrong {
        #[thrift(id = 7, default = "-2")]
        text: i64,
        #[thrift(id = 19)]
        req: Option<Point>,
    }
    assert_eq!(
        decode::<P, ShadowWrong>(&bytes).expect("decode"),
        ShadowWrong {
            text: -2,
            req: None
        }
    );

    let bytes = encode_to_vec::<P, _>(&everything()).expect("encode");
    let err = decode::<P, WrongRequired>(&bytes).expect_err("wrong type = absent");
    assert_eq!(
        err.kind,
        ErrorKind::MissingField {
            id: 19,
            name: "req"
        }
    );
}

#[test]
fn known_ids_with_wrong_wire_types_are_skipped() {
    check_wrong_types::<Binary>();
    check_wrong_types::<Compact>();

    // Every mismatching field of WrongTypes except 11, against hand-built binary input.
    #[derive(Thrift, Debug, PartialEq)]
    struct Source {
        #[thrift(id = 7)]
        text: String,
        #[thrift(id = 4)]
        int: i32,
        #[thrift(id = 10)]
        point: Point,
        #[thrift(id = 3)]
        short: i16,
        #[thrift(id = 1)]
        flag: bool,
    }
    let source = Source {
        text: "x".to_owned(),
        int: 3,
        point: Point { x: 1, y: 2 },
        short: 4,
        flag: true,
    };
    for bytes in [
        encode_to_vec::<Binary, _>(&source).expect("encode"),
        encode_to_vec::<Compact, _>(&source).expect("encode"),
    ] {
        let decoded = if bytes[0] == 0x0B {
            decode::<Binary, WrongTypes>(&bytes)
        } else {
            decode::<Compact, WrongTypes>(&bytes)
        };
        assert_eq!(
            decoded.expect("decode"),
            WrongTypes {
                text: 0,
                int: None,
                points: vec![],
                point: None,
                short: -1,
                flag: None,
            }
        );
    }
}

#[test]
fn last_duplicate_field_wins() {
    let bytes = [
        0x08, 0x00, 0x01, 0, 0, 0, 1, // x = 1
        0x08, 0x00, 0x01, 0, 0, 0, 2, // x = 2
        0x00,
    ];
    assert_eq!(
        decode::<Binary, Point>(&bytes).expect("decode"),
        Point { x: 2, y: 0 }
    );
}

#[test]
fn map_and_set_type_checks() {
    // map<string, i32> where map<i32, string> is declared.
    let bytes = [0x0B, 0x08, 0, 0, 0, 1, 0, 0, 0, 1, b'k', 0, 0, 0, 5];
    let err = decode::<Binary, HashMap<i32, String>>(&bytes).expect_err("mismatch");
    assert_eq!(
        err.kind,
        ErrorKind::TypeMismatch {
            expected: TType::I32,
            found: TType::Binary
        }
    );
    assert_eq!(err.offset, 0);
    // An empty binary map with other types is accepted.
    let empty = [0x0B, 0x08, 0, 0, 0, 0];
    assert!(decode::<Binary, HashMap<i32, String>>(&empty)
        .expect("decode")
        .is_empty());
    // An empty compact map has no types at all.
    assert!(decode::<Compact, BTreeMap<i32, String>>(&[0])
        .expect("decode")
        .is_empty());
    // set<string> where set<i64> is declared.
    let bytes = [0x0B, 0, 0, 0, 0];
    let err = decode::<Binary, BTreeSet<i64>>(&bytes).expect_err("mismatch");
    assert_eq!(
        err.kind,
        ErrorKind::TypeMismatch {
            expected: TType::I64,
            found: TType::Binary
        }
    );
}

#[test]
fn binary_fields_decode_zero_copy_from_bytes() {
    let value = Request {
        name: "n".to_owned(),
        seq: 1,
        tags: None,
        attrs: HashMap::new(),
        points: vec![],
        payload: Bytes::from(vec![0xAB; 64]),
        color: None,
        next: None,
    };
    for buf in [
        Bytes::from(encode_to_vec::<Binary, _>(&value).expect("encode")),
        Bytes::from(encode_to_vec::<Compact, _>(&value).expect("encode")),
    ] {
        let decoded = if buf[0] == 0x0B {
            decode_from_bytes::<Binary, Request>(&buf, DecodeLimits::default())
        } else {
            decode_from_bytes::<Compact, Request>(&buf, DecodeLimits::default())
        }
        .expect("decode");
        assert_eq!(decoded, value);
        let range = buf.as_ptr_range();
        assert!(
            range.contains(&decoded.payload.as_ptr()),
            "payload was copied"
        );
    }
}

#[derive(Thrift, Debug, PartialEq)]
struct Node {
    #[thrift(id = 1)]
    next: Option<Box<Node>>,
}

fn chain(depth: usize) -> Node {
    let mut node = Node { next: None };
    for _ in 1..depth {
        node = Node {
            next: Some(Box::new(node)),
        };
    }
    node
}

/// `depth` nested `Node`s, by hand: each level is a field header, the innermost a stop.
fn nested_nodes(depth: usize, compact: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 1..depth {
        if compact {
            bytes.push(0x1C);
        } else {
            bytes.extend_from_slice(&[0x0C, 0x00, 0x01]);
        }
    }
    bytes.extend(std::iter::repeat_n(0u8, depth));
    bytes
}

#[test]
fn recursion_past_the_depth_limit_is_an_error_not_a_stack_overflow() {
    for compact in [false, true] {
        let decode_nodes = |depth: usize| {
            let bytes = nested_nodes(depth, compact);
            if compact {
                decode::<Compact, Node>(&bytes)
            } else {
                decode::<Binary, Node>(&bytes)
            }
        };
        assert_eq!(decode_nodes(10).expect("shallow"), chain(10));
        // The limit is 64 levels: 64 nested structs decode, 65 do not.
        assert_eq!(decode_nodes(64).expect("at the limit"), chain(64));
        for depth in [65, 100, 100_000] {
            let err = decode_nodes(depth).expect_err("too deep");
            assert!(
                matches!(err.kind, ErrorKind::DepthExceeded { limit: 64 }),
                "{err}"
            );
        }
    }
    roundtrip(&chain(30));
    // The writers refuse what the readers would refuse.
    let deep = chain(200);
    assert!(matches!(
        encode_to_vec::<Binary, _>(&deep),
        Err(EncodeError::DepthExceeded { .. })
    ));
    assert!(matches!(
        encode_to_vec::<Compact, _>(&deep),
        Err(EncodeError::DepthExceeded { .. })
    ));
    // Drop the deep chain iteratively: the default recursive drop is fine at 200, but
    // keep the test honest about what it exercises.
    let mut next = deep.next;
    while let Some(node) = next {
        next = node.next;
    }
}

#[test]
fn message_envelope_round_trips_a_derived_body() {
    let message = Message {
        header: MessageHeader {
            name: "Echo".to_owned(),
            kind: MessageType::Call,
            seq_id: 7,
        },
        body: Echo {
            message: "ping".to_owned(),
        },
    };
    for (bytes, compact) in [
        (encode_to_vec::<Binary, _>(&message).expect("encode"), false),
        (encode_to_vec::<Compact, _>(&message).expect("encode"), true),
    ] {
        let limits = DecodeLimits::default();
        let decoded = if compact {
            Message::<Echo>::decode(&mut Compact::reader(faultline_core::protocol::Input::new(
                &bytes, 0, limits,
            )))
        } else {
            Message::<Echo>::decode(&mut Binary::reader(faultline_core::protocol::Input::new(
                &bytes, 0, limits,
            )))
        };
        assert_eq!(decoded.expect("decode"), message);
    }
}

/// A generic struct: the derive bounds its type parameters by `ThriftType`.
#[derive(Thrift, Debug, PartialEq)]
struct Page<T> {
    #[thrift(id = 1)]
    items: Vec<T>,
    #[thrift(id = 2)]
    cursor: Option<String>,
}

#[test]
fn generic_structs_round_trip() {
    roundtrip(&Page {
        items: vec![Point { x: 1, y: 2 }],
        cursor: Some("c".to_owned()),
    });
    roundtrip(&Page::<i64> {
        items: vec![],
        cursor: None,
    });
}

fn request() -> Request {
    Request {
        name: "echo".to_owned(),
        seq: 42,
        tags: Some(vec!["a".to_owned(), "bb".to_owned()]),
        attrs: [("k".to_owned(), "v".to_owned())].into_iter().collect(),
        points: vec![Point { x: 1, y: 2 }, Point { x: -3, y: 4 }],
        payload: Bytes::from_static(b"\x00\x01payload"),
        color: Some(Color::Green),
        next: Some(Box::new(Request {
            name: "inner".to_owned(),
            seq: -1,
            tags: None,
            attrs: HashMap::new(),
            points: vec![],
            payload: Bytes::new(),
            color: None,
            next: None,
        })),
    }
}

fn decode_all_ways(bytes: &[u8]) {
    let limits = DecodeLimits::small();
    let _ = decode_from_slice::<Binary, Request>(bytes, limits);
    let _ = decode_from_slice::<Compact, Request>(bytes, limits);
    let _ = decode_from_slice::<Binary, Everything>(bytes, limits);
    let _ = decode_from_slice::<Compact, Everything>(bytes, limits);
    let owned = Bytes::copy_from_slice(bytes);
    let _ = decode_from_bytes::<Binary, Request>(&owned, limits);
    let _ = decode_from_bytes::<Compact, Request>(&owned, limits);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all_ways(&bytes);
    }

    #[test]
    fn mutated_encodings_never_panic(
        compact in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = if compact {
            encode_to_vec::<Compact, _>(&request()).expect("encode")
        } else {
            encode_to_vec::<Binary, _>(&request()).expect("encode")
        };
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        decode_all_ways(&bytes);
        let keep = cut.index(bytes.len());
        decode_all_ways(&bytes[..keep]);
    }

    #[test]
    fn arbitrary_requests_round_trip(
        name in ".{0,16}",
        seq in any::<i64>(),
        tags in proptest::option::of(proptest::collection::vec(".{0,4}", 0..4)),
        attrs in proptest::collection::hash_map(".{0,4}", ".{0,4}", 0..4),
        points in proptest::collection::vec((any::<i32>(), any::<i32>()), 0..20),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        color in proptest::option::of(prop_oneof![
            Just(Color::Red), Just(Color::Green), Just(Color::Blue)
        ]),
    ) {
        let value = Request {
            name,
            seq,
            tags,
            attrs,
            points: points.into_iter().map(|(x, y)| Point { x, y }).collect(),
            payload: Bytes::from(payload),
            color,
            next: None,
        };
        roundtrip(&value);
    }
}

#[test]
fn representative_request_round_trips() {
    roundtrip(&request());
}
