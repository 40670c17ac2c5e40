//! The metric families and their registration: names, help texts, units and histogram
//! buckets in one place; and the bounds on the names their labels take.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::bounded::Bounded;
use super::labels::{
    CallLabels, CloseLabels, DeadlineLabels, DenialLabels, FallbackLabels, MalformedLabels,
    MethodLabels, PickLabels, RetryLabels, ScopeLabels, TransitionLabels, ZoneLabels,
};

/// Upper bounds of the call duration buckets, in seconds: 1-2.5-5 steps from 100 µs to
/// 10 s, so a sub-millisecond loopback call and a multi-second timeout both land in a
/// bucket of their own order of magnitude.
pub const DURATION_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Distinct `rpc_service` values kept; later ones are recorded as `OVERFLOW`.
pub const MAX_SERVICES: usize = 64;
/// Distinct `rpc_method` values kept; later ones are recorded as `OVERFLOW`.
pub const MAX_METHODS: usize = 512;

type DurationFamily = Family<CallLabels, Histogram, fn() -> Histogram>;
type RatioGauge = Gauge<f64, AtomicU64>;

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// Every family the recorder updates.
#[derive(Debug)]
pub struct Families {
    pub services: Bounded,
    pub methods: Bounded,
    pub client_duration: DurationFamily,
    pub server_duration: DurationFamily,
    pub client_requests: Family<CallLabels, Counter>,
    pub server_requests: Family<CallLabels, Counter>,
    pub breaker_state: Family<ScopeLabels, Gauge>,
    pub breaker_transitions: Family<TransitionLabels, Counter>,
    pub breaker_rejections: Family<ScopeLabels, Counter>,
    pub retries: Family<RetryLabels, Counter>,
    pub retries_denied: Family<DenialLabels, Counter>,
    pub backup_requests: Family<MethodLabels, Counter>,
    pub fallbacks: Family<FallbackLabels, Counter>,
    pub balancer_picks: Family<PickLabels, Counter>,
    pub zone_remote_share: Family<ZoneLabels, RatioGauge>,
    pub zone_remote_rtt: Family<ZoneLabels, RatioGauge>,
    pub deadline_exceeded: Family<DeadlineLabels, Counter>,
    pub malformed_frames: Family<MalformedLabels, Counter>,
    pub connections_closed: Family<CloseLabels, Counter>,
    pub events_dropped: Counter,
}

impl Families {
    /// Creates the families and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let families = Self {
            services: Bounded::new(MAX_SERVICES),
            methods: Bounded::new(MAX_METHODS),
            client_duration: Family::new_with_constructor(duration_histogram),
            server_duration: Family::new_with_constructor(duration_histogram),
            client_requests: Family::default(),
            server_requests: Family::default(),
            breaker_state: Family::default(),
            breaker_transitions: Family::default(),
            breaker_rejections: Family::default(),
            retries: Family::default(),
            retries_denied: Family::default(),
            backup_requests: Family::default(),
            fallbacks: Family::default(),
            balancer_picks: Family::default(),
            zone_remote_share: Family::default(),
            zone_remote_rtt: Family::default(),
            deadline_exceeded: Family::default(),
            malformed_frames: Family::default(),
            connections_closed: Family::default(),
            events_dropped: Counter::default(),
        };
        let f = &families;
        registry.register_with_unit(
            "rpc_client_duration",
            "Duration of outbound RPCs, measured by the client (OpenTelemetry rpc.client.duration, in seconds)",
            Unit::Seconds,
            f.client_duration.clone(),
        );
        registry.register_with_unit(
            "rpc_server_duration",
            "Duration of inbound RPCs, measured by the server (OpenTelemetry rpc.server.duration, in seconds)",
            Unit::Seconds,
            f.server_duration.clone(),
        );
        registry.register(
            "rpc_client_requests",
            "Outbound RPCs finished, by status",
            f.client_requests.clone(),
        );
        registry.register(
            "rpc_server_requests",
            "Inbound RPCs finished, by status",
            f.server_requests.clone(),
        );

        let faultline = registry.sub_registry_with_prefix("faultline");
        faultline.register(
            "breaker_state",
            "Circuit breaker state per scope: 0 closed, 1 open, 2 half-open",
            f.breaker_state.clone(),
        );
        faultline.register(
            "breaker_transitions",
            "Circuit breaker state transitions",
            f.breaker_transitions.clone(),
        );
        faultline.register(
            "breaker_rejections",
            "Calls refused by a circuit breaker",
            f.breaker_rejections.clone(),
        );
        faultline.register(
            "retries",
            "Failed attempts that were retried, by the error that triggered the retry",
            f.retries.clone(),
        );
        faultline.register(
            "retries_denied",
            "Retries not sent, by reason",
            f.retries_denied.clone(),
        );
        faultline.register(
            "backup_requests",
            "Backup (hedged) requests sent",
            f.backup_requests.clone(),
        );
        faultline.register(
            "fallbacks",
            "Fallback replies produced, by reason",
            f.fallbacks.clone(),
        );
        faultline.register(
            "balancer_picks",
            "Instances chosen by the load balancer",
            f.balancer_picks.clone(),
        );
        faultline.register(
            "zone_remote_share",
            "Fraction of calls the zone-aware balancer sends out of the local zone",
            f.zone_remote_share.clone(),
        );
        faultline.register_with_unit(
            "zone_remote_rtt",
            "Cross-zone round-trip time behind the latest zone weight change",
            Unit::Seconds,
            f.zone_remote_rtt.clone(),
        );
        faultline.register(
            "deadline_exceeded",
            "Calls whose deadline passed, by the side that saw it",
            f.deadline_exceeded.clone(),
        );
        faultline.register(
            "malformed_frames",
            "Connections closed by the server because of a malformed frame, by decode error",
            f.malformed_frames.clone(),
        );
        faultline.register(
            "server_connections_closed",
            "Connections the server closed, by reason (peer_closed, read_timeout, idle_timeout, malformed, write_failed, shutdown, cancelled)",
            f.connections_closed.clone(),
        );
        faultline.register(
            "events_dropped",
            "Events the metrics recorder lost because it fell behind the event bus",
            f.events_dropped.clone(),
        );
        families
    }
}
