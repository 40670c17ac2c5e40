//! Shared helpers for the frame tests (included with `#[path]`; compiled alone it is an
//! empty test crate).
#![allow(dead_code)]

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use faultline_core::frame::{encode_frame, Header, IntKey, Transport};
use faultline_core::protocol::{
    skip, Binary, Compact, DecodeResult, Encode, EncodeResult, FieldHeader, ListHeader, Message,
    MessageHeader, MessageType, ProtocolId, ProtocolReader, ProtocolWriter, TType, ThriftType,
};

/// A small args struct: `1: string message, 2: i32 code, 3: list<i64> values`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Echo {
    pub message: String,
    pub code: i32,
    pub values: Vec<i64>,
}

impl Encode for Echo {
    fn encode<W: ProtocolWriter>(&self, w: &mut W) -> EncodeResult {
        w.write_struct_begin()?;
        w.write_field_begin(FieldHeader {
            ttype: TType::Binary,
            id: 1,
        })?;
        w.write_string(&self.message)?;
        w.write_field_end()?;
        w.write_field_begin(FieldHeader {
            ttype: TType::I32,
            id: 2,
        })?;
        w.write_i32(self.code)?;
        w.write_field_end()?;
        w.write_field_begin(FieldHeader {
            ttype: TType::List,
            id: 3,
        })?;
        w.write_list_begin(ListHeader {
            elem: TType::I64,
            len: self.values.len(),
        })?;
        for v in &self.values {
            w.write_i64(*v)?;
        }
        w.write_list_end()?;
        w.write_field_end()?;
        w.write_field_stop()?;
        w.write_struct_end()
    }
}

impl ThriftType for Echo {
    const TTYPE: TType = TType::Struct;

    fn decode<'a, R: ProtocolReader<'a>>(r: &mut R) -> DecodeResult<Self> {
        let mut out = Echo::default();
        r.read_struct_begin()?;
        loop {
            let field = r.read_field_begin()?;
            match (field.id, field.ttype) {
                (_, TType::Stop) => break,
                (1, TType::Binary) => out.message = r.read_string()?.to_owned(),
                (2, TType::I32) => out.code = r.read_i32()?,
                (3, TType::List) => {
                    let list = r.read_list_begin()?;
                    for _ in 0..list.len {
                        out.values.push(r.read_i64()?);
                    }
                    r.read_list_end()?;
                }
                (_, t) => skip(r, t)?,
            }
            r.read_field_end()?;
        }
        r.read_struct_end()?;
        Ok(out)
    }
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
