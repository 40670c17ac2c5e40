//! The steady-state hypothesis judged on what the probe measured: which window each
//! clause covers ([`judge`]), what a metric's value is in a window ([`observe`]), and the
//! abort conditions watched while the run goes ([`abort`]).
//!
//! Windows, from the start of measurement:
//! - `before`: from 0 to the first fault's start (the whole run without faults);
//! - `during`: each fault's window, or only the named fault's (`fault:`), from its start
//!   to its end (or to the end of the run for a fault without a duration); a clause must
//!   hold in every window it covers;
//! - `after`: from `recoverWithin` after the last fault ends to the end of the run.
//!
//! Rates and latencies are judged on whole seconds (the timeline's resolution): a window
//! covers every second it touches. Breaker clauses are judged on the exact times of the
//! client's breaker events: `breakerOpens within W` needs a breaker to open within `W` of
//! the window's start; `breakerCloses within W` needs every breaker open at the fault's
//! end (the last fault's, in `after`) to be closed within `W` of it. A `trafficShare`
//! clause during a fault also reports its switch-over time: from the fault's start to the
//! first second from which every second meets it.

pub mod abort;
mod observe;

use std::time::Duration;

use serde::Serialize;

pub use abort::AbortMonitor;
pub use observe::{observe, Observed};

use crate::probe::Timeline;
use crate::spec::experiment::{Clause, ExperimentSpec, Metric};

/// The part of the run a clause belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    Before,
    During,
    After,
}

/// One clause judged on one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClauseVerdict {
    pub phase: Phase,
    /// The clause as written, in one line.
    pub clause: String,
    /// The fault whose window this is (`during`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    #[serde(with = "faultline_core::config::duration")]
    pub from: Duration,
    #[serde(with = "faultline_core::config::duration")]
    pub to: Duration,
    /// What was measured (`3.1ms`, `0.42%`, `1.05x`, `opened at 12.3s`), or why nothing
    /// could be.
    pub observed: String,
    pub passed: bool,
}

/// The `before` clauses judged from the start of measurement to `until` (the first
/// fault's start): what a backend checks before it injects anything.
pub fn steady_state(
    spec: &ExperimentSpec,
    timeline: &Timeline,
    until: Duration,
) -> Vec<ClauseVerdict> {
    spec.hypothesis
        .before
        .iter()
        .map(|clause| {
            verdict(
                Phase::Before,
                clause,
                None,
                (Duration::ZERO, until),
                None,
                timeline,
            )
        })
        .collect()
}

/// A fault's window, from the start of measurement.
#[derive(Debug, Clone, PartialEq)]
struct FaultWindow<'a> {
    name: &'a str,
    start: Duration,
    end: Duration,
}

/// Judges every clause of `spec`'s hypothesis on `timeline`, for a run whose measurement
/// lasted `measured`.
pub fn judge(spec: &ExperimentSpec, timeline: &Timeline, measured: Duration) -> Vec<ClauseVerdict> {
    let faults: Vec<FaultWindow<'_>> = spec
        .faults
        .iter()
        .map(|fault| FaultWindow {
            name: &fault.name,
            start: fault.at.min(measured),
            end: fault.end().unwrap_or(measured).min(measured),
        })
        .collect();
    let first_start = faults.iter().map(|f| f.start).min().unwrap_or(measured);
    let last_end = faults.iter().map(|f| f.end).max();
    let mut verdicts = steady_state(spec, timeline, first_start);
    for clause in &spec.hypothesis.during {
        let windows = faults
            .iter()
            .filter(|f| clause.fault.as_deref().is_none_or(|name| name == f.name));
        for fault in windows {
            let span = (fault.start, fault.end);
            verdicts.push(verdict(
                Phase::During,
                clause,
                Some(fault.name),
                span,
                Some(fault.end),
                timeline,
            ));
        }
    }
    if let Some(last_end) = last_end {
        let from = last_end
            .saturating_add(spec.hypothesis.recover_within)
            .min(measured);
        for clause in &spec.hypothesis.after {
            verdicts.push(verdict(
                Phase::After,
                clause,
                None,
                (from, measured),
                Some(last_end),
                timeline,
            ));
        }
    }
    verdicts
}

fn verdict(
    phase: Phase,
    clause: &Clause,
    fault: Option<&str>,
    (from, to): (Duration, Duration),
    fault_end: Option<Duration>,
    timeline: &Timeline,
) -> ClauseVerdict {
    let (observed, passed) = match observe(clause, timeline, from, to, fault_end) {
        Ok(observed) => {
            let passed = observed.passes(clause);
            let text = match (clause.metric, phase) {
                (Metric::TrafficShare, Phase::During) => {
                    format!("{observed}{}", settled(clause, timeline, from, to))
                }
                _ => observed.to_string(),
            };
            (text, passed)
        }
        Err(reason) => (reason, false),
    };
    ClauseVerdict {
        phase,
        clause: clause.describe(),
        fault: fault.map(str::to_owned),
        from,
        to,
        observed,
        passed,
    }
}

/// For a traffic-share clause during a fault: when, from the fault's start, the share met
/// the clause in every second to the window's end (the switch-over time), as `" (met from
/// +2s)"`; `" (never settled)"` when no such second exists.
fn settled(clause: &Clause, timeline: &Timeline, from: Duration, to: Duration) -> String {
    let second = Duration::from_secs(1);
    let mut start = from;
    let mut settled_at = None;
    while start < to {
        let end = (start + second).min(to);
        let holds = observe(clause, timeline, start, end, None).is_ok_and(|o| o.passes(clause));
        match (holds, settled_at) {
            (true, None) => settled_at = Some(start),
            (false, _) => settled_at = None,
            (true, Some(_)) => {}
        }
        start = end;
    }
    match settled_at {
        Some(at) => format!(
            " (met from +{})",
            faultline_core::config::duration::format(at.saturating_sub(from))
        ),
        None => " (never settled)".to_owned(),
    }
}
