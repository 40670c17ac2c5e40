//! Frame round trips for every transport and protocol, byte vectors built by hand from the
//! published TTHeader / THeader layouts, detection and `frame_len`.

#[path = "frame_support.rs"]
mod support;

use std::time::Duration;

use bytes::Bytes;
use faultline_core::frame::{
    decode_frame, decode_frame_bytes, detect, encode_frame, frame_len, Header, IntKey, Transport,
};
use faultline_core::protocol::{
    Binary, BinaryReader, Compact, DecodeLimits, Field, Message, MessageHeader, MessageType,
    ProtocolId, Value,
};
use support::*;

fn limits() -> DecodeLimits {
    DecodeLimits::default()
}

#[test]
fn every_transport_and_protocol_round_trips() {
    for (transport, protocol, bytes) in all_frames() {
        let ctx = format!("{transport} {protocol:?}");
        assert_eq!(
            bytes.capacity(),
            bytes.len(),
            "{ctx}: allocated once, exactly"
        );
        let expected_header = header_for(transport, protocol, 42);
        for (t, p) in [
            (None, None),
            (Some(transport), None),
            (Some(transport), Some(protocol)),
        ] {
            let frame = decode_frame(&bytes, t, p, &limits()).expect(&ctx);
            assert_eq!(frame.transport, transport, "{ctx}");
            assert_eq!(frame.protocol, protocol, "{ctx}");
            assert_eq!(frame.len, bytes.len(), "{ctx}");
            assert_eq!(frame.header, expected_header, "{ctx}");
            assert_eq!(
                &bytes[frame.payload_offset..frame.payload_offset + frame.payload.len()],
                frame.payload
            );
            let message = frame.decode_message::<Echo>(limits()).expect(&ctx);
            assert_eq!(message, echo_message(42), "{ctx}");
        }
        assert_eq!(
            detect(&bytes).unwrap(),
            Some((transport, protocol)),
            "{ctx}"
        );
        assert_eq!(
            frame_len(&bytes, None, None, &limits()).unwrap(),
            Some(bytes.len()),
            "{ctx}"
        );
    }
}

#[test]
fn headers_without_metadata_round_trip() {
    for transport in [
        Transport::TTHeader,
        Transport::TTHeaderFramed,
        Transport::THeader,
    ] {
        for protocol in PROTOCOLS {
            let bytes = encode_with(transport, protocol, None, &echo_message(1)).unwrap();
            let frame = decode_frame(&bytes, None, None, &limits()).unwrap();
            assert_eq!(frame.header, Some(Header::new(protocol, 0)));
            assert_eq!(
                frame.decode_message::<Echo>(limits()).unwrap(),
                echo_message(1)
            );
        }
    }
}

#[test]
fn frames_follow_each_other_in_one_buffer() {
    let frames = all_frames();
    let mut stream = Vec::new();
    for (_, _, f) in &frames {
        stream.extend_from_slice(f);
    }
    let mut at = 0;
    for (transport, protocol, f) in &frames {
        let rest = &stream[at..];
        assert_eq!(
            frame_len(rest, None, None, &limits()).unwrap(),
            Some(f.len())
        );
        let frame = decode_frame(rest, None, None, &limits()).unwrap();
        assert_eq!((frame.transport, frame.protocol), (*transport, *protocol));
        assert_eq!(frame.len, f.len());
        at += frame.len;
    }
    assert_eq!(at, stream.len());
}

#[test]
fn bytes_variant_is_zero_copy() {
    let bytes = Bytes::from(
        encode_with(
            Transport::TTHeader,
            ProtocolId::Binary,
            Some(&full_header(ProtocolId::Binary, 3)),
            &echo_message(3),
        )
        .unwrap(),
    );
    let range = bytes.as_ptr_range();
    let frame = decode_frame_bytes(&bytes, None, None, &limits()).unwrap();
    let payload = frame.payload_bytes();
    assert!(range.contains(&payload.as_ptr()));
    let header = frame.header.as_ref().unwrap();
    let method = header.metadata.int_value(IntKey::ToMethod).unwrap();
    assert!(
        range.contains(&method.as_ptr()),
        "metadata borrows the frame"
    );
    assert_eq!(header.metadata.to_method(), Some("Echo"));
    assert_eq!(
        header.metadata.rpc_timeout(),
        Some(Duration::from_millis(250))
    );
}

