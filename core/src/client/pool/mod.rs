//! The connection pool: the transport at the bottom of the client stack, a
//! `tower::Service<Call>` over any [`Net`].
//!
//! It sends each call to `call.target` (set by the load balancer) as one frame in the
//! configured transport (TTHeader by default, as Kitex; TTHeaderFramed, THeader, Framed,
//! Buffered) and protocol (Binary by default; Compact): the envelope with the pool's
//! sequence id around the pre-encoded `call.args`, and the call's metadata in the header
//! (see `codec`). The reply comes back as `Reply { kind, body, metadata, instance, origin:
//! Remote }`; a `TApplicationException` reply is `RpcError::Application`. A reply must come
//! in the configured transport and protocol: one in any other is `RpcError::Protocol`, never
//! a body in a protocol the caller does not decode.
//!
//! Two modes ([`PoolMode`]):
//! - `Exclusive` (default): long-lived connections per instance, one call at a time each,
//!   with `max_idle_per_instance` and `idle_timeout` (see `exclusive`).
//! - `Multiplexed`: one shared connection per instance carrying many calls at once,
//!   replies matched by sequence id (see `mux`). Kitex servers accept this on TTHeader.
//!
//! Dialing is bounded by `connect_timeout` (`RpcError::ConnectTimeout`); a refused or
//! failed connect is `RpcError::Connect`, a connection that breaks under a call
//! `RpcError::Io`. Defaults follow Kitex: connect timeout 50 ms, 10 idle connections per
//! address, idle timeout 30 s.

mod codec;
mod exclusive;
mod mux;

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tracing::Instrument;

use tower::Service;

use self::exclusive::Exclusive;
use self::mux::Multiplexed;
use super::CallFuture;
use crate::frame::Transport;
use crate::net::Net;
use crate::protocol::{DecodeLimits, ProtocolId};
use crate::rpc::{Call, Reply, ReplyOrigin, RpcError};

/// How calls share connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum PoolMode {
    /// One call per connection at a time; idle connections are pooled.
    #[default]
    Exclusive,
    /// One shared connection per instance; calls matched to replies by sequence id.
    Multiplexed,
}

/// The pool's settings. As data (camelCase, every field optional): `{ transport: ttheader,
/// protocol: binary, mode: exclusive, connectTimeout: 50ms, maxIdlePerInstance: 10,
/// idleTimeout: 30s, limits: {...} }`. `to_service` / `from_service` are not data: a client
/// built from a `ClientConfig` takes them from its `service` and `caller`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolConfig {
    pub transport: Transport,
    pub protocol: ProtocolId,
    pub mode: PoolMode,
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub connect_timeout: Duration,
    /// Idle connections kept per address (exclusive mode).
    pub max_idle_per_instance: usize,
    /// How long an idle connection is kept (exclusive mode).
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub idle_timeout: Duration,
    /// Sent as TTHeader `ToService` when set.
    #[serde(skip)]
    pub to_service: Option<Arc<str>>,
    /// Sent as TTHeader `FromService` when set.
    #[serde(skip)]
    pub from_service: Option<Arc<str>>,
    /// Bounds on every reply decoded.
    pub limits: DecodeLimits,
}

impl PoolConfig {
    /// The most idle connections a config may keep per instance.
    pub const MAX_IDLE_LIMIT: usize = 10_000;
}

impl crate::config::Validate for PoolConfig {
    fn validate_at(
        &self,
        path: &crate::config::FieldPath,
        errors: &mut crate::config::FieldErrors,
    ) {
        use crate::config::POSITIVE;
        errors.duration_in(
            || path.field("connectTimeout"),
            self.connect_timeout,
            POSITIVE,
        );
        errors.in_range(
            || path.field("maxIdlePerInstance"),
            self.max_idle_per_instance,
            0..=Self::MAX_IDLE_LIMIT,
        );
        errors.duration_in(|| path.field("idleTimeout"), self.idle_timeout, POSITIVE);
        self.limits.validate_at(&path.field("limits"), errors);
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            transport: Transport::TTHeader,
            protocol: ProtocolId::Binary,
            mode: PoolMode::Exclusive,
            connect_timeout: Duration::from_millis(50),
            max_idle_per_instance: 10,
            idle_timeout: Duration::from_secs(30),
            to_service: None,
            from_service: None,
            limits: DecodeLimits::default(),
        }
    }
}

