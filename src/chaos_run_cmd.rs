//! `faultline chaos run FILE [--backend local|sim] [--seed N] [--report-dir DIR]`: runs an
//! experiment and judges its hypothesis.
//!
//! - `local` (the default): the topology as `faultline serve` processes on this machine,
//!   each behind a fault proxy (`faultline_chaos::local`). A progress bar shows the
//!   second, the rate, p99, error and fallback rates and the faults in force. Ctrl-C or
//!   SIGTERM rolls every fault back and still writes the report.
//!   `--loss kernel` makes NetworkChaos loss with nftables on the instances' ports (root).
//! - `sim`: the same file in deterministic virtual time (as `faultline sim run`).
//! - `kube`: on the cluster the kubeconfig (or the pod's service account) names, through
//!   Chaos Mesh (`faultline_chaos::kube`): prints the target's endpoints the probe found
//!   and the leftovers it deleted, then the same progress bar. Ctrl-C deletes every object
//!   of the run and waits until Chaos Mesh has recovered them.
//!
//! Prints each clause (expected, observed, pass/fail) and writes `report.json` and
//! `report.html`. Exit codes: 0 passed, 1 the hypothesis failed, 2 aborted (an abort
//! condition or an interruption), 3 bad usage or an environment that cannot run it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use faultline_chaos::kube::run::{KubeEvent, KubeOptions};
use faultline_chaos::local::run::{LocalOptions, RunEvent};
use faultline_chaos::local::supervisor::ServerCommand;
use faultline_chaos::report::{self, text, Report, Verdict};
use faultline_chaos::runner::Progress;
use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::load::load_file;
use faultline_core::config::duration;
use indicatif::{ProgressBar, ProgressStyle};

use crate::chaos_cmd::{print_errors, the_experiment};

