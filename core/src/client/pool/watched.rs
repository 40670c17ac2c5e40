//! `Watched`: an `AsyncRead` that remembers when its last byte arrived, for the stall
//! timeout (no byte for `stall_timeout` while a call waits closes the connection).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Instant;

/// A reader and the time its last byte arrived (its creation, before any).
pub(super) struct Watched<R> {
    inner: R,
    last_byte: Instant,
}

impl<R> Watched<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            last_byte: Instant::now(),
        }
    }

    pub fn last_byte(&self) -> Instant {
        self.last_byte
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Watched<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.last_byte = Instant::now();
        }
        polled
    }
}

/// `from + after`, or `None` (never) when `after` is zero (off) or the sum overflows.
pub(super) fn deadline(from: Instant, after: Duration) -> Option<Instant> {
    match after.is_zero() {
        true => None,
        false => from.checked_add(after),
    }
}

/// Sleeps until `at`; forever when `at` is `None`.
pub(super) async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