// ---- hand-built vectors -------------------------------------------------------------

/// Strict binary: call "Echo", seq 7, body `{1: "hi"}`. 26 bytes.
const BINARY_PAYLOAD: &[u8] = &[
    0x80, 0x01, 0x00, 0x01, // version 1, call
    0x00, 0x00, 0x00, 0x04, b'E', b'c', b'h', b'o', // name
    0x00, 0x00, 0x00, 0x07, // seq id
    0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, b'h', b'i', // field 1: string "hi"
    0x00, // stop
];

fn hi_message() -> Message<Value> {
    Message {
        header: MessageHeader {
            name: "Echo".to_owned(),
            kind: MessageType::Call,
            seq_id: 7,
        },
        body: Value::Struct(vec![Field {
            id: 1,
            value: Value::string("hi"),
        }]),
    }
}

#[rustfmt::skip]
fn ttheader_vector() -> Vec<u8> {
    let mut v = vec![
        0x00, 0x00, 0x00, 0x4c, // length: 10 + 40 + 26 = 76
        0x10, 0x00,             // magic
        0x00, 0x01,             // flags: support out of order
        0x00, 0x00, 0x00, 0x07, // seq id
        0x00, 0x0a,             // header size: 10 words = 40 bytes
        0x00,                   // protocol id: binary
        0x00,                   // no transforms
        // ACL token "tok" (Kitex writes it first)
        0x11, 0x00, 0x03, b't', b'o', b'k',
        // string key/values: 1 pair, "id" -> "x"
        0x01, 0x00, 0x01,
        0x00, 0x02, b'i', b'd', 0x00, 0x01, b'x',
        // int key/values: 2 pairs, ToMethod(9) -> "Echo", RPCTimeout(12) -> "1000"
        0x10, 0x00, 0x02,
        0x00, 0x09, 0x00, 0x04, b'E', b'c', b'h', b'o',
        0x00, 0x0c, 0x00, 0x04, b'1', b'0', b'0', b'0',
        // padding: 37 -> 40
        0x00, 0x00, 0x00,
    ];
    v.extend_from_slice(BINARY_PAYLOAD);
    assert_eq!(v.len(), 80);
    v
}

fn ttheader_vector_header() -> Header {
    let mut h = Header::new(ProtocolId::Binary, 7);
    h.flags = Header::FLAG_SUPPORT_OUT_OF_ORDER;
    h.metadata.set_string("id", "x");
    h.metadata.set_int(IntKey::ToMethod, "Echo");
    h.metadata.set_int(IntKey::RpcTimeout, "1000");
    h.metadata.acl_token = Some(Bytes::from_static(b"tok"));
    h
}

#[test]
fn ttheader_vector_decodes_to_its_fields() {
    let v = ttheader_vector();
    assert_eq!(
        detect(&v).unwrap(),
        Some((Transport::TTHeader, ProtocolId::Binary))
    );
    let frame = decode_frame(&v, None, None, &limits()).unwrap();
    assert_eq!(frame.transport, Transport::TTHeader);
    assert_eq!(frame.len, 80);
    assert_eq!(frame.payload_offset, 54);
    assert_eq!(frame.payload, BINARY_PAYLOAD);
    let header = frame.header.clone().unwrap();
    assert_eq!(header, ttheader_vector_header());
    assert_eq!(header.flags, 1);
    assert_eq!(header.seq_id, 7);
    assert_eq!(header.metadata.to_method(), Some("Echo"));
    assert_eq!(header.metadata.rpc_timeout(), Some(Duration::from_secs(1)));
    assert_eq!(header.metadata.acl_token.as_deref(), Some(&b"tok"[..]));
    let mut reader = BinaryReader::new(frame.input(limits()));
    assert_eq!(Message::<Value>::decode(&mut reader).unwrap(), hi_message());
}

