//! `Framing`: how a request was carried, so that its reply goes back the same way.

use bytes::BytesMut;

use crate::frame::{encode_frame, Frame, Header, Transport};
use crate::protocol::{
    Binary, Compact, Encode, EncodeResult, Message, MessageHeader, MessageType, ProtocolId,
};

/// A request's transport, protocol and header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framing {
    pub transport: Transport,
    pub protocol: ProtocolId,
    /// The request's header (TTHeader, THeader); `None` for Buffered and Framed.
    pub header: Option<Header>,
}

impl Framing {
    /// How `frame` was carried.
    pub fn of(frame: &Frame<'_>) -> Self {
        Self {
            transport: frame.transport,
            protocol: frame.protocol,
            header: frame.header.clone(),
        }
    }

    /// Encodes the reply `body` to the message `name`/`seq_id` as one frame in this
    /// framing and protocol. `kind` is `Reply` or `Exception`.
    ///
    /// A reply header keeps the request's flags and header sequence id. TTHeader replies
    /// also carry `MsgType` (as Kitex writes it: ASCII digits); THeader has no int keys.
    /// Request metadata is not echoed.
    pub fn encode_reply<B: Encode + ?Sized>(
        &self,
        name: &str,
        kind: MessageType,
        seq_id: i32,
        body: &B,
    ) -> EncodeResult<BytesMut> {
        let header = self.header.as_ref().map(|request| {
            let mut reply = Header::new(self.protocol, request.seq_id);
            reply.flags = request.flags;
            if self.transport != Transport::THeader {
                reply.metadata.set_msg_type(kind);
            }
            reply
        });
        let message = Message {
            header: MessageHeader { name, kind, seq_id },
            body,
        };
        match self.protocol {
            ProtocolId::Binary => {
                encode_frame::<Binary, _>(self.transport, header.as_ref(), &message)
            }
            ProtocolId::Compact => {
                encode_frame::<Compact, _>(self.transport, header.as_ref(), &message)
            }
        }
    }

    /// The request's deadline budget: TTHeader `RPCTimeout` (milliseconds; 0 means none,
    /// as in Kitex).
    pub fn rpc_timeout(&self) -> Option<std::time::Duration> {
        self.header
            .as_ref()
            .and_then(|h| h.metadata.rpc_timeout())
            .filter(|t| !t.is_zero())
    }
}
