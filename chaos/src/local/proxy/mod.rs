//! The local backend's fault proxy: a user-space TCP proxy (tokio) in front of one
//! instance, which makes an experiment's faults real on the bytes between the probe and
//! that instance, with the same meaning as the simulation's link model.
//!
//! - [`ProxyFaults`]: the rules in force, shared by every proxy of a run and changed while
//!   they run; a change acts on connections that already exist (read per chunk / frame).
//! - [`Proxy`]: listens, connects each client connection to the instance, and runs both
//!   directions through the faults. Requests (client -> server) are acted on by the rules
//!   that cover `(client, server)`, replies by those that cover `(server, client)`.
//!
//! One file per fault kind: `delay.rs` (and the topology's base latency), `loss.rs`,
//! `corrupt.rs`, `duplicate.rs`, `bandwidth.rs`, `partition.rs`, and `method.rs` for
//! HTTPChaos on Thrift frames; `pipe.rs` moves one direction's bytes (bounded: past
//! 4 MiB held it stops reading), `connection.rs` ties the two directions together and
//! resets or closes them. Every random draw comes from one seeded `SplitMix64` per proxy.

mod bandwidth;
mod connection;
mod corrupt;
mod delay;
mod duplicate;
mod faults;
mod frames;
mod link;
mod loss;
mod method;
mod partition;
mod pipe;
mod queue;
mod stats;
mod timer;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::protocol::DecodeLimits;
use faultline_core::rng::SplitMix64;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use super::calibrate::PathCost;
use crate::faults::latency::Fitted;

pub use faults::{ProxyFaults, Table};
pub use stats::ProxyStats;

/// How long the accept loop rests after a failed accept (out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Where a proxy listens, what it fronts, and the names its rules know the two ends by.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Where to listen (`127.0.0.1:0` picks a port).
    pub listen: SocketAddr,
    /// The instance.
    pub upstream: SocketAddr,
    /// The instance's host name (e.g. `echo-az1-0`).
    pub server: String,
    /// The probe's host name (`plan::PROBE_NAME`).
    pub client: String,
    /// The topology's extra round-trip time, in microseconds, added on the request
    /// direction (as in the simulation); `None`: none.
    pub base_latency: Option<Fitted>,
    /// Taken off every base-latency draw: what the path already costs without it (see
    /// `local::calibrate`); the run may change it while the proxy runs.
    pub path_cost: Arc<PathCost>,
    /// The path's round trip, for the loss repair model.
    pub rtt: Duration,
    pub seed: u64,
}

/// The direction of a byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Client to server.
    Request,
    /// Server to client.
    Response,
}

/// What every connection of a proxy shares.
struct Shared {
    config: ProxyConfig,
    faults: Arc<ProxyFaults>,
    rng: SplitMix64,
    stats: stats::Counters,
    /// Frame reading bounds: core's defaults, which the servers also use.
    limits: DecodeLimits,
}

/// A running proxy. Dropping it (or [`Proxy::shutdown`]) closes the listener and every
/// connection it carries.
pub struct Proxy {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on `config.listen` and proxies to `config.upstream` with `faults`.
    pub async fn start(config: ProxyConfig, faults: Arc<ProxyFaults>) -> io::Result<Proxy> {
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            rng: SplitMix64::new(config.seed),
            config,
            faults,
            stats: stats::Counters::default(),
            limits: DecodeLimits::default(),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Proxy {
            local_addr,
            shared,
            accept,
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The instance's host name.
    pub fn server(&self) -> &str {
        &self.shared.config.server
    }

    pub fn stats(&self) -> ProxyStats {
        self.shared.stats.snapshot()
    }

    /// Closes the listener and every connection, and waits until they are closed.
    pub async fn shutdown(mut self) {
        self.accept.abort();
        let _ = (&mut self.accept).await;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Accepts until aborted; aborting drops the connections' tasks, which closes them.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    connections.spawn(connection::serve(shared.clone(), client));
                }
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
