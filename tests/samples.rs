//! The sample frames under `samples/frames/` are what faultline's encoder writes for an
//! `Echo.echo` call (core/idl/echo.thrift) in each transport, with the metadata a Kitex
//! client sends. This test regenerates them and fails if a committed file differs; run it
//! with `FAULTLINE_REGEN_SAMPLES=1` to rewrite them after a deliberate change.

use std::path::PathBuf;

use faultline_core::frame::{decode_frame, encode_frame, Header, IntKey, Transport};
use faultline_core::protocol::{
    Binary, Compact, DecodeLimits, Field, Message, MessageHeader, MessageType, Protocol,
    ProtocolId, Value,
};

fn echo_call(message: &str) -> Message<Value> {
    let request = Value::Struct(vec![Field {
        id: 1,
        value: Value::string(message),
    }]);
    Message {
        header: MessageHeader {
            name: "echo".into(),
            kind: MessageType::Call,
            seq_id: 1,
        },
        body: Value::Struct(vec![Field {
            id: 1,
            value: request,
        }]),
    }
}

/// The int and string keys a Kitex client puts in a TTHeader call.
fn kitex_header(protocol: ProtocolId) -> Header {
    let mut header = Header::new(protocol, 1);
    let md = &mut header.metadata;
    md.set_int(IntKey::TransportType, "unframed");
    md.set_int(IntKey::FromService, "faultline.client");
    md.set_int(IntKey::ToService, "faultline.echo");
    md.set_int(IntKey::ToMethod, "echo");
    md.set_int(IntKey::RpcTimeout, "1000");
    md.set_int(IntKey::MsgType, "1");
    md.set_string("isn", "Echo");
    header
}

fn theader_header(protocol: ProtocolId) -> Header {
    let mut header = Header::new(protocol, 1);
    header.metadata.set_string("client", "faultline");
    header
}

fn frame<P: Protocol>(transport: Transport, header: Option<&Header>) -> Vec<u8> {
    encode_frame::<P, _>(transport, header, &echo_call("hello, kitex"))
        .expect("sample encodes")
        .to_vec()
}

fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let mut framed_header = kitex_header(ProtocolId::Binary);
    framed_header
        .metadata
        .set_int(IntKey::TransportType, "framed");
    vec![
        (
            "echo-ttheader.hex",
            frame::<Binary>(Transport::TTHeader, Some(&kitex_header(ProtocolId::Binary))),
        ),
        (
            "echo-ttheader-framed.hex",
            frame::<Binary>(Transport::TTHeaderFramed, Some(&framed_header)),
        ),
        (
            "echo-theader-compact.hex",
            frame::<Compact>(
                Transport::THeader,
                Some(&theader_header(ProtocolId::Compact)),
            ),
        ),
        (
            "echo-framed-binary.hex",
            frame::<Binary>(Transport::Framed, None),
        ),
        (
            "echo-buffered-compact.hex",
            frame::<Compact>(Transport::Buffered, None),
        ),
        ("truncated-ttheader.hex", {
            let mut bytes =
                frame::<Binary>(Transport::TTHeader, Some(&kitex_header(ProtocolId::Binary)));
            bytes.truncate(bytes.len() - 9);
            bytes
        }),
    ]
}

/// 16 bytes a line, as `xxd -p`-style text with spaces.
fn to_hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|line| {
            let words: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
            words.join(" ") + "\n"
        })
        .collect()
}

#[test]
fn committed_samples_match_the_encoder() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/frames");
    let regen = std::env::var_os("FAULTLINE_REGEN_SAMPLES").is_some();
    for (name, bytes) in samples() {
        let path = dir.join(name);
        let text = to_hex(&bytes);
        if regen {
            std::fs::write(&path, &text).expect("write sample");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(committed, text, "{name} differs from the encoder's output");
    }
}

#[test]
fn samples_decode_as_documented() {
    let limits = DecodeLimits::default();
    for (name, bytes) in samples() {
        let result = decode_frame(&bytes, None, None, &limits);
        if name.starts_with("truncated") {
            assert!(result.unwrap_err().is_eof(), "{name}");
            continue;
        }
        let frame = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(frame.len, bytes.len(), "{name}");
        let message = frame.decode_message::<Value>(limits).unwrap();
        assert_eq!(message, echo_call("hello, kitex"), "{name}");
    }
}
