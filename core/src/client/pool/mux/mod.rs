//! Multiplexed connections (TTHeader multiplexing, as Kitex's mux transport):
//! `mux_connections` shared connections per address, calls spread over them round robin,
//! each connection carrying many calls at once, matched to replies by sequence id (see
//! `conn` for one connection's life and faults).
//!
//! - Each connection slot of an address is dialed on first use and redialed by the first
//!   call after its connection closed; dialing is single-flight per slot.
//! - Addresses are kept in a `BTreeMap`: pruning (discovery dropped an instance) drops
//!   their connections in address order, the same in every run of a simulation. A dropped
//!   connection finishes the calls in flight on it, then closes (see `conn`).
//! - A call to an address discovery no longer lists (routed just before the removal) gets
//!   a connection of its own that is not kept: it closes when the call ends.

mod conn;
mod tasks;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::BytesMut;

use self::conn::MuxConn;
use super::codec::{self, Decoded};
use super::{dial, Ctx, PoolConfig};
use crate::net::Net;
use crate::rpc::RpcError;

/// One connection slot, behind an async lock so that dialing is single-flight.
type Slot = tokio::sync::Mutex<Option<Arc<MuxConn>>>;

/// The connection slots of one address.
struct AddrConns {
    next: AtomicUsize,
    slots: Box<[Slot]>,
}

/// The shared connections of every address.
pub(super) struct Multiplexed {
    addrs: Mutex<BTreeMap<Arc<str>, Arc<AddrConns>>>,
}

impl Multiplexed {
    pub fn new() -> Self {
        Self {
            addrs: Mutex::new(BTreeMap::new()),
        }
    }

    /// Calls in flight on the connections to `addr`.
    pub fn in_flight(&self, addr: &str) -> usize {
        let Some(conns) = lock(&self.addrs).get(addr).cloned() else {
            return 0;
        };
        conns
            .slots
            .iter()
            .filter_map(|slot| slot.try_lock().ok().and_then(|c| c.clone()))
            .map(|c| c.in_flight())
            .sum()
    }

    /// Drops the connections of every address not in `live`, in address order.
    pub fn retain(&self, live: &HashSet<&str>) {
        lock(&self.addrs).retain(|addr, _| live.contains(&**addr));
    }

    /// Sends `frame` on a shared connection to `addr` and waits for the reply to `seq_id`.
    pub async fn exchange<N: Net>(
        &self,
        ctx: &Ctx<N>,
        addr: &Arc<str>,
        frame: BytesMut,
        seq_id: i32,
    ) -> Result<Decoded, RpcError> {
        // A connection can close (idle timeout, a failure) between being handed out and
        // taking the call; the call has not been sent then, so it takes a fresh one.
        for _ in 0..2 {
            let conn = self.connection(ctx, addr).await?;
            if let Some(waiting) = conn.register(seq_id) {
                return conn.exchange(frame, waiting).await;
            }
        }
        Err(codec::closed(addr))
    }

    /// An open connection to `addr`, dialed if its slot has none.
    async fn connection<N: Net>(
        &self,
        ctx: &Ctx<N>,
        addr: &Arc<str>,
    ) -> Result<Arc<MuxConn>, RpcError> {
        let kept = {
            let mut addrs = lock(&self.addrs);
            match addrs.get(addr) {
                Some(conns) => Some(conns.clone()),
                None if ctx.membership.contains(addr) => Some(
                    addrs
                        .entry(addr.clone())
                        .or_insert_with(|| Arc::new(AddrConns::new(ctx.config.mux_connections)))
                        .clone(),
                ),
                None => None,
            }
        };
        let Some(conns) = kept else {
            return open(ctx, addr).await;
        };
        let at = conns.next.fetch_add(1, Ordering::Relaxed) % conns.slots.len();
        let mut slot = conns.slots[at].lock().await;
        if let Some(conn) = slot.as_ref().filter(|c| c.is_open()) {
            return Ok(conn.clone());
        }
        let conn = open(ctx, addr).await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }
}

impl AddrConns {
    /// `n` empty slots (at least one).
    fn new(n: usize) -> Self {
        Self {
            next: AtomicUsize::new(0),
            slots: (0..n.clamp(1, PoolConfig::MAX_MUX_CONNECTIONS))
                .map(|_| Slot::default())
                .collect(),
        }
    }
}

/// Dials `addr` and starts the connection's tasks.
async fn open<N: Net>(ctx: &Ctx<N>, addr: &Arc<str>) -> Result<Arc<MuxConn>, RpcError> {
    let stream = dial(ctx, addr).await?;
    let conn = MuxConn::open(stream, addr.clone(), &ctx.config, &ctx.gauges);
    Ok(Arc::new(conn))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
