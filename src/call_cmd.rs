//! `faultline call`: calls Echo through the full client stack — deadline, retry, service
//! breaker, load balancer (weighted round robin, or zone-aware with `--zone`), instance
//! breaker, connection pool — over TTHeader + Binary by default, as Kitex.
//!
//! - One call (no `--qps`): prints the echoed message on stdout.
//! - `--qps N --duration D` (at most 24h): an open-loop load, run by the experiments'
//!   probe (`faultline_chaos::probe`). Calls start on a fixed schedule whatever the
//!   replies do; at most `--max-in-flight` are in flight, and a call due while that many
//!   are is counted as `dropped` instead of sent. Calls are paced precisely (a pacing
//!   thread, not tokio's 1 ms timer). Latency runs from the scheduled start (so a stalled
//!   client does not hide queueing). Prints a summary: calls, ok (fallbacks included),
//!   errors by kind, fallbacks, dropped, p50/p90/p99/max latency, and the probe's own
//!   scheduling lag (p50/p99/max of how late calls started; part of their latency).
//!
//! The stack is built by `Client::from_config` from a `ClientConfig`: the one in
//! `--config FILE` (YAML, as an experiment's `client:` section), else the defaults; the
//! flags given override it. Durations are written as Chaos Mesh writes them (`3.5ms`,
//! `1m30s`).
//!
//! `--to` takes `ADDR` or `ADDR@ZONE` items, comma-separated. Exit codes: 0 when every
//! call succeeded, 1 when any failed (or was dropped), 2 on bad usage or setup errors.

use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use faultline_chaos::probe::timeline::quantile;
use faultline_chaos::probe::{self, Load, Outcome, Pacing, ProbeHandle, Window};
use faultline_chaos::spec::experiment::Workload;
use faultline_core::client::{Client, ClientConfig, EchoClient, PoolMode};
use faultline_core::event::EventBus;
use faultline_core::frame::Transport;
use faultline_core::lb::{BalancerConfig, Discovery, ZoneConfig};
use faultline_core::net::Tcp;
use faultline_core::protocol::ProtocolId;
use faultline_core::rpc::Instance;

/// The caller's service name, sent as TTHeader `FromService` and keyed in breakers.
const CALLER: &str = "faultline-call";

#[derive(Args)]
pub struct CallArgs {
    /// Servers to call: `ADDR` or `ADDR@ZONE`, comma-separated.
    #[arg(
        long,
        value_name = "ADDR[,ADDR...]",
        value_delimiter = ',',
        required = true
    )]
    to: Vec<String>,
    /// The client stack as YAML (a `ClientConfig`: timeout, retry, breakers, balancer,
    /// pool, ...); the flags below override it.
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// ttheader (default), ttheader-framed, theader, framed or buffered.
    #[arg(long)]
    transport: Option<Transport>,
    /// binary (default) or compact.
    #[arg(long, value_parser = parse_protocol)]
    protocol: Option<ProtocolId>,
    /// The message to echo.
    #[arg(long)]
    message: String,
    /// Deadline of each call, e.g. `3.5ms`, `500ms`, `2s` (default 1s; 0 = none).
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Bound on dialing a connection, e.g. `50ms` (the default).
    #[arg(long, value_parser = parse_duration)]
    connect_timeout: Option<Duration>,
    /// Calls per second (open loop); needs `--duration`.
    #[arg(long, requires = "duration")]
    qps: Option<u32>,
    /// How long to run at `--qps`, e.g. `10s`, `1m30s`.
    #[arg(long, requires = "qps", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// The caller's zone: balance zone-aware over the `ADDR@ZONE` servers.
    #[arg(long)]
    zone: Option<String>,
    /// Calls in flight at most during a load run.
    #[arg(long, default_value_t = 1000)]
    max_in_flight: usize,
    /// Share one TTHeader-multiplexed connection per server instead of pooling.
    #[arg(long)]
    multiplex: bool,
}

pub fn run(args: &CallArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("faultline call: cannot start the runtime: {err}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let client = match client(args) {
            Ok(client) => client,
            Err(err) => {
                eprintln!("faultline call: {err}");
                return ExitCode::from(2);
            }
        };
        match (args.qps, args.duration) {
            (Some(_), Some(duration)) if duration > Workload::MAX_DURATION => {
                eprintln!("faultline call: --duration must be at most 24h");
                ExitCode::from(2)
            }
            (Some(qps), Some(duration)) => load(args, client, qps, duration).await,
            _ => once(args, &client).await,
        }
    })
}

