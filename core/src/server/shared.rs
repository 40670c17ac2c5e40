//! `Shared`: what every connection and call of one server reads — its settings, router,
//! in-flight permits, event bus and counters. Built by `ServerBuilder`, read by the accept
//! loop, the connections, their calls and their writers.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::router::Router;
use super::stats::ServerStats;
use super::timeouts::Timeouts;
use crate::event::EventBus;
use crate::protocol::DecodeLimits;

/// What every connection of one server shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub service: Arc<str>,
    pub zone: Option<Arc<str>>,
    pub limits: DecodeLimits,
    pub timeouts: Timeouts,
    pub events: EventBus,
    pub router: Router,
    /// Permits for requests being served; `None` is unlimited.
    pub in_flight: Option<Arc<Semaphore>>,
    pub stats: Arc<ServerStats>,
}
