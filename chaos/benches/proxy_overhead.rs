//! The fault proxy's overhead with no fault in force: the same echo calls client -> server
//! and client -> proxy -> server on loopback, p50/p99 of each and the difference.
//!
//! Run: `cargo bench -p faultline-chaos --bench proxy_overhead`
//!
//! Environment (all optional):
//! - `PROXY_BENCH_CALLS` measured calls per path (default 20000)
//! - `PROXY_BENCH_BLOCK` calls per block; the paths alternate block by block so that a
//!   change of machine load hits both alike (default 500)
//! - `PROXY_BENCH_BYTES` echo message size (default 64)
//! - `PROXY_BENCH_SHARED=1` runs the proxy on the caller's thread and runtime (as in a
//!   controller whose probe and proxies share one runtime) instead of its own
//! - `PROXY_BENCH_DELAY_US` a NetworkChaos delay in force on the requests (default 0:
//!   none), to see how close the added latency comes to the configured one
//!
//! Setup: core's echo server on its own thread and tokio runtime (as the instance is its
//! own process), the proxy on another (or on the caller's, see `PROXY_BENCH_SHARED`), and
//! one closed-loop caller through the real client stack (`Client::from_config`, TTHeader + Binary, exclusive
//! pool: one pooled connection per path, no retries, breakers off) on the main thread. A
//! call's latency is from just before `echo` to its reply, in microseconds. The machine's
//! load average is printed before and after, since other work on the cores moves the tail.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use faultline_chaos::faults::{Effect, Rule};
use faultline_chaos::local::proxy::{Proxy, ProxyConfig, ProxyFaults};
use faultline_chaos::plan::PROBE_NAME;
use faultline_core::breaker::BreakerConfig;
use faultline_core::client::retry::RetryConfig;
use faultline_core::client::{Client, ClientConfig, EchoClient};
use faultline_core::echo;
use faultline_core::event::EventBus;
use faultline_core::lb::Discovery;
use faultline_core::net::Tcp;
use faultline_core::protocol::ProtocolId;
use faultline_core::rpc::Instance;
use faultline_core::server::ServerBuilder;
use hdrhistogram::Histogram;
use tokio::runtime::{Builder, Runtime};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runtime() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Runs `serve` on its own thread and runtime until the process ends; `serve` sends
/// its address, then keeps what it serves alive.
fn background<F, Fut>(serve: F) -> SocketAddr
where
    F: FnOnce(mpsc::Sender<SocketAddr>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || runtime().block_on(serve(tx)));
    rx.recv().unwrap()
}

fn client(addr: SocketAddr) -> EchoClient {
    let off = BreakerConfig {
        enabled: false,
        ..BreakerConfig::default()
    };
    let config = ClientConfig {
        timeout: Duration::from_secs(5),
        retry: RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        },
        service_breaker: off.clone(),
        instance_breaker: off,
        ..ClientConfig::default()
    };
    let discovery = Discovery::new([Instance::new(addr.to_string())]);
    let client = Client::from_config(&config, Tcp, discovery, EventBus::default()).unwrap();
    EchoClient::new(client, ProtocolId::Binary)
}

/// A proxy to `server` with no fault, or `delay` on the requests.
async fn start_proxy(server: SocketAddr, delay: Duration) -> Proxy {
    let config = ProxyConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        upstream: server,
        server: "echo-az1-0".into(),
        client: PROBE_NAME.into(),
        base_latency: None,
        path_cost: Default::default(),
        rtt: Duration::from_micros(100),
        seed: 1,
    };
    let faults = ProxyFaults::new();
    if !delay.is_zero() {
        faults.add(Rule {
            fault: "bench-delay".into(),
            from: [PROBE_NAME.to_owned()].into(),
            to: None,
            effect: Effect::Delay {
                latency: delay,
                jitter: Duration::ZERO,
                correlation: 0.0,
            },
        });
    }
    Proxy::start(config, faults).await.unwrap()
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

async fn calls(client: &EchoClient, message: &str, n: u64, hist: Option<&mut Histogram<u64>>) {
    let mut hist = hist;
    for _ in 0..n {
        let start = Instant::now();
        let reply = client.echo(message).await.expect("echo");
        let micros = start.elapsed().as_micros() as u64;
        assert_eq!(reply.len(), message.len());
        if let Some(hist) = hist.as_deref_mut() {
            hist.saturating_record(micros);
        }
    }
}

fn row(name: &str, hist: &Histogram<u64>) {
    println!(
        "{name:<28} p50 {:>6} µs  p90 {:>6} µs  p99 {:>6} µs  p99.9 {:>6} µs  max {:>7} µs  ({} calls)",
        hist.value_at_quantile(0.5),
        hist.value_at_quantile(0.9),
        hist.value_at_quantile(0.99),
        hist.value_at_quantile(0.999),
        hist.max(),
        hist.len()
    );
}

fn main() {
    let total = env_num("PROXY_BENCH_CALLS", 20_000);
    let block = env_num("PROXY_BENCH_BLOCK", 500).max(1);
    let message = "x".repeat(env_num("PROXY_BENCH_BYTES", 64) as usize);
    println!("load average before: {}", load_average());

    let server = background(|addr| async move {
        let server = ServerBuilder::new(echo::SERVICE)
            .bind(&Tcp, "127.0.0.1:0", echo::router())
            .await
            .unwrap();
        addr.send(server.local_addr()).unwrap();
        std::future::pending::<()>().await;
    });
    let delay = Duration::from_micros(env_num("PROXY_BENCH_DELAY_US", 0));
    let shared = env_num("PROXY_BENCH_SHARED", 0) == 1;
    println!(
        "proxy on {}",
        match shared {
            true => "the caller's thread and runtime",
            false => "its own thread and runtime",
        }
    );
    let rt = runtime();
    // Kept until the end of `main`: dropping a proxy closes it.
    let mut on_caller_thread = None;
    let proxy = match shared {
        true => {
            let started = rt.block_on(start_proxy(server, delay));
            let addr = started.local_addr();
            on_caller_thread = Some(started);
            addr
        }
        false => background(move |addr| async move {
            let proxy = start_proxy(server, delay).await;
            addr.send(proxy.local_addr()).unwrap();
            std::future::pending::<()>().await;
        }),
    };
    let (direct_hist, proxied_hist) = rt.block_on(async {
        let direct = client(server);
        let proxied = client(proxy);
        calls(&direct, &message, 1000, None).await;
        calls(&proxied, &message, 1000, None).await;
        let (mut d, mut p) = (histogram(), histogram());
        let mut done = 0;
        while done < total {
            let n = block.min(total - done);
            calls(&direct, &message, n, Some(&mut d)).await;
            calls(&proxied, &message, n, Some(&mut p)).await;
            done += n;
        }
        (d, p)
    });
    row("client -> server", &direct_hist);
    row("client -> proxy -> server", &proxied_hist);
    let added =
        |q: f64| proxied_hist.value_at_quantile(q) as i64 - direct_hist.value_at_quantile(q) as i64;
    println!(
        "added by the proxy: p50 {} µs, p99 {} µs",
        added(0.5),
        added(0.99)
    );
    if !delay.is_zero() {
        println!("configured delay: {} µs", delay.as_micros());
    }
    println!("load average after: {}", load_average());
    drop(on_caller_thread);
}
