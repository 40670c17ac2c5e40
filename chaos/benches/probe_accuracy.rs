//! Probe accuracy (issue 10): how close the open-loop probe's latency is to a closed-loop
//! caller's on an idle loopback server, how late the generator starts calls (its
//! scheduling lag), and the highest rate it sustains on this machine.
//!
//! Run: `cargo bench -p faultline-chaos --bench probe_accuracy`
//!
//! Environment (all optional):
//! - `PROBE_BENCH_SECS` measured seconds per case (default 5; 1 s of warm-up before)
//! - `PROBE_BENCH_RATES` rates compared with the closed-loop caller (default
//!   `100,1000,5000,10000`)
//! - `PROBE_BENCH_MAX_RATES` rates tried for the sustained maximum (default
//!   `10000,15000,20000,25000,30000`)
//!
//! Setup, as `faultline serve` + `faultline call --qps` on one machine but in one process:
//! the server (`ServerBuilder`, echo router) on its own 2-worker tokio runtime, the client
//! on another 2-worker runtime (what `faultline call` gets on 2 cores), talking over
//! 127.0.0.1. The client is the full stack `Client::from_config` builds from
//! `faultline call`'s default config (deadline, retry, breakers, round robin, pool), with a
//! 16-byte message.
//!
//! Cases:
//! - closed loop: one caller, call after call, latency from its own start.
//! - probe: `faultline_chaos::probe::run` at each rate, with `Pacing::Timer` (the old way)
//!   and `Pacing::Precise` (what `faultline call --qps` uses); latency from the due time,
//!   and the scheduling lag (due to the call's first poll) beside it. `cpu` is the CPU
//!   time of the client's and the server's runtime threads over the run (from
//!   `/proc/self/task/*/schedstat`), in % of one core.
//! - sustained: `Pacing::Precise` at increasing rates; a rate is sustained when no call
//!   was dropped or failed and the lag p99 is at most [`LAG_P99_LIMIT`].

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use faultline_chaos::probe::{self, Load, Outcome, Pacing, ProbeHandle, Window};
use faultline_core::client::{Client, ClientConfig, EchoClient};
use faultline_core::echo;
use faultline_core::event::EventBus;
use faultline_core::lb::Discovery;
use faultline_core::net::Tcp;
use faultline_core::rpc::Instance;
use faultline_core::server::{Server, ServerBuilder};
use hdrhistogram::Histogram;
use tokio::runtime::Runtime;

/// The most scheduling lag (p99) a sustained rate may show: above it the generator is
/// falling behind (an idle machine shows ~0.2 ms at 10k/s; a busy one's scheduler alone
/// adds a few ms at any rate).
const LAG_P99_LIMIT: Duration = Duration::from_millis(1);
const WARMUP: Duration = Duration::from_secs(1);
const MESSAGE: &str = "0123456789abcdef";