#[test]
fn ttheader_vector_is_what_the_encoder_writes() {
    let header = ttheader_vector_header();
    let out = encode_frame::<Binary, _>(Transport::TTHeader, Some(&header), &hi_message()).unwrap();
    assert_eq!(&out[..], &ttheader_vector()[..]);
    assert_eq!(out.capacity(), out.len());
}

/// The worked example of the wire research note (int key MsgType(22) = "1", seq 1, binary
/// call "ping" with empty args), computed from Kitex's encoder, and its framed variant.
#[test]
fn kitex_worked_example() {
    let payload: &[u8] = &[
        0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x70, 0x69, 0x6e, 0x67, 0x00, 0x00, 0x00,
        0x01, 0x00,
    ];
    let head: &[u8] = &[
        0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x10, 0x00, 0x01,
        0x00, 0x16, 0x00, 0x01, 0x31, 0x00, 0x00,
    ];
    let plain = [&[0x00, 0x00, 0x00, 0x27][..], head, payload].concat();
    let framed = [
        &[0x00, 0x00, 0x00, 0x2b][..],
        head,
        &[0, 0, 0, 0x11],
        payload,
    ]
    .concat();
    let mut header = Header::new(ProtocolId::Binary, 1);
    header.metadata.set_msg_type(MessageType::Call);
    let message = Message {
        header: MessageHeader {
            name: "ping".to_owned(),
            kind: MessageType::Call,
            seq_id: 1,
        },
        body: Value::Struct(Vec::new()),
    };
    for (bytes, transport) in [
        (plain, Transport::TTHeader),
        (framed, Transport::TTHeaderFramed),
    ] {
        let frame = decode_frame(&bytes, None, None, &limits()).unwrap();
        assert_eq!(frame.transport, transport);
        assert_eq!(frame.payload, payload);
        assert_eq!(frame.header.as_ref(), Some(&header));
        let out = encode_frame::<Binary, _>(transport, Some(&header), &message).unwrap();
        assert_eq!(&out[..], &bytes[..], "{transport}");
    }
    // The note's THeader example: headers {k: v}, same payload.
    let theader = [
        &[0x00, 0x00, 0x00, 0x23, 0x0f, 0xff, 0, 0, 0, 0, 0, 1, 0, 2][..],
        &[0x00, 0x00, 0x01, 0x01, 0x01, b'k', 0x01, b'v'],
        payload,
    ]
    .concat();
    let frame = decode_frame(&theader, None, None, &limits()).unwrap();
    let mut header = Header::new(ProtocolId::Binary, 1);
    header.metadata.set_string("k", "v");
    assert_eq!(
        (frame.transport, frame.header.as_ref()),
        (Transport::THeader, Some(&header))
    );
    let out = encode_frame::<Binary, _>(Transport::THeader, Some(&header), &message).unwrap();
    assert_eq!(&out[..], &theader[..]);
}

#[test]
fn ttheader_framed_vector() {
    // The same header without metadata, then a framed payload, as Kitex's TTHeaderFramed.
    let mut v = vec![
        0x00, 0x00, 0x00, 0x2c, // length: 10 + 4 + 4 + 26 = 44
        0x10, 0x00, 0x00, 0x00, // magic, flags
        0x00, 0x00, 0x00, 0x07, // seq id
        0x00, 0x01, // 1 word
        0x00, 0x00, 0x00, 0x00, // binary, no transforms, padding
        0x00, 0x00, 0x00, 0x1a, // framed length 26
    ];
    v.extend_from_slice(BINARY_PAYLOAD);
    assert_eq!(
        detect(&v).unwrap(),
        Some((Transport::TTHeaderFramed, ProtocolId::Binary))
    );
    let frame = decode_frame(&v, None, None, &limits()).unwrap();
    assert_eq!(frame.transport, Transport::TTHeaderFramed);
    assert_eq!(frame.payload_offset, 22);
    assert_eq!(frame.payload, BINARY_PAYLOAD);
    assert_eq!(frame.header, Some(Header::new(ProtocolId::Binary, 7)));
    let mut header = Header::new(ProtocolId::Binary, 7);
    header.flags = 0;
    let out =
        encode_frame::<Binary, _>(Transport::TTHeaderFramed, Some(&header), &hi_message()).unwrap();
    assert_eq!(&out[..], &v[..]);
}

