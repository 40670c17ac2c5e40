//! `Sim`: the transport seam over `turmoil::net`, turmoil's simulated TCP. Every call
//! must run inside a turmoil host or client.

use std::io;
use std::net::SocketAddr;

use turmoil::net::{TcpListener, TcpStream};

use super::{Listener, Net};

/// turmoil's simulated TCP: host names resolve through the simulation's DNS. turmoil's TCP
/// has no keepalive (nor any socket option), so `connect_with` ignores its options: a dead
/// peer is found by call deadlines and the pool's stall timeout instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sim;

impl Net for Sim {
    type Stream = TcpStream;
    type Listener = TcpListener;

    async fn connect(&self, addr: &str) -> io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }

    async fn bind(&self, addr: &str) -> io::Result<TcpListener> {
        TcpListener::bind(addr).await
    }
}

impl Listener for TcpListener {
    type Stream = TcpStream;

    async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        TcpListener::accept(self).await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}
