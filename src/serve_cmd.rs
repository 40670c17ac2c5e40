//! `faultline serve`: serves the Echo service (`core/idl/echo.thrift`) on a TCP address,
//! answering every transport and protocol the server detects (Kitex TTHeader, TTHeader +
//! Framed, Apache THeader, Framed, Buffered; Binary and Compact), so any Thrift client can
//! call it.
//!
//! Prints `listening on ADDR` (the bound address, so `--listen 127.0.0.1:0` can be used)
//! once it accepts connections; with `--metrics ADDR` it also serves the server's events as
//! Prometheus series on `GET /metrics` there and prints `metrics on ADDR`. SIGINT or SIGTERM
//! shut it down gracefully: calls in flight are answered first. Exits 2 when it cannot
//! listen or `--config` is not a valid `ServerConfig` (YAML: service, zone, limits,
//! maxConnections, maxInFlight); `--zone` overrides the file's zone.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;
use faultline_core::echo;
use faultline_core::event::EventBus;
use faultline_core::metrics::serve_metrics;
use faultline_core::net::Tcp;
use faultline_core::server::{ServerBuilder, ServerConfig};

#[derive(Args)]
pub struct ServeArgs {
    /// The server's settings as YAML (a `ServerConfig`); the flags below override it.
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Address to listen on, `host:port` (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    listen: String,
    /// The zone this server runs in (carried in its tracing spans).
    #[arg(long, value_name = "Z")]
    zone: Option<String>,
    /// Serve Prometheus metrics on `GET /metrics` at this address.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
}

pub fn run(args: &ServeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("faultline serve: cannot start the runtime: {err}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: &ServeArgs) -> ExitCode {
    let shutdown = match Shutdown::listen() {
        Ok(shutdown) => shutdown,
        Err(err) => {
            eprintln!("faultline serve: cannot listen for signals: {err}");
            return ExitCode::from(2);
        }
    };
    let events = EventBus::default();
    let metrics = match args.metrics {
        None => None,
        Some(addr) => match serve_metrics(addr, &events).await {
            Ok((metrics, _recorder)) => Some(metrics),
            Err(err) => {
                eprintln!("faultline serve: cannot serve metrics on {addr}: {err}");
                return ExitCode::from(2);
            }
        },
    };
    let mut config = match &args.config {
        Some(path) => match crate::config_file::load::<ServerConfig>(path) {
            Ok(config) => config,
            Err(err) => {
                eprintln!("faultline serve: {err}");
                return ExitCode::from(2);
            }
        },
        None => ServerConfig::default(),
    };
    if let Some(zone) = &args.zone {
        config.zone = Some(zone.clone());
    }
    let builder = match ServerBuilder::from_config(&config) {
        Ok(builder) => builder.events(events),
        Err(errors) => {
            eprintln!("faultline serve: invalid server config:\n{errors}");
            return ExitCode::from(2);
        }
    };
    let server = match builder.bind(&Tcp, &args.listen, echo::router()).await {
        Ok(server) => server,
        Err(err) => {
            eprintln!("faultline serve: cannot listen on {}: {err}", args.listen);
            return ExitCode::from(2);
        }
    };
    println!("listening on {}", server.local_addr());
    if let Some(metrics) = &metrics {
        println!("metrics on {}", metrics.local_addr());
    }
    shutdown.wait().await;
    server.shutdown().await;
    if let Some(metrics) = metrics {
        metrics.shutdown().await;
    }
    ExitCode::SUCCESS
}

/// SIGINT and SIGTERM, caught from the moment `listen` returns, so a signal sent right
/// after `listening on` is printed shuts down gracefully instead of killing the process.
#[cfg(unix)]
struct Shutdown {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Shutdown {
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Ctrl-C (elsewhere than Unix).
#[cfg(not(unix))]
struct Shutdown(tokio::signal::windows::CtrlC);

#[cfg(not(unix))]
impl Shutdown {
    fn listen() -> std::io::Result<Self> {
        tokio::signal::windows::ctrl_c().map(Self)
    }

    async fn wait(mut self) {
        self.0.recv().await;
    }
}
