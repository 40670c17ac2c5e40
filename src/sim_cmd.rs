//! `faultline sim`: experiments in deterministic virtual time.
//!
//! - `run FILE [--seed N]`: one run; prints the verdict and summary, writes the report
//!   (JSON + HTML), prints the replay command. `--trace FILE.jsonl` writes every event.
//! - `replay FILE --seed N [--check-determinism]`: the same run again, bit for bit;
//!   `--check-determinism` runs it twice and compares the event traces' hashes.
//! - `sweep FILE --seeds A..B [--jobs N] [--shard I/N] [--out FILE]`: many seeds across
//!   threads with a progress bar; every failing seed with its replay command. `--shard`
//!   runs one of N slices of the range and writes a result file for `merge`.
//! - `merge RESULTS...`: combines shard result files.
//! - `shrink FILE --seed N [-o OUT]`: the smallest experiment that still fails.
//!
//! Exit codes: 0 passed, 1 a run (or seed) failed, 2 bad usage or an unreadable file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::{Args, Subcommand};
use faultline_chaos::report::text;
use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::load::load_file;
use faultline_chaos::spec::located::Document;
use faultline_sim::run::replay_command;
use faultline_sim::sweep::{self, SweepResults};
use faultline_sim::{RunOptions, TimeScale};
use indicatif::{ProgressBar, ProgressStyle};

use crate::chaos_cmd::{print_errors, the_experiment};
use crate::chaos_run_cmd::write_report;

#[derive(Args)]
pub struct SimArgs {
    #[command(subcommand)]
    command: SimCommand,
}

#[derive(Subcommand)]
enum SimCommand {
    /// Run an experiment once in virtual time.
    Run(RunArgs),
    /// Rerun a seed exactly; optionally check that two runs give the same trace.
    Replay(ReplayArgs),
    /// Run many seeds; list the failing ones.
    Sweep(SweepArgs),
    /// Combine the result files of a sharded sweep.
    Merge(MergeArgs),
    /// Cut a failing run down to the smallest experiment that still fails.
    Shrink(ShrinkArgs),
}

#[derive(Args)]
struct Common {
    /// The experiment file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Simulated time per unit of experiment time (1..=100; default: the smallest that
    /// makes every latency of the experiment a whole number of 1 ms ticks).
    #[arg(long, value_name = "N")]
    time_scale: Option<u32>,
}

#[derive(Args)]
struct Output {
    /// Write every event as a JSON line.
    #[arg(long, value_name = "FILE.jsonl")]
    trace: Option<PathBuf>,
    /// Where report.json and report.html go (default: the experiment's report.dir, or
    /// faultline-reports/<name>).
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

#[derive(Args)]
struct ReplayArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    seed: u64,
    /// Run twice and compare the event traces' hashes; exit 1 when they differ.
    #[arg(long)]
    check_determinism: bool,
    #[command(flatten)]
    output: Output,
}

#[derive(Args)]
struct SweepArgs {
    #[command(flatten)]
    common: Common,
    /// Seeds to run: A..B (B excluded) or A..=B.
    #[arg(long, value_name = "A..B")]
    seeds: String,
    /// Threads (default: the machine's cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Run the I-th (from 0) of N slices of the seed range and write a result file.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// The result file (default with --shard: sweep-<experiment>-<I>-of-<N>.json).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct MergeArgs {
    #[arg(required = true, value_name = "RESULTS")]
    files: Vec<PathBuf>,
    /// Write the merged results here.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct ShrinkArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    seed: u64,
    /// The minimal experiment file (default: <FILE stem>.shrunk.yaml beside FILE).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: &SimArgs) -> ExitCode {
    match &args.command {
        SimCommand::Run(args) => run_cmd(&args.common, args.seed, &args.output, false),
        SimCommand::Replay(args) => run_cmd(
            &args.common,
            args.seed,
            &args.output,
            args.check_determinism,
        ),
        SimCommand::Sweep(args) => sweep_cmd(args),
        SimCommand::Merge(args) => merge_cmd(args),
        SimCommand::Shrink(args) => shrink_cmd(args),
    }
}