#[test]
fn kitex_padding_byte_is_skipped_and_parsing_continues() {
    let mut v = vec![
        0x00, 0x00, 0x00, 0x00, // length, patched below
        0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, //
        0x00, 0x04, // 16 bytes
        0x00, 0x00, // binary, no transforms
        0x00, // a padding byte in the middle
        0x10, 0x00, 0x01, 0x00, 0x09, 0x00, 0x04, b'E', b'c', b'h', b'o', // ToMethod
        0x00, 0x00, // padding to 16
    ];
    v.extend_from_slice(BINARY_PAYLOAD);
    let len = (v.len() - 4) as u32;
    v[..4].copy_from_slice(&len.to_be_bytes());
    let frame = decode_frame(&v, None, None, &limits()).unwrap();
    assert_eq!(frame.header.unwrap().metadata.to_method(), Some("Echo"));
    assert_eq!(frame.payload, BINARY_PAYLOAD);
}

#[test]
fn theader_vector_in_apache_python_layout() {
    let mut v = vec![
        0x00, 0x00, 0x00, 0x30, // length: 10 + 12 + 26 = 48
        0x0f, 0xff, 0x00, 0x00, // magic, flags
        0x00, 0x00, 0x00, 0x07, // seq id
        0x00, 0x03, // 3 words
        0x00, // protocol id (varint): binary
        0x00, // transform count (varint)
        0x01, 0x01, // KEYVALUE, 1 pair
        0x02, b'i', b'd', 0x01, b'x', // "id" -> "x"
        0x00, 0x00, 0x00, // padding: 9 -> 12
    ];
    v.extend_from_slice(BINARY_PAYLOAD);
    assert_eq!(
        detect(&v).unwrap(),
        Some((Transport::THeader, ProtocolId::Binary))
    );
    let frame = decode_frame(&v, None, None, &limits()).unwrap();
    let mut header = Header::new(ProtocolId::Binary, 7);
    header.metadata.set_string("id", "x");
    assert_eq!(frame.header.as_ref(), Some(&header));
    assert_eq!(frame.payload, BINARY_PAYLOAD);
    let out = encode_frame::<Binary, _>(Transport::THeader, Some(&header), &hi_message()).unwrap();
    assert_eq!(&out[..], &v[..]);
}

#[test]
fn framed_and_buffered_vectors() {
    let mut framed = vec![0x00, 0x00, 0x00, 0x1a];
    framed.extend_from_slice(BINARY_PAYLOAD);
    assert_eq!(
        detect(&framed).unwrap(),
        Some((Transport::Framed, ProtocolId::Binary))
    );
    let frame = decode_frame(&framed, None, None, &limits()).unwrap();
    assert_eq!((frame.payload_offset, frame.payload), (4, BINARY_PAYLOAD));

    let mut buffered = BINARY_PAYLOAD.to_vec();
    buffered.extend_from_slice(b"next frame");
    assert_eq!(
        detect(&buffered).unwrap(),
        Some((Transport::Buffered, ProtocolId::Binary))
    );
    let frame = decode_frame(&buffered, None, None, &limits()).unwrap();
    assert_eq!((frame.len, frame.payload), (26, BINARY_PAYLOAD));
    assert_eq!(
        frame_len(&buffered, None, None, &limits()).unwrap(),
        Some(26)
    );

    // Compact: call "Echo", seq 7, {1: "hi"}.
    let compact: &[u8] = &[
        0x82, 0x21, 0x07, 0x04, b'E', b'c', b'h', b'o', 0x18, 0x02, b'h', b'i', 0x00,
    ];
    assert_eq!(
        detect(compact).unwrap(),
        Some((Transport::Buffered, ProtocolId::Compact))
    );
    let out = encode_frame::<Compact, _>(Transport::Buffered, None, &hi_message()).unwrap();
    assert_eq!(&out[..], compact);
    let mut framed = vec![0x00, 0x00, 0x00, 13];
    framed.extend_from_slice(compact);
    assert_eq!(
        detect(&framed).unwrap(),
        Some((Transport::Framed, ProtocolId::Compact))
    );
}

