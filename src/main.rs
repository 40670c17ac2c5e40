//! The `faultline` command line: `decode` prints what a captured frame or fuzz artifact
//! holds; `serve` runs the Echo example service; `call` calls it (once, or at a fixed rate
//! with a latency summary) through the full client stack; `chaos` validates, plans and
//! runs experiment files (on local processes by default) and prints the `Experiment` CRD; `sim` runs experiments in
//! deterministic virtual time (run, replay, sweep, merge, shrink).

#![forbid(unsafe_code)]

mod call_cmd;
mod chaos_cmd;
mod chaos_controller_cmd;
mod chaos_run_cmd;
mod config_file;
mod decode_cmd;
mod serve_cmd;
mod sim_cmd;
mod value_json;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "faultline",
    version,
    about = "Attack Kitex-style RPC services: decode, fuzz, simulate, break"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode Thrift frames (TTHeader, THeader, Framed, Buffered; Binary or Compact) to JSON.
    Decode(decode_cmd::DecodeArgs),
    /// Serve the Echo example service on every transport and protocol (TTHeader, THeader,
    /// Framed, Buffered; Binary and Compact).
    Serve(serve_cmd::ServeArgs),
    /// Call Echo over the full client stack: once, or at a fixed rate with a summary.
    /// Exits 1 when any call failed.
    Call(call_cmd::CallArgs),
    /// Chaos experiments: validate experiment files, plan and run them, print the CRD.
    Chaos(chaos_cmd::ChaosArgs),
    /// Experiments in deterministic virtual time: run, replay, sweep seeds, shrink.
    Sim(sim_cmd::SimArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Decode(args) => decode_cmd::run(&args),
        Command::Serve(args) => serve_cmd::run(&args),
        Command::Call(args) => call_cmd::run(&args),
        Command::Chaos(args) => chaos_cmd::run(&args),
        Command::Sim(args) => sim_cmd::run(&args),
    }
}
