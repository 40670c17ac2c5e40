//! Backup (hedged) requests through `ClientBuilder` in virtual time: the backup leaves
//! after the delay, the first success wins and the loser is cancelled, the budget bounds
//! backups, and a percentile delay follows observed latency.

mod client_support;

use std::time::Duration;

use client_support::{drain, idempotent, io_error, reply, DropCount, Recorder};
use faultline_core::client::retry::{
    BackupDelay, BudgetConfig, RetryBreakerConfig, RetryConfig, RETRY_MARK_KEY,
};
use faultline_core::client::ClientBuilder;
use faultline_core::event::{EventBus, EventKind, RetryDenial};
use tokio::time::Instant;

/// Backup requests only: no failure retry, no budget, no retry breaker.
fn backup(delay: BackupDelay) -> RetryConfig {
    RetryConfig {
        max_retries: 0,
        budget: BudgetConfig::disabled(),
        breaker: RetryBreakerConfig::disabled(),
        backup: Some(delay),
        ..RetryConfig::default()
    }
}

fn fixed(ms: u64) -> RetryConfig {
    backup(BackupDelay::Fixed {
        delay: Duration::from_millis(ms),
    })
}

fn backups(events: &[EventKind]) -> Vec<Duration> {
    events
        .iter()
        .filter_map(|e| match e {
            EventKind::BackupRequest { after, .. } => Some(*after),
            _ => None,
        })
        .collect()
}

/// Attempt 0 answers after `first` ms, attempt 1 after `second` ms; each holds a guard of
/// `drops` so cancellation is visible.
fn slow_then_fast(
    rec: &Recorder,
    drops: &DropCount,
    first: u64,
    second: u64,
) -> impl faultline_core::client::CallService {
    let drops = drops.clone();
    rec.service(move |n, call| {
        let guard = drops.guard();
        async move {
            let _guard = guard;
            let ms = if call.attempt == 0 { first } else { second };
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(reply(n as u32))
        }
    })
}

#[tokio::test(start_paused = true)]
async fn backup_fires_after_the_delay_and_the_first_success_wins() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let drops = DropCount::default();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(fixed(20))
        .build(slow_then_fast(&rec, &drops, 100, 10));
    let started = Instant::now();
    let ok = client.call(idempotent()).await.unwrap();
    assert_eq!(&ok.body[..], b"attempt 1", "the backup answered first");
    assert_eq!(started.elapsed(), Duration::from_millis(30));
    let attempts = rec.attempts();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1].at, Duration::from_millis(20));
    assert_eq!(attempts[1].call.attempt, 1);
    assert_eq!(
        attempts[1]
            .call
            .metadata
            .string_value(RETRY_MARK_KEY)
            .map(|v| &v[..]),
        Some(&b"1"[..])
    );
    assert_eq!(
        drops.get(),
        2,
        "the slow first attempt was cancelled, not left running"
    );
    assert_eq!(backups(&drain(&mut rx)), [Duration::from_millis(20)]);
}

#[tokio::test(start_paused = true)]
async fn no_backup_when_the_first_attempt_answers_in_time() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let drops = DropCount::default();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(fixed(20))
        .build(slow_then_fast(&rec, &drops, 19, 1));
    let ok = client.call(idempotent()).await.unwrap();
    assert_eq!(&ok.body[..], b"attempt 0");
    assert_eq!(rec.count(), 1);
    assert!(backups(&drain(&mut rx)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn non_idempotent_calls_are_not_hedged() {
    let rec = Recorder::new();
    let drops = DropCount::default();
    let client = ClientBuilder::new("svc")
        .retry(fixed(20))
        .build(slow_then_fast(&rec, &drops, 100, 1));
    let mut call = idempotent();
    call.options.idempotent = false;
    let started = Instant::now();
    client.call(call).await.unwrap();
    assert_eq!(rec.count(), 1);
    assert_eq!(started.elapsed(), Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn a_failed_backup_leaves_the_first_attempt_to_answer() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .retry(fixed(20))
        .build(rec.service(|n, call| async move {
            if call.attempt == 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(reply(n as u32))
            } else {
                Err(io_error())
            }
        }));
    let started = Instant::now();
    let ok = client.call(idempotent()).await.unwrap();
    assert_eq!(&ok.body[..], b"attempt 0");
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    assert_eq!(rec.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_bounds_backup_requests() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let drops = DropCount::default();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(RetryConfig {
            budget: BudgetConfig {
                ttl: Duration::from_secs(10),
                min_per_sec: 0,
                ratio: 0.1,
                ..BudgetConfig::default()
            },
            ..fixed(20)
        })
        .build(slow_then_fast(&rec, &drops, 50, 50));
    for _ in 0..20 {
        client.call(idempotent()).await.unwrap();
    }
    let events = drain(&mut rx);
    // Ten calls deposit one backup's worth; no reserve.
    assert_eq!(backups(&events).len(), 2);
    let denied = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                EventKind::RetryDenied {
                    reason: RetryDenial::Budget,
                    ..
                }
            )
        })
        .count();
    assert_eq!(denied, 18);
    assert_eq!(rec.count(), 22);
}

#[tokio::test(start_paused = true)]
async fn percentile_delay_follows_observed_latency() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(backup(BackupDelay::Percentile {
            percentile: 0.5,
            min_samples: 10,
            period: Duration::from_secs(1),
        }))
        .build(rec.service(|n, call| async move {
            let ms = match (n, call.attempt) {
                (0..=19, _) => 10,
                (_, 0) => 200,
                _ => 5,
            };
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(reply(n as u32))
        }));
    for _ in 0..20 {
        client.call(idempotent()).await.unwrap();
    }
    assert!(
        backups(&drain(&mut rx)).is_empty(),
        "no data yet, no backup"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = Instant::now();
    let ok = client.call(idempotent()).await.unwrap();
    assert_eq!(&ok.body[..], b"attempt 21");
    assert_eq!(started.elapsed(), Duration::from_millis(15));
    assert_eq!(backups(&drain(&mut rx)), [Duration::from_millis(10)]);
}
