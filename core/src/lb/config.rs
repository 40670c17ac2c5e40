//! `BalancerConfig`: which balancer a client uses, as data, and the layer it builds.
//!
//! ```yaml
//! balancer: { type: roundRobin }                      # the default (smooth WRR, as Kitex)
//! balancer: { type: weightedRandom, seed: 7 }
//! balancer: { type: consistentHash, replicas: 100 }
//! balancer: { type: p2c, alpha: 0.3, initial: 1ms, failurePenalty: 1s }
//! balancer: { type: zoneAware, threshold: 3.5ms, recoverBelow: 3.3ms }
//! ```

use std::sync::Arc;

use super::{
    ConsistentHash, Discovery, LoadBalanceLayer, P2c, P2cConfig, WeightedRandom,
    WeightedRoundRobin, ZoneAware, ZoneConfig,
};
use crate::config::{self, FieldErrors, FieldPath, Validate};
use crate::event::EventBus;

/// The load-balancing policy of a client.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    schemars(transform = crate::config::schema::flatten_tagged_union)
)]
pub enum BalancerConfig {
    /// Smooth weighted round robin.
    #[default]
    RoundRobin,
    /// An independent weighted draw per call.
    WeightedRandom {
        #[serde(default)]
        seed: u64,
    },
    /// Consistent hashing on each call's hash key (round robin for calls without one).
    ConsistentHash {
        /// Virtual nodes for an instance of default weight.
        #[serde(default = "default_replicas")]
        replicas: u32,
    },
    /// Power of two choices by EWMA latency.
    P2c(P2cConfig),
    /// Stay in the caller's zone; spill by measured RTT; pull back above the threshold.
    ZoneAware(ZoneConfig),
}

fn default_replicas() -> u32 {
    ConsistentHash::DEFAULT_REPLICAS
}

impl BalancerConfig {
    /// The most virtual nodes per default-weight instance a config may ask for.
    pub const MAX_REPLICAS: u32 = 10_000;

    /// The balancing layer for calls to `service` over `discovery`. `zone` is the caller's
    /// zone, used by `zoneAware` when its `localZone` is empty; every pick is emitted on
    /// `events`. Call after `validate_for` passed.
    pub fn layer(
        &self,
        service: &str,
        discovery: Discovery,
        zone: Option<&str>,
        events: &EventBus,
    ) -> LoadBalanceLayer {
        let layer = match self {
            BalancerConfig::RoundRobin => {
                LoadBalanceLayer::new(service, discovery, WeightedRoundRobin)
            }
            BalancerConfig::WeightedRandom { seed } => {
                LoadBalanceLayer::new(service, discovery, WeightedRandom::new(*seed))
            }
            BalancerConfig::ConsistentHash { replicas } => {
                LoadBalanceLayer::new(service, discovery, ConsistentHash::new(*replicas))
            }
            BalancerConfig::P2c(config) => {
                LoadBalanceLayer::new(service, discovery, P2c::new(*config))
            }
            BalancerConfig::ZoneAware(config) => {
                let mut config = config.clone();
                if config.local_zone.is_empty() {
                    config.local_zone = Arc::from(zone.unwrap_or_default());
                }
                let balancer = ZoneAware::new(config, Some(events.clone()));
                LoadBalanceLayer::new(service, discovery, balancer)
            }
        };
        layer.with_events(events.clone())
    }

    /// Like `validate_at`, knowing the caller's `zone` (zone-aware balancing needs one).
    pub fn validate_for(&self, zone: Option<&str>, path: &FieldPath, errors: &mut FieldErrors) {
        self.validate_at(path, errors);
        if let BalancerConfig::ZoneAware(config) = self {
            errors.check(
                !config.local_zone.is_empty() || zone.is_some_and(|z| !z.is_empty()),
                || path.field("localZone"),
                || "zoneAware needs the caller's zone: set the client's zone or localZone".into(),
            );
        }
    }
}

impl Validate for BalancerConfig {
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors) {
        let unit = |v: f64| v > 0.0 && v <= 1.0;
        match self {
            BalancerConfig::RoundRobin | BalancerConfig::WeightedRandom { .. } => {}
            BalancerConfig::ConsistentHash { replicas } => {
                errors.in_range(|| path.field("replicas"), *replicas, 1..=Self::MAX_REPLICAS);
            }
            BalancerConfig::P2c(c) => {
                errors.check(
                    unit(c.alpha),
                    || path.field("alpha"),
                    || format!("must be in (0, 1], got {}", c.alpha),
                );
                errors.duration_in(|| path.field("initial"), c.initial, config::ANY);
                errors.duration_in(
                    || path.field("failurePenalty"),
                    c.failure_penalty,
                    config::ANY,
                );
            }
            BalancerConfig::ZoneAware(c) => {
                errors.duration_in(|| path.field("threshold"), c.threshold, config::POSITIVE);
                errors.check(
                    c.recover_below <= c.threshold,
                    || path.field("recoverBelow"),
                    || {
                        format!(
                            "must be at most threshold ({}), got {}",
                            config::duration::format(c.threshold),
                            config::duration::format(c.recover_below)
                        )
                    },
                );
                errors.in_range(
                    || path.field("degradedWeight"),
                    c.degraded_weight,
                    0.0..=1.0,
                );
                errors.check(
                    unit(c.alpha),
                    || path.field("alpha"),
                    || format!("must be in (0, 1], got {}", c.alpha),
                );
                errors.in_range(|| path.field("ejectAfter"), c.eject_after, 1..=u32::MAX);
                errors.duration_in(|| path.field("ejectFor"), c.eject_for, config::ANY);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reads_each_policy_by_its_type() {
        let read = |v: serde_json::Value| serde_json::from_value::<BalancerConfig>(v).unwrap();
        assert_eq!(
            read(serde_json::json!({"type": "roundRobin"})),
            BalancerConfig::RoundRobin
        );
        assert_eq!(
            read(serde_json::json!({"type": "consistentHash"})),
            BalancerConfig::ConsistentHash { replicas: 100 }
        );
        let BalancerConfig::ZoneAware(zone) =
            read(serde_json::json!({"type": "zoneAware", "threshold": "5ms"}))
        else {
            panic!("not zone-aware");
        };
        assert_eq!(zone.threshold, Duration::from_millis(5));
        assert_eq!(zone.recover_below, ZoneConfig::DEFAULT_RECOVER_BELOW);
        let err = serde_json::from_value::<BalancerConfig>(
            serde_json::json!({"type": "zoneAware", "treshold": "5ms"}),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `treshold`"),
            "{err}"
        );
        let err = serde_json::from_value::<BalancerConfig>(serde_json::json!({"type": "p3c"}))
            .unwrap_err();
        assert!(err.to_string().contains("unknown variant `p3c`"), "{err}");
    }

    #[test]
    fn zone_aware_needs_a_zone_and_sane_bars() {
        let config = BalancerConfig::ZoneAware(ZoneConfig {
            recover_below: Duration::from_millis(4),
            ..ZoneConfig::default()
        });
        let mut errors = FieldErrors::default();
        config.validate_for(None, &FieldPath::root().field("balancer"), &mut errors);
        let paths = errors.paths();
        assert_eq!(paths, ["balancer.recoverBelow", "balancer.localZone"]);
        let mut errors = FieldErrors::default();
        BalancerConfig::ZoneAware(ZoneConfig::default()).validate_for(
            Some("az1"),
            &FieldPath::root(),
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors}");
    }
}
