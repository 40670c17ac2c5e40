//! `Tcp`: the transport seam over tokio's TCP sockets.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};

use super::{ConnectOptions, Listener, Net};

/// tokio TCP. Streams have `TCP_NODELAY` set, and keepalive when `connect_with` asks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tcp;

impl Net for Tcp {
    type Stream = TcpStream;
    type Listener = TcpListener;

    async fn connect(&self, addr: &str) -> io::Result<TcpStream> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect_with(&self, addr: &str, options: &ConnectOptions) -> io::Result<TcpStream> {
        let stream = self.connect(addr).await?;
        if let Some(idle) = options.keepalive {
            // As Go's dialer (and so Kitex) does it: first probe after `idle`, then every
            // `idle`; the probe count is the system's.
            let keepalive = socket2::TcpKeepalive::new()
                .with_time(idle)
                .with_interval(idle);
            socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive)?;
        }
        Ok(stream)
    }

    async fn bind(&self, addr: &str) -> io::Result<TcpListener> {
        TcpListener::bind(addr).await
    }
}

impl Listener for TcpListener {
    type Stream = TcpStream;

    async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = TcpListener::accept(self).await?;
        stream.set_nodelay(true)?;
        Ok((stream, peer))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}
