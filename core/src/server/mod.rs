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

pub use builder::ServerBuilder;
pub use config::ServerConfig;
pub use router::{CallContext, Router};
pub use stats::ServerStats;

use std::net::SocketAddr;
use std::panic;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running server. Dropping it shuts the server down gracefully in the background;
/// `shutdown` does the same and waits for it.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    stats: Arc<ServerStats>,
}

impl Server {
    fn new(
        local_addr: SocketAddr,
        stop: watch::Sender<bool>,
        task: JoinHandle<()>,
        stats: Arc<ServerStats>,
    ) -> Self {
        Self {
            local_addr,
            stop,
            task,
            stats,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's counters.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    /// Stops accepting connections and reading requests, serves and answers every request
    /// already read, closes every connection, and returns when all of that is done.
    pub async fn shutdown(self) {
        self.stop.send_replace(true);
        if let Err(err) = self.task.await {
            if err.is_panic() {
                panic::resume_unwind(err.into_panic());
            }
        }
    }
}

/// Resolves once shutdown is asked for (or the `Server` handle is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the sender is gone: that is a shutdown too.
    let _ = stop.wait_for(|stopped| *stopped).await;
}
