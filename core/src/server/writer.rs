//! A connection's writer: one task that writes the replies queued for it, batching those
//! already queued into one flush, each reply bounded by the write timeout (a peer that
//! stops reading cannot hold the connection and its calls forever).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::shared::Shared;
use crate::event::CloseReason;

/// The writer task, aborted when the connection is done with it, so a connection closed
/// at the drain deadline does not leave a writer blocked on a peer that does not read.
/// Its output: `None` once every reply is written and the write side shut down, else why
/// the connection must close.
pub(super) struct Writer(pub JoinHandle<Option<CloseReason>>);

impl Writer {
    pub fn spawn<W>(shared: Arc<Shared>, wr: W, rx: mpsc::Receiver<BytesMut>) -> Self
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        Self(tokio::spawn(write_loop(shared, wr, rx)))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Writes replies until every sender is gone, then closes the write side.
async fn write_loop<W: AsyncWrite + Unpin>(
    shared: Arc<Shared>,
    mut wr: W,
    mut rx: mpsc::Receiver<BytesMut>,
) -> Option<CloseReason> {
    let timeout = shared.timeouts.write;
    while let Some(frame) = rx.recv().await {
        match write_batch(&mut wr, frame, &mut rx, timeout).await {
            Ok(()) => {}
            Err(Failed::TimedOut) => {
                shared.stats.write_timeout();
                tracing::info!(
                    ?timeout,
                    "write timeout: the peer does not read its replies, closing the connection"
                );
                return Some(CloseReason::WriteTimeout);
            }
            Err(Failed::Io(err)) => {
                tracing::debug!(error = %err, "connection write failed");
                return Some(CloseReason::WriteFailed);
            }
        }
    }
    // The peer may already be gone; nothing is left to tell it.
    let _ = wr.shutdown().await;
    None
}

enum Failed {
    TimedOut,
    Io(io::Error),
}

/// Writes `first` and every reply already queued behind it, then flushes once; each write
/// and the flush within `timeout`.
async fn write_batch<W: AsyncWrite + Unpin>(
    wr: &mut W,
    first: BytesMut,
    rx: &mut mpsc::Receiver<BytesMut>,
    timeout: Duration,
) -> Result<(), Failed> {
    bounded(timeout, wr.write_all(&first)).await?;
    while let Ok(next) = rx.try_recv() {
        bounded(timeout, wr.write_all(&next)).await?;
    }
    bounded(timeout, wr.flush()).await
}

async fn bounded(
    timeout: Duration,
    write: impl std::future::Future<Output = io::Result<()>>,
) -> Result<(), Failed> {
    match tokio::time::timeout(timeout, write).await {
        Ok(written) => written.map_err(Failed::Io),
        Err(_) => Err(Failed::TimedOut),
    }
}
