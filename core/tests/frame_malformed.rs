//! Malformed frames: every check in the frame decoders returns the right `ErrorKind` at
//! the right absolute offset; truncation at every byte is an error, never a panic or a
//! wrong success; encoders refuse what the wire cannot carry.

#[path = "frame_support.rs"]
mod support;

use bytes::Bytes;
use faultline_core::frame::{
    decode_frame, detect, encode_frame, frame_len, Header, IntKey, Transport,
};
use faultline_core::protocol::{
    Binary, Compact, DecodeError, DecodeLimits, EncodeError, ErrorKind, ProtocolId,
};
use support::*;

fn limits() -> DecodeLimits {
    DecodeLimits::default()
}

/// Strict binary call "Echo", seq 7, empty body. 17 bytes.
const PAYLOAD: &[u8] = &[
    0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, b'E', b'c', b'h', b'o', 0x00, 0x00, 0x00, 0x07,
    0x00,
];

/// A header frame with `magic`, the variable header `var` (padded here to 4 bytes unless
/// `words` overrides the size field) and `payload`; the length field is right.
fn frame(magic: [u8; 2], var: &[u8], words: Option<u16>, payload: &[u8]) -> Vec<u8> {
    let mut var = var.to_vec();
    if words.is_none() {
        while !var.len().is_multiple_of(4) {
            var.push(0);
        }
    }
    let words = words.unwrap_or((var.len() / 4) as u16);
    let mut v = Vec::new();
    v.extend_from_slice(&((10 + var.len() + payload.len()) as u32).to_be_bytes());
    v.extend_from_slice(&magic);
    v.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x00, 0x07]);
    v.extend_from_slice(&words.to_be_bytes());
    v.extend_from_slice(&var);
    v.extend_from_slice(payload);
    v
}

const TT: [u8; 2] = [0x10, 0x00];
const TH: [u8; 2] = [0x0f, 0xff];

#[track_caller]
fn fails(buf: &[u8], transport: Option<Transport>, kind: ErrorKind, offset: usize) -> DecodeError {
    let err = decode_frame(buf, transport, None, &limits()).expect_err("must fail");
    assert_eq!((&err.kind, err.offset), (&kind, offset), "{err}");
    assert!(!err.expected.is_empty());
    err
}

#[track_caller]
fn fails_everywhere(buf: &[u8], transport: Transport, kind: ErrorKind, offset: usize) {
    fails(buf, None, kind.clone(), offset);
    fails(buf, Some(transport), kind.clone(), offset);
    let err = detect(buf).err();
    if let Some(err) = err {
        assert_eq!((err.kind, err.offset), (kind, offset), "detect");
    }
}

#[test]
fn header_size_zero() {
    let v = frame(TT, &[0, 0, 0, 0], Some(0), PAYLOAD);
    fails_everywhere(&v, Transport::TTHeader, ErrorKind::BadHeaderSize(0), 12);
    let v = frame(TH, &[0, 0, 0, 0], Some(0), PAYLOAD);
    fails_everywhere(&v, Transport::THeader, ErrorKind::BadHeaderSize(0), 12);
}

#[test]
fn header_size_past_the_frame() {
    let v = frame(TT, &[0, 0, 0, 0], Some(0x00ff), PAYLOAD);
    fails_everywhere(&v, Transport::TTHeader, ErrorKind::BadHeaderSize(1020), 12);
    let v = frame(TH, &[0, 0, 0, 0], Some(0x00ff), PAYLOAD);
    fails_everywhere(&v, Transport::THeader, ErrorKind::BadHeaderSize(1020), 12);
}

#[test]
fn headers_up_to_the_word_count_limit_decode() {
    // Older Kitex refused TTHeader headers over 64 KiB; current Kitex accepts all the
    // 16-bit word count can express, and so does faultline (THeader has no cap either).
    let var = vec![0u8; 65540];
    for magic in [TT, TH] {
        let v = frame(magic, &var, None, PAYLOAD);
        let f = decode_frame(&v, None, None, &limits()).unwrap();
        assert_eq!((f.payload_offset, f.payload), (14 + 65540, PAYLOAD));
    }
    let var = vec![0u8; 4 * 65535];
    let v = frame(TT, &var, None, PAYLOAD);
    assert!(decode_frame(&v, None, None, &limits()).is_ok());
}

