//! One multiplexed connection: a writer task and a reader task (see `tasks`) over the two
//! halves of the stream, and the calls waiting on it, matched to replies by sequence id
//! through oneshot channels.
//!
//! - A call registers under its sequence id, queues its frame (the queue is bounded) and
//!   waits; a call that ends (answered, cancelled, deadline passed) removes itself, and a
//!   late reply to it is discarded. The connection stays: other calls share it.
//! - The connection closes, and every call waiting on it fails with the cause, in
//!   sequence-id order, when: a read or write fails or the peer closes it (`Io`); a reply
//!   is malformed (`Protocol`); no byte has arrived for `stall_timeout` since a request
//!   was written (`Io`, `TimedOut`: a black hole or a stalled peer). The stall clock runs
//!   from the first request written after the last reply frame (or from that frame, if
//!   calls still wait), whether or not the request's call still waits: a request whose
//!   call hit its deadline is still owed a (late) reply, so short deadlines cannot keep a
//!   dead connection alive by each ending before the timeout. It also closes, with no call to fail, after `idle_timeout` without calls,
//!   and once every handle to it is gone (the pool dropped it and no call is in flight on
//!   it).
//! - Closing ends both tasks and drops the stream; the pool's next call to the address
//!   dials a new connection.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::time::Instant;

use super::super::codec::{self, Decoded};
use super::super::gauge::Gauges;
use super::super::watched;
use super::super::PoolConfig;
use super::tasks;
use crate::rpc::RpcError;
use crate::transport::FrameReader;

/// Frames queued for one connection's writer task.
const WRITE_QUEUE: usize = 1024;

type Answer = oneshot::Sender<Result<Decoded, RpcError>>;

/// A handle to one shared connection; the connection closes when every handle is gone.
pub(in super::super) struct MuxConn {
    shared: Arc<Shared>,
    writes: mpsc::Sender<BytesMut>,
}

/// What the handles and the two tasks share.
pub(super) struct Shared {
    pub(super) addr: Arc<str>,
    calls: Mutex<Calls>,
    pub(super) closed: watch::Sender<bool>,
    /// Wakes the reader when a request is written to a connection that owed nothing (the
    /// stall clock starts then).
    pub(super) owing: Notify,
    timeouts: Timeouts,
}

/// The calls waiting for a reply, and since when the connection is busy or idle.
pub(super) struct Calls {
    /// By sequence id (so failing them all goes in a fixed order); `None` once closed.
    waiting: Option<BTreeMap<i32, Answer>>,
    /// When `waiting` last went from empty to not, or back (the idle clock).
    since: Instant,
    /// When the first request written since the last reply frame went out (the stall
    /// clock); `None` when nothing is owed.
    owed_since: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Timeouts {
    stall: Duration,
    idle: Duration,
}

/// A call registered on a connection; dropping it removes the call.
pub(in super::super) struct Registered {
    shared: Arc<Shared>,
    seq_id: i32,
    answer: oneshot::Receiver<Result<Decoded, RpcError>>,
}

impl MuxConn {
    /// Starts the writer and reader tasks of `stream`.
    pub fn open<S: AsyncRead + AsyncWrite + Send + 'static>(
        stream: S,
        addr: Arc<str>,
        config: &PoolConfig,
        gauges: &Gauges,
    ) -> Self {
        let (read, write) = tokio::io::split(stream);
        let (writes, queue) = mpsc::channel(WRITE_QUEUE);
        let shared = Arc::new(Shared {
            addr,
            calls: Mutex::new(Calls {
                waiting: Some(BTreeMap::new()),
                since: Instant::now(),
                owed_since: None,
            }),
            closed: watch::Sender::new(false),
            owing: Notify::new(),
            timeouts: Timeouts {
                stall: config.stall_timeout,
                idle: config.idle_timeout,
            },
        });
        let held = Arc::new(gauges.connection());
        tokio::spawn(tasks::write_loop(
            write,
            queue,
            shared.clone(),
            held.clone(),
            gauges.task(),
        ));
        let reader = FrameReader::expecting(config.limits, config.transport, config.protocol);
        tokio::spawn(tasks::read_loop(
            read,
            reader,
            config.limits,
            shared.clone(),
            held,
            gauges.task(),
        ));
        Self { shared, writes }
    }

    pub fn is_open(&self) -> bool {
        !*self.shared.closed.borrow()
    }

