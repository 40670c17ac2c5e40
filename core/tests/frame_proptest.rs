//! Properties: arbitrary and mutated bytes never make the frame decoders, `detect` or
//! `frame_len` panic, and whatever they accept is self-consistent.

#[path = "frame_support.rs"]
mod support;

use bytes::Bytes;
use faultline_core::frame::{decode_frame, decode_frame_bytes, detect, frame_len, Transport};
use faultline_core::protocol::{DecodeLimits, ProtocolId};
use proptest::prelude::*;
use support::*;

fn transports() -> impl Strategy<Value = Option<Transport>> {
    prop_oneof![
        Just(None),
        proptest::sample::select(Transport::ALL.to_vec()).prop_map(Some)
    ]
}

fn protocols() -> impl Strategy<Value = Option<ProtocolId>> {
    prop_oneof![
        Just(None),
        proptest::sample::select(PROTOCOLS.to_vec()).prop_map(Some)
    ]
}

/// Runs every entry point on `buf` and checks what they accept.
fn check(buf: &[u8], transport: Option<Transport>, protocol: Option<ProtocolId>) {
    for limits in [DecodeLimits::default(), DecodeLimits::small()] {
        let _ = detect(buf);
        let _ = frame_len(buf, transport, protocol, &limits);
        let bytes = Bytes::copy_from_slice(buf);
        let slice = decode_frame(buf, transport, protocol, &limits);
        let owned = decode_frame_bytes(&bytes, transport, protocol, &limits);
        match (&slice, &owned) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.header, b.header);
                assert_eq!(
                    (a.len, a.payload_offset, a.payload),
                    (b.len, b.payload_offset, b.payload)
                );
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!("slice and Bytes decoding disagree: {slice:?} / {owned:?}"),
        }
        if let Ok(frame) = slice {
            assert!(frame.len <= buf.len());
            let end = frame.payload_offset + frame.payload.len();
            assert!(end <= frame.len);
            assert_eq!(&buf[frame.payload_offset..end], frame.payload);
            if let Some(t) = transport {
                assert_eq!(frame.transport, t);
            } else {
                assert_eq!(detect(buf).unwrap().map(|d| d.0), Some(frame.transport));
            }
            let _ = frame.decode_message::<Echo>(limits);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(
        buf in proptest::collection::vec(any::<u8>(), 0..128),
        transport in transports(),
        protocol in protocols(),
    ) {
        check(&buf, transport, protocol);
    }

    #[test]
    fn header_shaped_bytes_never_panic(
        magic in prop_oneof![Just([0x10u8, 0x00]), Just([0x0f, 0xff]), Just([0x80, 0x01])],
        words in 0u16..8,
        rest in proptest::collection::vec(any::<u8>(), 0..96),
        transport in transports(),
        protocol in protocols(),
    ) {
        let mut buf = Vec::new();
        buf.extend_from_slice(&((10 + rest.len()) as u32).to_be_bytes());
        buf.extend_from_slice(&magic);
        buf.extend_from_slice(&[0, 0, 0, 0, 0, 1]);
        buf.extend_from_slice(&words.to_be_bytes());
        buf.extend_from_slice(&rest);
        check(&buf, transport, protocol);
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        which in 0usize..10,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        transport in transports(),
        protocol in protocols(),
    ) {
        let frames = all_frames();
        let mut buf = frames[which % frames.len()].2.to_vec();
        for (at, byte) in edits {
            let i = at.index(buf.len());
            buf[i] = byte;
        }
        let keep = cut.index(buf.len() + 1);
        check(&buf[..keep], transport, protocol);
        check(&buf, transport, protocol);
    }
}
