//! The transport seam: the one place that knows whether bytes travel over tokio TCP or
//! over turmoil's simulated network. Everything above it (server, client, sim, chaos)
//! is generic over [`Net`] and names addresses as `"host:port"` strings, so the same code
//! runs on both.
//!
//! - [`Tcp`]: tokio's TCP (`TCP_NODELAY` set on every stream: RPC frames are small and
//!   latency-bound; TCP keepalive when [`ConnectOptions::keepalive`] asks for it).
//! - `Sim` (feature `sim`): `turmoil::net`, for deterministic simulation. Hosts are named
//!   by turmoil's DNS, and a listener binds `0.0.0.0:port` or `localhost:port`. turmoil's
//!   TCP has no keepalive: `ConnectOptions::keepalive` has no effect there.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

#[cfg(feature = "sim")]
mod sim;
mod tcp;

#[cfg(feature = "sim")]
pub use sim::Sim;
pub use tcp::Tcp;

/// A network: connects to and listens on `"host:port"` addresses.
pub trait Net: Clone + Send + Sync + 'static {
    /// A connected byte stream.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// A bound listener that accepts streams.
    type Listener: Listener<Stream = Self::Stream>;

    /// Opens a stream to `addr` (`"host:port"`).
    fn connect(&self, addr: &str) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Opens a stream to `addr` with `options` applied as far as this network supports
    /// them. The default ignores them (a network without socket options); [`Tcp`]
    /// applies them.
    fn connect_with(
        &self,
        addr: &str,
        options: &ConnectOptions,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        let _ = options;
        self.connect(addr)
    }

    /// Binds a listener on `addr` (`"host:port"`; port 0 picks a free one).
    fn bind(&self, addr: &str) -> impl Future<Output = io::Result<Self::Listener>> + Send;
}

/// Socket options a client asks for on the streams it opens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// TCP keepalive: probes start after the connection has been idle this long and repeat
    /// at the same interval. `None` leaves keepalive off.
    pub keepalive: Option<Duration>,
}

/// A bound listener.
pub trait Listener: Send + Sync + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Waits for the next connection: the stream and the peer's address.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send;

    /// The address the listener is bound to (with the port the system picked for port 0).
    fn local_addr(&self) -> io::Result<SocketAddr>;
}
