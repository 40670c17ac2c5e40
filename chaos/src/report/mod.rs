//! The report: one type whichever backend ran the experiment ([`model`]), written as JSON
//! as one self-contained HTML page with charts ([`html`]), and as a few lines for a
//! terminal ([`text`]).

mod breakers;
pub mod html;
pub mod model;
pub mod text;

use std::io;
use std::path::{Path, PathBuf};

pub use model::{
    Check, FaultReport, LatencySummary, PodMetrics, Report, ReportInput, SecondRow, Summary,
    Verdict, Violation,
};

/// Writes `report.json` and/or `report.html` into `dir` (created if missing) and returns
/// the paths written.
pub fn write(report: &Report, dir: &Path, json: bool, html: bool) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    if json {
        let path = dir.join("report.json");
        let text = serde_json::to_string_pretty(report).map_err(io::Error::other)?;
        std::fs::write(&path, text + "\n")?;
        written.push(path);
    }
    if html {
        let path = dir.join("report.html");
        std::fs::write(&path, html::render(report))?;
        written.push(path);
    }
    Ok(written)
}
