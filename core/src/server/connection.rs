//! One connection: reads frames, starts a task per request (several may be in flight;
//! replies go out in completion order, matched by sequence id), and writes replies from
//! one writer task.
//!
//! How it ends: the peer closing its side, a read error, or server shutdown stop the
//! reading; requests already read are served and their replies written before the
//! connection closes. A malformed frame (or a failed write) closes the connection at
//! once, cancelling its requests; it is counted and emitted as `MalformedFrame`.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::builder::Shared;
use super::call::start_call;
use super::stopped;
use crate::event::EventKind;
use crate::protocol::DecodeError;
use crate::transport::{FrameReader, ReadError};

/// Replies queued for the writer before request tasks wait for it.
const WRITE_QUEUE: usize = 128;

/// How the read loop ended.
enum End {
    /// Serve what was read, write every reply, then close.
    Drain,
    /// Close now.
    Close,
}

pub(super) async fn serve_connection<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: Arc<str>,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, wr) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
    let mut writer = tokio::spawn(write_loop(wr, rx));
    let mut reader = FrameReader::new(shared.limits);
    let mut calls = JoinSet::new();
    let end = loop {
        tokio::select! {
            _ = stopped(&mut stop) => break End::Drain,
            _ = &mut writer => break End::Close,
            Some(_) = calls.join_next(), if !calls.is_empty() => {}
            read = reader.read(&mut rd) => match read {
                Ok(Some(bytes)) => {
                    if let Err(err) = start_call(&shared, &mut reader, bytes, &peer, &tx, &mut calls).await {
                        malformed(&shared, &peer, &err);
                        break End::Close;
                    }
                }
                Ok(None) => break End::Drain,
                Err(ReadError::Malformed(err)) => {
                    malformed(&shared, &peer, &err);
                    break End::Close;
                }
                Err(ReadError::Io(err)) => {
                    tracing::debug!(%peer, error = %err, "connection read failed");
                    break End::Drain;
                }
            }
        }
    };
    match end {
        End::Close => {
            calls.abort_all();
            writer.abort();
        }
        End::Drain => {
            drop(tx);
            while calls.join_next().await.is_some() {}
            if let Err(err) = writer.await {
                tracing::debug!(%peer, error = %err, "connection writer stopped");
            }
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

/// Writes replies until every sender is gone, then closes the write side.
async fn write_loop<W: AsyncWrite + Unpin>(mut wr: W, mut rx: mpsc::Receiver<BytesMut>) {
    while let Some(frame) = rx.recv().await {
        if let Err(err) = write_batch(&mut wr, frame, &mut rx).await {
            tracing::debug!(error = %err, "connection write failed");
            return;
        }
    }
    // The peer may already be gone; nothing is left to tell it.
    let _ = wr.shutdown().await;
}

/// Writes `first` and every reply already queued behind it, then flushes once.
async fn write_batch<W: AsyncWrite + Unpin>(
    wr: &mut W,
    first: BytesMut,
    rx: &mut mpsc::Receiver<BytesMut>,
) -> std::io::Result<()> {
    wr.write_all(&first).await?;
    while let Ok(next) = rx.try_recv() {
        wr.write_all(&next).await?;
    }
    wr.flush().await
}
