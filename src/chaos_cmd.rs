//! `faultline chaos`: the experiment language's commands.
//!
//! - `validate FILE...`: every error of every file (`file:line:column: message`), exit 1 on
//!   any.
//! - `plan FILE [--backend sim|local|kube] [-o text|yaml] [--seed N] [--run-id ID]`: a dry
//!   run. `text` shows the timeline (what happens at which offset, which instances a
//!   selector picks with the seed used); `yaml` prints the plan as data, or with
//!   `--backend kube` exactly the Kubernetes objects a run would create, as one stream
//!   `kubectl apply -f -` accepts.
//! - `run FILE [--backend local|sim]`: runs it ([`crate::chaos_run_cmd`], its own exit
//!   codes).
//! - `crd`: the `Experiment` CustomResourceDefinition, generated from the Rust types.
//!
//! Exit codes: 0 success, 1 an invalid file, 2 bad usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use faultline_chaos::plan::{plan, Backend, PlanOptions};
use faultline_chaos::spec::experiment::Experiment;
use faultline_chaos::spec::load::{load_file, Loaded, SpecDocument};
use faultline_chaos::spec::located::SpecError;
use faultline_chaos::yaml::to_yaml_stream;
use kube::CustomResourceExt;

#[derive(Args)]
pub struct ChaosArgs {
    #[command(subcommand)]
    command: ChaosCommand,
}

#[derive(Subcommand)]
enum ChaosCommand {
    /// Check experiment files (Experiments and Chaos Mesh objects); print every error.
    Validate {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print what a run of an experiment would do, without doing it.
    Plan(PlanArgs),
    /// Run an experiment (locally by default) and judge its hypothesis.
    Run(crate::chaos_run_cmd::RunArgs),
    /// Print the Experiment CustomResourceDefinition.
    Crd,
    /// Run the Experiment controller (in a cluster; see manifests/).
    Controller(crate::chaos_controller_cmd::ControllerArgs),
}

#[derive(Args)]
struct PlanArgs {
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where the run would happen.
    #[arg(long, value_enum, default_value = "local")]
    backend: BackendArg,
    /// `text` for people; `yaml` for tools (with `--backend kube`: the objects to create).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Output,
    /// Seeds every choice of the run (which instances `mode: one` picks, ...).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The run id the created objects are labelled with (default: derived from --seed).
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Sim,
    Local,
    Kube,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Yaml,
}

pub fn run(args: &ChaosArgs) -> ExitCode {
    match &args.command {
        ChaosCommand::Validate { files } => validate(files),
        ChaosCommand::Plan(args) => plan_cmd(args),
        ChaosCommand::Run(args) => crate::chaos_run_cmd::run(args),
        ChaosCommand::Controller(args) => crate::chaos_controller_cmd::run(args),
        ChaosCommand::Crd => {
            let crd = serde_json::to_value(Experiment::crd()).unwrap_or_default();
            print!("{}", to_yaml_stream([&crd]));
            ExitCode::SUCCESS
        }
    }
}

pub fn print_errors(errors: &[SpecError]) {
    for error in errors {
        eprintln!("{error}");
    }
}

fn validate(files: &[PathBuf]) -> ExitCode {
    let (mut documents, mut errors) = (0, 0);
    for file in files {
        match load_file(file) {
            Ok(loaded) => documents += loaded.len(),
            Err(found) => {
                print_errors(&found);
                errors += found.len();
            }
        }
    }
    match errors {
        0 => {
            println!("{} file(s), {documents} document(s): valid", files.len());
            ExitCode::SUCCESS
        }
        n => {
            eprintln!("{n} error(s)");
            ExitCode::from(1)
        }
    }
}

fn plan_cmd(args: &PlanArgs) -> ExitCode {
    let loaded = match load_file(&args.file) {
        Ok(loaded) => loaded,
        Err(errors) => {
            print_errors(&errors);
            return ExitCode::from(1);
        }
    };
    let Some((experiment, document)) = the_experiment(&loaded, &args.file) else {
        return ExitCode::from(1);
    };
    let options = PlanOptions {
        backend: match args.backend {
            BackendArg::Sim => Backend::Sim,
            BackendArg::Local => Backend::Local,
            BackendArg::Kube => Backend::Kube,
        },
        seed: args.seed,
        run_id: args.run_id.clone(),
    };
    let planned = match plan(experiment, document, &options) {
        Ok(planned) => planned,
        Err(errors) => {
            print_errors(&errors);
            return ExitCode::from(1);
        }
    };
    match (args.output, options.backend) {
        (Output::Text, _) => print!("{}", planned.to_text(experiment)),
        (Output::Yaml, Backend::Kube) => print!("{}", to_yaml_stream(&planned.objects)),
        (Output::Yaml, _) => {
            let value = serde_json::to_value(&planned).unwrap_or_default();
            print!("{}", to_yaml_stream([&value]));
        }
    }
    ExitCode::SUCCESS
}

/// The one Experiment of a file, or an error saying why there is none.
pub fn the_experiment<'a>(
    loaded: &'a [Loaded],
    file: &Path,
) -> Option<(&'a Experiment, &'a faultline_chaos::spec::located::Document)> {
    let experiments: Vec<_> = loaded
        .iter()
        .filter_map(|l| match &l.spec {
            SpecDocument::Experiment(experiment) => Some((&**experiment, &l.document)),
            SpecDocument::Chaos(_) => None,
        })
        .collect();
    match experiments.as_slice() {
        [one] => Some(*one),
        [] => {
            eprintln!(
                "{}: no Experiment in the file: plan and run need one (a plain Chaos Mesh object goes into spec.faults[] as kind + spec)",
                file.display()
            );
            None
        }
        [_, second, ..] => {
            eprintln!(
                "{}: more than one Experiment in the file; give one per file",
                second.1.start()
            );
            None
        }
    }
}
