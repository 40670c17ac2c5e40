//! The steady-state hypothesis and abort conditions: clauses over what the probe measured.
//!
//! ```yaml
//! hypothesis:
//!   before: [{ metric: p99, below: 5ms }]                       # steady state, before any fault
//!   during: [{ metric: trafficShare, zone: az1, above: 90%, fault: slow-az2 },
//!            { metric: breakerOpens, scope: instance, within: 2s }]
//!   after:  [{ metric: errorRate, below: 1% },
//!            { metric: breakerCloses, within: 10s }]
//!   recoverWithin: 10s                                          # after-clauses hold from here on
//! abort: [{ metric: errorRate, above: 20%, for: 5s }]
//! ```
//!
//! Metrics: latency (`p50`, `p90`, `p99`, `p999`, `maxLatency`, `meanLatency`; thresholds
//! are durations, `zone` filters by the serving instance's zone), rates (`errorRate`,
//! `fallbackRate`, `trafficShare` of a `zone`; thresholds are percentages `1%` or fractions
//! `0.01`), `retryAmplification` (attempts per call, `1.1x`), and breaker behaviour
//! (`breakerOpens` within a time of a fault's start, `breakerCloses` within a time of its
//! end; `scope` service or instance).

use std::fmt::Write as _;
use std::time::Duration;

use faultline_core::config::duration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Clauses per phase of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Hypothesis {
    /// Steady state: checked before any fault is injected; if it fails, nothing is.
    pub before: Vec<Clause>,
    /// Checked over the windows in which faults are active.
    pub during: Vec<Clause>,
    /// Checked from `recoverWithin` after the last fault ends to the end of the run.
    pub after: Vec<Clause>,
    /// How long the service may take to recover after the last fault.
    #[serde(with = "duration")]
    #[schemars(with = "duration::Schema")]
    pub recover_within: Duration,
}

/// One thing that must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Clause {
    pub metric: Metric,
    /// Only calls served by this zone (latency), or the share going to it (`trafficShare`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// `during` only: judge the window of this fault alone (default: every fault's window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The metric must stay below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<Threshold>,
    /// The metric must stay above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<Threshold>,
    /// For `breakerOpens` / `breakerCloses`: how soon after the fault starts / ends.
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<duration::Schema>")]
    pub within: Option<Duration>,
    /// For `breakerOpens` / `breakerCloses`: which breakers (default: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<BreakerKind>,
}

impl Clause {
    /// The clause in one line: `p99 of az1 below 5ms (during slow-az2)`.
    pub fn describe(&self) -> String {
        let mut text = self.metric.name().to_owned();
        if let Some(zone) = &self.zone {
            let _ = write!(text, " of {zone}");
        }
        if let Some(scope) = self.scope {
            let _ = write!(text, " ({scope:?})");
        }
        for (word, bound) in [("below", &self.below), ("above", &self.above)] {
            if let Some(bound) = bound {
                let _ = write!(text, " {word} {}", bound.0);
            }
        }
        if let Some(within) = self.within {
            let _ = write!(text, " within {}", duration::format(within));
        }
        if let Some(fault) = &self.fault {
            let _ = write!(text, " (during {fault})");
        }
        text
    }
}

/// A condition that stops the run and rolls every fault back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AbortCondition {
    pub metric: Metric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<Threshold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<Threshold>,
    /// How long the condition must hold before the run is aborted.
    #[serde(default, rename = "for", with = "duration")]
    #[schemars(with = "duration::Schema")]
    pub for_: Duration,
}

/// What a clause measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Metric {
    P50,
    P90,
    P99,
    P999,
    MaxLatency,
    MeanLatency,
    ErrorRate,
    FallbackRate,
    TrafficShare,
    RetryAmplification,
    BreakerOpens,
    BreakerCloses,
}

/// The kind of value a metric has, which decides how its thresholds are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A duration: `5ms`.
    Latency,
    /// A share: `1%` or `0.01`.
    Rate,
    /// A plain number: `1.1`.
    Ratio,
    /// A breaker event within a time of a fault boundary.
    Breaker,
}

