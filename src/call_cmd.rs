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
//! `--to` takes `ADDR` or `ADDR@ZONE` items, comma-separated. Exit codes: 0 when every
//! call succeeded, 1 when any failed (or was dropped), 2 on bad usage or setup errors.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use faultline_core::breaker::{BreakerConfig, InstanceBreakerLayer, ServiceBreakerLayer};
use faultline_core::client::{ClientBuilder, EchoClient, Pool, PoolConfig, PoolMode};
use faultline_core::echo;
use faultline_core::event::EventBus;
use faultline_core::frame::Transport;
use faultline_core::lb::{Discovery, LoadBalanceLayer, WeightedRoundRobin, ZoneAware, ZoneConfig};
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
    /// ttheader, ttheader-framed, theader, framed or buffered.
    #[arg(long, default_value = "ttheader")]
    transport: Transport,
    /// binary or compact.
    #[arg(long, default_value = "binary", value_parser = parse_protocol)]
    protocol: ProtocolId,
    /// The message to echo.
    #[arg(long)]
    message: String,
    /// Deadline of each call, e.g. `500ms`, `2s`.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    timeout: Duration,
    /// Calls per second (open loop); needs `--duration`.
    #[arg(long, requires = "duration")]
    qps: Option<u32>,
    /// How long to run at `--qps`, e.g. `10s`.
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
            (Some(qps), Some(duration)) => load(args, client, qps, duration).await,
            _ => once(args, &client).await,
        }
    })
}

/// The client stack over a pool of TCP connections to `--to`.
fn client(args: &CallArgs) -> Result<EchoClient, String> {
    let events = EventBus::default();
    let instances = args.to.iter().map(|item| match item.split_once('@') {
        Some((addr, zone)) => Instance::new(addr).with_zone("default", zone),
        None => Instance::new(item.as_str()),
    });
    let discovery = Discovery::new(instances);
    let balancer = match &args.zone {
        Some(zone) => LoadBalanceLayer::new(
            echo::SERVICE,
            discovery,
            ZoneAware::new(ZoneConfig::new(zone.as_str()), Some(events.clone())),
        ),
        None => LoadBalanceLayer::new(echo::SERVICE, discovery, WeightedRoundRobin),
    };
    let config = BreakerConfig::default();
    let service_breaker =
        ServiceBreakerLayer::new(CALLER, echo::SERVICE, config.clone(), events.clone())
            .map_err(|err| format!("breaker: {err}"))?;
    let instance_breaker = InstanceBreakerLayer::new(config, events.clone())
        .map_err(|err| format!("breaker: {err}"))?;
    let pool = Pool::new(
        Tcp,
        PoolConfig {
            transport: args.transport,
            protocol: args.protocol,
            mode: match args.multiplex {
                true => PoolMode::Multiplexed,
                false => PoolMode::Exclusive,
            },
            to_service: Some(echo::SERVICE.into()),
            from_service: Some(CALLER.into()),
            ..PoolConfig::default()
        },
    );
    let client = ClientBuilder::new(echo::SERVICE)
        .events(events)
        .timeout(args.timeout)
        .service_breaker(service_breaker)
        .balancer(balancer)
        .instance_breaker(instance_breaker)
        .build(pool);
    Ok(EchoClient::new(client, args.protocol))
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
    let slots = Arc::new(Semaphore::new(args.max_in_flight.max(1)));
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

/// `250ms`, `2s`, `1m`, `1500us`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("bad duration {s:?} (e.g. 500ms, 2s)"))?;
    match unit {
        "us" => Ok(Duration::from_micros(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(format!("bad duration unit in {s:?} (us, ms, s or m)")),
    }
}
