//! The report as one self-contained HTML page: no script, no external file; charts are
//! inline SVG. Sections: verdict, clauses, checks, faults, summary with per-zone latency,
//! latency percentiles over time (fault windows shaded), outcomes over time, traffic share
//! by zone, the breaker timeline ([`super::breakers`]), and the backend's notes.

use std::fmt::Write as _;
use std::time::Duration;

use faultline_core::config::duration;

use super::model::{Report, SecondRow, Verdict};

pub(super) const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 220.0;
pub(super) const LEFT: f64 = 64.0;
const BOTTOM: f64 = 28.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// Escapes text for HTML element content and attribute values.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn fmt(d: Duration) -> String {
    duration::format(d)
}

/// The page.
pub fn render(report: &Report) -> String {
    let mut page = String::new();
    let (badge, color) = match report.verdict {
        Verdict::Passed => ("PASSED", "#2ca02c"),
        Verdict::Failed => ("FAILED", "#d62728"),
        Verdict::Aborted => ("ABORTED", "#ff7f0e"),
    };
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>faultline: {name}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}
h1 span {{ color: white; background: {color}; padding: 0.1em 0.5em; border-radius: 4px; font-size: 0.7em; vertical-align: middle; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; font-size: 0.9em; }}
.pass {{ color: #2ca02c; font-weight: bold; }} .fail {{ color: #d62728; font-weight: bold; }}
svg {{ background: #fafafa; border: 1px solid #ddd; }} code {{ background: #f2f2f2; padding: 0 0.3em; }}
</style></head><body>
<h1>{name} <span>{badge}</span></h1>
<p>Backend <b>{backend}</b>, seed <code>{seed}</code>, run <code>{run}</code>, {rate} calls/s for {measured}.</p>
"#,
        name = esc(&report.experiment),
        backend = esc(&report.backend),
        seed = report.seed,
        run = esc(&report.run_id),
        rate = report.rate,
        measured = fmt(report.measured),
    );
    if let Some(reason) = &report.aborted {
        let _ = writeln!(page, "<p class=\"fail\">{}</p>", esc(reason));
    }
    if let Some(replay) = &report.replay {
        let _ = writeln!(page, "<p>Replay: <code>{}</code></p>", esc(replay));
    }
    clauses(&mut page, report);
    checks(&mut page, report);
    faults(&mut page, report);
    summary(&mut page, report);
    charts(&mut page, report);
    super::breakers::render(&mut page, report);
    if !report.notes.is_empty() {
        page.push_str("<h2>How this run was modelled</h2><ul>");
        for note in &report.notes {
            let _ = write!(page, "<li>{}</li>", esc(note));
        }
        page.push_str("</ul>");
    }
    page.push_str("</body></html>\n");
    page
}

fn pass(passed: bool) -> &'static str {
    match passed {
        true => "<td class=\"pass\">pass</td>",
        false => "<td class=\"fail\">FAIL</td>",
    }
}

fn clauses(page: &mut String, report: &Report) {
    page.push_str("<h2>Hypothesis</h2>");
    if report.clauses.is_empty() {
        page.push_str("<p>No clauses.</p>");
        return;
    }
    page.push_str(
        "<table><tr><th>phase</th><th>clause</th><th>window</th><th>observed</th><th></th></tr>",
    );
    for c in &report.clauses {
        let window = match &c.fault {
            Some(fault) => format!("{} ({} – {})", fault, fmt(c.from), fmt(c.to)),
            None => format!("{} – {}", fmt(c.from), fmt(c.to)),
        };
        let _ = write!(
            page,
            "<tr><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
            c.phase,
            esc(&c.clause),
            esc(&window),
            esc(&c.observed),
            pass(c.passed)
        );
    }
    page.push_str("</table>");
}

fn checks(page: &mut String, report: &Report) {
    if report.checks.is_empty() {
        return;
    }
    page.push_str("<h2>Invariant checks</h2><table><tr><th>check</th><th>events</th><th>violations</th><th></th></tr>");
    for check in &report.checks {
        let _ = write!(
            page,
            "<tr><td title=\"{}\">{}</td><td>{}</td><td>{}</td>{}</tr>",
            esc(&check.description),
            esc(&check.name),
            check.checked,
            check.violations.len(),
            pass(check.violations.is_empty())
        );
        for v in check.violations.iter().take(5) {
            let _ = write!(
                page,
                "<tr><td colspan=\"4\">at {}: {}<br><code>{}</code></td></tr>",
                fmt(v.at),
                esc(&v.message),
                esc(&v.event)
            );
        }
    }
    page.push_str("</table>");
}

fn faults(page: &mut String, report: &Report) {
    page.push_str("<h2>Faults</h2>");
    if report.faults.is_empty() {
        page.push_str("<p>None.</p>");
        return;
    }
    page.push_str("<table><tr><th>fault</th><th>kind</th><th>action</th><th>targets</th><th>from</th><th>to</th></tr>");
    for f in &report.faults {
        let targets = match &f.skipped {
            Some(reason) => format!("skipped: {reason}"),
            None => f.targets.join(", "),
        };
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.name),
            esc(&f.kind),
            esc(&f.action),
            esc(&targets),
            fmt(f.start),
            f.end.map(fmt).unwrap_or_else(|| "end".into())
        );
    }
    page.push_str("</table>");
}

