//! Seed sweeps: one experiment run under many seeds, across threads, and the results
//! written so that sweeps cut into shards (one per machine, or per pod of an Indexed Job)
//! can be merged.
//!
//! Every seed's run is independent and deterministic, so the outcome of a sweep does not
//! depend on how it was cut or how many threads ran it: results are kept in seed order.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use faultline_chaos::report::Verdict;
use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::located::Document;
use serde::{Deserialize, Serialize};

use crate::run::{run, RunOptions};
use crate::scale::TimeScale;

/// A seed range as written on the command line: `A..B` (B excluded) or `A..=B`.
pub fn parse_seeds(text: &str) -> Result<Range<u64>, String> {
    let bad = || format!("expected a seed range such as 1..1000 or 1..=1000, got {text:?}");
    let (start, end, inclusive) = match text.split_once("..=") {
        Some((a, b)) => (a, b, true),
        None => {
            let (a, b) = text.split_once("..").ok_or_else(bad)?;
            (a, b, false)
        }
    };
    let start: u64 = start.trim().parse().map_err(|_| bad())?;
    let end: u64 = end.trim().parse().map_err(|_| bad())?;
    let end = match inclusive {
        true => end.checked_add(1).ok_or_else(bad)?,
        false => end,
    };
    match start < end {
        true => Ok(start..end),
        false => Err(format!("the seed range {text:?} is empty")),
    }
}

/// `I/N`: the I-th (from 0) of N shards.
pub fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("expected a shard such as 0/4 (the first of four), got {text:?}");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    match i < n {
        true => Ok((i, n)),
        false => Err(format!("shard {i}/{n}: the index must be below the count")),
    }
}

/// The `index`-th of `count` contiguous slices of `seeds` (the first ones one longer when
/// the range does not divide evenly); empty when there are more shards than seeds.
pub fn shard(seeds: Range<u64>, index: u64, count: u64) -> Range<u64> {
    let len = seeds.end - seeds.start;
    let (base, extra) = (len / count, len % count);
    let start = seeds.start + index * base + index.min(extra);
    let size = base + u64::from(index < extra);
    start..start + size
}

/// One seed's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedResult {
    pub seed: u64,
    /// `passed`, `failed`, `aborted`, or `error` (the run could not happen).
    pub verdict: String,
    /// The clauses and checks that failed, or the error.
    pub failures: Vec<String>,
    /// The event trace's hash, in hex.
    pub trace: String,
}

impl SeedResult {
    pub fn passed(&self) -> bool {
        self.verdict == "passed"
    }
}

/// A sweep's (or a shard's) results, as its result file holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepResults {
    pub experiment: String,
    /// The time scale every run used.
    pub time_scale: u32,
    pub results: Vec<SeedResult>,
}

impl SweepResults {
    pub fn failed(&self) -> impl Iterator<Item = &SeedResult> {
        self.results.iter().filter(|r| !r.passed())
    }

    /// Combines shards of one sweep: same experiment and time scale, each seed once.
    pub fn merge(parts: Vec<SweepResults>) -> Result<SweepResults, String> {
        let mut parts = parts.into_iter();
        let mut merged = parts.next().ok_or("nothing to merge")?;
        for part in parts {
            if part.experiment != merged.experiment || part.time_scale != merged.time_scale {
                return Err(format!(
                    "cannot merge results of {} (time scale {}) with {} (time scale {})",
                    part.experiment, part.time_scale, merged.experiment, merged.time_scale
                ));
            }
            merged.results.extend(part.results);
        }
        merged.results.sort_by_key(|r| r.seed);
        if let Some(pair) = merged.results.windows(2).find(|w| w[0].seed == w[1].seed) {
            return Err(format!(
                "seed {} appears in more than one result file",
                pair[0].seed
            ));
        }
        Ok(merged)
    }
}

/// Runs `experiment` under every seed of `seeds` on `jobs` threads; `done` is called after
/// each run (for progress).
pub fn sweep(
    experiment: &Experiment,
    document: &Document,
    seeds: Range<u64>,
    scale: TimeScale,
    jobs: usize,
    done: &(dyn Fn(&SeedResult) + Sync),
) -> SweepResults {
    let next = AtomicU64::new(seeds.start);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= seeds.end {
                    return;
                }
                let result = one(experiment, document, seed, scale);
                done(&result);
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(result);
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|r| r.seed);
    SweepResults {
        experiment: experiment.metadata.name.clone().unwrap_or_default(),
        time_scale: scale.factor(),
        results,
    }
}

fn one(experiment: &Experiment, document: &Document, seed: u64, scale: TimeScale) -> SeedResult {
    let options = RunOptions {
        seed,
        scale: Some(scale),
        file: None,
    };
    match run(experiment, document, &options, None) {
        Ok(outcome) => {
            let report = &outcome.report;
            let mut failures: Vec<String> = report
                .clauses
                .iter()
                .filter(|c| !c.passed)
                .map(|c| {
                    format!("{} ({:?}): observed {}", c.clause, c.phase, c.observed).to_lowercase()
                })
                .collect();
            failures.extend(report.checks.iter().filter_map(|c| {
                c.violations
                    .first()
                    .map(|v| format!("check {}: {}", c.name, v.message))
            }));
            failures.extend(report.aborted.clone());
            SeedResult {
                seed,
                verdict: match report.verdict {
                    Verdict::Passed => "passed",
                    Verdict::Failed => "failed",
                    Verdict::Aborted => "aborted",
                }
                .into(),
                failures,
                trace: format!("{:016x}", outcome.trace_hash),
            }
        }
        Err(error) => SeedResult {
            seed,
            verdict: "error".into(),
            failures: vec![error.to_string()],
            trace: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_and_shards() {
        assert_eq!(parse_seeds("1..1000"), Ok(1..1000));
        assert_eq!(parse_seeds("1..=1000"), Ok(1..1001));
        assert!(parse_seeds("5..5").is_err());
        assert!(parse_seeds("x..5").is_err());
        assert!(parse_seeds(&format!("0..={}", u64::MAX)).is_err());
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("1-4").is_err());
        // Ten seeds in four shards: 3, 3, 2, 2, covering each seed once.
        let shards: Vec<_> = (0..4).map(|i| shard(0..10, i, 4)).collect();
        assert_eq!(shards, [0..3, 3..6, 6..8, 8..10]);
        assert_eq!(
            shard(0..2, 3, 4),
            2..2,
            "more shards than seeds: empty ones"
        );
    }

    #[test]
    fn merging_refuses_mixed_sweeps_and_repeated_seeds() {
        let part = |experiment: &str, seeds: &[u64]| SweepResults {
            experiment: experiment.into(),
            time_scale: 1,
            results: seeds
                .iter()
                .map(|&seed| SeedResult {
                    seed,
                    verdict: "passed".into(),
                    failures: vec![],
                    trace: String::new(),
                })
                .collect(),
        };
        let merged = SweepResults::merge(vec![part("a", &[3, 4]), part("a", &[1, 2])]).unwrap();
        assert_eq!(
            merged.results.iter().map(|r| r.seed).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        assert!(SweepResults::merge(vec![part("a", &[1]), part("b", &[2])]).is_err());
        assert!(SweepResults::merge(vec![part("a", &[1]), part("a", &[1])]).is_err());
        assert!(SweepResults::merge(vec![]).is_err());
    }
}