/// The client stack over a pool of TCP connections to `--to`.
fn client(args: &CallArgs) -> Result<EchoClient, String> {
    let config = client_config(args)?;
    let instances = args.to.iter().map(|item| match item.split_once('@') {
        Some((addr, zone)) => Instance::new(addr).with_zone("default", zone),
        None => Instance::new(item.as_str()),
    });
    let client = Client::from_config(&config, Tcp, Discovery::new(instances), EventBus::default())
        .map_err(|errors| format!("invalid client config:\n{errors}"))?;
    Ok(EchoClient::new(client, config.pool.protocol))
}

/// `--config` (or the defaults, calling as `faultline-call`), with the flags applied.
fn client_config(args: &CallArgs) -> Result<ClientConfig, String> {
    let mut config = match &args.config {
        Some(path) => crate::config_file::load::<ClientConfig>(path)?,
        None => ClientConfig {
            caller: CALLER.into(),
            ..ClientConfig::default()
        },
    };
    if let Some(transport) = args.transport {
        config.pool.transport = transport;
    }
    if let Some(protocol) = args.protocol {
        config.pool.protocol = protocol;
    }
    if let Some(timeout) = args.timeout {
        config.timeout = timeout;
    }
    if let Some(timeout) = args.connect_timeout {
        config.pool.connect_timeout = timeout;
    }
    if args.multiplex {
        config.pool.mode = PoolMode::Multiplexed;
    }
    if let Some(zone) = &args.zone {
        config.zone = Some(zone.clone());
        if !matches!(config.balancer, BalancerConfig::ZoneAware(_)) {
            config.balancer = BalancerConfig::ZoneAware(ZoneConfig::default());
        }
    }
    Ok(config)
}

async fn once(args: &CallArgs, client: &EchoClient) -> ExitCode {
    match client.echo(&args.message).await {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("faultline call: {err}");
            ExitCode::from(1)
        }
    }
}

async fn load(args: &CallArgs, client: EchoClient, qps: u32, duration: Duration) -> ExitCode {
    let load = Load {
        rate: qps,
        warmup: Duration::ZERO,
        duration,
        payload_bytes: args.message.len(),
        message: Some(args.message.as_str().into()),
        max_in_flight: args.max_in_flight.max(1),
        time_scale: 1,
        pacing: Pacing::Precise,
    };
    let probe = ProbeHandle::new(&load);
    probe::run(client, &load, &probe, |_, _| ControlFlow::Continue(())).await;
    let window = probe.timeline().window(Duration::ZERO, duration);
    print_summary(&window);
    match window.count(Outcome::answered) == window.calls {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    }
}

fn print_summary(window: &Window) {
    let errors = window.count(|o| matches!(o, Outcome::Error(_)));
    println!(
        "calls {}  ok {}  errors {errors}  fallbacks {}  dropped {}",
        window.calls,
        window.count(Outcome::answered),
        window.count(|o| o == Outcome::Fallback),
        window.count(|o| o == Outcome::Dropped)
    );
    for (outcome, n) in &window.outcomes {
        if let Outcome::Error(kind) = outcome {
            println!("error {} {n}", kind.name());
        }
    }
    let ms =
        |histogram: Option<_>, q| histogram.map_or(0.0, |h| quantile(h, q).as_secs_f64() * 1e3);
    let latency = window.latency_of(None);
    println!(
        "latency p50 {:.3}ms  p90 {:.3}ms  p99 {:.3}ms  max {:.3}ms",
        ms(latency, 0.5),
        ms(latency, 0.9),
        ms(latency, 0.99),
        ms(latency, 1.0)
    );
    let lag = window.scheduling_lag();
    println!(
        "scheduling lag p50 {:.3}ms  p99 {:.3}ms  max {:.3}ms",
        ms(lag, 0.5),
        ms(lag, 0.99),
        ms(lag, 1.0)
    );
}

fn parse_protocol(s: &str) -> Result<ProtocolId, String> {
    match s {
        "binary" => Ok(ProtocolId::Binary),
        "compact" => Ok(ProtocolId::Compact),
        _ => Err(format!(
            "unknown protocol {s:?} (expected binary or compact)"
        )),
    }
}

/// A Go/Chaos Mesh duration: `3.5ms`, `250ms`, `1m30s`, `100us`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    faultline_core::config::duration::parse(s).map_err(|err| err.to_string())
}
