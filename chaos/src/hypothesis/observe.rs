//! A metric's value in a window of the timeline, and whether it meets a clause's bounds.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use faultline_core::breaker::BreakerState;
use faultline_core::config::duration;

use crate::probe::timeline::{mean, quantile};
use crate::probe::{BreakerChange, Timeline};
use crate::spec::experiment::{BreakerKind, Clause, Metric, MetricKind, Threshold, ThresholdValue};

/// A measured value.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    Latency(Duration),
    Fraction(f64),
    Number(f64),
    /// A breaker clause: when the breaker event it asks for happened (`None`: it did not).
    Breaker(Option<Duration>),
    /// A `breakerCloses` clause with no breaker open at the fault's end (this time): there
    /// was nothing left to close, which meets it.
    NoneOpen(Duration),
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Latency(d) => f.write_str(&duration::format(*d)),
            Observed::Fraction(x) => write!(f, "{:.3}%", x * 100.0),
            Observed::Number(x) => write!(f, "{x:.3}x"),
            Observed::Breaker(Some(at)) => write!(f, "at {}", duration::format(*at)),
            Observed::Breaker(None) => f.write_str("did not happen in time"),
            Observed::NoneOpen(end) => {
                write!(
                    f,
                    "none open at {} (all had closed)",
                    duration::format(*end)
                )
            }
        }
    }
}

impl Observed {
    /// Whether the value meets the clause's `below` and `above` (breaker clauses: whether
    /// the event happened in time). A threshold that cannot be read fails the clause
    /// (validation refuses such files, so this is only a guard).
    pub fn passes(&self, clause: &Clause) -> bool {
        match self {
            Observed::Breaker(at) => return at.is_some(),
            Observed::NoneOpen(_) => return true,
            _ => {}
        }
        let kind = clause.metric.kind();
        let check = |bound: &Option<Threshold>, below: bool| -> bool {
            let Some(bound) = bound else { return true };
            match (self, bound.value(kind)) {
                (Observed::Latency(v), Ok(ThresholdValue::Latency(t))) => (*v < t) == below,
                (Observed::Fraction(v), Ok(ThresholdValue::Fraction(t)))
                | (Observed::Number(v), Ok(ThresholdValue::Number(t))) => (*v < t) == below,
                _ => false,
            }
        };
        check(&clause.below, true) && check(&clause.above, false)
    }
}

/// The clause's metric in `[from, to)`. `fault_end` is the end of the fault the clause
/// is judged against (breaker closes). `Err` says why there is no value.
pub fn observe(
    clause: &Clause,
    timeline: &Timeline,
    from: Duration,
    to: Duration,
    fault_end: Option<Duration>,
) -> Result<Observed, String> {
    if to <= from {
        return Err(format!(
            "empty window ({} ..= {}): the run ended before it",
            duration::format(from),
            duration::format(to)
        ));
    }
    if clause.metric.kind() == MetricKind::Breaker {
        return breaker(clause, timeline.breaker_changes(), from, fault_end);
    }
    let window = timeline.window(from, to);
    if window.calls == 0 {
        return Err("no calls in the window".into());
    }
    let zone = clause.zone.as_deref();
    let latency = |q: f64| -> Result<Observed, String> {
        let histogram = window
            .latency_of(zone)
            .ok_or_else(|| format!("no calls answered by zone {}", zone.unwrap_or("?")))?;
        Ok(Observed::Latency(quantile(histogram, q)))
    };
    let none = || "no calls the metric applies to".to_owned();
    match clause.metric {
        Metric::P50 => latency(0.50),
        Metric::P90 => latency(0.90),
        Metric::P99 => latency(0.99),
        Metric::P999 => latency(0.999),
        Metric::MaxLatency => latency(1.0),
        Metric::MeanLatency => {
            let histogram = window.latency_of(zone).ok_or_else(none)?;
            Ok(Observed::Latency(mean(histogram)))
        }
        Metric::ErrorRate => window.error_rate().map(Observed::Fraction).ok_or_else(none),
        Metric::FallbackRate => window
            .fallback_rate()
            .map(Observed::Fraction)
            .ok_or_else(none),
        Metric::TrafficShare => {
            let zone = zone.ok_or("trafficShare needs a zone")?;
            window
                .traffic_share(zone)
                .map(Observed::Fraction)
                .ok_or_else(none)
        }
        Metric::RetryAmplification => window
            .retry_amplification()
            .map(Observed::Number)
            .ok_or_else(none),
        Metric::BreakerOpens | Metric::BreakerCloses => unreachable!("handled above"),
    }
}

