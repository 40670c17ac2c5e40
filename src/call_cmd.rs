//! `faultline call`: calls Echo through the full client stack — deadline, retry, service
//! breaker, load balancer (weighted round robin, or zone-aware with `--zone`), instance
//! breaker, connection pool — over TTHeader + Binary by default, as Kitex.
//!
//! - One call (no `--qps`): prints the echoed message on stdout.
//! - `--qps N --duration D`: an open-loop load. Calls start on a fixed schedule whatever
//!   the replies do; at most `--max-in-flight` are in flight, and a call due while that
//!   many are is counted as `dropped` instead of sent. Latency runs from the scheduled
//!   start (so a stalled client does not hide queueing). Prints a summary: calls, ok,
//!   errors by kind, fallbacks, dropped, and p50/p90/p99/max latency (hdrhistogram).
//!
//! The stack is built by `Client::from_config` from a `ClientConfig`: the one in
//! `--config FILE` (YAML, as an experiment's `client:` section), else the defaults; the
//! flags given override it. Durations are written as Chaos Mesh writes them (`3.5ms`,
//! `1m30s`).
//!
//! `--to` takes `ADDR` or `ADDR@ZONE` items, comma-separated. Exit codes: 0 when every
//! call succeeded, 1 when any failed (or was dropped), 2 on bad usage or setup errors.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use faultline_core::client::{Client, ClientConfig, EchoClient, PoolMode};
use faultline_core::config::MAX_DURATION;
use faultline_core::event::EventBus;
use faultline_core::frame::Transport;
use faultline_core::lb::{BalancerConfig, Discovery, ZoneConfig};
use faultline_core::net::Tcp;
use faultline_core::protocol::ProtocolId;
use faultline_core::rpc::{Instance, RpcError};
use hdrhistogram::Histogram;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

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
            (Some(_), Some(duration)) if duration > MAX_DURATION => {
                eprintln!("faultline call: --duration must be at most 8760h (a year)");
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

/// What one load run saw.
struct Summary {
    calls: u64,
    ok: u64,
    fallbacks: u64,
    dropped: u64,
    errors: BTreeMap<&'static str, u64>,
    latency: Histogram<u64>,
}

async fn load(args: &CallArgs, client: EchoClient, qps: u32, duration: Duration) -> ExitCode {
    let Ok(latency) = Histogram::new_with_bounds(1, 3_600_000_000, 3) else {
        eprintln!("faultline call: cannot build the latency histogram");
        return ExitCode::from(2);
    };
    let mut summary = Summary {
        calls: 0,
        ok: 0,
        fallbacks: 0,
        dropped: 0,
        errors: BTreeMap::new(),
        latency,
    };
    let interval = Duration::from_secs(1) / qps.max(1);
    let total = u64::try_from(duration.as_nanos() / interval.as_nanos().max(1)).unwrap_or(u64::MAX);
    let slots = Arc::new(Semaphore::new(
        args.max_in_flight.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let mut running = JoinSet::new();
    let start = Instant::now();
    let message: Arc<str> = args.message.as_str().into();
    for i in 0..total {
        let due = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due).await;
        while let Some(done) = running.try_join_next() {
            record(&mut summary, done);
        }
        summary.calls += 1;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            summary.dropped += 1;
            continue;
        };
        let call = client.echo_reply(&message);
        running.spawn(async move {
            let result = call.await;
            drop(permit);
            (result.map(|(_, reply)| reply.is_fallback()), due.elapsed())
        });
    }
    while let Some(done) = running.join_next().await {
        record(&mut summary, done);
    }
    print_summary(&summary);
    match summary.ok == summary.calls {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    }
}

type Outcome = (Result<bool, RpcError>, Duration);

fn record(summary: &mut Summary, done: Result<Outcome, tokio::task::JoinError>) {
    let (result, latency) = match done {
        Ok(outcome) => outcome,
        Err(_) => {
            *summary.errors.entry("panicked").or_default() += 1;
            return;
        }
    };
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    summary.latency.saturating_record(micros.max(1));
    match result {
        Ok(fallback) => {
            summary.ok += 1;
            summary.fallbacks += u64::from(fallback);
        }
        Err(err) => *summary.errors.entry(err.kind().name()).or_default() += 1,
    }
}

fn print_summary(s: &Summary) {
    let errors: u64 = s.errors.values().sum();
    println!(
        "calls {}  ok {}  errors {errors}  fallbacks {}  dropped {}",
        s.calls, s.ok, s.fallbacks, s.dropped
    );
    for (kind, count) in &s.errors {
        println!("error {kind} {count}");
    }
    let ms = |q: f64| s.latency.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "latency p50 {:.3}ms  p90 {:.3}ms  p99 {:.3}ms  max {:.3}ms",
        ms(0.5),
        ms(0.9),
        ms(0.99),
        s.latency.max() as f64 / 1000.0
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
