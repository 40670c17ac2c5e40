//! `ServerBuilder`: a server's settings, with the defaults of a production RPC server
//! (Kitex: no connection or concurrency limit unless asked; 16 MiB frames), and the
//! calls that start it.

use std::io;
use std::sync::Arc;

use tokio::sync::{watch, Semaphore};

use super::accept::accept_loop;
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
    events: EventBus,
}

/// What every connection of one server shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub service: Arc<str>,
    pub zone: Option<Arc<str>>,
    pub limits: DecodeLimits,
    pub events: EventBus,
    pub router: Router,
    /// Permits for requests being served; `None` is unlimited.
    pub in_flight: Option<Arc<Semaphore>>,
    pub stats: Arc<ServerStats>,
}

impl ServerBuilder {
    /// A server for `service` (the name events and metrics carry). Defaults: default
    /// `DecodeLimits`, no connection or in-flight limit, a fresh `EventBus`, no zone.
    pub fn new(service: impl Into<Arc<str>>) -> Self {
        Self {
            service: service.into(),
            zone: None,
            limits: DecodeLimits::default(),
            max_connections: None,
            max_in_flight: None,
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
        let (shutdown, stop) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared, connections, stop));
        Ok(Server::new(local_addr, shutdown, task, stats))
    }
}