    /// Calls waiting for a reply.
    pub fn in_flight(&self) -> usize {
        self.shared.lock().waiting.as_ref().map_or(0, BTreeMap::len)
    }

    /// Registers a call under `seq_id`; `None` when the connection has closed.
    pub fn register(&self, seq_id: i32) -> Option<Registered> {
        let (tx, answer) = oneshot::channel();
        let mut calls = self.shared.lock();
        let calls = &mut *calls;
        let waiting = calls.waiting.as_mut()?;
        if waiting.is_empty() {
            calls.since = Instant::now();
        }
        waiting.insert(seq_id, tx);
        Some(Registered {
            shared: self.shared.clone(),
            seq_id,
            answer,
        })
    }

    /// Sends the registered call's frame and waits for its reply.
    pub async fn exchange(
        &self,
        frame: BytesMut,
        mut registered: Registered,
    ) -> Result<Decoded, RpcError> {
        if self.writes.send(frame).await.is_err() {
            return Err(codec::closed(&self.shared.addr));
        }
        (&mut registered.answer)
            .await
            .unwrap_or_else(|_| Err(codec::closed(&self.shared.addr)))
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.shared.lock().remove(self.seq_id);
    }
}

impl Calls {
    /// Takes the call `seq_id`; the connection turns idle when it was the last one.
    fn remove(&mut self, seq_id: i32) -> Option<Answer> {
        let waiting = self.waiting.as_mut()?;
        let answer = waiting.remove(&seq_id)?;
        if waiting.is_empty() {
            self.since = Instant::now();
        }
        Some(answer)
    }
}

/// Why the reader's timer may close the connection.
pub(super) enum Expiry {
    Idle,
    Stalled,
}

impl Shared {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the reader must next look at the clock (the last byte arrived at `last_byte`),
    /// and what expires then; `None` when nothing can.
    pub(super) fn timer(&self, calls: &Calls, last_byte: Instant) -> Option<(Instant, Expiry)> {
        let waiting = calls.waiting.as_ref()?;
        if let Some(owed) = calls.owed_since {
            return watched::deadline(owed.max(last_byte), self.timeouts.stall)
                .map(|at| (at, Expiry::Stalled));
        }
        match waiting.is_empty() {
            true => watched::deadline(calls.since, self.timeouts.idle).map(|at| (at, Expiry::Idle)),
            false => None,
        }
    }

    /// A request went out: the stall clock starts unless it already runs.
    pub(super) fn sent(&self) {
        let mut calls = self.lock();
        if calls.owed_since.is_none() {
            calls.owed_since = Some(Instant::now());
            drop(calls);
            self.owing.notify_one();
        }
    }

    /// Closes the connection if its idle or stall time has run out; true when it did.
    pub(super) fn expire(&self, last_byte: Instant) -> bool {
        let mut calls = self.lock();
        let err = match self.timer(&calls, last_byte) {
            Some((at, expiry)) if at <= Instant::now() => match expiry {
                Expiry::Idle => codec::closed(&self.addr),
                Expiry::Stalled => codec::stalled(&self.addr, self.timeouts.stall),
            },
            _ => return false,
        };
        let taken = calls.waiting.take();
        drop(calls);
        self.fail(taken, err);
        true
    }

    /// Marks the connection closed and fails every call waiting on it with `err`.
    pub(super) fn close(&self, err: RpcError) {
        let taken = self.lock().waiting.take();
        self.fail(taken, err);
    }

    fn fail(&self, taken: Option<BTreeMap<i32, Answer>>, err: RpcError) {
        self.closed.send_replace(true);
        for (_, answer) in taken.into_iter().flatten() {
            // The caller may have gone in the meantime; then nobody wants it.
            drop(answer.send(Err(err.clone())));
        }
    }

    /// A reply frame came: the peer is alive. The stall clock restarts now if calls still
    /// wait, and stops if none does.
    pub(super) fn answer(&self, reply: Decoded) {
        let answer = {
            let mut calls = self.lock();
            let answer = calls.remove(reply.seq_id);
            let waiting = calls.waiting.as_ref().is_some_and(|w| !w.is_empty());
            calls.owed_since = waiting.then(Instant::now);
            answer
        };
        if let Some(answer) = answer {
            drop(answer.send(Ok(reply)));
        }
    }
}
