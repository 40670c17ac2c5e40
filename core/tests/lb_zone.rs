//! Zone-aware balancing: local preference, spill when local capacity is short, RTT
//! weighting of remote zones, and the 3.5 ms threshold with its hysteresis, driven by
//! explicit feedback samples (and tokio's paused clock where ejection time matters).

#[path = "lb_support.rs"]
mod support;

use std::time::Duration;

use faultline_core::event::{EventBus, EventKind};
use faultline_core::lb::{Balancer, Picker, ZoneAware, ZoneConfig};
use support::{arcs, counts, fail, inst, succeed};

fn ms(x: f64) -> Duration {
    Duration::from_secs_f64(x / 1000.0)
}

/// Remote picks (instances outside zone `a`) among `n`.
fn remote_picks(picker: &dyn Picker, n: usize) -> usize {
    counts(picker, n)
        .iter()
        .filter(|(addr, _)| !addr.starts_with('a'))
        .map(|(_, c)| c)
        .sum()
}

fn eject(picker: &dyn Picker, addr: &str) {
    for _ in 0..5 {
        fail(picker, addr);
    }
}

fn three_zones() -> Vec<faultline_core::rpc::Instance> {
    vec![
        inst("a1", "a", 100),
        inst("a2", "a", 100),
        inst("b1", "b", 100),
        inst("b2", "b", 100),
        inst("c1", "c", 100),
    ]
}

/// The remote shares reported on `events` so far.
fn shares(
    rx: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<faultline_core::event::Event>>,
) -> Vec<f64> {
    let mut shares = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let EventKind::ZoneWeights { remote_share, .. } = event.kind {
            shares.push(remote_share);
        }
    }
    shares
}

#[tokio::test(start_paused = true)]
async fn stays_local_while_the_local_zone_is_healthy() {
    let picker = ZoneAware::new(ZoneConfig::new("a"), None).build(arcs(three_zones()));
    // Even a remote zone that is much faster does not pull healthy local traffic away.
    succeed(&*picker, "b1", ms(0.1));
    let counts = counts(&*picker, 1_000);
    assert_eq!(counts.get("a1"), Some(&500));
    assert_eq!(counts.get("a2"), Some(&500));
}

#[tokio::test(start_paused = true)]
async fn spills_the_missing_local_capacity_and_everything_when_local_is_gone() {
    let picker = ZoneAware::new(ZoneConfig::new("a"), None).build(arcs(three_zones()));
    eject(&*picker, "a2");
    // Half the local capacity is ejected: half the calls go remote, counted, not drawn.
    assert_eq!(remote_picks(&*picker, 1_000), 500);
    eject(&*picker, "a1");
    assert_eq!(remote_picks(&*picker, 1_000), 1_000);

    // A caller whose zone has no instances at all goes remote ("cross zone, primary").
    let elsewhere = ZoneAware::new(ZoneConfig::new("x"), None).build(arcs(three_zones()));
    assert_eq!(counts(&*elsewhere, 100).values().sum::<usize>(), 100);
}

#[tokio::test(start_paused = true)]
async fn an_ejected_instance_returns_after_the_ejection_time() {
    let picker = ZoneAware::new(ZoneConfig::new("a"), None).build(arcs(three_zones()));
    eject(&*picker, "a1");
    eject(&*picker, "a2");
    assert_eq!(remote_picks(&*picker, 100), 100);
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(remote_picks(&*picker, 100), 0);
}

#[tokio::test(start_paused = true)]
async fn with_every_instance_ejected_it_still_answers() {
    let picker = ZoneAware::new(ZoneConfig::new("a"), None).build(arcs(three_zones()));
    for addr in ["a1", "a2", "b1", "b2", "c1"] {
        eject(&*picker, addr);
    }
    let counts = counts(&*picker, 500);
    assert!(counts.values().all(|&c| c == 100), "{counts:?}");
}

#[tokio::test(start_paused = true)]
async fn remote_zones_are_weighted_by_measured_rtt() {
    let picker = ZoneAware::new(ZoneConfig::new("x"), None)
        .build(arcs(vec![inst("b1", "b", 100), inst("c1", "c", 100)]));
    succeed(&*picker, "b1", ms(2.0));
    succeed(&*picker, "c1", ms(3.0));
    let n = 20_000;
    let counts = counts(&*picker, n);
    // Weight / RTT: 1/2 against 1/3, so b takes 60 %.
    let b = counts["b1"] as f64 / n as f64;
    assert!((b - 0.6).abs() < 0.015, "b share {b}");
}

#[tokio::test(start_paused = true)]
async fn falls_back_home_above_3_5_ms_and_returns_below_3_3_ms() {
    let events = EventBus::new(1024);
    let mut rx = events.subscribe();
    let config = ZoneConfig::new("a");
    assert_eq!(config.threshold, ms(3.5));
    let picker = ZoneAware::new(config, Some(events)).build(arcs(vec![
        inst("a1", "a", 100),
        inst("a2", "a", 100),
        inst("b1", "b", 100),
    ]));
    eject(&*picker, "a2");
    for _ in 0..10 {
        succeed(&*picker, "b1", ms(3.2));
    }
    assert_eq!(remote_picks(&*picker, 1_000), 500, "normal spill");
    assert_eq!(shares(&mut rx), [0.5]);

    // 3.8 ms samples: the average (alpha 0.3) passes 3.5 ms at the second one.
    succeed(&*picker, "b1", ms(3.8));
    assert_eq!(
        remote_picks(&*picker, 1_000),
        500,
        "3.38 ms is under the threshold"
    );
    succeed(&*picker, "b1", ms(3.8));
    let remote = remote_picks(&*picker, 1_000);
    assert!(
        (24..=26).contains(&remote),
        "degraded: 5 % of the spill, got {remote}"
    );
    assert_eq!(shares(&mut rx), [0.025]);

    // Back to 3.4 ms: under the threshold, but not under the recovery bar. It stays home.
    for _ in 0..30 {
        succeed(&*picker, "b1", ms(3.4));
    }
    let remote = remote_picks(&*picker, 1_000);
    assert!(
        (24..=26).contains(&remote),
        "hysteresis holds, got {remote}"
    );
    assert!(shares(&mut rx).is_empty());

    // Under 3.3 ms: the zone recovers and takes its spill again.
    for _ in 0..5 {
        succeed(&*picker, "b1", ms(3.0));
    }
    let remote = remote_picks(&*picker, 1_000);
    assert!((499..=501).contains(&remote), "recovered, got {remote}");
    let reported = shares(&mut rx);
    assert_eq!(reported, [0.5]);
}

#[tokio::test(start_paused = true)]
async fn with_no_local_capacity_a_slow_remote_still_takes_everything() {
    let picker = ZoneAware::new(ZoneConfig::new("a"), None).build(arcs(three_zones()));
    eject(&*picker, "a1");
    eject(&*picker, "a2");
    for addr in ["b1", "c1"] {
        for _ in 0..5 {
            succeed(&*picker, addr, ms(8.0));
        }
    }
    assert_eq!(remote_picks(&*picker, 1_000), 1_000);
}
