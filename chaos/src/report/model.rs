//! What a report holds: the verdict and each clause's, the faults and when they acted,
//! per-second series (calls, outcomes, latency percentiles, traffic by zone, attempts),
//! the breaker timeline, a summary with per-zone latency, the invariant checks (from the
//! simulation), and notes on how the backend modelled the run.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::hypothesis::{self, ClauseVerdict};
use crate::probe::timeline::{mean, quantile};
use crate::probe::{BreakerChange, Outcome, Timeline};
use crate::spec::experiment::ExperimentSpec;

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Every clause and every check held.
    Passed,
    /// A clause or a check did not hold.
    Failed,
    /// An abort condition stopped the run; its faults were rolled back.
    Aborted,
}

/// A fault as it ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultReport {
    pub name: String,
    pub kind: String,
    /// The action and its parameters, as the plan prints it.
    pub action: String,
    /// The instances it acted on (or the cluster selection).
    pub targets: Vec<String>,
    #[serde(with = "faultline_core::config::duration")]
    pub start: Duration,
    #[serde(with = "faultline_core::config::duration::option")]
    pub end: Option<Duration>,
    /// Why the backend did not apply it, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// An invariant the run was checked against (simulation checkers).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    pub description: String,
    /// How many events it looked at.
    pub checked: u64,
    pub violations: Vec<Violation>,
}

/// One broken invariant: when, the event that broke it, and what was wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    #[serde(with = "faultline_core::config::duration")]
    pub at: Duration,
    /// The event as JSON.
    pub event: String,
    pub message: String,
}

/// One second of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecondRow {
    pub second: u64,
    pub calls: u64,
    pub ok: u64,
    pub fallbacks: u64,
    pub errors: u64,
    pub dropped: u64,
    /// Latency percentiles in microseconds (0 without calls).
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Calls answered per zone.
    pub zones: BTreeMap<String, u64>,
    pub attempts: u64,
    pub retries: u64,
}

/// A latency distribution in a few figures: of the calls one zone answered, or of the
/// probe's scheduling lag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencySummary {
    pub calls: u64,
    #[serde(with = "faultline_core::config::duration")]
    pub mean: Duration,
    #[serde(with = "faultline_core::config::duration")]
    pub p50: Duration,
    #[serde(with = "faultline_core::config::duration")]
    pub p99: Duration,
    #[serde(with = "faultline_core::config::duration")]
    pub max: Duration,
}

impl LatencySummary {
    fn of(histogram: &hdrhistogram::Histogram<u64>) -> Self {
        Self {
            calls: histogram.len(),
            mean: mean(histogram),
            p50: quantile(histogram, 0.5),
            p99: quantile(histogram, 0.99),
            max: quantile(histogram, 1.0),
        }
    }
}

/// The whole measured run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub calls: u64,
    pub outcomes: BTreeMap<String, u64>,
    pub error_rate: f64,
    pub fallback_rate: f64,
    pub retry_amplification: f64,
    #[serde(with = "faultline_core::config::duration")]
    pub mean: Duration,
    #[serde(with = "faultline_core::config::duration")]
    pub p50: Duration,
    #[serde(with = "faultline_core::config::duration")]
    pub p90: Duration,
    #[serde(with = "faultline_core::config::duration")]
    pub p99: Duration,
    #[serde(with = "faultline_core::config::duration")]
    pub p999: Duration,
    #[serde(with = "faultline_core::config::duration")]
    pub max: Duration,
    /// Per answering zone, over the whole run.
    pub zones: BTreeMap<String, LatencySummary>,
    /// How late the probe started its calls (from due to started): the generator's own
    /// lag, already inside the latencies above (in the simulation, virtual time's: about
    /// zero). `None` without calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduling_lag: Option<LatencySummary>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub experiment: String,
    /// `sim`, `local` or `kube`.
    pub backend: String,
    pub seed: u64,
    pub run_id: String,
    pub verdict: Verdict,
    /// Why the run was aborted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
    /// Calls due per second.
    pub rate: u32,
    /// How long measurement ran (shorter than planned when aborted).
    #[serde(with = "faultline_core::config::duration")]
    pub measured: Duration,
    pub clauses: Vec<ClauseVerdict>,
    pub checks: Vec<Check>,
    pub faults: Vec<FaultReport>,
    pub summary: Summary,
    pub series: Vec<SecondRow>,
    pub breaker: Vec<BreakerChange>,
    /// How the backend modelled what it could not do for real (simulated latency, loss).
    pub notes: Vec<String>,
    /// On a cluster: what the target pods' own metrics say about the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_metrics: Vec<PodMetrics>,
    /// The command that reruns this run (the simulation's replay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<String>,
}

