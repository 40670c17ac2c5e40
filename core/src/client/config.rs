//! `ClientConfig`: the whole client stack as data, and [`Client::from_config`], the one
//! function that builds it over any `Net` with one event bus threaded through every layer.
//!
//! ```yaml
//! caller: checkout            # sent as TTHeader FromService, keys the service breaker
//! service: Echo               # the callee (ToService)
//! zone: az1                   # the caller's zone (zone-aware balancing)
//! timeout: 1s                 # call deadline; 0 = none (Kitex's RPC timeout 0)
//! attemptTimeout: 0           # per-attempt cap; 0 = none
//! retry: { maxRetries: 2, budget: { ratio: 0.1 } }
//! fallback: { on: timeoutOrBreakerOpen, reply: "served from cache" }
//! serviceBreaker: { errorRate: 0.5, minSamples: 200 }
//! instanceBreaker: { enabled: false }
//! balancer: { type: zoneAware, threshold: 3.5ms }
//! pool: { mode: multiplexed, connectTimeout: 50ms, stallTimeout: 5s, muxConnections: 2 }
//! ```
//!
//! Every field may be left out: the defaults are `faultline call`'s stack (a 1 s deadline,
//! Kitex's failure retry with budget and retry breaker, service and instance breakers with
//! `BreakerConfig::default()`, weighted round robin, an exclusive TTHeader + Binary pool),
//! so an empty mapping is a working client. Unknown fields are errors.

use std::sync::Arc;
use std::time::Duration;

use tower::util::option_layer;

use super::{Client, ClientBuilder, FallbackOn, FallbackPolicy, Pool, PoolConfig};
use crate::breaker::{BreakerConfig, InstanceBreakerLayer, ServiceBreakerLayer};
use crate::client::retry::RetryConfig;
use crate::config::{self, FieldErrors, FieldPath, Validate};
use crate::echo::{EchoResult, Response};
use crate::event::EventBus;
use crate::lb::{BalancerConfig, Discovery};
use crate::net::Net;
use crate::protocol::{ApplicationException, MessageType, ProtocolId};
use crate::rng::SplitMix64;
use crate::rpc::{Reply, ReplyOrigin};

/// A client, as data. See the module doc for the shape and defaults.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientConfig {
    /// The caller's service name (TTHeader `FromService`; keys the service breaker).
    pub caller: String,
    /// The callee's service name (TTHeader `ToService`).
    pub service: String,
    /// The caller's zone; zone-aware balancing prefers instances labelled with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Deadline of a whole call, retries included; `0` means none.
    #[serde(with = "config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "config::duration::Schema"))]
    pub timeout: Duration,
    /// Cap on each attempt (sent as TTHeader `RPCTimeout`); `0` means none.
    #[serde(with = "config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "config::duration::Schema"))]
    pub attempt_timeout: Duration,
    /// Failure retry and backup requests (`maxRetries: 0` and no `backup`: none).
    pub retry: RetryConfig,
    /// The fallback policy; absent means no fallback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<FallbackConfig>,
    /// One breaker per (caller, service, method), above the balancer.
    pub service_breaker: BreakerConfig,
    /// One breaker per instance, below the balancer.
    pub instance_breaker: BreakerConfig,
    pub balancer: BalancerConfig,
    pub pool: PoolConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            caller: "faultline".into(),
            service: crate::echo::SERVICE.into(),
            zone: None,
            timeout: Duration::from_secs(1),
            attempt_timeout: Duration::ZERO,
            retry: RetryConfig::default(),
            fallback: None,
            service_breaker: BreakerConfig::default(),
            instance_breaker: BreakerConfig::default(),
            balancer: BalancerConfig::default(),
            pool: PoolConfig::default(),
        }
    }
}

/// What a fallback answers, as data: a fixed Echo reply, or a given error.
///
/// `reply` is the message of the Echo `Response` the caller gets instead of the failure;
/// `exception` makes the caller get a `TApplicationException` (`INTERNAL_ERROR`) with that
/// message instead (Kitex's fallback may return an error too). Both are marked as
/// fallbacks (`Reply::is_fallback`, a `Fallback` event). With neither, the reply is
/// `"fallback"`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct FallbackConfig {
    /// Which failures it replaces: `timeoutOrBreakerOpen` (default) or `anyError`.
    pub on: FallbackOn,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
}

