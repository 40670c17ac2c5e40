//! Metrics: the event stream turned into Prometheus series, with OpenTelemetry names.
//!
//! `Metrics` keeps a `prometheus-client` registry; `Metrics::subscribe` spawns a task that
//! records every event of an `EventBus`, and `Metrics::encode` renders the Prometheus text
//! exposition (format 0.0.4, `CONTENT_TYPE`). `serve_metrics` does both and answers
//! `GET /metrics` over HTTP: one call for `faultline serve --metrics ADDR`.
//!
//! Names follow the OpenTelemetry RPC semantic conventions, mapped to Prometheus as
//! OpenTelemetry's Prometheus exporter does: dots become underscores, the unit becomes a
//! suffix, counters end in `_total`. Durations are in seconds, Prometheus' base unit.
//! OpenTelemetry's older conventions (up to 1.37) named them `rpc.client.duration` and
//! `rpc.server.duration` in milliseconds; the current ones say `rpc.client.call.duration`
//! in seconds. We keep the older names, which dashboards know, with the current unit:
//!
//! | series | type | labels |
//! |---|---|---|
//! | `rpc_client_duration_seconds`, `rpc_server_duration_seconds` | histogram | `rpc_system="apache_thrift"`, `rpc_service`, `rpc_method`, `status` (`ok` or `RpcErrorKind::name()`) |
//! | `rpc_client_requests_total`, `rpc_server_requests_total` | counter | as the durations |
//! | `faultline_breaker_state` | gauge, 0 closed, 1 open, 2 half-open | `scope="service"`, `caller`, `rpc_service`, `rpc_method`; or `scope="instance"`, `instance` |
//! | `faultline_breaker_transitions_total` | counter | scope labels, `from`, `to` |
//! | `faultline_breaker_rejections_total` | counter | scope labels |
//! | `faultline_retries_total` | counter | `rpc_method`, `error_type` |
//! | `faultline_retries_denied_total` | counter | `rpc_method`, `reason` |
//! | `faultline_backup_requests_total` | counter | `rpc_method` |
//! | `faultline_fallbacks_total` | counter | `rpc_method`, `reason` (`timeout`, `breaker_open`, `error` with `error_type`) |
//! | `faultline_balancer_picks_total` | counter | `instance`, `zone`, `local` |
//! | `faultline_zone_remote_share` | gauge, 0..=1 | `zone` (the local zone) |
//! | `faultline_zone_remote_rtt_seconds` | gauge | `zone` |
//! | `faultline_deadline_exceeded_total` | counter | `side`, `rpc_method` |
//! | `faultline_malformed_frames_total` | counter | `error` |
//! | `faultline_events_dropped_total` | counter | — |
//!
//! A breaker's state series appears with its first transition; until then it is closed.
//! Fallback replies are counted from `Fallback` events; the call they answered is in the
//! durations under whatever status its `CallFinished` carries.
//! Service and method names can come from the wire (a server records what clients call),
//! so at most `MAX_SERVICES` services and `MAX_METHODS` methods get series of their own;
//! later names are recorded as `OVERFLOW` (`_other`). Instances, zones and breaker scopes
//! come from configuration and discovery and are not bounded here.
//!
//! Spans per call (`tracing`, with seq id, method and peer) are emitted by the client and
//! server code, not here.

mod bounded;
mod families;
mod http;
mod labels;
mod record;
mod recorder;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;

pub use bounded::OVERFLOW;
pub use families::{DURATION_BUCKETS, MAX_METHODS, MAX_SERVICES};
pub use http::MetricsServer;
pub use labels::RPC_SYSTEM;
pub use recorder::Recorder;

use crate::event::{Event, EventBus};
use families::Families;

/// The `Content-Type` of `Metrics::encode`'s output: Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The metrics of one process. Cloning shares them.
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    families: Families,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let families = Families::register(&mut registry);
        Self {
            inner: Arc::new(Inner { registry, families }),
        }
    }

    /// Records one event. `subscribe` calls this for every event on a bus; callers that
    /// hold events already (a simulation replaying a trace) may call it directly.
    pub fn record(&self, event: &Event) {
        self.inner.families.record(event);
    }

    /// Records every event emitted on `bus` from now on, in a task on the current tokio
    /// runtime.
    pub fn subscribe(&self, bus: &EventBus) -> Recorder {
        Recorder::spawn(self.clone(), bus.subscribe())
    }

    /// The Prometheus text exposition of every series.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail, and the label encoders fail only when the
        // writer does.
        prometheus_text::encode(&mut text, &self.inner.registry)
            .expect("encoding metrics into a String");
        text
    }

    /// Serves `GET /metrics` on `addr`.
    pub async fn serve(&self, addr: SocketAddr) -> io::Result<MetricsServer> {
        MetricsServer::bind(addr, self.clone()).await
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Records `bus` into new `Metrics` and serves them on `addr` (`GET /metrics`); stop with
/// `MetricsServer::shutdown`. Recording goes on until the bus is gone; the `Recorder` only
/// tells how far it has got, and may be dropped.
pub async fn serve_metrics(
    addr: SocketAddr,
    bus: &EventBus,
) -> io::Result<(MetricsServer, Recorder)> {
    let metrics = Metrics::new();
    let server = metrics.serve(addr).await?;
    Ok((server, metrics.subscribe(bus)))
}
