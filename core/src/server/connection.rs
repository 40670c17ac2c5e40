//! One connection: reads frames, starts a task per request (several may be in flight;
//! replies go out in completion order, matched by sequence id), and writes replies from
//! one writer task.
//!
//! How it ends:
//! - the peer closing its side (a half-close or a full close), a read error, the read
//!   timeout (a frame started and not whole in time), the idle timeout (no request in
//!   flight and no bytes for that long), or server shutdown stop the reading; requests
//!   already read are served and their replies written before the connection closes;
//! - a malformed frame, a failed write or the write timeout (a peer that does not read)
//!   close the connection at once, cancelling its requests; a malformed frame is counted
//!   and emitted as `MalformedFrame`;
//! - when the drain deadline passes or the server is aborted, requests still in flight
//!   are cancelled, replies not yet written are dropped, and the connection closes.
//!
//! The `select!`s are `biased` so one seed gives one trace under turmoil: shutdown first,
//! then a dead writer, then finished calls (they restart the idle clock), then the read or
//! idle deadline (a deadline and a byte arriving at the same instant: the deadline wins),
//! then the socket.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::call::start_call;
use super::phase::{cancelled, draining, Phase};
use super::shared::Shared;
use super::timeouts::{expiry, Deadlines, Expired};
use super::writer::Writer;
use crate::event::{CloseReason, EventKind};
use crate::protocol::DecodeError;
use crate::transport::{FrameReader, ReadError};

/// Replies queued for the writer before request tasks wait for it.
const WRITE_QUEUE: usize = 128;

/// How the read loop ended, and why.
enum End {
    /// Serve what was read, write every reply, then close.
    Drain(CloseReason),
    /// Close now.
    Close(CloseReason),
}

pub(super) async fn serve_connection<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: Arc<str>,
    mut phase: watch::Receiver<Phase>,
) -> CloseReason
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, wr) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
    let mut writer = Writer::spawn(shared.clone(), wr, rx);
    let mut reader = FrameReader::new(shared.limits);
    let mut calls = JoinSet::new();
    let mut deadlines = Deadlines::new(&shared.timeouts, Instant::now());
    let end = loop {
        let deadline = deadlines.next(!calls.is_empty());
        tokio::select! {
            biased;
            _ = draining(&mut phase) => break End::Drain(CloseReason::Shutdown),
            written = &mut writer.0 => {
                break End::Close(written.ok().flatten().unwrap_or(CloseReason::WriteFailed));
            }
            Some(_) = calls.join_next(), if !calls.is_empty() => {
                if calls.is_empty() {
                    deadlines.calls_done(Instant::now());
                }
            }
            expired = expiry(deadline) => {
                break End::Drain(timed_out(&shared, &peer, expired));
            }
            filled = reader.fill(&mut rd) => match filled {
                Ok(0) => {
                    if reader.buffered() > 0 {
                        tracing::debug!(%peer, "the peer closed in the middle of a frame");
                    }
                    break End::Drain(CloseReason::PeerClosed);
                }
                Ok(_) => {
                    let taken = take_frames(&shared, &mut reader, &peer, &tx, &mut calls).await;
                    match taken {
                        Ok(taken) => {
                            deadlines.bytes_arrived(Instant::now(), taken, reader.buffered() > 0);
                        }
                        Err(err) => {
                            malformed(&shared, &peer, &err);
                            break End::Close(CloseReason::Malformed);
                        }
                    }
                }
                Err(ReadError::Malformed(err)) => {
                    malformed(&shared, &peer, &err);
                    break End::Close(CloseReason::Malformed);
                }
                Err(ReadError::Io(err)) => {
                    tracing::debug!(%peer, error = %err, "connection read failed");
                    break End::Drain(CloseReason::PeerClosed);
                }
            }
        }
    };
    match end {
        End::Close(reason) => {
            calls.abort_all();
            reason
        }
        End::Drain(reason) => {
            drop(tx);
            match drain(&shared, &peer, &mut calls, &mut writer, &mut phase).await {
                Drained::All => reason,
                Drained::Cancelled => CloseReason::Cancelled,
                Drained::WriteFailed(reason) => reason,
            }
        }
    }
}

/// How draining a connection ended.
enum Drained {
    /// Every call finished and every reply was written.
    All,
    /// The server cancelled what was left.
    Cancelled,
    /// Writing the replies failed.
    WriteFailed(CloseReason),
}

/// Starts a call for every whole frame buffered; true if there was one. An error is a
/// malformed frame.
async fn take_frames(
    shared: &Arc<Shared>,
    reader: &mut FrameReader,
    peer: &Arc<str>,
    tx: &mpsc::Sender<BytesMut>,
    calls: &mut JoinSet<()>,
) -> Result<bool, DecodeError> {
    let mut taken = false;
    while let Some(bytes) = reader.next_buffered()? {
        start_call(shared, reader, bytes, peer, tx, calls).await?;
        taken = true;
    }
    Ok(taken)
}

/// Lets the calls finish and the writer write their replies, unless the server cancels
/// them first.
async fn drain(
    shared: &Shared,
    peer: &Arc<str>,
    calls: &mut JoinSet<()>,
    writer: &mut Writer,
    phase: &mut watch::Receiver<Phase>,
) -> Drained {
    loop {
        tokio::select! {
            biased;
            _ = cancelled(phase) => {
                if !calls.is_empty() {
                    tracing::warn!(%peer, calls = calls.len(), "cancelling requests in flight");
                    shared.stats.cancelled(calls.len());
                }
                calls.shutdown().await;
                return Drained::Cancelled;
            }
            joined = calls.join_next() => if joined.is_none() {
                break;
            },
        }
    }
    tokio::select! {
        biased;
        _ = cancelled(phase) => Drained::Cancelled,
        written = &mut writer.0 => match written {
            Ok(None) => Drained::All,
            Ok(Some(reason)) => Drained::WriteFailed(reason),
            Err(err) => {
                tracing::debug!(%peer, error = %err, "connection writer stopped");
                Drained::WriteFailed(CloseReason::WriteFailed)
            }
        },
    }
}

/// Counts and logs a timeout; the reason the connection closes.
fn timed_out(shared: &Shared, peer: &Arc<str>, expired: Expired) -> CloseReason {
    match expired {
        Expired::Read => {
            shared.stats.read_timeout();
            tracing::info!(
                %peer,
                timeout = ?shared.timeouts.read,
                "read timeout: a frame did not arrive whole in time, closing the connection"
            );
            CloseReason::ReadTimeout
        }
        Expired::Idle => {
            shared.stats.idle_timeout();
            tracing::debug!(%peer, timeout = ?shared.timeouts.idle, "idle timeout: closing the connection");
            CloseReason::IdleTimeout
        }
    }
}

fn malformed(shared: &Shared, peer: &Arc<str>, err: &DecodeError) {
    shared.stats.malformed();
    tracing::warn!(%peer, error = %err, "malformed frame: closing the connection");
    shared.events.emit(EventKind::MalformedFrame {
        peer: peer.clone(),
        error: err.kind_name(),
        offset: err.offset,
    });
}
