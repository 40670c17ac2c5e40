//! `RpcError`: every way a call can fail, classified for retry, breakers and metrics.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::breaker_scope::BreakerScope;
use crate::protocol::{ApplicationException, DecodeError, EncodeError};

/// A failed call.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The call's deadline passed before a reply arrived.
    #[error("deadline exceeded after {budget:?}")]
    Timeout { budget: Duration },
    /// No connection could be made within the connect timeout.
    #[error("connect to {addr} timed out after {after:?}")]
    ConnectTimeout { addr: Arc<str>, after: Duration },
    /// The connection could not be made.
    #[error("connect to {addr}: {kind:?}: {detail}")]
    Connect {
        addr: Arc<str>,
        kind: io::ErrorKind,
        detail: String,
    },
    /// The connection broke while the call was in flight.
    #[error("connection to {addr} failed: {kind:?}: {detail}")]
    Io {
        addr: Arc<str>,
        kind: io::ErrorKind,
        detail: String,
    },
    /// The reply could not be decoded.
    #[error("malformed reply: {0}")]
    Protocol(DecodeError),
    /// The call could not be encoded.
    #[error("cannot encode call: {0}")]
    Encode(EncodeError),
    /// The server answered with a `TApplicationException`.
    #[error("application exception: {0}")]
    Application(ApplicationException),
    /// A circuit breaker refused the call without sending it.
    #[error("circuit breaker open: {0}")]
    BreakerOpen(BreakerScope),
    /// The balancer had no instance to send the call to.
    #[error("no instance available for {service}")]
    NoInstance { service: Arc<str> },
    /// A concurrency or rate limit refused the call.
    #[error("overloaded: {0}")]
    Overloaded(&'static str),
    /// The caller went away (the call was dropped or cancelled).
    #[error("cancelled")]
    Cancelled,
}

/// A short, stable classification of `RpcError`: the `status` attribute of metrics.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub enum RpcErrorKind {
    Timeout,
    ConnectTimeout,
    Connect,
    Io,
    Protocol,
    Encode,
    Application,
    BreakerOpen,
    NoInstance,
    Overloaded,
    Cancelled,
}

impl RpcError {
    pub fn kind(&self) -> RpcErrorKind {
        match self {
            RpcError::Timeout { .. } => RpcErrorKind::Timeout,
            RpcError::ConnectTimeout { .. } => RpcErrorKind::ConnectTimeout,
            RpcError::Connect { .. } => RpcErrorKind::Connect,
            RpcError::Io { .. } => RpcErrorKind::Io,
            RpcError::Protocol(_) => RpcErrorKind::Protocol,
            RpcError::Encode(_) => RpcErrorKind::Encode,
            RpcError::Application(_) => RpcErrorKind::Application,
            RpcError::BreakerOpen(_) => RpcErrorKind::BreakerOpen,
            RpcError::NoInstance { .. } => RpcErrorKind::NoInstance,
            RpcError::Overloaded(_) => RpcErrorKind::Overloaded,
            RpcError::Cancelled => RpcErrorKind::Cancelled,
        }
    }

    /// Whether a failure retry may resend the call: failures where the request most likely
    /// did not reach a healthy handler (connection problems, open breakers, overload) and
    /// timeouts. Protocol, encoding and application errors would fail again the same way.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            RpcErrorKind::Timeout
                | RpcErrorKind::ConnectTimeout
                | RpcErrorKind::Connect
                | RpcErrorKind::Io
                | RpcErrorKind::BreakerOpen
                | RpcErrorKind::Overloaded
        )
    }

    /// Whether a circuit breaker counts this as a failure of the callee. A refusal by a
    /// breaker itself, a missing instance and cancellation by the caller say nothing about
    /// the callee's health.
    pub fn counts_against_callee(&self) -> bool {
        !matches!(
            self.kind(),
            RpcErrorKind::BreakerOpen
                | RpcErrorKind::NoInstance
                | RpcErrorKind::Cancelled
                | RpcErrorKind::Encode
        )
    }

    /// An I/O failure on an established connection to `addr`.
    pub fn io(addr: &Arc<str>, err: &io::Error) -> Self {
        RpcError::Io {
            addr: addr.clone(),
            kind: err.kind(),
            detail: err.to_string(),
        }
    }

    /// A failure to connect to `addr`.
    pub fn connect(addr: &Arc<str>, err: &io::Error) -> Self {
        RpcError::Connect {
            addr: addr.clone(),
            kind: err.kind(),
            detail: err.to_string(),
        }
    }
}

impl RpcErrorKind {
    /// Lower-case name used as the `status` metric attribute and in reports.
    pub fn name(self) -> &'static str {
        match self {
            RpcErrorKind::Timeout => "timeout",
            RpcErrorKind::ConnectTimeout => "connect_timeout",
            RpcErrorKind::Connect => "connect_error",
            RpcErrorKind::Io => "io_error",
            RpcErrorKind::Protocol => "protocol_error",
            RpcErrorKind::Encode => "encode_error",
            RpcErrorKind::Application => "application_error",
            RpcErrorKind::BreakerOpen => "breaker_open",
            RpcErrorKind::NoInstance => "no_instance",
            RpcErrorKind::Overloaded => "overloaded",
            RpcErrorKind::Cancelled => "cancelled",
        }
    }
}