fn matches_scope(change: &BreakerChange, scope: Option<BreakerKind>) -> bool {
    match scope {
        None => true,
        Some(BreakerKind::Service) => change.kind == "service",
        Some(BreakerKind::Instance) => change.kind == "instance",
    }
}

fn breaker(
    clause: &Clause,
    changes: &[BreakerChange],
    from: Duration,
    fault_end: Option<Duration>,
) -> Result<Observed, String> {
    let within = clause.within.ok_or("breaker clauses need `within`")?;
    match clause.metric {
        Metric::BreakerOpens => {
            let deadline = from.saturating_add(within);
            let opened = changes
                .iter()
                .filter(|c| matches_scope(c, clause.scope))
                .filter(|c| c.to == BreakerState::Open && c.at >= from && c.at <= deadline)
                .map(|c| c.at)
                .next();
            Ok(Observed::Breaker(opened))
        }
        _ => {
            let end = fault_end.ok_or(
                "breakerCloses is judged against a fault's end: use it in during or after",
            )?;
            let deadline = end.saturating_add(within);
            let state_by = |until: Duration| {
                let mut state: BTreeMap<(&str, &str), (BreakerState, Duration)> = BTreeMap::new();
                for change in changes
                    .iter()
                    .filter(|c| matches_scope(c, clause.scope) && c.at <= until)
                {
                    state.insert((change.kind, &change.key), (change.to, change.at));
                }
                state
            };
            let (at_end, by_deadline) = (state_by(end), state_by(deadline));
            if at_end
                .values()
                .all(|(state, _)| *state == BreakerState::Closed)
            {
                return Ok(Observed::NoneOpen(end));
            }
            let mut last_close = end;
            for (key, (state, _)) in &at_end {
                if *state == BreakerState::Closed {
                    continue;
                }
                match by_deadline.get(key) {
                    Some((BreakerState::Closed, at)) => last_close = last_close.max(*at),
                    _ => return Ok(Observed::Breaker(None)),
                }
            }
            Ok(Observed::Breaker(Some(last_close)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closes_within(secs: u64) -> Clause {
        Clause {
            metric: Metric::BreakerCloses,
            zone: None,
            fault: None,
            below: None,
            above: None,
            within: Some(Duration::from_secs(secs)),
            scope: None,
        }
    }

    fn change(at: u64, from: BreakerState, to: BreakerState) -> BreakerChange {
        BreakerChange {
            at: Duration::from_secs(at),
            kind: "instance",
            key: "echo-az1-0".into(),
            from,
            to,
        }
    }

    #[test]
    fn breaker_closes_says_when_nothing_was_left_open_and_fails_on_one_still_open() {
        let (closed, open) = (BreakerState::Closed, BreakerState::Open);
        let clause = closes_within(3);
        let end = Some(Duration::from_secs(5));
        let healed = [change(1, closed, open), change(2, open, closed)];
        let observed = breaker(&clause, &healed, Duration::ZERO, end).unwrap();
        assert_eq!(observed, Observed::NoneOpen(Duration::from_secs(5)));
        assert!(observed.passes(&clause));
        assert_eq!(observed.to_string(), "none open at 5s (all had closed)");
        let closed_late = [change(4, closed, open), change(7, open, closed)];
        let observed = breaker(&clause, &closed_late, Duration::ZERO, end).unwrap();
        assert_eq!(observed, Observed::Breaker(Some(Duration::from_secs(7))));
        let stuck = [change(4, closed, open)];
        let observed = breaker(&clause, &stuck, Duration::ZERO, end).unwrap();
        assert!(!observed.passes(&clause), "{observed}");
    }
}
