//! `ServerBuilder`: a server's settings, with the defaults of a production RPC server
//! (Kitex: no connection or concurrency limit unless asked; 16 MiB frames; 5 s read and
//! write, 10 min idle and 5 s drain timeouts), and the calls that start it.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};

use super::accept::accept_loop;
use super::phase::Phase;
use super::shared::Shared;
use super::timeouts::{capped, Timeouts};
use super::{Router, Server, ServerStats};
use crate::event::EventBus;
use crate::net::{Listener, Net};
use crate::protocol::DecodeLimits;

/// Settings of a server; `bind` or `serve` starts it.
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    service: Arc<str>,
    zone: Option<Arc<str>>,
    limits: DecodeLimits,
    max_connections: Option<usize>,
    max_in_flight: Option<usize>,
    timeouts: Timeouts,
    events: EventBus,
}

impl ServerBuilder {
    /// A server for `service` (the name events and metrics carry). Defaults: default
    /// `DecodeLimits`, no connection or in-flight limit, the default read, write, idle and
    /// drain timeouts ([`DEFAULT_READ_TIMEOUT`](super::DEFAULT_READ_TIMEOUT) and the others), a
    /// fresh `EventBus`, no zone.
    pub fn new(service: impl Into<Arc<str>>) -> Self {
        Self {
            service: service.into(),
            zone: None,
            limits: DecodeLimits::default(),
            max_connections: None,
            max_in_flight: None,
            timeouts: Timeouts::default(),
            events: EventBus::default(),
        }
    }

    /// Bounds applied to every frame and message decoded.
    pub fn limits(mut self, limits: DecodeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// At most `n` open connections; one more is closed right after accept.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// At most `n` requests served at once across all connections; one more is answered
    /// at once with a `TApplicationException` (`INTERNAL_ERROR`, "overloaded").
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n);
        self
    }

    /// A frame that has started arriving must be whole within `timeout`; otherwise the
    /// server stops reading the connection, answers the requests already read and closes
    /// it. Durations past `config::MAX_DURATION` count as that.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.read = capped(timeout);
        self
    }

    /// Each reply must be taken by the peer's socket within `timeout`; otherwise the
    /// connection closes at once, cancelling its requests (a peer that does not read).
    /// Durations past `config::MAX_DURATION` count as that.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.write = capped(timeout);
        self
    }

    /// A connection with no request in flight and no bytes for `timeout` is closed.
    /// Durations past `config::MAX_DURATION` count as that.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = capped(timeout);
        self
    }

    /// How long a shutdown (or a dropped `Server`) waits for the requests in flight before
    /// cancelling them and closing their connections. Zero cancels at once, as `abort`
    /// does. Durations past `config::MAX_DURATION` count as that.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.drain = capped(timeout);
        self
    }

    /// The stream `CallFinished`, `DeadlineExceeded` and `MalformedFrame` events go on.
    pub fn events(mut self, events: EventBus) -> Self {
        self.events = events;
        self
    }

    /// The zone the server runs in (shown in its spans).
    pub fn zone(mut self, zone: impl Into<Arc<str>>) -> Self {
        self.zone = Some(zone.into());
        self
    }

    /// Binds `addr` on `net` and serves `router` there.
    pub async fn bind<N: Net>(self, net: &N, addr: &str, router: Router) -> io::Result<Server> {
        let listener = net.bind(addr).await?;
        self.serve(listener, router)
    }

    /// Serves `router` on an already bound listener. Must run inside a tokio runtime.
    pub fn serve<L: Listener>(self, listener: L, router: Router) -> io::Result<Server> {
        let local_addr = listener.local_addr()?;
        let stats = Arc::new(ServerStats::default());
        let shared = Arc::new(Shared {
            service: self.service,
            zone: self.zone,
            limits: self.limits,
            timeouts: self.timeouts,
            events: self.events,
            router,
            in_flight: self
                .max_in_flight
                .map(|n| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)))),
            stats: stats.clone(),
        });
        let connections = self
            .max_connections
            .map(|n| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS))));
        let (control, phase) = watch::channel(Phase::Serve);
        let task = tokio::spawn(accept_loop(listener, shared, connections, phase));
        Ok(Server::new(local_addr, control, task, stats))
    }
}
