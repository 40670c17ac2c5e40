//! The RPC server: accepts connections on any [`Net`](crate::net::Net), detects each
//! connection's transport and protocol from its first frame (old non-strict Binary
//! included, which Kitex refuses: `frame/detect.rs` says why), decodes with
//! `DecodeLimits`, dispatches by method name to a [`Router`], and replies in the framing
//! and protocol the request came in.
//!
//! - Deadlines: a TTHeader `RPCTimeout` bounds the handler; when it passes the handler is
//!   cancelled, `DeadlineExceeded { side: Server }` is emitted and the caller gets a
//!   `TApplicationException`.
//! - Failures outside the service's own exceptions go on the wire as Thrift's
//!   `TApplicationException` (see `call.rs` for which kind when).
//! - Several requests may be in flight on one connection (pipelining, TTHeader
//!   multiplexing); replies carry the request's sequence id.
//! - Limits: `max_connections` (extra connections are closed at accept) and
//!   `max_in_flight` (extra requests are answered at once with an exception).
//! - One `CallFinished { side: Server }` event per request, one `ConnectionClosed` (with a
//!   [`CloseReason`](crate::event::CloseReason)) per connection, and a `tracing` span
//!   `rpc.server` per call with service, zone, method, sequence id and peer.
//!
//! # Faults: what happens to a call and to its connection
//!
//! | fault | the connection | calls already read | counted in |
//! |---|---|---|---|
//! | slow sender: a frame started and not whole within the read timeout (5 s) | no longer read; closed once the calls are answered | served and answered | [`ServerStats::read_timeouts`], `ReadTimeout` |
//! | idle: no call in flight and no bytes for the idle timeout (10 min) | closed | none in flight | [`ServerStats::idle_timeouts`], `IdleTimeout` |
//! | half-close (the peer shuts its write side), close, or a read error | no longer read; closed once the calls are answered (a frame cut short is dropped) | served and answered | `PeerClosed` |
//! | malformed frame | closed at once; other connections unaffected | cancelled, unanswered | [`ServerStats::malformed_frames`], `MalformedFrame`, `Malformed` |
//! | slow reader: a reply not taken by the peer's socket within the write timeout (5 s) | closed at once | cancelled, unanswered | [`ServerStats::write_timeouts`], `WriteTimeout` |
//! | a reply cannot be written (the peer reset) | closed at once | cancelled | `WriteFailed` |
//! | [`Server::shutdown`] or a dropped `Server`: drain | the listener closes (new connections are refused); no longer read; closed once the calls are answered | served and answered | `Shutdown` |
//! | drain deadline passed (5 s after shutdown) | closed | cancelled, unanswered (the handler future is dropped) | [`ServerStats::calls_cancelled`], `Cancelled` |
//! | [`Server::abort`] | closed at once | cancelled, unanswered | [`ServerStats::calls_cancelled`], `Cancelled` |
//!
//! The defaults are Kitex's (server `ReadWriteTimeout` 5 s for reads and writes,
//! `MaxConnectionIdleTime` 10 min, `ExitWaitTime` 5 s); [`DEFAULT_READ_TIMEOUT`] and its
//! siblings say why each fits. Every timer is a `tokio::time` one (virtual under turmoil
//! and in paused tests), and every `select!` in the server is `biased` with a fixed order
//! (stop before work, finished calls before deadlines, deadlines before new bytes), so one
//! turmoil seed gives one trace.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use faultline_core::{echo, net::Tcp, server::ServerBuilder};
//!
//! let server = ServerBuilder::new(echo::SERVICE)
//!     .bind(&Tcp, "127.0.0.1:0", echo::router())
//!     .await?;
//! println!("listening on {}", server.local_addr());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod accept;
mod builder;
mod call;
mod config;
mod connection;
mod phase;
mod router;
mod shared;
mod stats;
mod timeouts;
mod writer;

pub use builder::ServerBuilder;
pub use config::ServerConfig;
pub use router::{CallContext, Router};
pub use stats::ServerStats;
pub use timeouts::{
    DEFAULT_DRAIN_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_READ_TIMEOUT, DEFAULT_WRITE_TIMEOUT,
};

use std::net::SocketAddr;
use std::panic;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use phase::Phase;

/// A running server. Dropping it shuts the server down gracefully in the background (as
/// `shutdown` does, drain deadline included); `shutdown` and `abort` wait for the end.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    control: watch::Sender<Phase>,
    task: JoinHandle<()>,
    stats: Arc<ServerStats>,
}

impl Server {
    fn new(
        local_addr: SocketAddr,
        control: watch::Sender<Phase>,
        task: JoinHandle<()>,
        stats: Arc<ServerStats>,
    ) -> Self {
        Self {
            local_addr,
            control,
            task,
            stats,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's counters (clone the `Arc` to read them after `shutdown`).
    pub fn stats(&self) -> &Arc<ServerStats> {
        &self.stats
    }

    /// Stops accepting connections and reading requests, serves and answers every request
    /// already read, closes every connection, and returns when all of that is done — or
    /// when the drain deadline passes: then the requests still in flight are cancelled
    /// (counted in [`ServerStats::calls_cancelled`]) and their connections closed.
    pub async fn shutdown(self) {
        self.stop(Phase::Drain).await;
    }

    /// Stops at once: stops accepting, cancels every request in flight (unanswered),
    /// closes every connection, and returns when all of that is done.
    pub async fn abort(self) {
        self.stop(Phase::Cancel).await;
    }

    async fn stop(self, phase: Phase) {
        self.control.send_replace(phase);
        if let Err(err) = self.task.await {
            if err.is_panic() {
                panic::resume_unwind(err.into_panic());
            }
        }
    }
}
