//! Exclusive pooled connections: a call checks out an idle connection to its instance (or
//! dials one), writes its frame, reads the reply, and checks the connection back in.
//!
//! - Idle connections are kept per address, most recently used first out, at most
//!   `max_idle_per_instance` of them; one idle for `idle_timeout` or longer is evicted when
//!   its address is next checked out or checked in (no background timers).
//! - A checked-out connection is probed without blocking: one the peer closed (or that
//!   holds bytes nobody asked for) is dropped instead of used.
//! - A connection that failed, or whose call was cancelled mid-exchange (it is owned by the
//!   call's future), is dropped, never checked back in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;
use tokio::time::Instant;

use super::codec::{self, Decoded};
use super::{dial, PoolConfig};
use crate::net::Net;
use crate::rpc::RpcError;
use crate::transport::{write_frame, FrameReader};

/// One connection with its reader's buffer.
struct Conn<S> {
    stream: S,
    reader: FrameReader,
    idle_since: Instant,
}

impl<S: tokio::io::AsyncRead + Unpin> Conn<S> {
    /// False when the peer closed the connection or sent bytes no call waits for (a whole
    /// frame, or the start of one).
    fn is_usable(&mut self) -> bool {
        self.reader.read(&mut self.stream).now_or_never().is_none() && self.reader.buffered() == 0
    }
}

/// The idle connections of every address.
pub(super) struct Exclusive<S> {
    idle: Mutex<HashMap<Arc<str>, Vec<Conn<S>>>>,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Exclusive<S> {
    pub fn new() -> Self {
        Self {
            idle: Mutex::new(HashMap::new()),
        }
    }

    /// Idle connections to `addr` (expired ones included until the next eviction).
    pub fn idle(&self, addr: &str) -> usize {
        self.lock().get(addr).map_or(0, Vec::len)
    }

    /// Sends `frame` on an idle or new connection to `addr` and reads the reply to `seq_id`.
    pub async fn exchange<N: Net<Stream = S>>(
        &self,
        net: &N,
        config: &PoolConfig,
        addr: &Arc<str>,
        frame: &[u8],
        seq_id: i32,
    ) -> Result<Decoded, RpcError> {
        let mut conn = match self.checkout(addr, config) {
            Some(conn) => conn,
            None => Conn {
                stream: dial(net, addr, config.connect_timeout).await?,
                reader: FrameReader::expecting(config.limits, config.transport, config.protocol),
                idle_since: Instant::now(),
            },
        };
        write_frame(&mut conn.stream, frame)
            .await
            .map_err(|err| RpcError::io(addr, &err))?;
        let reply =
            codec::read_reply(&mut conn.reader, &mut conn.stream, addr, config.limits).await?;
        reply.expect_seq_id(seq_id)?;
        self.checkin(addr, conn, config);
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

    /// Keeps `conn` for the next call unless `addr` already has `max_idle_per_instance`.
    fn checkin(&self, addr: &Arc<str>, mut conn: Conn<S>, config: &PoolConfig) {
        let mut idle = self.lock();
        let conns = idle.entry(addr.clone()).or_default();
        evict_expired(conns, config);
        if conns.len() < config.max_idle_per_instance {
            conn.idle_since = Instant::now();
            conns.push(conn);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Vec<Conn<S>>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drops the connections idle for `idle_timeout` or longer (the oldest are first).
fn evict_expired<S>(conns: &mut Vec<Conn<S>>, config: &PoolConfig) {
    let now = Instant::now();
    conns.retain(|c| now.saturating_duration_since(c.idle_since) < config.idle_timeout);
}
