//! `Router`: the server's handler, a table from method name to a typed async function.
//!
//! A route decodes its args struct (any `#[derive(Thrift)]` type) in the request's
//! protocol, runs the function, and encodes its result struct in the same protocol. The
//! function returns `Err(ApplicationException)` for failures outside the service's
//! declared exceptions (those belong in the result struct, as Thrift defines them).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::time::Instant;

use crate::frame::Metadata;
use crate::protocol::{
    expect_end, ApplicationException, BinaryReader, CompactReader, DecodeLimits, DecodeResult,
    Encode, EncodeResult, Input, MessageType, ProtocolId, ProtocolReader, ThriftType,
};
use crate::transport::Framing;

/// What a handler knows about the call it serves.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub method: Arc<str>,
    pub seq_id: i32,
    /// The caller's address, `ip:port`.
    pub peer: Arc<str>,
    /// The request header's metadata (empty for Framed and Buffered requests).
    pub metadata: Metadata,
    /// When the caller stops waiting (from TTHeader `RPCTimeout`); the server cancels the
    /// handler then.
    pub deadline: Option<Instant>,
}

/// A result struct, ready to be encoded in whatever framing the request came in.
pub(super) trait ReplyBody: Send {
    fn encode(&self, framing: &Framing, name: &str, seq_id: i32) -> EncodeResult<BytesMut>;
}

impl<T: Encode + Send> ReplyBody for T {
    fn encode(&self, framing: &Framing, name: &str, seq_id: i32) -> EncodeResult<BytesMut> {
        framing.encode_reply(name, MessageType::Reply, seq_id, self)
    }
}

pub(super) type ReplyFuture =
    Pin<Box<dyn Future<Output = Result<Box<dyn ReplyBody>, ApplicationException>> + Send>>;

/// An args struct on the wire: the message body after the envelope.
pub(super) struct Args {
    pub body: Bytes,
    /// Absolute offset of `body[0]` in its frame, for error offsets.
    pub offset: usize,
    pub protocol: ProtocolId,
    pub limits: DecodeLimits,
}

impl Args {
    /// Decodes the body as `A`, then the message end; nothing may follow.
    fn decode<A: ThriftType>(&self) -> DecodeResult<A> {
        fn run<'a, A: ThriftType, R: ProtocolReader<'a>>(mut reader: R) -> DecodeResult<A> {
            let args = A::decode(&mut reader)?;
            reader.read_message_end()?;
            expect_end(&reader)?;
            Ok(args)
        }
        let input = Input::from_bytes(&self.body, self.offset, self.limits);
        match self.protocol {
            ProtocolId::Binary => run(BinaryReader::new(input)),
            ProtocolId::Compact => run(CompactReader::new(input)),
        }
    }
}

type Route = Arc<dyn Fn(CallContext, &Args) -> DecodeResult<ReplyFuture> + Send + Sync>;

/// Method name -> handler.
#[derive(Clone, Default)]
pub struct Router {
    routes: HashMap<Box<str>, Route>,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `method` with `handler`, which takes the decoded args struct `A` and returns
    /// the result struct `R`. A later route for the same method replaces the earlier one.
    pub fn route<A, R, F, Fut>(mut self, method: &str, handler: F) -> Self
    where
        A: ThriftType + Send + 'static,
        R: Encode + Send + 'static,
        F: Fn(CallContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ApplicationException>> + Send + 'static,
    {
        let route: Route = Arc::new(move |ctx, args: &Args| {
            let args = args.decode::<A>()?;
            let reply = handler(ctx, args);
            Ok(
                Box::pin(async move { reply.await.map(|r| Box::new(r) as Box<dyn ReplyBody>) })
                    as ReplyFuture,
            )
        });
        self.routes.insert(method.into(), route);
        self
    }

    /// The methods served, in no particular order.
    pub fn methods(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(|m| &**m)
    }

    /// Decodes `args` for `method` and starts its handler: `None` for an unknown method.
    pub(super) fn start(&self, ctx: CallContext, args: &Args) -> Option<DecodeResult<ReplyFuture>> {
        let route = self.routes.get(&*ctx.method)?;
        Some(route(ctx, args))
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.methods()).finish()
    }
}
