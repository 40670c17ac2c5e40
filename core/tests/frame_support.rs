//! Shared helpers for the frame tests (included with `#[path]`; compiled alone it is an
//! empty test crate).
#![allow(dead_code)]

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use faultline_core::frame::{encode_frame, Header, IntKey, Transport};
use faultline_core::protocol::{
    Binary, Compact, Encode, EncodeResult, Message, MessageHeader, MessageType, ProtocolId,
};
use faultline_core::Thrift;

/// A small args struct: `1: string message, 2: i32 code, 3: list<i64> values`.
#[derive(Thrift, Debug, Clone, PartialEq, Default)]
pub struct Echo {
    #[thrift(id = 1)]
    pub message: String,
    #[thrift(id = 2)]
    pub code: i32,
    #[thrift(id = 3)]
    pub values: Vec<i64>,
}

pub fn echo_message(seq_id: i32) -> Message<Echo> {
    Message {
        header: MessageHeader {
            name: "Echo".to_owned(),
            kind: MessageType::Call,
            seq_id,
        },
        body: Echo {
            message: "hello, kitex".to_owned(),
            code: -7,
            values: vec![1, -2, 300_000, i64::MIN],
        },
    }
}

/// A header with every kind of metadata.
pub fn full_header(protocol: ProtocolId, seq_id: i32) -> Header {
    let mut h = Header::new(protocol, seq_id);
    h.flags = Header::FLAG_SUPPORT_OUT_OF_ORDER;
    let md = &mut h.metadata;
    md.set_int(IntKey::FromService, "client.svc");
    md.set_int(IntKey::ToService, "echo.svc");
    md.set_int(IntKey::ToMethod, "Echo");
    md.set_rpc_timeout(Duration::from_millis(250));
    md.set_msg_type(MessageType::Call);
    md.int.insert(999, Bytes::from_static(&[0, 0xff]));
    md.set_string("rip", "10.0.0.1:8888");
    md.set_string("tc", "zone-a");
    md.acl_token = Some(Bytes::from_static(b"secret-token"));
    h
}

/// The header a transport can carry: THeader has string keys only; headerless ones none.
pub fn header_for(transport: Transport, protocol: ProtocolId, seq_id: i32) -> Option<Header> {
    match transport {
        Transport::Buffered | Transport::Framed => None,
        Transport::TTHeader | Transport::TTHeaderFramed => Some(full_header(protocol, seq_id)),
        Transport::THeader => {
            let mut h = full_header(protocol, seq_id);
            h.metadata.int.clear();
            h.metadata.acl_token = None;
            Some(h)
        }
    }
}

pub fn encode_with<M: Encode>(
    transport: Transport,
    protocol: ProtocolId,
    header: Option<&Header>,
    message: &M,
) -> EncodeResult<BytesMut> {
    match protocol {
        ProtocolId::Binary => encode_frame::<Binary, M>(transport, header, message),
        ProtocolId::Compact => encode_frame::<Compact, M>(transport, header, message),
    }
}

pub const PROTOCOLS: [ProtocolId; 2] = [ProtocolId::Binary, ProtocolId::Compact];

/// One valid frame of every transport and protocol, with the richest header it can carry.
pub fn all_frames() -> Vec<(Transport, ProtocolId, BytesMut)> {
    let mut out = Vec::new();
    for transport in Transport::ALL {
        for protocol in PROTOCOLS {
            let header = header_for(transport, protocol, 42);
            let frame = encode_with(transport, protocol, header.as_ref(), &echo_message(42))
                .expect("encode");
            out.push((transport, protocol, frame));
        }
    }
    out
}