#[test]
fn old_non_strict_binary_is_detected_or_named() {
    // Non-strict: name length, name, type byte, seq id, then the body.
    let v: &[u8] = &[
        0x00, 0x00, 0x00, 0x04, b'E', b'c', b'h', b'o', 0x01, 0x00, 0x00, 0x00, 0x07, 0x0b, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x02, b'h', b'i', 0x00,
    ];
    // Auto-detection recognises it by its shape (name length, printable name, type).
    for transport in [None, Some(Transport::Buffered)] {
        let frame = decode_frame(v, transport, None, &limits()).unwrap();
        assert_eq!(
            (frame.transport, frame.protocol, frame.len),
            (Transport::Buffered, ProtocolId::Binary, v.len())
        );
        let mut reader = BinaryReader::new(frame.input(limits()));
        assert_eq!(Message::<Value>::decode(&mut reader).unwrap(), hi_message());
    }
}

#[test]
fn detect_needs_only_the_bytes_it_looks_at() {
    let v = ttheader_vector();
    // Bytes 0..6 say TTHeader; the payload's first two bytes (54, 55) decide framing.
    for n in 0..56 {
        assert_eq!(detect(&v[..n]).unwrap(), None, "prefix of {n}");
    }
    assert_eq!(
        detect(&v[..56]).unwrap(),
        Some((Transport::TTHeader, ProtocolId::Binary))
    );
    assert_eq!(detect(&[]).unwrap(), None);
    assert_eq!(detect(&[0x80]).unwrap(), None);
    assert_eq!(
        detect(&[0x80, 0x01]).unwrap(),
        Some((Transport::Buffered, ProtocolId::Binary))
    );
    assert_eq!(
        detect(&[0x82]).unwrap(),
        Some((Transport::Buffered, ProtocolId::Compact))
    );
    assert_eq!(
        detect(&[0, 0, 0, 9, 0x82]).unwrap(),
        Some((Transport::Framed, ProtocolId::Compact))
    );
    assert_eq!(frame_len(&[0, 0, 0], None, None, &limits()).unwrap(), None);
    // A length up to 1024 could be an old non-strict Binary name length: byte 4 tells.
    assert_eq!(
        frame_len(&[0, 0, 1, 0], None, None, &limits()).unwrap(),
        None
    );
    assert_eq!(
        frame_len(&[0, 0, 1, 0, 0x80], None, None, &limits()).unwrap(),
        Some(260)
    );
    assert_eq!(
        frame_len(&[0, 0, 0x10, 0], None, None, &limits()).unwrap(),
        Some(4100)
    );
    assert_eq!(
        frame_len(&BINARY_PAYLOAD[..10], None, None, &limits()).unwrap(),
        None
    );
}

#[test]
fn display_names_int_keys() {
    let text = ttheader_vector_header().to_string();
    assert!(text.contains("seq_id = 7"), "{text}");
    assert!(text.contains("ToMethod(9) = Echo"), "{text}");
    assert!(text.contains("RPCTimeout(12) = 1000"), "{text}");
    assert!(text.contains("acl_token = tok"), "{text}");
    assert_eq!(Transport::TTHeaderFramed.to_string(), "ttheader_framed");
    assert_eq!("theader".parse::<Transport>().unwrap(), Transport::THeader);
}
