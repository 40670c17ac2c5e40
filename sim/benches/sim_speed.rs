//! How fast the simulation runs: simulated seconds per wall second of zone-failover with
//! 9 servers in 3 zones at 1,000 calls/s, side by side with a bare turmoil echo of the
//! same hosts, rate and simulated time measured in the same run (raw turmoil TCP, no
//! faultline code: what turmoil itself costs); then seeds per minute of an instance-crash
//! sweep on every core.
//!
//! `cargo bench -p faultline-sim --bench sim_speed` (SWEEP_SEEDS=N sets the sweep's size,
//! default 40).

use std::future::pending;
use std::path::Path;
use std::time::{Duration, Instant};

use faultline_chaos::spec::load::{load_bytes, SpecDocument};
use faultline_sim::sweep::sweep;
use faultline_sim::{run, RunOptions, TimeScale};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::{TcpListener, TcpStream};

const SERVERS: usize = 9;
const PAYLOAD: usize = 64;

fn examples() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../manifests/examples"
    ))
}

/// zone-failover with a third zone of three instances.
fn zone_failover_9() -> String {
    let text = std::fs::read_to_string(examples().join("zone-failover.yaml")).unwrap();
    text.replace(
        "      - { name: az2, instances: 3 }\n",
        "      - { name: az2, instances: 3 }\n      - { name: az3, instances: 3 }\n",
    )
}

/// Simulated seconds per wall second of the faultline run at `scale`.
fn faultline_speed(text: &str, scale: TimeScale) -> (f64, Duration) {
    let loaded = load_bytes(text.as_bytes(), Path::new("zone-failover-9.yaml")).unwrap();
    let SpecDocument::Experiment(experiment) = &loaded[0].spec else {
        panic!()
    };
    let options = RunOptions {
        seed: 1,
        scale: Some(scale),
        file: None,
    };
    let started = Instant::now();
    let outcome = run(experiment, &loaded[0].document, &options, None).unwrap();
    let wall = started.elapsed();
    // With a third zone that slow-az2 does not touch, traffic spills there instead of
    // coming home: the verdict is not the point here, the speed is.
    assert!(
        outcome.report.summary.calls > 0,
        "the benchmark run made calls"
    );
    let workload = &experiment.spec.workload;
    let simulated = scale.duration(workload.warmup + workload.duration);
    (simulated.as_secs_f64() / wall.as_secs_f64(), simulated)
}

/// Simulated seconds per wall second of a raw turmoil echo: `SERVERS` hosts echoing, one
/// client calling them in turn at `rate` calls per simulated second for `simulated`.
fn bare_speed(rate: u64, simulated: Duration) -> f64 {
    let mut sim = turmoil::Builder::new()
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(Duration::ZERO)
        .max_message_latency(Duration::ZERO)
        .tcp_capacity(1 << 16)
        .simulation_duration(simulated + Duration::from_secs(60))
        .build();
    for i in 0..SERVERS {
        sim.host(format!("echo-{i}"), || async {
            let listener = TcpListener::bind("0.0.0.0:9000").await?;
            loop {
                let (mut stream, _) = listener.accept().await?;
                tokio::spawn(async move {
                    let mut buf = [0u8; PAYLOAD];
                    while stream.read_exact(&mut buf).await.is_ok() {
                        if stream.write_all(&buf).await.is_err() {
                            break;
                        }
                    }
                });
            }
            #[allow(unreachable_code)]
            pending::<turmoil::Result>().await
        });
    }
    sim.client("probe", async move {
        let calls = rate * simulated.as_secs();
        let origin = tokio::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for server in 0..SERVERS as u64 {
            let stream = TcpStream::connect(format!("echo-{server}:9000")).await?;
            tasks.spawn(async move {
                let (mut reader, mut writer) = stream.into_split();
                let mine = (server..calls).step_by(SERVERS);
                let replies = tokio::spawn(async move {
                    let mut buf = [0u8; PAYLOAD];
                    for _ in (server..calls).step_by(SERVERS) {
                        reader.read_exact(&mut buf).await?;
                    }
                    Ok::<_, std::io::Error>(())
                });
                for k in mine {
                    tokio::time::sleep_until(
                        origin + Duration::from_nanos(k * 1_000_000_000 / rate),
                    )
                    .await;
                    writer.write_all(&[7u8; PAYLOAD]).await?;
                }
                replies.await??;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done?.map_err(|err| err.to_string())?;
        }
        Ok(())
    });
    let started = Instant::now();
    sim.run().unwrap();
    simulated.as_secs_f64() / started.elapsed().as_secs_f64()
}

fn main() {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.trim());
    let text = zone_failover_9();
    for factor in [10, 1] {
        let scale = TimeScale::new(factor).unwrap();
        let (faultline, simulated) = faultline_speed(&text, scale);
        // The same calls per simulated second: 1,000 per experiment second.
        let rate = 1000 / u64::from(factor);
        let bare = bare_speed(rate, simulated);
        println!(
            "zone-failover, 9 servers in 3 zones, time scale {factor} ({rate} calls per simulated s, {:.0} simulated s): faultline {faultline:.1}x real time, bare turmoil echo {bare:.1}x, ratio {:.2}",
            simulated.as_secs_f64(),
            faultline / bare
        );
    }
    let seeds: u64 = std::env::var("SWEEP_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let text = std::fs::read_to_string(examples().join("instance-crash.yaml")).unwrap();
    let loaded = load_bytes(text.as_bytes(), Path::new("instance-crash.yaml")).unwrap();
    let SpecDocument::Experiment(experiment) = &loaded[0].spec else {
        panic!()
    };
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let scale = TimeScale::for_experiment(&experiment.spec);
    let started = Instant::now();
    let results = sweep(
        experiment,
        &loaded[0].document,
        1..1 + seeds,
        scale,
        jobs,
        &|_| {},
    );
    let wall = started.elapsed().as_secs_f64();
    println!(
        "instance-crash sweep: {seeds} seeds on {jobs} threads in {wall:.1}s: {:.1} seeds/min, {} failed",
        seeds as f64 / wall * 60.0,
        results.failed().count()
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at end: {}", load.trim());
}