/// The experiment of `common.file` and the scale asked for, or the exit code.
fn load(common: &Common) -> Result<(Experiment, Document, Option<TimeScale>), ExitCode> {
    let scale = match common.time_scale {
        None => None,
        Some(factor) => match TimeScale::new(factor) {
            Some(scale) => Some(scale),
            None => {
                eprintln!("--time-scale must be in 1..=100, got {factor}");
                return Err(ExitCode::from(2));
            }
        },
    };
    let loaded = load_file(&common.file).map_err(|errors| {
        print_errors(&errors);
        ExitCode::from(2)
    })?;
    let (experiment, document) = the_experiment(&loaded, &common.file).ok_or(ExitCode::from(2))?;
    Ok((experiment.clone(), document.clone(), scale))
}

fn run_cmd(common: &Common, seed: u64, output: &Output, check: bool) -> ExitCode {
    let (experiment, document, scale) = match load(common) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let options = RunOptions {
        seed,
        scale,
        file: Some(common.file.clone()),
    };
    let trace = match &output.trace {
        None => None,
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => Some(Box::new(file) as Box<dyn std::io::Write + Send>),
            Err(err) => {
                eprintln!("{}: {err}", path.display());
                return ExitCode::from(2);
            }
        },
    };
    let started = std::time::Instant::now();
    let outcome = match faultline_sim::run(&experiment, &document, &options, trace) {
        Ok(outcome) => outcome,
        Err(err) => {
            eprintln!("{}: {err}", common.file.display());
            return ExitCode::from(2);
        }
    };
    let wall = started.elapsed();
    print!("{}", text::summary(&outcome.report));
    let simulated = outcome
        .report
        .measured
        .saturating_add(experiment.spec.workload.warmup);
    println!(
        "  {} events, trace {:016x}; {:.1}s simulated in {:.1}s ({:.0}x real time, time scale {})",
        outcome.events,
        outcome.trace_hash,
        simulated.as_secs_f64(),
        wall.as_secs_f64(),
        simulated.as_secs_f64() * f64::from(outcome.scale.factor()) / wall.as_secs_f64().max(1e-9),
        outcome.scale.factor()
    );
    if !write_report(&outcome.report, &experiment, output.report_dir.as_deref()) {
        return ExitCode::from(2);
    }
    if let Some(replay) = &outcome.report.replay {
        println!("  replay: {replay}");
    }
    if check {
        match faultline_sim::run(&experiment, &document, &options, None) {
            Ok(again) if again.trace_hash == outcome.trace_hash => {
                println!(
                    "  deterministic: the same trace ({:016x}) twice",
                    again.trace_hash
                );
            }
            Ok(again) => {
                eprintln!(
                    "NOT deterministic: trace {:016x} then {:016x} under seed {seed}",
                    outcome.trace_hash, again.trace_hash
                );
                return ExitCode::from(1);
            }
            Err(err) => {
                eprintln!("{}: {err}", common.file.display());
                return ExitCode::from(2);
            }
        }
    }
    match outcome.report.passed() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    }
}

