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
//! - `Multiplexed`: `mux_connections` shared connections per instance, each carrying many
//!   calls at once, replies matched by sequence id (see `mux`). Kitex servers accept this
//!   on TTHeader.
//!
//! What happens to a call, and to its connection, on each kind of fault:
//!
//! | fault | the call | the connection |
//! |---|---|---|
//! | connect refused | `RpcError::Connect` at once | none was made |
//! | connect black-holed | `RpcError::ConnectTimeout` after `connect_timeout` | the dial is dropped |
//! | reset, or the peer closes it mid-call | `RpcError::Io` (every call waiting on it, multiplexed) | dropped; the next call dials |
//! | the peer closed it while idle | not affected: checkout probes it (exclusive), the reader saw the close (multiplexed) | dropped; the call dials a new one |
//! | black hole or stalled peer mid-call | `RpcError::Timeout` at its deadline; without a deadline, `Io` (`TimedOut`) after `stall_timeout` with no byte | exclusive: dropped with the call, never reused; multiplexed: closed once no byte has come for `stall_timeout` since a request was written, then redialed |
//! | slow reply (past the deadline) | `RpcError::Timeout` at its deadline | exclusive: dropped (a late reply is never read as the next call's); multiplexed: kept, the late reply is discarded |
//! | malformed reply | `RpcError::Protocol` | dropped (every call on it fails, multiplexed) |
//! | instance removed by discovery | calls in flight finish on their connection | idle ones dropped by the next call; multiplexed ones close when their last call ends ([`Pool::with_discovery`]) |
//!
//! Idle connections go after `idle_timeout` (exclusive: on the address's next checkout or
//! checkin; multiplexed: by the connection's own timer, so an instance nobody calls any
//! more holds no socket and no task). TCP keepalive (`keepalive`, through
//! [`Net::connect_with`]) lets the kernel find dead idle connections on tokio TCP; turmoil
//! has none. [`Pool::connections`] and [`Pool::tasks`] count what the pool holds open.
//!
//! Defaults follow Kitex: connect timeout 50 ms, 10 idle connections per address, idle
//! timeout 30 s, keepalive 15 s (Go's dialer default, which Kitex uses), one multiplexed
//! connection per address. The stall timeout (5 s, none in Kitex, which relies on TCP) is
//! well above the default 1 s call deadline, so it never ends a call a deadline would not,
//! and bounds how long a black-holed multiplexed connection is kept.

mod codec;
mod exclusive;
mod gauge;
mod mux;
mod watched;

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tracing::Instrument;

use tower::Service;

use self::exclusive::Exclusive;
use self::gauge::Gauges;
use self::mux::Multiplexed;
use super::CallFuture;
use crate::frame::Transport;
use crate::lb::{addrs, Discovery, Membership};
use crate::net::{ConnectOptions, Net};
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
/// idleTimeout: 30s, keepalive: 15s, stallTimeout: 5s, muxConnections: 1, limits: {...} }`. `to_service` / `from_service` are not data: a client
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
    /// How long a connection without calls is kept (both modes).
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub idle_timeout: Duration,
    /// TCP keepalive on the pool's connections: first probe after this long idle, then at
    /// this interval (whole seconds, 1s ..= 32767s; `0` turns it off). No effect on turmoil.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub keepalive: Duration,
    /// A connection on which no byte has arrived for this long since a request was
    /// written on it (exclusive: while its call waits; multiplexed: even if that call has
    /// since given up, as its reply is still owed) is closed, its waiting calls fail with
    /// `Io` (`TimedOut`), and the next call dials anew; `0` turns it off.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub stall_timeout: Duration,
    /// Shared connections per address (multiplexed mode), used round robin.
    pub mux_connections: usize,
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
    /// The most multiplexed connections a config may open per instance.
    pub const MAX_MUX_CONNECTIONS: usize = 64;
    /// The keepalive times the kernel accepts (Linux counts whole seconds, at most 32767).
    pub const KEEPALIVE_RANGE: std::ops::RangeInclusive<Duration> =
        Duration::from_secs(1)..=Duration::from_secs(32_767);

    /// The socket options of the pool's connections.
    fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            keepalive: (!self.keepalive.is_zero()).then_some(self.keepalive),
        }
    }
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
        errors.check(
            self.keepalive.is_zero() || Self::KEEPALIVE_RANGE.contains(&self.keepalive),
            || path.field("keepalive"),
            || "must be 0 (off) or 1s ..= 32767s".into(),
        );
        errors.duration_in(
            || path.field("stallTimeout"),
            self.stall_timeout,
            crate::config::ANY,
        );
        errors.in_range(
            || path.field("muxConnections"),
            self.mux_connections,
            1..=Self::MAX_MUX_CONNECTIONS,
        );
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
            keepalive: Duration::from_secs(15),
            stall_timeout: Duration::from_secs(5),
            mux_connections: 1,
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
    ctx: Ctx<N>,
    seq_id: AtomicI32,
    exclusive: Exclusive<N::Stream>,
    multiplexed: Multiplexed,
}