/// The connection pool. Clones share connections and the sequence id counter.
pub struct Pool<N: Net> {
    inner: Arc<Inner<N>>,
}

struct Inner<N: Net> {
    net: N,
    config: PoolConfig,
    seq_id: AtomicI32,
    exclusive: Exclusive<N::Stream>,
    multiplexed: Multiplexed,
}

impl<N: Net> Clone for Pool<N> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<N: Net> std::fmt::Debug for Pool<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl<N: Net> Pool<N> {
    pub fn new(net: N, config: PoolConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                net,
                config,
                seq_id: AtomicI32::new(0),
                exclusive: Exclusive::new(),
                multiplexed: Multiplexed::new(),
            }),
        }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    /// Idle connections kept for `addr` (exclusive mode).
    pub fn idle(&self, addr: &str) -> usize {
        self.inner.exclusive.idle(addr)
    }

    /// Calls waiting for a reply on the shared connection to `addr` (multiplexed mode).
    pub fn in_flight(&self, addr: &str) -> usize {
        self.inner.multiplexed.in_flight(addr)
    }
}

impl<N: Net> Inner<N> {
    /// The next sequence id: positive, wrapping from `i32::MAX` back to 1.
    fn next_seq_id(&self) -> i32 {
        let previous = self
            .seq_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| {
                Some(id.checked_add(1).unwrap_or(1))
            })
            .unwrap_or_default();
        previous.checked_add(1).unwrap_or(1)
    }

    async fn send(&self, call: Call) -> Result<Reply, RpcError> {
        let config = &self.config;
        let Some(target) = call.target.clone() else {
            let service = config
                .to_service
                .clone()
                .unwrap_or_else(|| "unknown".into());
            return Err(RpcError::NoInstance { service });
        };
        let seq_id = self.next_seq_id();
        let frame = codec::encode_call(config, &call, seq_id)?;
        let addr = &target.addr;
        let span = tracing::debug_span!(
            "rpc.client",
            method = %call.method,
            seq_id,
            peer = %addr,
            attempt = call.attempt,
        );
        let exchange = async {
            match config.mode {
                PoolMode::Exclusive => {
                    self.exclusive
                        .exchange(&self.net, config, addr, &frame, seq_id)
                        .await
                }
                PoolMode::Multiplexed => {
                    self.multiplexed
                        .exchange(&self.net, config, addr, frame, seq_id)
                        .await
                }
            }
        };
        let reply = exchange.instrument(span).await?;
        let (kind, body, metadata) = reply.into_parts(config.limits)?;
        Ok(Reply {
            kind,
            body,
            metadata,
            instance: Some(target),
            origin: ReplyOrigin::Remote,
        })
    }
}

impl<N: Net> Service<Call> for Pool<N> {
    type Response = Reply;
    type Error = RpcError;
    type Future = CallFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), RpcError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Call) -> CallFuture {
        let inner = self.inner.clone();
        Box::pin(async move { inner.send(call).await })
    }
}

/// Connects to `addr` within `timeout`.
async fn dial<N: Net>(net: &N, addr: &Arc<str>, timeout: Duration) -> Result<N::Stream, RpcError> {
    match tokio::time::timeout(timeout, net.connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(err)) => Err(RpcError::connect(addr, &err)),
        Err(_) => Err(RpcError::ConnectTimeout {
            addr: addr.clone(),
            after: timeout,
        }),
    }
}
