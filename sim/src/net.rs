//! `SimNet`: the transport seam over turmoil with the link model in the read path. Every
//! stream a host opens or accepts reads through [`Shaped`], which holds each chunk until
//! the link model ([`crate::link`]) lets it through: in order, as TCP delivers.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use faultline_core::net::{Listener, Net};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use turmoil::net::{TcpListener, TcpStream};

use crate::link::Links;

/// The network of one simulated host.
#[derive(Debug, Clone)]
pub struct SimNet {
    host: Arc<str>,
    links: Arc<Links>,
}

impl SimNet {
    pub fn new(host: &str, links: Arc<Links>) -> Self {
        Self {
            host: host.into(),
            links,
        }
    }

    fn shape(&self, stream: TcpStream) -> Shaped {
        let peer = stream
            .peer_addr()
            .ok()
            .and_then(|addr| turmoil::reverse_lookup(addr.ip()));
        Shaped {
            inner: stream,
            peer: peer.map(Arc::from),
            host: self.host.clone(),
            links: self.links.clone(),
            queue: VecDeque::new(),
            busy_until: None,
            eof: false,
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
        }
    }
}

impl Net for SimNet {
    type Stream = Shaped;
    type Listener = ShapedListener;

    async fn connect(&self, addr: &str) -> io::Result<Shaped> {
        let stream = TcpStream::connect(addr).await?;
        Ok(self.shape(stream))
    }

    async fn bind(&self, addr: &str) -> io::Result<ShapedListener> {
        Ok(ShapedListener {
            inner: TcpListener::bind(addr).await?,
            net: self.clone(),
        })
    }
}

/// A listener whose streams read through the link model.
pub struct ShapedListener {
    inner: TcpListener,
    net: SimNet,
}

impl Listener for ShapedListener {
    type Stream = Shaped;

    async fn accept(&self) -> io::Result<(Shaped, SocketAddr)> {
        let (stream, addr) = self.inner.accept().await?;
        Ok((self.net.shape(stream), addr))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A chunk waiting for its time.
struct Chunk {
    ready: Instant,
    bytes: Bytes,
    /// Lost and waiting for TCP's repair; a later chunk cuts the wait to `fast_repair`.
    lost: Option<std::time::Duration>,
}

/// A turmoil stream whose reads pass the link model.
pub struct Shaped {
    inner: TcpStream,
    /// The peer's host name (`None`: not a host of the topology; bytes pass unshaped).
    peer: Option<Arc<str>>,
    host: Arc<str>,
    links: Arc<Links>,
    queue: VecDeque<Chunk>,
    /// When a bandwidth-limited link has sent the bytes before.
    busy_until: Option<Instant>,
    eof: bool,
    sleep: Pin<Box<Sleep>>,
}

impl Shaped {
    /// Reads what turmoil has delivered into the queue, stamping each chunk.
    fn pull(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let mut scratch = [0u8; 16 * 1024];
        while !self.eof {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                Poll::Pending => return Ok(()),
                Poll::Ready(Err(err)) => return Err(err),
                Poll::Ready(Ok(())) if buf.filled().is_empty() => self.eof = true,
                Poll::Ready(Ok(())) => {
                    let bytes = Bytes::copy_from_slice(buf.filled());
                    self.stamp(bytes);
                }
            }
        }
        Ok(())
    }

    fn stamp(&mut self, bytes: Bytes) {
        let now = Instant::now();
        let Some(peer) = &self.peer else {
            self.queue.push_back(Chunk {
                ready: now,
                bytes,
                lost: None,
            });
            return;
        };
        let arrival = self.links.arrival(peer, &self.host, bytes.len());
        // A later segment reveals an earlier loss: TCP repairs it a round trip from now.
        if let Some(chunk) = self.queue.iter_mut().find(|c| c.lost.is_some()) {
            let fast = now + chunk.lost.take().unwrap_or_default();
            chunk.ready = chunk.ready.min(fast);
        }
        let mut ready = now + arrival.delay;
        if !arrival.transmit.is_zero() {
            let start = self.busy_until.map_or(now, |busy| busy.max(now));
            let done = start + arrival.transmit;
            self.busy_until = Some(done);
            ready = ready.max(done);
        }
        self.queue.push_back(Chunk {
            ready,
            bytes,
            lost: arrival.lost.then_some(arrival.fast_repair),
        });
    }
}

impl AsyncRead for Shaped {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            this.pull(cx)?;
            let Some(front) = this.queue.front_mut() else {
                // Nothing held: the end of the stream, or wait for turmoil (registered).
                return match this.eof {
                    true => Poll::Ready(Ok(())),
                    false => Poll::Pending,
                };
            };
            if front.ready <= Instant::now() {
                let n = front.bytes.len().min(buf.remaining());
                buf.put_slice(&front.bytes[..n]);
                front.bytes.advance(n);
                if front.bytes.is_empty() {
                    this.queue.pop_front();
                }
                return Poll::Ready(Ok(()));
            }
            let ready = front.ready;
            if this.sleep.deadline() != ready {
                this.sleep.as_mut().reset(ready);
            }
            ready!(this.sleep.as_mut().poll(cx));
        }
    }
}

impl AsyncWrite for Shaped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