#[test]
fn frame_too_short_for_the_fixed_fields() {
    let v = [0x00, 0x00, 0x00, 0x04, 0x10, 0x00, 0x00, 0x00];
    fails(
        &v,
        Some(Transport::TTHeader),
        ErrorKind::BadHeaderSize(0),
        8,
    );
    fails(&v, None, ErrorKind::BadHeaderSize(0), 8);
}

#[test]
fn unknown_info_id() {
    // binary, no transforms, then info id 0x02 at offset 16.
    let v = frame(TT, &[0x00, 0x00, 0x02, 0x00], None, PAYLOAD);
    fails_everywhere(&v, Transport::TTHeader, ErrorKind::UnknownInfoId(0x02), 16);
    // After a valid int block: 0x10, count 1, key 9, len 1, "x" = 16..24, then 0x7f.
    let var = [0, 0, 0x10, 0, 1, 0, 9, 0, 1, b'x', 0x7f, 0];
    let v = frame(TT, &var, None, PAYLOAD);
    fails_everywhere(&v, Transport::TTHeader, ErrorKind::UnknownInfoId(0x7f), 24);
    let v = frame(TH, &[0x00, 0x00, 0x05, 0x00], None, PAYLOAD);
    fails_everywhere(&v, Transport::THeader, ErrorKind::UnknownInfoId(0x05), 16);
}

#[test]
fn unknown_transform() {
    let v = frame(TT, &[0x00, 0x01, 0x01, 0x00], None, PAYLOAD);
    fails_everywhere(&v, Transport::TTHeader, ErrorKind::UnknownTransform(1), 16);
    // THeader zlib (1) is Apache's, but faultline implements no transform.
    let v = frame(TH, &[0x00, 0x01, 0x01, 0x00], None, PAYLOAD);
    fails_everywhere(&v, Transport::THeader, ErrorKind::UnknownTransform(1), 16);
    let v = frame(TH, &[0x00, 0x01, 0x80, 0x01], None, PAYLOAD);
    fails_everywhere(&v, Transport::THeader, ErrorKind::UnknownTransform(128), 16);
}

#[test]
fn unknown_protocol_id() {
    let v = frame(TT, &[0x03, 0x00, 0x00, 0x00], None, PAYLOAD);
    fails_everywhere(&v, Transport::TTHeader, ErrorKind::UnknownProtocol(3), 14);
    let v = frame(TH, &[0x81, 0x01, 0x00, 0x00], None, PAYLOAD);
    fails_everywhere(&v, Transport::THeader, ErrorKind::UnknownProtocol(129), 14);
    // A requested protocol that the header contradicts.
    let v = frame(TT, &[0x00, 0x00, 0x00, 0x00], None, PAYLOAD);
    let err = decode_frame(&v, None, Some(ProtocolId::Compact), &limits()).unwrap_err();
    assert_eq!((err.kind, err.offset), (ErrorKind::UnknownProtocol(0), 14));
}

#[test]
fn theader_overlong_varint() {
    let v = frame(
        TH,
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00],
        None,
        PAYLOAD,
    );
    fails_everywhere(&v, Transport::THeader, ErrorKind::VarintTooLong, 14);
}

#[test]
fn block_running_past_the_header_is_a_bad_header_size() {
    // String block claims 2 pairs, has 1: the second key's length at 26 is padding, then
    // its bytes run past the header end.
    let var = [0, 0, 0x01, 0, 2, 0, 1, b'k', 0, 1, b'v', 0];
    let v = frame(TT, &var, None, PAYLOAD);
    fails_everywhere(&v, Transport::TTHeader, ErrorKind::BadHeaderSize(12), 25);
    // THeader: 1 pair whose value length (9) runs past the 8-byte header.
    let var = [0, 0, 0x01, 0x01, 0x01, b'k', 0x09, b'v'];
    let v = frame(TH, &var, None, PAYLOAD);
    fails_everywhere(&v, Transport::THeader, ErrorKind::BadHeaderSize(8), 20);
}