impl Default for FallbackConfig {
    fn default() -> Self {
        Self {
            on: FallbackOn::TimeoutOrBreakerOpen,
            reply: None,
            exception: None,
        }
    }
}

impl FallbackConfig {
    /// The policy, whose replies are encoded in `protocol` (the pool's).
    pub fn policy(&self, protocol: ProtocolId) -> FallbackPolicy {
        let reply = match &self.exception {
            Some(message) => fallback_reply(
                MessageType::Exception,
                super::encode_args(
                    protocol,
                    &ApplicationException::new(ApplicationException::INTERNAL_ERROR, message),
                ),
            ),
            None => fallback_reply(
                MessageType::Reply,
                super::encode_args(
                    protocol,
                    &EchoResult {
                        success: Some(Response {
                            message: self.reply.clone().unwrap_or_else(|| "fallback".into()),
                        }),
                    },
                ),
            ),
        };
        FallbackPolicy::new(self.on, move |_, _| reply.clone())
    }
}

/// A fallback reply of `kind` around `body`; `None` (keep the error) if it did not encode.
fn fallback_reply(
    kind: MessageType,
    body: Result<bytes::Bytes, crate::rpc::RpcError>,
) -> Option<Reply> {
    body.ok().map(|body| Reply {
        kind,
        body,
        metadata: Default::default(),
        instance: None,
        origin: ReplyOrigin::Fallback,
    })
}

impl Validate for FallbackConfig {
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors) {
        errors.check(
            self.reply.is_none() || self.exception.is_none(),
            || path.field("exception"),
            || "set either reply or exception, not both".into(),
        );
    }
}

impl Validate for ClientConfig {
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors) {
        errors.check(
            !self.service.is_empty(),
            || path.field("service"),
            || "must name the callee".into(),
        );
        errors.duration_in(|| path.field("timeout"), self.timeout, config::ANY);
        errors.duration_in(
            || path.field("attemptTimeout"),
            self.attempt_timeout,
            config::ANY,
        );
        self.retry.validate_at(&path.field("retry"), errors);
        self.fallback.validate_at(&path.field("fallback"), errors);
        if self.service_breaker.enabled {
            self.service_breaker
                .validate_at(&path.field("serviceBreaker"), errors);
        }
        if self.instance_breaker.enabled {
            self.instance_breaker
                .validate_at(&path.field("instanceBreaker"), errors);
        }
        self.balancer
            .validate_for(self.zone.as_deref(), &path.field("balancer"), errors);
        self.pool.validate_at(&path.field("pool"), errors);
    }
}

impl ClientConfig {
    /// The same config with every random choice seeded from `seed`: the balancer's draws
    /// (weighted random, p2c, zone-aware spill) and the retry backoff's jitter, each from
    /// its own SplitMix64 output so that they do not draw the same sequence. A simulation
    /// builds every client this way from its run seed; a real client keeps the config's
    /// seeds (or the process's randomness for an unseeded backoff).
    pub fn seeded(&self, seed: u64) -> ClientConfig {
        let rng = SplitMix64::new(seed);
        let mut config = self.clone();
        match &mut config.balancer {
            BalancerConfig::WeightedRandom { seed } => *seed = rng.next_u64(),
            BalancerConfig::P2c(p2c) => p2c.seed = rng.next_u64(),
            BalancerConfig::ZoneAware(zone) => zone.seed = rng.next_u64(),
            BalancerConfig::RoundRobin | BalancerConfig::ConsistentHash { .. } => {}
        }
        config.retry.seed = Some(rng.next_u64());
        config
    }
}

