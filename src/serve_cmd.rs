//! `faultline serve`: serves the Echo service (`core/idl/echo.thrift`) on a TCP address,
//! answering every transport and protocol the server detects (Kitex TTHeader, TTHeader +
//! Framed, Apache THeader, Framed, Buffered; Binary and Compact; old non-strict Binary,
//! Framed or Buffered, which Kitex refuses: see `faultline_core::frame` detection), so any
//! Thrift client can call it.
//!
//! Prints `listening on ADDR` (the bound address, so `--listen 127.0.0.1:0` can be used)
//! once it accepts connections; with `--metrics ADDR` it also serves the server's events as
//! Prometheus series on `GET /metrics` there and prints `metrics on ADDR`. SIGINT or SIGTERM
//! shut it down gracefully: calls in flight are answered first, for at most the drain
//! timeout, after which the calls still in flight are cancelled (their count is printed on
//! stderr) and it exits 0 all the same. Exits 2 when it cannot listen or `--config` is not
//! a valid `ServerConfig` (YAML: service, zone, limits, maxConnections, maxInFlight,
//! readTimeout, writeTimeout, idleTimeout, drainTimeout); `--zone` and the timeout flags override the
//! file. `--echo-delay` makes every echo that much late: a slow service for experiments
//! and for tests that need a call in flight. `--exit-with-stdin` ties its life to whoever
//! holds its stdin (the local chaos backend's supervisor).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use faultline_core::echo::{self, EchoArgs};
use faultline_core::event::EventBus;
use faultline_core::metrics::serve_metrics;
use faultline_core::net::Tcp;
use faultline_core::server::{Router, ServerBuilder, ServerConfig};

use crate::call_cmd::parse_duration;

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
    /// The service name it serves (overrides the file's `service`).
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Exit at once when stdin reaches its end: a supervisor that holds a pipe to stdin
    /// takes the server down with it, however the supervisor ends (SIGKILL included).
    #[arg(long)]
    exit_with_stdin: bool,
    /// Serve Prometheus metrics on `GET /metrics` at this address.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
    /// A frame that has started arriving must be whole within this long, e.g. `5s` (the
    /// default); otherwise its connection is closed once the calls already read are answered.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    read_timeout: Option<Duration>,
    /// Close a connection whose peer does not take a reply within this long, e.g. `5s` (the
    /// default).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    write_timeout: Option<Duration>,
    /// Close a connection with no call in flight and no bytes for this long, e.g. `10m`
    /// (the default).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    idle_timeout: Option<Duration>,
    /// On SIGINT or SIGTERM, wait this long for calls in flight, then cancel them, e.g.
    /// `5s` (the default); `0` cancels at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    drain_timeout: Option<Duration>,
    /// Delay every echo reply by this long, e.g. `200ms`: a slow service.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    echo_delay: Option<Duration>,
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
    if let Some(service) = &args.service {
        config.service.clone_from(service);
    }
    config.read_timeout = args.read_timeout.unwrap_or(config.read_timeout);
    config.write_timeout = args.write_timeout.unwrap_or(config.write_timeout);
    config.idle_timeout = args.idle_timeout.unwrap_or(config.idle_timeout);
    config.drain_timeout = args.drain_timeout.unwrap_or(config.drain_timeout);
    let builder = match ServerBuilder::from_config(&config) {
        Ok(builder) => builder.events(events),
        Err(errors) => {
            eprintln!("faultline serve: invalid server config:\n{errors}");
            return ExitCode::from(2);
        }
    };
    let router = match args.echo_delay {
        Some(delay) => slow_echo(delay),
        None => echo::router(),
    };
    let server = match builder.bind(&Tcp, &args.listen, router).await {
        Ok(server) => server,
        Err(err) => {
            eprintln!("faultline serve: cannot listen on {}: {err}", args.listen);
            return ExitCode::from(2);
        }
    };
    if args.exit_with_stdin {
        exit_with_stdin();
    }
    println!("listening on {}", server.local_addr());
    if let Some(metrics) = &metrics {
        println!("metrics on {}", metrics.local_addr());
    }
    shutdown.wait().await;
    let stats = server.stats().clone();
    server.shutdown().await;
    let cancelled = stats.calls_cancelled();
    if cancelled > 0 {
        eprintln!("faultline serve: drain timeout passed; calls in flight cancelled: {cancelled}");
    }
    if let Some(metrics) = metrics {
        metrics.shutdown().await;
    }
    ExitCode::SUCCESS
}

/// Exits the process when stdin ends (its writer closed the pipe or died).
fn exit_with_stdin() {
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin().lock();
        while !matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(0) | Err(_)) {}
        std::process::exit(0);
    });
}

/// Echo, every reply `delay` late.
fn slow_echo(delay: Duration) -> Router {
    Router::new().route(echo::METHOD, move |ctx, args: EchoArgs| async move {
        tokio::time::sleep(delay).await;
        echo::echo(ctx, args).await
    })
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