fn summary(page: &mut String, report: &Report) {
    let s = &report.summary;
    let _ = write!(
        page,
        "<h2>Summary</h2><table><tr><th>calls</th><th>error rate</th><th>fallback rate</th>\
         <th>attempts/call</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>\
         <tr><td>{}</td><td>{:.3}%</td><td>{:.3}%</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        s.calls,
        s.error_rate * 100.0,
        s.fallback_rate * 100.0,
        s.retry_amplification,
        fmt(s.mean),
        fmt(s.p50),
        fmt(s.p90),
        fmt(s.p99),
        fmt(s.p999),
        fmt(s.max)
    );
    if let Some(lag) = &s.scheduling_lag {
        let _ = write!(
            page,
            "<p>The probe started its calls late by p50 {}, p99 {}, max {} (its own scheduling lag, included in the latencies).</p>",
            fmt(lag.p50),
            fmt(lag.p99),
            fmt(lag.max)
        );
    }
    if !s.zones.is_empty() {
        page.push_str("<table><tr><th>answered by zone</th><th>calls</th><th>mean</th><th>p50</th><th>p99</th><th>max</th></tr>");
        for (zone, z) in &s.zones {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(zone),
                z.calls,
                fmt(z.mean),
                fmt(z.p50),
                fmt(z.p99),
                fmt(z.max)
            );
        }
        page.push_str("</table>");
    }
}

/// One line chart: `lines` of (label, value per second), fault windows shaded.
fn chart(
    page: &mut String,
    report: &Report,
    title: &str,
    unit: &str,
    lines: &[(String, Vec<f64>)],
) {
    let seconds = report.series.len().max(1) as f64;
    let max = lines
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1e-9)
        * 1.1;
    let x = |s: f64| LEFT + s / seconds * (WIDTH - LEFT - 10.0);
    let y = |v: f64| (HEIGHT - BOTTOM) - v / max * (HEIGHT - BOTTOM - 10.0);
    let _ = write!(
        page,
        "<h3>{}</h3><svg width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\">",
        esc(title)
    );
    for f in report.faults.iter().filter(|f| f.skipped.is_none()) {
        let from = f.start.as_secs_f64();
        let to = f.end.unwrap_or(report.measured).as_secs_f64();
        let _ = write!(
            page,
            "<rect x=\"{:.1}\" y=\"0\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f5c6c6\" opacity=\"0.45\"><title>{}</title></rect>",
            x(from),
            (x(to) - x(from)).max(1.0),
            HEIGHT - BOTTOM,
            esc(&f.name)
        );
        let _ = write!(
            page,
            "<text x=\"{:.1}\" y=\"12\" font-size=\"10\" fill=\"#a33\">{}</text>",
            x(from) + 2.0,
            esc(&f.name)
        );
    }
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let _ = write!(
            page,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e3e3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{:.3}{unit}</text>",
            WIDTH - 10.0,
            LEFT - 4.0,
            y(v) + 3.0,
            v,
            y = y(v)
        );
    }
    let step = (seconds / 10.0).ceil().max(1.0) as usize;
    for s in (0..report.series.len()).step_by(step) {
        let _ = write!(
            page,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{s}s</text>",
            x(s as f64),
            HEIGHT - 10.0
        );
    }
    for (i, (label, values)) in lines.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(s, v)| format!("{:.1},{:.1}", x(s as f64 + 0.5), y(*v)))
            .collect();
        let _ = write!(
            page,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"{color}\">{}</text>",
            points.join(" "),
            LEFT + 8.0 + 110.0 * i as f64,
            HEIGHT - BOTTOM - 6.0,
            esc(label)
        );
    }
    page.push_str("</svg>");
}

fn column(series: &[SecondRow], f: impl Fn(&SecondRow) -> f64) -> Vec<f64> {
    series.iter().map(f).collect()
}

fn charts(page: &mut String, report: &Report) {
    if report.series.is_empty() {
        return;
    }
    page.push_str("<h2>Over time</h2>");
    let ms = |us: u64| us as f64 / 1000.0;
    let latency = [
        ("p50".to_owned(), column(&report.series, |r| ms(r.p50_us))),
        ("p90".to_owned(), column(&report.series, |r| ms(r.p90_us))),
        ("p99".to_owned(), column(&report.series, |r| ms(r.p99_us))),
    ];
    chart(
        page,
        report,
        "Latency percentiles per second (ms)",
        "",
        &latency,
    );
    let rate = |n: u64, r: &SecondRow| match r.calls {
        0 => 0.0,
        calls => n as f64 / calls as f64 * 100.0,
    };
    let outcomes = [
        (
            "errors %".to_owned(),
            column(&report.series, |r| rate(r.errors + r.dropped, r)),
        ),
        (
            "fallbacks %".to_owned(),
            column(&report.series, |r| rate(r.fallbacks, r)),
        ),
        (
            "attempts/call".to_owned(),
            column(&report.series, |r| match r.calls {
                0 => 0.0,
                calls => r.attempts as f64 / calls as f64,
            }),
        ),
    ];
    chart(
        page,
        report,
        "Errors and fallbacks (% of calls), attempts per call",
        "",
        &outcomes,
    );
    let zones: std::collections::BTreeSet<&String> =
        report.series.iter().flat_map(|r| r.zones.keys()).collect();
    let shares: Vec<(String, Vec<f64>)> = zones
        .into_iter()
        .map(|zone| {
            let values = column(&report.series, |r| {
                let total: u64 = r.zones.values().sum();
                match total {
                    0 => 0.0,
                    total => r.zones.get(zone).copied().unwrap_or(0) as f64 / total as f64 * 100.0,
                }
            });
            (format!("{zone} %"), values)
        })
        .collect();
    if !shares.is_empty() {
        chart(
            page,
            report,
            "Traffic share by answering zone (%)",
            "",
            &shares,
        );
    }
}