fn sweep_cmd(args: &SweepArgs) -> ExitCode {
    let (experiment, document, scale) = match load(&args.common) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let mut seeds = match sweep::parse_seeds(&args.seeds) {
        Ok(seeds) => seeds,
        Err(err) => {
            eprintln!("--seeds: {err}");
            return ExitCode::from(2);
        }
    };
    let shard = match args.shard.as_deref().map(sweep::parse_shard).transpose() {
        Ok(shard) => shard,
        Err(err) => {
            eprintln!("--shard: {err}");
            return ExitCode::from(2);
        }
    };
    if let Some((index, count)) = shard {
        seeds = sweep::shard(seeds, index, count);
    }
    let scale = scale.unwrap_or_else(|| TimeScale::for_experiment(&experiment.spec));
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = ProgressBar::new(seeds.end - seeds.start);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds, {msg} [{elapsed} < {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let failed = AtomicU64::new(0);
    let started = std::time::Instant::now();
    let results = sweep::sweep(
        &experiment,
        &document,
        seeds.clone(),
        scale,
        jobs,
        &|result| {
            if !result.passed() {
                let n = failed.fetch_add(1, Ordering::Relaxed) + 1;
                bar.println(format!(
                    "seed {} {}: {}\n  {}",
                    result.seed,
                    result.verdict,
                    result.failures.join("; "),
                    replay_command(&args.common.file, result.seed, Some(scale))
                ));
                bar.set_message(format!("{n} failed"));
            }
            bar.inc(1);
        },
    );
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let count = results.results.len();
    println!(
        "{count} seeds ({}..{}), {} failed, {:.1}s on {jobs} thread(s): {:.0} seeds/min",
        seeds.start,
        seeds.end,
        results.failed().count(),
        wall,
        count as f64 / wall.max(1e-9) * 60.0
    );
    let out = args.out.clone().or_else(|| {
        shard.map(|(i, n)| PathBuf::from(format!("sweep-{}-{i}-of-{n}.json", results.experiment)))
    });
    if let Some(out) = out {
        if let Err(code) = write_results(&results, &out) {
            return code;
        }
    }
    verdict(&results)
}

fn write_results(results: &SweepResults, out: &Path) -> Result<(), ExitCode> {
    let text = serde_json::to_string_pretty(results).unwrap_or_default();
    std::fs::write(out, text + "\n").map_err(|err| {
        eprintln!("{}: {err}", out.display());
        ExitCode::from(2)
    })?;
    println!("results: {}", out.display());
    Ok(())
}

fn verdict(results: &SweepResults) -> ExitCode {
    match results.failed().count() {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}

fn merge_cmd(args: &MergeArgs) -> ExitCode {
    let mut parts = Vec::new();
    for file in &args.files {
        let read = std::fs::read(file)
            .map_err(|err| err.to_string())
            .and_then(|bytes| {
                serde_json::from_slice::<SweepResults>(&bytes).map_err(|err| err.to_string())
            });
        match read {
            Ok(part) => parts.push(part),
            Err(err) => {
                eprintln!("{}: {err}", file.display());
                return ExitCode::from(2);
            }
        }
    }
    let merged = match SweepResults::merge(parts) {
        Ok(merged) => merged,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    for result in merged.failed() {
        println!(
            "seed {} {}: {}",
            result.seed,
            result.verdict,
            result.failures.join("; ")
        );
    }
    println!(
        "{}: {} seeds from {} file(s), {} failed",
        merged.experiment,
        merged.results.len(),
        args.files.len(),
        merged.failed().count()
    );
    if let Some(out) = &args.out {
        if let Err(code) = write_results(&merged, out) {
            return code;
        }
    }
    verdict(&merged)
}

fn shrink_cmd(args: &ShrinkArgs) -> ExitCode {
    let (experiment, _, scale) = match load(&args.common) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let scale = scale.unwrap_or_else(|| TimeScale::for_experiment(&experiment.spec));
    let progress = |step: &str| println!("  still fails: {step}");
    let Some(shrunk) = faultline_sim::shrink::shrink(&experiment, args.seed, scale, &progress)
    else {
        println!("seed {} passes: nothing to shrink", args.seed);
        return ExitCode::SUCCESS;
    };
    let out = args.output.clone().unwrap_or_else(|| {
        let stem = args
            .common
            .file
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy();
        args.common
            .file
            .with_file_name(format!("{stem}.shrunk.yaml"))
    });
    if let Err(err) = std::fs::write(&out, &shrunk.yaml) {
        eprintln!("{}: {err}", out.display());
        return ExitCode::from(2);
    }
    println!(
        "minimal failing experiment after {} runs ({} steps): {}",
        shrunk.runs,
        shrunk.steps.len(),
        out.display()
    );
    println!("  {}", replay_command(&out, args.seed, Some(scale)));
    ExitCode::from(1)
}