/// One target pod's Prometheus series over the run: counters as their growth, gauges
/// (breaker state: 0 closed, 1 open, 2 half-open) as at the end.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetrics {
    pub pod: String,
    /// `name{labels}` -> value; counters that did not move are left out.
    pub series: BTreeMap<String, f64>,
    /// Why the pod could not be read at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a backend hands over to make a report.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    pub experiment: &'a str,
    pub spec: &'a ExperimentSpec,
    pub backend: &'a str,
    pub seed: u64,
    pub run_id: String,
    pub timeline: &'a Timeline,
    pub measured: Duration,
    pub aborted: Option<String>,
    pub faults: Vec<FaultReport>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
    pub replay: Option<String>,
}

impl Report {
    /// Judges the hypothesis on the timeline and puts the report together.
    pub fn build(input: ReportInput<'_>) -> Report {
        let clauses = hypothesis::judge(input.spec, input.timeline, input.measured);
        let failed = clauses.iter().any(|c| !c.passed)
            || input.checks.iter().any(|c| !c.violations.is_empty());
        let verdict = match (&input.aborted, failed) {
            (Some(_), _) => Verdict::Aborted,
            (None, true) => Verdict::Failed,
            (None, false) => Verdict::Passed,
        };
        Report {
            experiment: input.experiment.to_owned(),
            backend: input.backend.to_owned(),
            seed: input.seed,
            run_id: input.run_id,
            verdict,
            aborted: input.aborted,
            rate: input.spec.workload.rate,
            measured: input.measured,
            clauses,
            checks: input.checks,
            faults: input.faults,
            summary: summary(input.timeline, input.measured),
            series: series(input.timeline, input.measured),
            breaker: input.timeline.breaker_changes().to_vec(),
            notes: input.notes,
            target_metrics: Vec::new(),
            replay: input.replay,
        }
    }

    /// Whether the run passed.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }
}

fn outcome_name(outcome: Outcome) -> String {
    match outcome {
        Outcome::Ok => "ok".into(),
        Outcome::Fallback => "fallback".into(),
        Outcome::Dropped => "dropped".into(),
        Outcome::Error(kind) => kind.name().into(),
    }
}

fn summary(timeline: &Timeline, measured: Duration) -> Summary {
    let window = timeline.window(Duration::ZERO, measured);
    let q = |q: f64| match window.latency.is_empty() {
        true => Duration::ZERO,
        false => quantile(&window.latency, q),
    };
    let zones = window
        .zones
        .iter()
        .map(|(zone, stats)| {
            let name = match zone.is_empty() {
                true => "(no zone)".to_owned(),
                false => zone.to_string(),
            };
            (name, LatencySummary::of(&stats.latency))
        })
        .collect();
    let scheduling_lag = window.scheduling_lag().map(LatencySummary::of);
    Summary {
        scheduling_lag,
        calls: window.calls,
        outcomes: window
            .outcomes
            .iter()
            .map(|(o, n)| (outcome_name(*o), *n))
            .collect(),
        error_rate: window.error_rate().unwrap_or(0.0),
        fallback_rate: window.fallback_rate().unwrap_or(0.0),
        retry_amplification: window.retry_amplification().unwrap_or(0.0),
        mean: match window.latency.is_empty() {
            true => Duration::ZERO,
            false => mean(&window.latency),
        },
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        p999: q(0.999),
        max: q(1.0),
        zones,
    }
}

fn series(timeline: &Timeline, measured: Duration) -> Vec<SecondRow> {
    let seconds = measured.as_nanos().div_ceil(1_000_000_000) as usize;
    timeline
        .seconds()
        .iter()
        .take(seconds)
        .enumerate()
        .map(|(i, s)| {
            let q = |q: f64| match s.latency.is_empty() {
                true => 0,
                false => s.latency.value_at_quantile(q),
            };
            SecondRow {
                second: i as u64,
                calls: s.calls,
                ok: s.count(|o| o == Outcome::Ok),
                fallbacks: s.count(|o| o == Outcome::Fallback),
                errors: s.count(|o| matches!(o, Outcome::Error(_))),
                dropped: s.count(|o| o == Outcome::Dropped),
                p50_us: q(0.5),
                p90_us: q(0.9),
                p99_us: q(0.99),
                max_us: q(1.0),
                zones: s
                    .zones
                    .iter()
                    .map(|(zone, z)| (zone.to_string(), z.calls))
                    .collect(),
                attempts: s.attempts,
                retries: s.retries,
            }
        })
        .collect()
}
