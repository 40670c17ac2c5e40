//! The pool's wire codec: a `Call` as one request frame (envelope with the pool's sequence
//! id, the pre-encoded args struct, header metadata), and a reply frame back as a
//! [`Decoded`] reply that [`Decoded::into_parts`] turns into the reply's parts or an
//! `RpcError`.

use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::PoolConfig;
use crate::frame::{encode_frame, Header, IntKey, Metadata, Transport};
use crate::protocol::{
    decode_from_bytes, ApplicationException, Binary, BinaryReader, Compact, CompactReader,
    DecodeError, DecodeLimits, DecodeResult, Encode, EncodeResult, ErrorKind, Message,
    MessageHeader, MessageType, ProtocolId, ProtocolReader, ProtocolWriter,
};
use crate::rpc::{Call, RpcError};
use crate::transport::{FrameReader, ReadError};

/// A struct already encoded in the client's protocol (`Call::args`), written as is.
struct EncodedStruct<'a>(&'a [u8]);

impl Encode for EncodedStruct<'_> {
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        writer.write_encoded_struct(self.0)
    }
}

/// Encodes `call` as one request frame with sequence id `seq_id`.
///
/// TTHeader carries the call's metadata plus `ToMethod` and, when configured,
/// `ToService` / `FromService`; THeader has no int keys, so it carries only the string keys.
pub(super) fn encode_call(
    config: &PoolConfig,
    call: &Call,
    seq_id: i32,
) -> Result<BytesMut, RpcError> {
    let header = config.transport.has_header().then(|| {
        let mut header = Header::new(config.protocol, seq_id);
        header.metadata = call.metadata.clone();
        let metadata = &mut header.metadata;
        if config.transport == Transport::THeader {
            metadata.int.clear();
            metadata.acl_token = None;
        } else {
            metadata.set_int(IntKey::ToMethod, text(&call.method));
            if let Some(service) = &config.to_service {
                metadata.set_int(IntKey::ToService, text(service));
            }
            if let Some(service) = &config.from_service {
                metadata.set_int(IntKey::FromService, text(service));
            }
        }
        header
    });
    let message = Message {
        header: MessageHeader {
            name: &*call.method,
            kind: MessageType::Call,
            seq_id,
        },
        body: EncodedStruct(&call.args),
    };
    let frame = match config.protocol {
        ProtocolId::Binary => {
            encode_frame::<Binary, _>(config.transport, header.as_ref(), &message)
        }
        ProtocolId::Compact => {
            encode_frame::<Compact, _>(config.transport, header.as_ref(), &message)
        }
    };
    frame.map_err(RpcError::Encode)
}

fn text(s: &Arc<str>) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// A decoded reply frame: its sequence id, kind, body (the result or exception struct)
/// and header metadata.
#[derive(Debug)]
pub(super) struct Decoded {
    pub seq_id: i32,
    kind: MessageType,
    body: Bytes,
    metadata: Metadata,
    protocol: ProtocolId,
}

impl Decoded {
    /// The reply's kind, body and metadata; an `Exception` reply is
    /// `RpcError::Application`, a message that is no reply a protocol error.
    pub fn into_parts(
        self,
        limits: DecodeLimits,
    ) -> Result<(MessageType, Bytes, Metadata), RpcError> {
        match self.kind {
            MessageType::Reply => Ok((self.kind, self.body, self.metadata)),
            MessageType::Exception => {
                let exception: ApplicationException = match self.protocol {
                    ProtocolId::Binary => decode_from_bytes::<Binary, _>(&self.body, limits),
                    ProtocolId::Compact => decode_from_bytes::<Compact, _>(&self.body, limits),
                }
                .map_err(RpcError::Protocol)?;
                Err(RpcError::Application(exception))
            }
            kind => Err(RpcError::Protocol(DecodeError::new(
                ErrorKind::InvalidMessageType(kind as u8),
                0,
                "a reply or exception message",
            ))),
        }
    }

    /// Thrift's `BAD_SEQUENCE_ID` unless the reply answers `seq_id`.
    pub fn expect_seq_id(&self, seq_id: i32) -> Result<(), RpcError> {
        match self.seq_id == seq_id {
            true => Ok(()),
            false => Err(RpcError::Application(ApplicationException::new(
                ApplicationException::BAD_SEQUENCE_ID,
                format!("expected a reply to seq id {seq_id}, got {}", self.seq_id),
            ))),
        }
    }
}

/// Decodes a frame `reader` read: the frame, then the message envelope.
pub(super) fn decode_reply(
    reader: &mut FrameReader,
    bytes: &Bytes,
    limits: DecodeLimits,
) -> DecodeResult<Decoded> {
    fn envelope<'a, R: ProtocolReader<'a>>(mut r: R) -> DecodeResult<(MessageType, i32, usize)> {
        let header = r.read_message_begin()?;
        Ok((header.kind, header.seq_id, r.offset()))
    }
    let frame = reader.decode(bytes)?;
    let (kind, seq_id, body_at) = match frame.protocol {
        ProtocolId::Binary => envelope(BinaryReader::new(frame.input(limits)))?,
        ProtocolId::Compact => envelope(CompactReader::new(frame.input(limits)))?,
    };
    let body_end = frame.payload_offset + frame.payload.len();
    Ok(Decoded {
        seq_id,
        kind,
        body: bytes.slice(body_at..body_end),
        metadata: frame.header.map(|h| h.metadata).unwrap_or_default(),
        protocol: frame.protocol,
    })
}

/// Reads and decodes the next reply frame; a closed stream is an `Io` error.
pub(super) async fn read_reply<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut FrameReader,
    io: &mut R,
    addr: &Arc<str>,
    limits: DecodeLimits,
) -> Result<Decoded, RpcError> {
    let bytes = match reader.read(io).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Err(closed(addr)),
        Err(ReadError::Io(err)) => return Err(RpcError::io(addr, &err)),
        Err(ReadError::Malformed(err)) => return Err(RpcError::Protocol(err)),
    };
    decode_reply(reader, &bytes, limits).map_err(RpcError::Protocol)
}

/// No byte came from `addr` for `after` while a call waited for its reply: the peer or
/// the path to it is presumed dead (a black hole, a stalled process).
pub(super) fn stalled(addr: &Arc<str>, after: std::time::Duration) -> RpcError {
    let err = io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no byte from the peer for {after:?} while a call waited"),
    );
    RpcError::io(addr, &err)
}

/// The connection to `addr` was closed by the peer.
pub(super) fn closed(addr: &Arc<str>) -> RpcError {
    let err = io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "connection closed by the peer",
    );
    RpcError::io(addr, &err)
}
