//! Exclusive pooled connections: a call checks out an idle connection to its instance (or
//! dials one), writes its frame, reads the reply, and checks the connection back in.
//!
//! - Idle connections are kept per address, most recently used first out, at most
//!   `max_idle_per_instance` of them; one idle for `idle_timeout` or longer is evicted when
//!   its address is next checked out or checked in (no background timers).
//! - A checked-out connection is probed without blocking: one the peer closed (or that
//!   holds bytes nobody asked for) is dropped instead of used.
//! - A connection goes back to the pool only after a whole, matching reply was read on it.
//!   One that failed, whose call was cancelled mid-exchange (its deadline passed: the
//!   connection is owned by the call's future), or on which no byte came for
//!   `stall_timeout` while the call waited, is dropped, never checked back in: a late reply
//!   can never be read as the next call's.
//! - Addresses are kept in a `BTreeMap`, so pruning (discovery dropped an instance) closes
//!   connections in address order, the same in every run of a simulation. A connection to
//!   an address discovery no longer lists is not checked back in.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::io::AsyncRead;
use tokio::time::Instant;

use super::codec::{self, Decoded};
use super::gauge::Held;
use super::watched::{self, Watched};
use super::{dial, Ctx, PoolConfig};
use crate::lb::Membership;
use crate::net::Net;
use crate::protocol::DecodeLimits;
use crate::rpc::RpcError;
use crate::transport::{write_frame, FrameReader};

/// One connection with its reader's buffer.
struct Conn<S> {
    stream: S,
    reader: FrameReader,
    idle_since: Instant,
    _held: Held,
}

impl<S: tokio::io::AsyncRead + Unpin> Conn<S> {
    /// False when the peer closed the connection or sent bytes no call waits for (a whole
    /// frame, or the start of one).
    fn is_usable(&mut self) -> bool {
        self.reader.read(&mut self.stream).now_or_never().is_none() && self.reader.buffered() == 0
    }
}

type Idle<S> = BTreeMap<Arc<str>, Vec<Conn<S>>>;

/// The idle connections of every address.
pub(super) struct Exclusive<S> {
    idle: Mutex<Idle<S>>,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Exclusive<S> {
    pub fn new() -> Self {
        Self {
            idle: Mutex::new(BTreeMap::new()),
        }
    }

    /// Idle connections to `addr` (expired ones included until the next eviction).
    pub fn idle(&self, addr: &str) -> usize {
        self.lock().get(addr).map_or(0, Vec::len)
    }

    /// Drops the idle connections of every address not in `live`, in address order.
    pub fn retain(&self, live: &HashSet<&str>) {
        self.lock().retain(|addr, _| live.contains(&**addr));
    }

    /// Sends `frame` on an idle or new connection to `addr` and reads the reply to `seq_id`.
    pub async fn exchange<N: Net<Stream = S>>(
        &self,
        ctx: &Ctx<N>,
        addr: &Arc<str>,
        frame: &[u8],
        seq_id: i32,
    ) -> Result<Decoded, RpcError> {
        let config = &ctx.config;
        let mut conn = match self.checkout(addr, config) {
            Some(conn) => conn,
            None => Conn {
                stream: dial(ctx, addr).await?,
                reader: FrameReader::expecting(config.limits, config.transport, config.protocol),
                idle_since: Instant::now(),
                _held: ctx.gauges.connection(),
            },
        };
        write_frame(&mut conn.stream, frame)
            .await
            .map_err(|err| RpcError::io(addr, &err))?;
        let reply = read_reply(
            &mut conn.reader,
            &mut conn.stream,
            addr,
            config.limits,
            config.stall_timeout,
        )
        .await?;
        reply.expect_seq_id(seq_id)?;
        self.checkin(addr, conn, config, &ctx.membership);
        Ok(reply)
    }

    /// The most recently returned usable connection to `addr`, after evicting expired ones.
    fn checkout(&self, addr: &Arc<str>, config: &PoolConfig) -> Option<Conn<S>> {
        let mut idle = self.lock();
        let conns = idle.get_mut(addr)?;
        evict_expired(conns, config);
        while let Some(mut conn) = conns.pop() {
            if conn.is_usable() {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps `conn` for the next call unless `addr` already has `max_idle_per_instance` or
    /// is no longer a member of the discovery the pool follows.
    fn checkin(
        &self,
        addr: &Arc<str>,
        mut conn: Conn<S>,
        config: &PoolConfig,
        membership: &Membership,
    ) {
        let mut idle = self.lock();
        // A new address (the slow path): keep nothing for one discovery dropped.
        if !idle.contains_key(addr) && !membership.contains(addr) {
            return;
        }
        let conns = idle.entry(addr.clone()).or_default();
        evict_expired(conns, config);
        if conns.len() < config.max_idle_per_instance {
            conn.idle_since = Instant::now();
            conns.push(conn);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Idle<S>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Reads the reply; fails with `codec::stalled` when no byte arrives for `stall` (zero:
/// never).
async fn read_reply<R: AsyncRead + Unpin>(
    reader: &mut FrameReader,
    stream: &mut R,
    addr: &Arc<str>,
    limits: DecodeLimits,
    stall: Duration,
) -> Result<Decoded, RpcError> {
    let mut stream = Watched::new(stream);
    loop {
        let stall_at = watched::deadline(stream.last_byte(), stall);
        // `biased`: a reply that arrives in the same poll as the stall timer wins, and the
        // choice does not depend on tokio's random branch order (one seed, one trace).
        let read = tokio::select! {
            biased;
            read = codec::read_reply(reader, &mut stream, addr, limits) => Some(read),
            () = watched::sleep_until(stall_at) => None,
        };
        match read {
            Some(read) => return read,
            // Bytes of a slow frame may have arrived meanwhile; then wait on.
            None if watched::deadline(stream.last_byte(), stall)
                .is_some_and(|at| at <= Instant::now()) =>
            {
                return Err(codec::stalled(addr, stall));
            }
            None => {}
        }
    }
}

/// Drops the connections idle for `idle_timeout` or longer (the oldest are first).
fn evict_expired<S>(conns: &mut Vec<Conn<S>>, config: &PoolConfig) {
    let now = Instant::now();
    conns.retain(|c| now.saturating_duration_since(c.idle_since) < config.idle_timeout);
}
