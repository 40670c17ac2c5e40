//! The report page's breaker section: one lane per breaker (service breakers by method,
//! instance breakers by instance) showing when it was closed, open or half-open, with the
//! fault windows behind, and the changes as a table under it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use faultline_core::breaker::BreakerState;

use super::html::{esc, fmt, LEFT, WIDTH};
use super::model::Report;
use crate::probe::BreakerChange;

const LANE: f64 = 22.0;
const AXIS: f64 = 24.0;
/// Lanes drawn at most (the table and report.json hold every change).
const MAX_LANES: usize = 40;
/// Rows of the table at most.
const MAX_ROWS: usize = 500;

fn color(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "#cfe8cf",
        BreakerState::Open => "#d62728",
        BreakerState::HalfOpen => "#ff7f0e",
    }
}

/// A breaker's state from one time to another.
type Span = (Duration, Duration, BreakerState);

/// Each breaker's states over a run measured for `measured`, from its `changes`.
fn lanes(changes: &[BreakerChange], measured: Duration) -> BTreeMap<String, Vec<Span>> {
    let mut lanes: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    let mut since: BTreeMap<String, (Duration, BreakerState)> = BTreeMap::new();
    for change in changes {
        let name = format!("{} {}", change.kind, change.key);
        let (start, state) = since.remove(&name).unwrap_or((Duration::ZERO, change.from));
        lanes
            .entry(name.clone())
            .or_default()
            .push((start, change.at, state));
        since.insert(name, (change.at, change.to));
    }
    for (name, (start, state)) in since {
        let end = measured.max(start);
        lanes.entry(name).or_default().push((start, end, state));
    }
    lanes
}

/// The section.
pub fn render(page: &mut String, report: &Report) {
    page.push_str("<h2>Breakers</h2>");
    if report.breaker.is_empty() {
        page.push_str("<p>No breaker changed state.</p>");
        return;
    }
    let lanes = lanes(&report.breaker, report.measured);
    let shown = lanes.len().min(MAX_LANES);
    let height = AXIS + LANE * shown as f64 + 8.0;
    let seconds = report.measured.as_secs_f64().max(1.0);
    let longest = lanes
        .keys()
        .map(|name| name.chars().count())
        .max()
        .unwrap_or(0);
    // Room for the longest label at ~6 px a character, within a third of the width.
    let labels = (longest as f64 * 6.0 + 12.0).clamp(LEFT, WIDTH / 3.0);
    let x = |d: Duration| labels + d.as_secs_f64() / seconds * (WIDTH - labels - 10.0);
    let _ = write!(
        page,
        "<svg width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">"
    );
    for fault in report.faults.iter().filter(|f| f.skipped.is_none()) {
        let (from, to) = (fault.start, fault.end.unwrap_or(report.measured));
        let _ = write!(
            page,
            "<rect x=\"{:.1}\" y=\"0\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f5c6c6\" opacity=\"0.45\"><title>{}</title></rect>",
            x(from),
            (x(to) - x(from)).max(1.0),
            height - AXIS + 4.0,
            esc(&fault.name)
        );
    }
    for (row, (name, spans)) in lanes.iter().take(MAX_LANES).enumerate() {
        let top = 6.0 + LANE * row as f64;
        let _ = write!(
            page,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            labels - 6.0,
            top + LANE / 2.0 + 3.0,
            esc(name)
        );
        for (from, to, state) in spans {
            let _ = write!(
                page,
                "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {} – {}</title></rect>",
                x(*from),
                (x(*to) - x(*from)).max(1.5),
                LANE - 6.0,
                color(*state),
                state.name(),
                fmt(*from),
                fmt(*to)
            );
        }
    }
    let step = (seconds / 10.0).ceil().max(1.0) as u64;
    for s in (0..=seconds as u64).step_by(step as usize) {
        let _ = write!(
            page,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{s}s</text>",
            x(Duration::from_secs(s)),
            height - 8.0
        );
    }
    let _ = write!(
        page,
        "<text x=\"10\" y=\"{:.1}\" font-size=\"10\"><tspan fill=\"#2ca02c\">closed</tspan> <tspan fill=\"#d62728\">open</tspan> <tspan fill=\"#ff7f0e\">half-open</tspan></text></svg>",
        height - 8.0
    );
    if lanes.len() > MAX_LANES {
        let _ = write!(
            page,
            "<p>{} more breakers in report.json.</p>",
            lanes.len() - MAX_LANES
        );
    }
    table(page, report);
}

fn table(page: &mut String, report: &Report) {
    let _ = write!(
        page,
        "<details><summary>{} state changes</summary><table><tr><th>at</th><th>breaker</th><th>from</th><th>to</th></tr>",
        report.breaker.len()
    );
    for change in report.breaker.iter().take(MAX_ROWS) {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
            fmt(change.at),
            change.kind,
            esc(&change.key),
            change.from.name(),
            change.to.name()
        );
    }
    if report.breaker.len() > MAX_ROWS {
        let _ = write!(
            page,
            "<tr><td colspan=\"4\">… {} more in report.json</td></tr>",
            report.breaker.len() - MAX_ROWS
        );
    }
    page.push_str("</table></details>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_breaker_lane_covers_the_run_state_by_state() {
        let ms = Duration::from_millis;
        let change = |at, from, to| BreakerChange {
            at: ms(at),
            kind: "instance",
            key: "echo-az1-0".into(),
            from,
            to,
        };
        let (closed, open, half) = (
            BreakerState::Closed,
            BreakerState::Open,
            BreakerState::HalfOpen,
        );
        let changes = [
            change(1000, closed, open),
            change(2000, open, half),
            change(2500, half, closed),
        ];
        let lanes = lanes(&changes, ms(5000));
        assert_eq!(
            lanes["instance echo-az1-0"],
            [
                (ms(0), ms(1000), closed),
                (ms(1000), ms(2000), open),
                (ms(2000), ms(2500), half),
                (ms(2500), ms(5000), closed),
            ]
        );
    }
}