/// What dialing and keeping connections takes, in either mode.
struct Ctx<N> {
    net: N,
    config: PoolConfig,
    gauges: Gauges,
    /// Which addresses connections are kept for (every one, without a discovery).
    membership: Membership,
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
            .field("config", &self.inner.ctx.config)
            .finish_non_exhaustive()
    }
}

impl<N: Net> Pool<N> {
    pub fn new(net: N, config: PoolConfig) -> Self {
        Self::with_membership(net, config, Membership::default())
    }

    /// A pool that drops the connections of an instance when `discovery` drops it: idle
    /// ones on the next call, multiplexed ones once their calls in flight have ended.
    pub fn with_discovery(net: N, config: PoolConfig, discovery: Discovery) -> Self {
        Self::with_membership(net, config, Membership::of(discovery))
    }

    fn with_membership(net: N, config: PoolConfig, membership: Membership) -> Self {
        Self {
            inner: Arc::new(Inner {
                ctx: Ctx {
                    net,
                    config,
                    gauges: Gauges::default(),
                    membership,
                },
                seq_id: AtomicI32::new(0),
                exclusive: Exclusive::new(),
                multiplexed: Multiplexed::new(),
            }),
        }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.inner.ctx.config
    }

    /// Idle connections kept for `addr` (exclusive mode).
    pub fn idle(&self, addr: &str) -> usize {
        self.inner.exclusive.idle(addr)
    }

    /// Calls waiting for a reply on the shared connections to `addr` (multiplexed mode).
    pub fn in_flight(&self, addr: &str) -> usize {
        self.inner.multiplexed.in_flight(addr)
    }

    /// Connections the pool holds open now, to every address, idle and in use, both modes.
    pub fn connections(&self) -> usize {
        self.inner.ctx.gauges.connections()
    }

    /// Background tasks running now (a writer and a reader per multiplexed connection).
    pub fn tasks(&self) -> usize {
        self.inner.ctx.gauges.tasks()
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
        let ctx = &self.ctx;
        let config = &ctx.config;
        let Some(target) = call.target.clone() else {
            let service = config
                .to_service
                .clone()
                .unwrap_or_else(|| "unknown".into());
            return Err(RpcError::NoInstance { service });
        };
        if let Some(snapshot) = ctx.membership.changed() {
            let live = addrs(&snapshot);
            self.exclusive.retain(&live);
            self.multiplexed.retain(&live);
        }
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
                PoolMode::Exclusive => self.exclusive.exchange(ctx, addr, &frame, seq_id).await,
                PoolMode::Multiplexed => self.multiplexed.exchange(ctx, addr, frame, seq_id).await,
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

/// Connects to `addr` within `connect_timeout`, with the config's socket options.
async fn dial<N: Net>(ctx: &Ctx<N>, addr: &Arc<str>) -> Result<N::Stream, RpcError> {
    let timeout = ctx.config.connect_timeout;
    let options = ctx.config.connect_options();
    match tokio::time::timeout(timeout, ctx.net.connect_with(addr, &options)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(err)) => Err(RpcError::connect(addr, &err)),
        Err(_) => Err(RpcError::ConnectTimeout {
            addr: addr.clone(),
            after: timeout,
        }),
    }
}
