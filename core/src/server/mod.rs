//! The RPC server: accepts connections on any [`Net`](crate::net::Net), detects each
//! connection's transport and protocol from its first frame, decodes with
//! `DecodeLimits`, dispatches by method name to a [`Router`], and replies in the framing
//! and protocol the request came in.
//!
//! - Deadlines: a TTHeader `RPCTimeout` bounds the handler; when it passes the handler is
//!   cancelled, `DeadlineExceeded { side: Server }` is emitted and the caller gets a
//!   `TApplicationException`.
//! - Failures outside the service's own exceptions go on the wire as Thrift's
//!   `TApplicationException` (see `call.rs` for which kind when).
//! - A malformed frame closes only its connection; it is counted
//!   ([`ServerStats::malformed_frames`]) and emitted as `MalformedFrame`.
//! - Several requests may be in flight on one connection (pipelining, TTHeader
//!   multiplexing); replies carry the request's sequence id.
//! - Limits: `max_connections` (extra connections are closed at accept) and
//!   `max_in_flight` (extra requests are answered at once with an exception).
//! - [`Server::shutdown`] stops accepting and drains: every request already read is
//!   served and answered before its connection closes.
//! - One `CallFinished { side: Server }` event per request, and a `tracing` span
//!   `rpc.server` per call with service, zone, method, sequence id and peer.
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
mod router;
mod stats;
mod timeouts;

pub use builder::ServerBuilder;
pub use config::ServerConfig;
pub use router::{CallContext, Router};
pub use stats::ServerStats;
pub use timeouts::{DEFAULT_DRAIN_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_READ_TIMEOUT};

use std::net::SocketAddr;
use std::panic;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running server. Dropping it shuts the server down gracefully in the background (as
/// `shutdown` does, drain deadline included); `shutdown` and `abort` wait for the end.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    control: watch::Sender<Phase>,
    task: JoinHandle<()>,
    stats: Arc<ServerStats>,
}

/// Where a server is in its life. The `Server` handle tells the accept loop; the accept
/// loop tells the connections (it alone decides when the drain deadline has passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Accepting connections and reading requests.
    Serve,
    /// Not accepting or reading any more; requests already read are served and answered.
    Drain,
    /// Requests still in flight are cancelled and every connection closes now.
    Cancel,
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

/// Resolves once the server stops serving: shutdown or abort asked for, or the `Server`
/// handle gone (a graceful shutdown too).
async fn draining(phase: &mut watch::Receiver<Phase>) {
    // An error means the sender is gone: that is a shutdown too.
    let _ = phase.wait_for(|phase| *phase >= Phase::Drain).await;
}

/// Resolves once requests in flight must be cancelled; never if the sender is gone
/// without asking for it (a dropped `Server` drains, and only the drain deadline cancels).
async fn cancelled(phase: &mut watch::Receiver<Phase>) {
    if phase
        .wait_for(|phase| *phase == Phase::Cancel)
        .await
        .is_err()
    {
        std::future::pending::<()>().await;
    }
}