#[test]
fn non_utf8_string_key() {
    let var = [0, 0, 0x01, 0, 1, 0, 1, 0xff, 0, 0];
    let v = frame(TT, &var, None, PAYLOAD);
    fails_everywhere(&v, Transport::TTHeader, ErrorKind::InvalidUtf8, 19);
    let var = [0, 0, 0x01, 0x01, 0x01, 0xc3, 0x00, 0x00];
    let v = frame(TH, &var, None, PAYLOAD);
    fails_everywhere(&v, Transport::THeader, ErrorKind::InvalidUtf8, 18);
}

#[test]
fn metadata_strings_obey_max_string() {
    let var = [0, 0, 0x10, 0, 1, 0, 9, 0, 4, b'E', b'c', b'h', b'o'];
    let v = frame(TT, &var, None, PAYLOAD);
    let small = DecodeLimits {
        max_string: 3,
        ..limits()
    };
    let err = decode_frame(&v, None, None, &small).unwrap_err();
    assert_eq!(
        (err.kind, err.offset),
        (ErrorKind::StringTooLong { len: 4, limit: 3 }, 21)
    );
}

#[test]
fn huge_length_is_refused_from_the_prefix_alone() {
    let small = DecodeLimits::small();
    for prefix in [
        &[0x7f, 0xff, 0xff, 0xff][..],
        &[0xff, 0xff, 0xff, 0xff],
        &[0x00, 0x01, 0x00, 0x01],
        &[0x7f, 0xff, 0xff, 0xff, 0x10, 0x00],
    ] {
        let len = u32::from_be_bytes(prefix[..4].try_into().unwrap()) as usize;
        let kind = ErrorKind::FrameTooLarge {
            len,
            limit: small.max_frame,
        };
        for t in [
            None,
            Some(Transport::Framed),
            Some(Transport::TTHeader),
            Some(Transport::THeader),
        ] {
            let err = decode_frame(prefix, t, None, &small).unwrap_err();
            assert_eq!((&err.kind, err.offset), (&kind, 0), "{t:?}");
        }
        let err = frame_len(prefix, None, None, &small).unwrap_err();
        assert_eq!((&err.kind, err.offset), (&kind, 0));
    }
}

#[test]
fn buffered_message_longer_than_max_frame() {
    let tiny = DecodeLimits {
        max_frame: 10,
        ..limits()
    };
    let err = decode_frame(PAYLOAD, None, None, &tiny).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::FrameTooLarge { limit: 10, .. }),
        "{err}"
    );
    assert_eq!(err.offset, 10);
    assert!(frame_len(PAYLOAD, None, None, &tiny).is_err());
    assert_eq!(frame_len(&PAYLOAD[..10], None, None, &tiny).unwrap(), None);
}

#[test]
fn bad_magic_when_the_transport_is_named() {
    let v = frame(TH, &[0, 0, 0, 0], None, PAYLOAD);
    fails(
        &v,
        Some(Transport::TTHeader),
        ErrorKind::BadMagic(0x0fff),
        4,
    );
    let v = frame(TT, &[0, 0, 0, 0], None, PAYLOAD);
    fails(&v, Some(Transport::THeader), ErrorKind::BadMagic(0x1000), 4);
}

#[test]
fn unknown_transport() {
    let v = [0x00, 0x00, 0x00, 0x04, 0x12, 0x34, 0x56, 0x78];
    fails(&v, None, ErrorKind::UnknownTransport, 0);
    assert_eq!(detect(&v).unwrap_err().kind, ErrorKind::UnknownTransport);
    // A frame that ends before its marker could be seen.
    let v = [0x00, 0x00, 0x00, 0x00];
    fails(&v, None, ErrorKind::UnknownTransport, 0);
    // A TTHeader whose payload is neither strict binary nor framed strict binary.
    let v = frame(
        TT,
        &[0, 0, 0, 0],
        None,
        &[0x00, 0x00, 0x00, 0x04, b'E', b'c', b'h', b'o'],
    );
    fails(&v, None, ErrorKind::UnknownTransport, 18);
}

