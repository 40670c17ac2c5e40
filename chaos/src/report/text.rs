//! The report for a terminal: the verdict, each clause and check, the summary line and
//! per-zone latency, and where the files went. `chaos run` and `sim run` print this.

use std::fmt::Write as _;

use faultline_core::config::duration;

use super::model::{Report, Verdict};

/// A few lines a person reads after a run.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    let verdict = match report.verdict {
        Verdict::Passed => "PASSED",
        Verdict::Failed => "FAILED",
        Verdict::Aborted => "ABORTED",
    };
    let _ = writeln!(
        out,
        "{verdict}: {} on {} (seed {}), {} calls/s for {}",
        report.experiment,
        report.backend,
        report.seed,
        report.rate,
        duration::format(report.measured)
    );
    if let Some(reason) = &report.aborted {
        let _ = writeln!(out, "  {reason}");
    }
    for clause in &report.clauses {
        let mark = if clause.passed { "ok  " } else { "FAIL" };
        let window = match &clause.fault {
            Some(fault) => format!("during {fault}"),
            None => format!("{:?}", clause.phase).to_lowercase(),
        };
        let _ = writeln!(
            out,
            "  {mark} {:<45} {:<22} observed {}",
            clause.clause, window, clause.observed
        );
    }
    for check in &report.checks {
        if check.violations.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "  FAIL check {}: {} violation(s); first: {}",
            check.name,
            check.violations.len(),
            check.violations[0].message
        );
    }
    let clean = report
        .checks
        .iter()
        .filter(|c| c.violations.is_empty())
        .count();
    if !report.checks.is_empty() {
        let _ = writeln!(out, "  checks: {clean} of {} held", report.checks.len());
    }
    for fault in report.faults.iter().filter(|f| f.skipped.is_some()) {
        let _ = writeln!(
            out,
            "  skipped fault {}: {}",
            fault.name,
            fault.skipped.as_deref().unwrap_or_default()
        );
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "  {} calls, {:.3}% errors, {:.3}% fallbacks, {:.3} attempts/call; latency mean {} p50 {} p99 {} max {}",
        s.calls,
        s.error_rate * 100.0,
        s.fallback_rate * 100.0,
        s.retry_amplification,
        duration::format(s.mean),
        duration::format(s.p50),
        duration::format(s.p99),
        duration::format(s.max)
    );
    for (zone, z) in &s.zones {
        let _ = writeln!(
            out,
            "    answered by {zone}: {} calls, mean {} p99 {}",
            z.calls,
            duration::format(z.mean),
            duration::format(z.p99)
        );
    }
    if let Some(lag) = &s.scheduling_lag {
        let _ = writeln!(
            out,
            "    the probe started calls late by p50 {} p99 {} max {} (included in the latencies)",
            duration::format(lag.p50),
            duration::format(lag.p99),
            duration::format(lag.max)
        );
    }
    for pod in &report.target_metrics {
        let series = match &pod.error {
            Some(error) => format!("not read: {error}"),
            None => pod
                .series
                .iter()
                .map(|(name, value)| format!("{name} {value}"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let _ = writeln!(out, "    pod {} metrics over the run: {series}", pod.pod);
    }
    out
}