impl Client {
    /// The whole stack `config` describes, over a pool of `net` connections to the
    /// instances `discovery` publishes, every layer emitting on `events`. When discovery
    /// drops an instance, its instance breaker and its connections go too (the balancer's
    /// state for it already goes with the pickers that held it). Returns every
    /// config error at once instead of building anything.
    ///
    /// Several layers read `tokio::time::Instant::now()` when they are built (the retry
    /// breaker's and the backup delay's windows, the zone-aware balancer's clock origin,
    /// the event bus's epoch): under turmoil, build the client inside the host it runs in,
    /// and again after that host restarts, so that they count on that host's clock.
    pub fn from_config<N: Net>(
        config: &ClientConfig,
        net: N,
        discovery: Discovery,
        events: EventBus,
    ) -> Result<Client, FieldErrors> {
        config.validate()?;
        let caller: Arc<str> = config.caller.as_str().into();
        let service: Arc<str> = config.service.as_str().into();
        let pool = Pool::with_discovery(
            net,
            PoolConfig {
                to_service: Some(service.clone()),
                from_service: Some(caller.clone()),
                ..config.pool.clone()
            },
            discovery.clone(),
        );
        let service_breaker = match config.service_breaker.enabled {
            true => Some(ServiceBreakerLayer::new(
                caller,
                service.clone(),
                config.service_breaker.clone(),
                events.clone(),
            )?),
            false => None,
        };
        let instance_breaker = match config.instance_breaker.enabled {
            true => Some(InstanceBreakerLayer::with_discovery(
                config.instance_breaker.clone(),
                events.clone(),
                discovery.clone(),
            )?),
            false => None,
        };
        let balancer = config
            .balancer
            .layer(&service, discovery, config.zone.as_deref(), &events);
        let mut builder = ClientBuilder::new(service).events(events);
        if !config.timeout.is_zero() {
            builder = builder.timeout(config.timeout);
        }
        if !config.attempt_timeout.is_zero() {
            builder = builder.attempt_timeout(config.attempt_timeout);
        }
        builder = match config.retry.max_retries == 0 && config.retry.backup.is_none() {
            true => builder.no_retry(),
            false => builder.retry(config.retry.clone()),
        };
        if let Some(fallback) = &config.fallback {
            builder = builder.fallback(fallback.policy(config.pool.protocol));
        }
        Ok(builder
            .service_breaker(option_layer(service_breaker))
            .balancer(balancer)
            .instance_breaker(option_layer(instance_breaker))
            .build(pool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_mapping_is_the_default_and_valid() {
        let parsed: ClientConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, ClientConfig::default());
        assert_eq!(parsed.validate(), Ok(()));
    }

    #[test]
    fn errors_of_every_layer_come_back_together_with_paths() {
        let config: ClientConfig = serde_json::from_value(serde_json::json!({
            "service": "",
            "retry": {"budget": {"ttl": "0s"}},
            "fallback": {"reply": "a", "exception": "b"},
            "serviceBreaker": {"errorRate": 0},
            "instanceBreaker": {"enabled": false, "errorRate": 0},
            "balancer": {"type": "zoneAware"},
            "pool": {"limits": {"maxDepth": 100000}}
        }))
        .unwrap();
        let paths = config.validate().unwrap_err().paths();
        assert_eq!(
            paths,
            [
                "service",
                "retry.budget.ttl",
                "fallback.exception",
                "serviceBreaker.errorRate",
                "balancer.localZone",
                "pool.limits.maxDepth"
            ]
        );
    }

    #[test]
    fn pool_fault_settings_are_data_with_bounds() {
        let config: ClientConfig = serde_json::from_value(serde_json::json!({
            "pool": {"keepalive": "0s", "stallTimeout": "0s", "muxConnections": 4}
        }))
        .unwrap();
        assert_eq!(
            config.validate(),
            Ok(()),
            "0 turns keepalive and stalls off"
        );
        assert_eq!(config.pool.mux_connections, 4);
        let config: ClientConfig = serde_json::from_value(serde_json::json!({
            "pool": {"keepalive": "500ms", "stallTimeout": "9000h", "muxConnections": 0}
        }))
        .unwrap();
        let paths = config.validate().unwrap_err().paths();
        assert_eq!(
            paths,
            ["pool.keepalive", "pool.stallTimeout", "pool.muxConnections"]
        );
        let defaults = PoolConfig::default();
        assert_eq!(
            (
                defaults.keepalive,
                defaults.stall_timeout,
                defaults.mux_connections
            ),
            (Duration::from_secs(15), Duration::from_secs(5), 1)
        );
    }

    #[test]
    fn round_trips_through_its_data_form() {
        let config = ClientConfig {
            zone: Some("az1".into()),
            fallback: Some(FallbackConfig {
                on: FallbackOn::AnyError,
                reply: Some("cached".into()),
                exception: None,
            }),
            balancer: BalancerConfig::ZoneAware(crate::lb::ZoneConfig::default()),
            ..ClientConfig::default()
        };
        let value = serde_json::to_value(&config).unwrap();
        assert_eq!(value["timeout"], "1s");
        assert_eq!(value["balancer"]["type"], "zoneAware");
        assert_eq!(
            serde_json::from_value::<ClientConfig>(value).unwrap(),
            config
        );
    }
}
