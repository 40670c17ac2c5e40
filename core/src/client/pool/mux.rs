//! Multiplexed connections (TTHeader multiplexing, as Kitex's mux transport): one shared
//! connection per address, a writer task and a reader task per connection, and calls in
//! flight matched to replies by sequence id through oneshot channels.
//!
//! - A call registers its slot, queues its frame (the queue is bounded), and waits; a
//!   cancelled call removes its slot, and a late reply to it is discarded.
//! - When the connection fails (read or write error, the peer closing it, a malformed
//!   reply) every call in flight on it fails with that error, and the next call dials a new
//!   connection. Dialing is single-flight per address.
//! - A connection whose handle is gone (the pool dropped it) shuts its write side down once
//!   its queue is drained; the peer then closes it and the reader task ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot};

use super::codec::{self, Decoded};
use super::{dial, PoolConfig};
use crate::net::Net;
use crate::protocol::DecodeLimits;
use crate::rpc::RpcError;
use crate::transport::{write_frame, FrameReader};

/// Frames queued for one connection's writer task.
const WRITE_QUEUE: usize = 1024;

type Slot = oneshot::Sender<Result<Decoded, RpcError>>;
/// The calls in flight by sequence id; `None` once the connection has failed.
type Slots = Mutex<Option<HashMap<i32, Slot>>>;
/// An address's connection, behind an async lock so that dialing is single-flight.
type Entry = Arc<tokio::sync::Mutex<Option<Arc<MuxConn>>>>;

/// One shared connection.
struct MuxConn {
    addr: Arc<str>,
    writes: mpsc::Sender<BytesMut>,
    slots: Arc<Slots>,
}

/// The shared connection of every address.
pub(super) struct Multiplexed {
    conns: Mutex<HashMap<Arc<str>, Entry>>,
}

impl Multiplexed {
    pub fn new() -> Self {
        Self {
            conns: Mutex::new(HashMap::new()),
        }
    }

    /// Calls in flight on the connection to `addr`.
    pub fn in_flight(&self, addr: &str) -> usize {
        let entry = lock(&self.conns).get(addr).cloned();
        let conn = entry.and_then(|e| e.try_lock().ok().and_then(|c| c.clone()));
        conn.map_or(0, |c| lock(&c.slots).as_ref().map_or(0, HashMap::len))
    }

    /// Sends `frame` on the shared connection to `addr` and waits for the reply to `seq_id`.
    pub async fn exchange<N: Net>(
        &self,
        net: &N,
        config: &PoolConfig,
        addr: &Arc<str>,
        frame: BytesMut,
        seq_id: i32,
    ) -> Result<Decoded, RpcError> {
        let conn = self.connection(net, config, addr).await?;
        conn.exchange(frame, seq_id).await
    }

    /// The open connection to `addr`, dialed if there is none.
    async fn connection<N: Net>(
        &self,
        net: &N,
        config: &PoolConfig,
        addr: &Arc<str>,
    ) -> Result<Arc<MuxConn>, RpcError> {
        let entry = lock(&self.conns).entry(addr.clone()).or_default().clone();
        let mut current = entry.lock().await;
        if let Some(conn) = current.as_ref().filter(|c| c.is_open()) {
            return Ok(conn.clone());
        }
        let stream = dial(net, addr, config.connect_timeout).await?;
        let conn = Arc::new(MuxConn::open(stream, addr.clone(), config));
        *current = Some(conn.clone());
        Ok(conn)
    }
}

impl MuxConn {
    /// Starts the writer and reader tasks of `stream`.
    fn open<S: AsyncRead + AsyncWrite + Send + 'static>(
        stream: S,
        addr: Arc<str>,
        config: &PoolConfig,
    ) -> Self {
        let (read, write) = tokio::io::split(stream);
        let (writes, queue) = mpsc::channel(WRITE_QUEUE);
        let slots: Arc<Slots> = Arc::new(Mutex::new(Some(HashMap::new())));
        tokio::spawn(write_loop(write, queue, slots.clone(), addr.clone()));
        let reader = FrameReader::expecting(config.limits, config.transport, config.protocol);
        tokio::spawn(read_loop(
            read,
            reader,
            config.limits,
            slots.clone(),
            addr.clone(),
        ));
        Self {
            addr,
            writes,
            slots,
        }
    }

    fn is_open(&self) -> bool {
        lock(&self.slots).is_some()
    }

    async fn exchange(&self, frame: BytesMut, seq_id: i32) -> Result<Decoded, RpcError> {
        let (slot, reply) = oneshot::channel();
        match lock(&self.slots).as_mut() {
            Some(slots) => slots.insert(seq_id, slot),
            None => return Err(codec::closed(&self.addr)),
        };
        let _registered = Registered {
            slots: &self.slots,
            seq_id,
        };
        if self.writes.send(frame).await.is_err() {
            return Err(codec::closed(&self.addr));
        }
        reply
            .await
            .unwrap_or_else(|_| Err(codec::closed(&self.addr)))
    }
}

/// Removes a call's slot when the call ends, answered or cancelled.
struct Registered<'a> {
    slots: &'a Slots,
    seq_id: i32,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        if let Some(slots) = lock(self.slots).as_mut() {
            slots.remove(&self.seq_id);
        }
    }
}

async fn write_loop<S: AsyncWrite>(
    mut write: WriteHalf<S>,
    mut queue: mpsc::Receiver<BytesMut>,
    slots: Arc<Slots>,
    addr: Arc<str>,
) {
    while let Some(frame) = queue.recv().await {
        if let Err(err) = write_frame(&mut write, &frame).await {
            fail_all(&slots, RpcError::io(&addr, &err));
            return;
        }
    }
    // Every handle is gone: no more calls. The error is moot; the peer closes or not.
    drop(write.shutdown().await);
}

async fn read_loop<S: AsyncRead>(
    mut read: ReadHalf<S>,
    mut reader: FrameReader,
    limits: DecodeLimits,
    slots: Arc<Slots>,
    addr: Arc<str>,
) {
    loop {
        match codec::read_reply(&mut reader, &mut read, &addr, limits).await {
            Ok(reply) => {
                let slot = lock(&slots).as_mut().and_then(|s| s.remove(&reply.seq_id));
                if let Some(slot) = slot {
                    // The caller may have gone in the meantime; then nobody wants it.
                    drop(slot.send(Ok(reply)));
                }
            }
            Err(err) => {
                fail_all(&slots, err);
                return;
            }
        }
    }
}

/// Marks the connection failed and fails every call in flight on it with `err`.
fn fail_all(slots: &Slots, err: RpcError) {
    let taken = lock(slots).take();
    for (_, slot) in taken.into_iter().flatten() {
        drop(slot.send(Err(err.clone())));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