#[test]
fn ttheader_framed_inner_length_must_fill_the_frame() {
    let mut payload = vec![0x00, 0x00, 0x00, 0x12]; // 18, one more than there is
    payload.extend_from_slice(PAYLOAD);
    let v = frame(TT, &[0, 0, 0, 0], None, &payload);
    fails(
        &v,
        Some(Transport::TTHeaderFramed),
        ErrorKind::FrameTooLarge { len: 18, limit: 17 },
        18,
    );
    let mut payload = vec![0x00, 0x00, 0x00, 0x10]; // 16, one less
    payload.extend_from_slice(PAYLOAD);
    let v = frame(TT, &[0, 0, 0, 0], None, &payload);
    fails(&v, None, ErrorKind::TrailingBytes(1), 38);
}

#[test]
fn truncation_at_every_byte_is_an_incomplete_frame() {
    for (transport, protocol, bytes) in all_frames() {
        for cut in 0..bytes.len() {
            let part = &bytes[..cut];
            for t in [None, Some(transport)] {
                for p in [None, Some(protocol)] {
                    let err = decode_frame(part, t, p, &limits())
                        .expect_err("a truncated frame must not decode");
                    let incomplete = matches!(
                        err.kind,
                        ErrorKind::UnexpectedEof { .. } | ErrorKind::ContainerExceedsInput { .. }
                    );
                    assert!(incomplete, "{transport} {protocol:?} cut {cut}: {err}");
                    assert!(err.offset <= cut, "{transport} cut {cut}: {err}");
                }
            }
            let len = frame_len(part, None, None, &limits()).unwrap();
            assert!(
                len.is_none() || len == Some(bytes.len()),
                "cut {cut}: {len:?}"
            );
            assert!(matches!(detect(part), Ok(None) | Ok(Some(_))));
        }
    }
}

#[test]
fn encoder_refuses_what_the_wire_cannot_carry() {
    let msg = echo_message(1);
    let mut h = Header::new(ProtocolId::Binary, 1);
    h.metadata
        .set_int(IntKey::ToMethod, Bytes::from(vec![b'x'; 70_000]));
    let err = encode_frame::<Binary, _>(Transport::TTHeader, Some(&h), &msg).unwrap_err();
    assert!(
        matches!(err, EncodeError::TooLong { len: 70_000, .. }),
        "{err}"
    );

    let mut h = Header::new(ProtocolId::Binary, 1);
    h.metadata.set_string("k".repeat(65_536), "v");
    let err = encode_frame::<Binary, _>(Transport::TTHeader, Some(&h), &msg).unwrap_err();
    assert!(
        matches!(err, EncodeError::TooLong { len: 65_536, .. }),
        "{err}"
    );

    let mut h = Header::new(ProtocolId::Binary, 1);
    for i in 0..20_000u16 {
        h.metadata.int.insert(i, Bytes::from_static(b"v"));
    }
    let err = encode_frame::<Binary, _>(Transport::TTHeader, Some(&h), &msg).unwrap_err();
    assert!(
        matches!(err, EncodeError::TooLong { .. }),
        "over 64 KiB: {err}"
    );

    let h = full_header(ProtocolId::Binary, 1);
    let err = encode_frame::<Binary, _>(Transport::THeader, Some(&h), &msg).unwrap_err();
    assert!(
        matches!(err, EncodeError::Invalid(_)),
        "THeader int keys: {err}"
    );
    let err = encode_frame::<Binary, _>(Transport::Framed, Some(&h), &msg).unwrap_err();
    assert!(
        matches!(err, EncodeError::Invalid(_)),
        "header on Framed: {err}"
    );
    let err = encode_frame::<Compact, _>(Transport::TTHeader, Some(&h), &msg).unwrap_err();
    assert!(
        matches!(err, EncodeError::Invalid(_)),
        "protocol mismatch: {err}"
    );
    let mut h = Header::new(ProtocolId::Binary, 1);
    h.transforms.push(1);
    let err = encode_frame::<Binary, _>(Transport::TTHeader, Some(&h), &msg).unwrap_err();
    assert!(matches!(err, EncodeError::Invalid(_)), "transforms: {err}");
}
