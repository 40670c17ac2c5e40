//! Typed calls over a `Client`: args structs encoded into `Call::args`, result structs
//! decoded from `Reply::body`, and [`EchoClient`] for the example Echo service.
//!
//! ```no_run
//! # async fn run(client: faultline_core::client::Client) -> Result<(), faultline_core::rpc::RpcError> {
//! use faultline_core::client::EchoClient;
//! use faultline_core::protocol::ProtocolId;
//!
//! let echo = EchoClient::new(client, ProtocolId::Binary);
//! assert_eq!(echo.echo("hi").await?, "hi");
//! # Ok(()) }
//! ```

use std::future::Future;

use bytes::Bytes;

use super::Client;
use crate::echo::{EchoArgs, EchoResult, METHOD};
use crate::protocol::{
    decode_from_bytes, encode_to_vec, ApplicationException, Binary, Compact, DecodeLimits, Encode,
    MessageType, ProtocolId, ThriftType,
};
use crate::rpc::{Call, Reply, RpcError};

/// Encodes an args struct in `protocol`, as `Call::args` carries it.
pub fn encode_args<A: Encode>(protocol: ProtocolId, args: &A) -> Result<Bytes, RpcError> {
    let bytes = match protocol {
        ProtocolId::Binary => encode_to_vec::<Binary, _>(args),
        ProtocolId::Compact => encode_to_vec::<Compact, _>(args),
    };
    bytes.map(Bytes::from).map_err(RpcError::Encode)
}

/// Decodes a reply's body as the result struct `R`, in `protocol`. An `Exception` reply (a
/// fallback standing in with an error) is that `TApplicationException` as
/// `RpcError::Application`.
pub fn decode_result<R: ThriftType>(
    protocol: ProtocolId,
    reply: &Reply,
    limits: DecodeLimits,
) -> Result<R, RpcError> {
    if reply.kind == MessageType::Exception {
        return Err(RpcError::Application(decode_body(protocol, reply, limits)?));
    }
    decode_body(protocol, reply, limits)
}

fn decode_body<T: ThriftType>(
    protocol: ProtocolId,
    reply: &Reply,
    limits: DecodeLimits,
) -> Result<T, RpcError> {
    match protocol {
        ProtocolId::Binary => decode_from_bytes::<Binary, T>(&reply.body, limits),
        ProtocolId::Compact => decode_from_bytes::<Compact, T>(&reply.body, limits),
    }
    .map_err(RpcError::Protocol)
}

/// A client of `service Echo { Response echo(1: Request req) }`.
#[derive(Debug, Clone)]
pub struct EchoClient {
    client: Client,
    protocol: ProtocolId,
    limits: DecodeLimits,
}

impl EchoClient {
    /// Calls over `client`, whose transport speaks `protocol` (the pool's protocol).
    pub fn new(client: Client, protocol: ProtocolId) -> Self {
        Self {
            client,
            protocol,
            limits: DecodeLimits::default(),
        }
    }

    /// Echoes `message`: the message the service sent back.
    pub fn echo(&self, message: &str) -> impl Future<Output = Result<String, RpcError>> + Send {
        let reply = self.echo_reply(message);
        async move { reply.await.map(|(message, _)| message) }
    }

    /// Echoes `message`: the message sent back, and the reply it came in (to tell a
    /// fallback reply from a remote one, and which instance answered). `echo` is
    /// idempotent, so the retry layer may resend it. A result without `success` is
    /// `MISSING_RESULT`, as Thrift's generated clients report it. The future borrows
    /// nothing, so it can be spawned.
    pub fn echo_reply(
        &self,
        message: &str,
    ) -> impl Future<Output = Result<(String, Reply), RpcError>> + Send {
        let (protocol, limits) = (self.protocol, self.limits);
        let sent = encode_args(protocol, &EchoArgs::new(message)).map(|args| {
            let mut call = Call::new(METHOD, args);
            call.options.idempotent = true;
            self.client.call(call)
        });
        async move {
            let reply = sent?.await?;
            let result: EchoResult = decode_result(protocol, &reply, limits)?;
            match result.success {
                Some(response) => Ok((response.message, reply)),
                None => Err(RpcError::Application(ApplicationException::new(
                    ApplicationException::MISSING_RESULT,
                    "echo failed: unknown result",
                ))),
            }
        }
    }
}