#[derive(Args)]
pub struct RunArgs {
    /// The experiment file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where to run it.
    #[arg(long, value_enum, default_value = "local")]
    backend: RunBackend,
    /// Seeds every choice of the run (which instances `mode: one` picks, jitter, ...).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Who makes NetworkChaos loss on the local backend: the fault proxies (a lost chunk
    /// arrives late, as TCP repairs it), or the kernel (nftables drops packets on the
    /// instances' ports; needs root and nftables).
    #[arg(long, value_enum, default_value = "proxy")]
    loss: LossBy,
    /// kube: the run id every created object is labelled with (default: derived from the
    /// seed).
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// Where report.json and report.html go (default: the experiment's report.dir, or
    /// faultline-reports/<name>).
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LossBy {
    Proxy,
    Kernel,
}

#[derive(Clone, Copy, ValueEnum)]
enum RunBackend {
    Local,
    Sim,
    Kube,
}

/// Exit code: bad usage or an environment that cannot run the experiment.
const USAGE: u8 = 3;

pub fn run(args: &RunArgs) -> ExitCode {
    let loaded = match load_file(&args.file) {
        Ok(loaded) => loaded,
        Err(errors) => {
            print_errors(&errors);
            return ExitCode::from(USAGE);
        }
    };
    let Some((experiment, document)) = the_experiment(&loaded, &args.file) else {
        return ExitCode::from(USAGE);
    };
    let report = match args.backend {
        RunBackend::Kube => run_kube(experiment, document, args),
        RunBackend::Sim => {
            let options = faultline_sim::RunOptions {
                seed: args.seed,
                scale: None,
                file: Some(args.file.clone()),
            };
            faultline_sim::run(experiment, document, &options, None)
                .map(|outcome| outcome.report)
                .map_err(|err| err.to_string())
        }
        RunBackend::Local => run_local(experiment, document, args),
    };
    let report = match report {
        Ok(report) => report,
        Err(err) => {
            eprintln!("{}: {err}", args.file.display());
            return ExitCode::from(USAGE);
        }
    };
    print!("{}", text::summary(&report));
    if !write_report(&report, experiment, args.report_dir.as_deref()) {
        return ExitCode::from(USAGE);
    }
    if let Some(replay) = &report.replay {
        println!("  replay: {replay}");
    }
    match report.verdict {
        Verdict::Passed => ExitCode::SUCCESS,
        Verdict::Failed => ExitCode::from(1),
        Verdict::Aborted => ExitCode::from(2),
    }
}

/// Writes the report where `report_dir` (or the experiment) says and prints the paths;
/// `false` (with the error printed) when it could not.
pub fn write_report(report: &Report, experiment: &Experiment, report_dir: Option<&Path>) -> bool {
    let name = experiment.metadata.name.clone().unwrap_or_default();
    let settings = &experiment.spec.report;
    let dir = report_dir
        .map(Path::to_path_buf)
        .or_else(|| settings.dir.clone())
        .unwrap_or_else(|| Path::new("faultline-reports").join(&name));
    match report::write(report, &dir, settings.json, settings.html) {
        Ok(paths) => {
            for path in paths {
                println!("  report: {}", path.display());
            }
            true
        }
        Err(err) => {
            eprintln!("{}: {err}", dir.display());
            false
        }
    }
}

fn run_local(
    experiment: &Experiment,
    document: &faultline_chaos::spec::located::Document,
    args: &RunArgs,
) -> Result<Report, String> {
    let program =
        std::env::current_exe().map_err(|err| format!("cannot find faultline itself: {err}"))?;
    let options = LocalOptions {
        seed: args.seed,
        kernel_loss: args.loss == LossBy::Kernel,
        server: ServerCommand {
            program,
            args: vec!["serve".to_owned()],
            service: experiment.spec.target.service.clone(),
        },
    };
    with_progress(experiment, async |bar, interrupt| {
        faultline_chaos::local::run::run(experiment, document, &options, interrupt, |event| {
            match event {
                RunEvent::Started(instances) => bar.suspend(|| {
                    for started in instances {
                        println!(
                            "  {} ({}) pid {} on {}, through its fault proxy on {}",
                            started.instance,
                            started.zone,
                            started.pid.map_or("-".to_owned(), |pid| pid.to_string()),
                            started.addr,
                            started.proxy
                        );
                    }
                }),
                RunEvent::Second(progress) => advance(bar, &progress),
            }
        })
        .await
        .map_err(|err| err.to_string())
    })
}

fn run_kube(
    experiment: &Experiment,
    document: &faultline_chaos::spec::located::Document,
    args: &RunArgs,
) -> Result<Report, String> {
    let options = KubeOptions {
        seed: args.seed,
        run_id: args.run_id.clone(),
        ..KubeOptions::default()
    };
    with_progress(experiment, async |bar, interrupt| {
        let client = faultline_chaos::kube::connect::connect()
            .await
            .map_err(|err| err.to_string())?;
        let watch = |event| match event {
            KubeEvent::Started {
                run_id,
                endpoints,
                leftovers,
                chaos_mesh,
            } => bar.suspend(|| {
                println!("  run {run_id}");
                if !chaos_mesh {
                    println!("  Chaos Mesh is not installed: pod-kill faults run natively");
                }
                for gone in &leftovers {
                    println!("  deleted leftover of a dead run: {gone}");
                }
                for endpoint in &endpoints {
                    println!("  target endpoint {endpoint}");
                }
            }),
            KubeEvent::Second(progress) => advance(bar, &progress),
        };
        faultline_chaos::kube::run::run(client, experiment, document, &options, interrupt, watch)
            .await
            .map_err(|err| err.to_string())
    })
}

/// Runs `body` on a multi-threaded runtime with a progress bar and the interruption
/// (SIGINT, SIGTERM) it should stop on.
fn with_progress(
    experiment: &Experiment,
    body: impl AsyncFnOnce(&ProgressBar, Interrupt) -> Result<Report, String>,
) -> Result<Report, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))?;
    let total = experiment.spec.workload.duration.as_secs().max(1);
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len}s {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!(
        "warming up for {}",
        duration::format(experiment.spec.workload.warmup)
    ));
    bar.enable_steady_tick(Duration::from_millis(200));
    let report = runtime.block_on(async {
        let interrupt = interrupted()
            .await
            .map_err(|err| format!("cannot listen for signals: {err}"))?;
        body(&bar, Box::pin(interrupt)).await
    });
    bar.finish_and_clear();
    report
}

/// The interruption a run stops on.
type Interrupt = std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>>;

fn advance(bar: &ProgressBar, progress: &Progress) {
    bar.set_position(progress.second);
    bar.set_message(progress_message(progress));
}

fn progress_message(progress: &Progress) -> String {
    let percent = |rate: Option<f64>| rate.map_or("-".to_owned(), |r| format!("{:.2}%", r * 100.0));
    let faults = match progress.active.is_empty() {
        true => "no fault".to_owned(),
        false => format!("faults: {}", progress.active.join(", ")),
    };
    format!(
        "{} calls/s p99 {} errors {} fallbacks {} | {faults}",
        progress.calls,
        progress.p99.map_or("-".to_owned(), duration::format),
        percent(progress.error_rate),
        percent(progress.fallback_rate),
    )
}

/// A future that resolves with a reason on the first SIGINT or SIGTERM.
pub(crate) async fn interrupted(
) -> std::io::Result<impl std::future::Future<Output = String> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => "interrupted (SIGINT): every fault was rolled back".to_owned(),
            _ = terminate.recv() => "terminated (SIGTERM): every fault was rolled back".to_owned(),
        }
    })
}