impl Metric {
    pub fn kind(self) -> MetricKind {
        match self {
            Metric::P50
            | Metric::P90
            | Metric::P99
            | Metric::P999
            | Metric::MaxLatency
            | Metric::MeanLatency => MetricKind::Latency,
            Metric::ErrorRate | Metric::FallbackRate | Metric::TrafficShare => MetricKind::Rate,
            Metric::RetryAmplification => MetricKind::Ratio,
            Metric::BreakerOpens | Metric::BreakerCloses => MetricKind::Breaker,
        }
    }

    /// The name as written in files.
    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::MaxLatency => "maxLatency",
            Metric::MeanLatency => "meanLatency",
            Metric::ErrorRate => "errorRate",
            Metric::FallbackRate => "fallbackRate",
            Metric::TrafficShare => "trafficShare",
            Metric::RetryAmplification => "retryAmplification",
            Metric::BreakerOpens => "breakerOpens",
            Metric::BreakerCloses => "breakerCloses",
        }
    }
}

/// Which breakers a breaker clause is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BreakerKind {
    Service,
    Instance,
}

/// A threshold as written: `5ms`, `1%`, `0.01`, `1.1x`. Its meaning depends on the metric
/// ([`Threshold::value`]). The CRD declares it a string (write `1.1x` or `"1.1"`, as the
/// examples do); the file loader also takes a bare number.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Threshold(pub String);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Threshold;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a threshold such as 5ms, 1% or 1.1")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Threshold, E> {
                Ok(Threshold(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Threshold, E> {
                Ok(Threshold(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Threshold, E> {
                Ok(Threshold(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Threshold, E> {
                Ok(Threshold(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A threshold read for its metric: seconds for latency, a fraction for rates, a number for
/// ratios.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdValue {
    Latency(Duration),
    Fraction(f64),
    Number(f64),
}

impl Threshold {
    /// The threshold's value for a metric of `kind`, or what is wrong with it.
    pub fn value(&self, kind: MetricKind) -> Result<ThresholdValue, String> {
        let text = self.0.trim();
        match kind {
            MetricKind::Latency => duration::parse(text)
                .map(ThresholdValue::Latency)
                .map_err(|err| err.to_string()),
            MetricKind::Rate => {
                let fraction = match text.strip_suffix('%') {
                    Some(percent) => number(percent).map(|p| p / 100.0),
                    None => number(text),
                }
                .ok_or_else(|| format!("expected a share such as 1% or 0.01, got {text:?}"))?;
                match (0.0..=1.0).contains(&fraction) {
                    true => Ok(ThresholdValue::Fraction(fraction)),
                    false => Err(format!("a share must be in 0% ..= 100%, got {text}")),
                }
            }
            MetricKind::Ratio => number(text.strip_suffix('x').unwrap_or(text))
                .filter(|n| *n >= 0.0)
                .map(ThresholdValue::Number)
                .ok_or_else(|| format!("expected a non-negative number such as 1.1, got {text:?}")),
            MetricKind::Breaker => Err("breaker clauses take `within`, not below/above".into()),
        }
    }
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_per_metric_kind() {
        let t = |s: &str| Threshold(s.into());
        assert_eq!(
            t("5ms").value(MetricKind::Latency),
            Ok(ThresholdValue::Latency(Duration::from_millis(5)))
        );
        assert_eq!(
            t("1%").value(MetricKind::Rate),
            Ok(ThresholdValue::Fraction(0.01))
        );
        assert_eq!(
            t("0.25").value(MetricKind::Rate),
            Ok(ThresholdValue::Fraction(0.25))
        );
        assert_eq!(
            t("1.1x").value(MetricKind::Ratio),
            Ok(ThresholdValue::Number(1.1))
        );
        assert!(t("120%")
            .value(MetricKind::Rate)
            .unwrap_err()
            .contains("0% ..= 100%"));
        assert!(t("5")
            .value(MetricKind::Latency)
            .unwrap_err()
            .contains("missing unit"));
        assert!(t("NaN").value(MetricKind::Ratio).is_err());
        assert!(t("1%").value(MetricKind::Breaker).is_err());
    }
}
