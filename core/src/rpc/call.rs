//! `Call` and `Reply`: one RPC as it travels down and back up the client stack.
//!
//! The args struct is encoded once, before the stack: retries and backup requests resend the
//! same bytes, and the connection layer only wraps them in an envelope and a frame.

use std::sync::Arc;

use bytes::Bytes;
use tokio::time::Instant;

use super::Instance;
use crate::frame::Metadata;
use crate::protocol::MessageType;

/// One call: method, encoded args, header metadata, and per-call options.
#[derive(Debug, Clone)]
pub struct Call {
    /// The method name, as it goes in the message envelope.
    pub method: Arc<str>,
    /// The args struct, already encoded in the client's protocol.
    pub args: Bytes,
    /// Header metadata sent with the call (TTHeader int/string keys).
    pub metadata: Metadata,
    pub options: CallOptions,
    /// The instance this attempt goes to; set by the load balancer.
    pub target: Option<Arc<Instance>>,
    /// 0 for the first attempt; retries and backup requests count up.
    pub attempt: u32,
    /// The call's id on its client's event bus (`event::CallRef`), set by the top of the
    /// client stack when 0; ids count from 1.
    pub id: u64,
}

/// Per-call settings the layers read.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// When the caller stops waiting. The remaining budget goes on the wire as RPCTimeout.
    pub deadline: Option<Instant>,
    /// Whether the method may be retried or hedged (only idempotent ones are, by default).
    pub idempotent: bool,
    /// Key for consistent hashing and traffic-coloring policies.
    pub hash_key: Option<u64>,
    /// Traffic-coloring tag (e.g. a canary tag) that the route table matches.
    pub tag: Option<Arc<str>>,
}

impl Call {
    pub fn new(method: impl Into<Arc<str>>, args: Bytes) -> Self {
        Self {
            method: method.into(),
            args,
            metadata: Metadata::default(),
            options: CallOptions::default(),
            target: None,
            attempt: 0,
            id: 0,
        }
    }
}

/// Where a reply came from: the remote service, or a fallback policy standing in for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyOrigin {
    Remote,
    Fallback,
}

/// What came back: the message kind, the encoded result struct, the reply's metadata.
#[derive(Debug, Clone)]
pub struct Reply {
    /// `Reply`, or `Exception` when `body` is a `TApplicationException`.
    pub kind: MessageType,
    /// The result struct (or the exception struct), encoded in the client's protocol.
    pub body: Bytes,
    pub metadata: Metadata,
    /// The instance that answered, when one did.
    pub instance: Option<Arc<Instance>>,
    pub origin: ReplyOrigin,
}

impl Reply {
    /// True when a fallback policy produced this reply instead of the service.
    pub fn is_fallback(&self) -> bool {
        self.origin == ReplyOrigin::Fallback
    }
}
