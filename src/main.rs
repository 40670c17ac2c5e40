//! The `faultline` command line: `decode` prints what a captured frame or fuzz artifact
//! holds. Later subcommands (`serve`, `call`, `sim`, `chaos`) dispatch to the other crates.

mod decode_cmd;
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
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Decode(args) => decode_cmd::run(&args),
    }
}
