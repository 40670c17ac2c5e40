//! The example experiments in simulation: each passes as written, and each FAILS when the
//! experiment's own client configuration is broken the way a real deployment could be
//! (zone-aware balancing off, the instance breaker off, no fallback, unlimited retries,
//! the exclusive pool under packet loss). A harness that cannot fail proves nothing.
//!
//! The broken variants are made the way a user would make them: the example's client
//! section with one setting replaced, written back to YAML and loaded and validated like
//! any experiment file.

#[path = "support/experiments.rs"]
mod experiments;

use std::path::Path;

use experiments::{assert_fails_on, assert_passed, example, load, with_client};
use faultline_chaos::report::Report;
use faultline_sim::{run, RunOptions};
use serde_json::json;

fn run_text(text: &[u8], path: &Path, seed: u64) -> Report {
    let (experiment, document) = load(text, path);
    let options = RunOptions {
        seed,
        scale: None,
        file: Some(path.to_owned()),
    };
    run(&experiment, &document, &options, None).unwrap().report
}

fn run_example(name: &str) -> Report {
    let path = example(name);
    run_text(&std::fs::read(&path).unwrap(), &path, 1)
}

fn run_broken(name: &str, patch: serde_json::Value) -> Report {
    let text = with_client(name, patch);
    run_text(text.as_bytes(), Path::new("broken.yaml"), 1)
}

#[test]
fn zone_failover_pulls_traffic_home_and_fails_without_zone_aware_balancing() {
    let report = run_example("zone-failover");
    assert_passed(&report);
    // The origin's table: same zone ~0.8 ms mean / ~2.1 ms p99, cross zone ~3.2 / ~4.7.
    let az1 = &report.summary.zones["az1"];
    let az2 = &report.summary.zones["az2"];
    assert!(az1.mean.as_micros().abs_diff(800) <= 100, "{az1:?}");
    assert!(az1.p99.as_micros().abs_diff(2100) <= 200, "{az1:?}");
    assert!(az2.p50.as_micros().abs_diff(3200) <= 200, "{az2:?}");

    let broken = run_broken("zone-failover", json!({"balancer": {"type": "roundRobin"}}));
    assert_fails_on(
        &broken,
        "errorRate below 1% (during az1-down)",
        Some("az1-down"),
    );
}

#[test]
fn instance_crash_trips_the_instance_breaker_and_fails_without_it() {
    assert_passed(&run_example("instance-crash"));
    let broken = run_broken(
        "instance-crash",
        json!({"instanceBreaker": {"enabled": false}}),
    );
    assert_fails_on(
        &broken,
        "breakerOpens (Instance) within 2s",
        Some("kill-one"),
    );
}

#[test]
fn zone_partition_falls_back_and_fails_without_a_fallback() {
    assert_passed(&run_example("zone-partition"));
    let broken = run_broken("zone-partition", json!({"fallback": null}));
    assert_fails_on(&broken, "errorRate below 0.1%", Some("cut-az2"));
}

#[test]
fn retry_storm_stays_within_budget_and_fails_with_unlimited_retries() {
    assert_passed(&run_example("retry-storm"));
    let unlimited = json!({
        "maxRetries": 10,
        "budget": {"enabled": false},
        "breaker": {"enabled": false},
    });
    let broken = run_broken("retry-storm", json!({"retry": unlimited}));
    assert_fails_on(
        &broken,
        "retryAmplification below 1.15x",
        Some("slow-backend"),
    );
}

/// 1.2 % loss: one busy multiplexed connection repairs losses within a round trip; the
/// exclusive pool's idle connections wait for the tail-loss probe (~200 ms), as the kernel
/// measurement shows (BENCHMARKS.md).
#[test]
fn packet_loss_keeps_mux_p99_low_and_the_exclusive_pool_waits_for_retransmission() {
    let report = run_example("packet-loss");
    assert_passed(&report);
    let broken = run_broken("packet-loss", json!({"pool": {"mode": "exclusive"}}));
    assert_fails_on(&broken, "p99 below 4.93ms", Some("lossy-links"));
    let during = broken
        .clauses
        .iter()
        .find(|c| c.clause == "p99 below 4.93ms")
        .unwrap();
    assert!(during.observed.starts_with("20"), "{during:?}");
}

#[test]
fn one_seed_gives_one_trace_and_another_seed_another() {
    let path = example("instance-crash");
    let (experiment, document) = load(&std::fs::read(&path).unwrap(), &path);
    let hash = |seed| {
        let options = RunOptions {
            seed,
            scale: None,
            file: None,
        };
        run(&experiment, &document, &options, None)
            .unwrap()
            .trace_hash
    };
    let first = hash(7);
    assert_eq!(first, hash(7), "same seed, same trace");
    assert_ne!(first, hash(8), "another seed, another trace");
}