fn env_secs() -> Duration {
    let secs = std::env::var("PROBE_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok());
    Duration::from_secs(secs.unwrap_or(5))
}

fn env_rates(name: &str, default: &[u32]) -> Vec<u32> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|r| r.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn runtime(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// CPU time so far of the process's live threads (the runtimes' workers, the main thread;
/// the pacing thread ends with its run, but only sleeps): the sum of
/// `/proc/self/task/*/schedstat`'s first field, in ns.
fn cpu_time() -> Duration {
    let tasks = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten();
    let nanos = tasks
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

fn client(addr: &str) -> EchoClient {
    let config = ClientConfig {
        caller: "faultline-call".into(),
        ..ClientConfig::default()
    };
    let discovery = Discovery::new([Instance::new(addr)]);
    let client = Client::from_config(&config, Tcp, discovery, EventBus::default())
        .expect("the default client config is valid");
    EchoClient::new(client, config.pool.protocol)
}

fn micros(histogram: &Histogram<u64>, q: f64) -> u64 {
    match histogram.is_empty() {
        true => 0,
        false => histogram.value_at_quantile(q),
    }
}

fn closed_loop(rt: &Runtime, client: &EchoClient, measure: Duration) -> Histogram<u64> {
    rt.block_on(async {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        let started = Instant::now();
        while started.elapsed() < WARMUP + measure {
            let call = Instant::now();
            client
                .echo(MESSAGE)
                .await
                .expect("echo on an idle loopback server");
            if started.elapsed() >= WARMUP {
                histogram.saturating_record(call.elapsed().as_micros() as u64);
            }
        }
        histogram
    })
}

struct Run {
    window: Window,
    cpu: f64,
}

fn probe_run(
    rt: &Runtime,
    client: &EchoClient,
    rate: u32,
    pacing: Pacing,
    measure: Duration,
) -> Run {
    let load = Load {
        rate,
        warmup: WARMUP,
        duration: measure,
        payload_bytes: MESSAGE.len(),
        message: Some(MESSAGE.into()),
        max_in_flight: 1000,
        time_scale: 1,
        pacing,
    };
    let (cpu, wall) = (cpu_time(), Instant::now());
    let probe = rt.block_on(async {
        let probe = ProbeHandle::new(&load);
        probe::run(client.clone(), &load, &probe, |_, _| {
            ControlFlow::Continue(())
        })
        .await;
        probe
    });
    let cpu = cpu_time().saturating_sub(cpu).as_secs_f64() / wall.elapsed().as_secs_f64() * 100.0;
    Run {
        window: probe.timeline().window(Duration::ZERO, measure),
        cpu,
    }
}

fn header() {
    println!(
        "{:<10} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
        "case",
        "rate/s",
        "calls",
        "dropped",
        "p50 µs",
        "p99 µs",
        "lag p50",
        "lag p99",
        "lag max",
        "cpu %"
    );
}

fn row(name: &str, rate: u32, run: &Run) {
    let w = &run.window;
    let failed = w.count(|o| !o.answered());
    let dropped = w.count(|o| o == Outcome::Dropped);
    println!(
        "{:<10} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6.0}{}",
        name,
        rate,
        w.calls,
        dropped,
        micros(&w.latency, 0.5),
        micros(&w.latency, 0.99),
        micros(&w.lag, 0.5),
        micros(&w.lag, 0.99),
        micros(&w.lag, 1.0),
        run.cpu,
        match failed - dropped {
            0 => String::new(),
            errors => format!("  ({errors} errors)"),
        },
    );
}

fn sustained(run: &Run) -> bool {
    let lag_p99 = Duration::from_micros(micros(&run.window.lag, 0.99));
    run.window.calls > 0 && run.window.count(|o| !o.answered()) == 0 && lag_p99 <= LAG_P99_LIMIT
}

fn main() {
    let measure = env_secs();
    let rates = env_rates("PROBE_BENCH_RATES", &[100, 1_000, 5_000, 10_000]);
    let max_rates = env_rates(
        "PROBE_BENCH_MAX_RATES",
        &[10_000, 15_000, 20_000, 25_000, 30_000],
    );
    let (server_rt, client_rt) = (runtime("serve"), runtime("call"));
    let server: Server = server_rt.block_on(async {
        ServerBuilder::new(echo::SERVICE)
            .bind(&Tcp, "127.0.0.1:0", echo::router())
            .await
            .expect("bind 127.0.0.1")
    });
    let client = client_rt.block_on(async { client(&server.local_addr().to_string()) });
    println!(
        "probe_accuracy: echo of {} B on 127.0.0.1, {} s measured after {} s warm-up per case",
        MESSAGE.len(),
        measure.as_secs(),
        WARMUP.as_secs()
    );

    let closed = closed_loop(&client_rt, &client, measure);
    println!(
        "closed loop, one caller: {} calls, p50 {} µs, p99 {} µs",
        closed.len(),
        micros(&closed, 0.5),
        micros(&closed, 0.99)
    );
    header();
    for &rate in &rates {
        for (name, pacing) in [("timer", Pacing::Timer), ("precise", Pacing::Precise)] {
            row(
                name,
                rate,
                &probe_run(&client_rt, &client, rate, pacing, measure),
            );
        }
    }

    println!(
        "sustained (precise; lag p99 at most {} µs, nothing dropped or failed):",
        LAG_P99_LIMIT.as_micros()
    );
    header();
    let mut best = None;
    for &rate in &max_rates {
        let run = probe_run(&client_rt, &client, rate, Pacing::Precise, measure);
        row("precise", rate, &run);
        if sustained(&run) {
            best = Some(rate);
        }
    }
    match best {
        Some(rate) => println!("highest sustained rate tried: {rate}/s"),
        None => println!("no rate tried was sustained"),
    }
    drop(client);
    server_rt.block_on(server.shutdown());
}
