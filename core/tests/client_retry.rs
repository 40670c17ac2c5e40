//! Failure retry through `ClientBuilder` over a recording `service_fn` transport, in
//! virtual time: which errors and methods are retried, max attempts, the budget, the retry
//! breaker, chain-stop marks, backoff timing, deadline awareness, RPCTimeout per attempt.

mod client_support;

use std::time::Duration;

use client_support::{app_error, drain, idempotent, io_error, reply, Recorder};
use faultline_core::client::retry::{
    Backoff, BudgetConfig, RetryBreakerConfig, RetryConfig, RETRY_MARK_KEY,
};
use faultline_core::client::ClientBuilder;
use faultline_core::event::{EventBus, EventKind, RetryDenial};
use faultline_core::rpc::RpcErrorKind;
use tokio::time::Instant;

/// Retry with neither budget nor retry breaker, so each rule can be seen alone.
fn plain() -> RetryConfig {
    RetryConfig {
        budget: BudgetConfig::disabled(),
        breaker: RetryBreakerConfig::disabled(),
        ..RetryConfig::default()
    }
}

fn retries_and_denials(events: &[EventKind]) -> (Vec<u32>, Vec<RetryDenial>) {
    let mut retries = Vec::new();
    let mut denials = Vec::new();
    for event in events {
        match event {
            EventKind::Retry { attempt, .. } => retries.push(*attempt),
            EventKind::RetryDenied { reason, .. } => denials.push(*reason),
            _ => {}
        }
    }
    (retries, denials)
}

#[tokio::test(start_paused = true)]
async fn retries_a_retryable_error_up_to_max_retries() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(plain())
        .build(rec.service(|_, _| async { Err(io_error()) }));
    let err = client.call(idempotent()).await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::Io);
    assert_eq!(rec.count(), 3, "first attempt + default 2 retries");
    let attempts: Vec<u32> = rec.attempts().iter().map(|s| s.call.attempt).collect();
    assert_eq!(attempts, [0, 1, 2]);
    let (retries, denials) = retries_and_denials(&drain(&mut rx));
    assert_eq!(retries, [1, 2]);
    assert_eq!(denials, [RetryDenial::MaxAttempts]);
}

#[tokio::test(start_paused = true)]
async fn stops_retrying_at_the_first_success() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .retry(RetryConfig {
            max_retries: 4,
            ..plain()
        })
        .build(rec.service(|n, _| async move {
            if n < 3 {
                Err(io_error())
            } else {
                Ok(reply(n as u32))
            }
        }));
    let ok = client.call(idempotent()).await.unwrap();
    assert_eq!(&ok.body[..], b"attempt 3");
    assert_eq!(rec.count(), 4);
}

#[tokio::test(start_paused = true)]
async fn does_not_retry_a_non_retryable_error() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(plain())
        .build(rec.service(|_, _| async { Err(app_error()) }));
    let err = client.call(idempotent()).await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::Application);
    assert_eq!(rec.count(), 1);
    let (retries, denials) = retries_and_denials(&drain(&mut rx));
    assert!(retries.is_empty());
    assert_eq!(denials, [RetryDenial::NotRetryable]);
}

#[tokio::test(start_paused = true)]
async fn retries_only_idempotent_methods_unless_configured() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus.clone())
        .retry(plain())
        .build(rec.service(|_, _| async { Err(io_error()) }));
    let mut call = idempotent();
    call.options.idempotent = false;
    client.call(call.clone()).await.unwrap_err();
    assert_eq!(rec.count(), 1);
    let (_, denials) = retries_and_denials(&drain(&mut rx));
    assert_eq!(denials, [RetryDenial::NotIdempotent]);

    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(RetryConfig {
            retry_non_idempotent: true,
            ..plain()
        })
        .build(rec.service(|_, _| async { Err(io_error()) }));
    client.call(call).await.unwrap_err();
    assert_eq!(rec.count(), 3);
}

#[tokio::test(start_paused = true)]
async fn budget_caps_amplification_at_ten_percent_plus_reserve() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(RetryConfig {
            budget: BudgetConfig {
                ttl: Duration::from_secs(10),
                min_per_sec: 1,
                ratio: 0.1,
                ..BudgetConfig::default()
            },
            ..plain()
        })
        .build(rec.service(|_, _| async { Err(io_error()) }));
    for _ in 0..1000 {
        client.call(idempotent()).await.unwrap_err();
    }
    let extra = rec.count() - 1000;
    // 1000 deposits buy 100 retries, the reserve (1/s over 10 s) 10 more; without the
    // budget these calls would make 2000 retries.
    assert!(
        (100..=110).contains(&extra),
        "{extra} extra attempts for 1000 calls"
    );
    let (retries, denials) = retries_and_denials(&drain(&mut rx));
    assert_eq!(retries.len(), extra);
    assert!(denials.contains(&RetryDenial::Budget));
}

#[tokio::test(start_paused = true)]
async fn retry_breaker_stops_retries_at_a_high_error_rate_and_recovers() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(RetryConfig {
            breaker: RetryBreakerConfig::default(),
            ..plain()
        })
        .build(rec.service(|_, _| async { Err(io_error()) }));
    for _ in 0..100 {
        client.call(idempotent()).await.unwrap_err();
    }
    // Three calls of three attempts fill 9 samples; from the 10th failed sample on
    // (min_samples 10, all failed) no call is retried.
    assert_eq!(rec.count(), 9 + 97);
    let (_, denials) = retries_and_denials(&drain(&mut rx));
    let stopped = denials
        .iter()
        .filter(|d| **d == RetryDenial::RetryBreaker)
        .count();
    assert_eq!(stopped, 97);

    tokio::time::advance(Duration::from_secs(10)).await;
    client.call(idempotent()).await.unwrap_err();
    assert_eq!(rec.count(), 106 + 3, "the window forgot the failures");
}

#[tokio::test(start_paused = true)]
async fn a_call_marked_as_a_retry_upstream_is_not_retried() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(plain())
        .build(rec.service(|_, _| async { Err(io_error()) }));
    let mut call = idempotent();
    call.metadata.set_string(RETRY_MARK_KEY, "1");
    client.call(call.clone()).await.unwrap_err();
    assert_eq!(rec.count(), 1);
    let (_, denials) = retries_and_denials(&drain(&mut rx));
    assert_eq!(denials, [RetryDenial::ChainStop]);

    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .retry(RetryConfig {
            chain_stop: false,
            ..plain()
        })
        .build(rec.service(|_, _| async { Err(io_error()) }));
    client.call(call).await.unwrap_err();
    assert_eq!(rec.count(), 3, "chain-stop off");
}

#[tokio::test(start_paused = true)]
async fn every_retry_carries_the_mark_and_the_first_attempt_does_not() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .retry(plain())
        .build(rec.service(|_, _| async { Err(io_error()) }));
    client.call(idempotent()).await.unwrap_err();
    let marks: Vec<Option<String>> = rec
        .attempts()
        .iter()
        .map(|s| {
            s.call
                .metadata
                .string_value(RETRY_MARK_KEY)
                .map(|v| String::from_utf8(v.to_vec()).unwrap())
        })
        .collect();
    assert_eq!(marks, [None, Some("1".into()), Some("2".into())]);
}

#[tokio::test(start_paused = true)]
async fn fixed_backoff_spaces_attempts_in_virtual_time() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .retry(RetryConfig {
            backoff: Backoff::Fixed {
                delay: Duration::from_millis(50),
            },
            ..plain()
        })
        .build(rec.service(|_, _| async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Err(io_error())
        }));
    client.call(idempotent()).await.unwrap_err();
    let at: Vec<u128> = rec.attempts().iter().map(|s| s.at.as_millis()).collect();
    assert_eq!(at, [0, 55, 110]);
}

#[tokio::test(start_paused = true)]
async fn random_backoff_stays_in_bounds_and_replays_by_seed() {
    async fn gaps(seed: u64) -> Vec<Duration> {
        let rec = Recorder::new();
        let client = ClientBuilder::new("svc")
            .retry(RetryConfig {
                max_retries: 5,
                backoff: Backoff::Random {
                    min: Duration::from_millis(10),
                    max: Duration::from_millis(40),
                },
                seed: Some(seed),
                ..plain()
            })
            .build(rec.service(|_, _| async { Err(io_error()) }));
        for _ in 0..4 {
            client.call(idempotent()).await.unwrap_err();
        }
        let at: Vec<Duration> = rec.attempts().iter().map(|s| s.at).collect();
        at.chunks(6)
            .flat_map(|call| call.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>())
            .collect()
    }
    let first = gaps(42).await;
    assert_eq!(first.len(), 20);
    assert!(first.iter().all(|g| (10..=40).contains(&g.as_millis())));
    assert!(first.iter().any(|g| *g != first[0]), "gaps vary: {first:?}");
    assert_eq!(first, gaps(42).await, "same seed, same waits");
}

#[tokio::test(start_paused = true)]
async fn no_retry_without_enough_time_left() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .timeout(Duration::from_millis(100))
        .retry(RetryConfig {
            min_remaining: Duration::from_millis(5),
            ..plain()
        })
        .build(rec.service(|_, _| async {
            tokio::time::sleep(Duration::from_millis(48)).await;
            Err(io_error())
        }));
    let started = Instant::now();
    let err = client.call(idempotent()).await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::Io, "the last attempt's error");
    assert_eq!(started.elapsed(), Duration::from_millis(96));
    assert_eq!(rec.count(), 2, "4 ms left after the second attempt");
    let (retries, denials) = retries_and_denials(&drain(&mut rx));
    assert_eq!(retries, [1]);
    assert_eq!(denials, [RetryDenial::Deadline]);
}

#[tokio::test(start_paused = true)]
async fn rpc_timeout_on_the_wire_shrinks_across_attempts() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .timeout(Duration::from_millis(200))
        .retry(RetryConfig {
            backoff: Backoff::Fixed {
                delay: Duration::from_millis(10),
            },
            ..plain()
        })
        .build(rec.service(|_, _| async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Err(io_error())
        }));
    client.call(idempotent()).await.unwrap_err();
    let budgets: Vec<u128> = rec
        .attempts()
        .iter()
        .map(|s| s.call.metadata.rpc_timeout().unwrap().as_millis())
        .collect();
    assert_eq!(budgets, [200, 160, 120]);
}

#[tokio::test(start_paused = true)]
async fn an_attempt_that_times_out_is_retried_within_the_call_deadline() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .timeout(Duration::from_millis(200))
        .attempt_timeout(Duration::from_millis(50))
        .retry(plain())
        .build(rec.service(|n, _| async move {
            if n == 0 {
                std::future::pending::<()>().await;
            }
            Ok(reply(n as u32))
        }));
    let started = Instant::now();
    let ok = client.call(idempotent()).await.unwrap();
    assert_eq!(&ok.body[..], b"attempt 1");
    assert_eq!(started.elapsed(), Duration::from_millis(50));
    let budgets: Vec<u128> = rec
        .attempts()
        .iter()
        .map(|s| s.call.metadata.rpc_timeout().unwrap().as_millis())
        .collect();
    assert_eq!(budgets, [50, 50], "each attempt gets the per-attempt cap");
    let errors: Vec<RpcErrorKind> = drain(&mut rx)
        .into_iter()
        .filter_map(|e| match e {
            EventKind::Retry { error, .. } => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(errors, [RpcErrorKind::Timeout]);
}

/// Breaker settings that open after two failures and stay open for a minute.
fn quick_breaker() -> faultline_core::breaker::BreakerConfig {
    faultline_core::breaker::BreakerConfig {
        min_samples: 2,
        error_rate: 0.5,
        cooling_base: Duration::from_secs(60),
        cooling_cap: Duration::from_secs(60),
        ..Default::default()
    }
}

/// A call the open service breaker refuses is not retried: the retry would meet the same
/// breaker. The transport never sees it, and the denial says why.
#[tokio::test(start_paused = true)]
async fn a_service_breaker_refusal_is_not_retried() {
    use faultline_core::breaker::{BreakerScope, ServiceBreakerLayer};
    use faultline_core::rpc::RpcError;

    // Two failures through the breaker open it.
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let breaker = ServiceBreakerLayer::new("caller", "svc", quick_breaker(), bus.clone()).unwrap();
    let rec = Recorder::new();
    let failing = ClientBuilder::new("svc")
        .events(bus.clone())
        .no_retry()
        .service_breaker(breaker.clone())
        .build(rec.service(|_, _| async { Err(app_error()) }));
    for _ in 0..2 {
        failing.call(idempotent()).await.unwrap_err();
    }
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(plain())
        .service_breaker(breaker)
        .build(rec.service(|n, _| async move { Ok(reply(n as u32)) }));
    drain(&mut rx);
    // With retries on, the refused call is not retried.
    let err = client.call(idempotent()).await.unwrap_err();
    assert!(
        matches!(err, RpcError::BreakerOpen(BreakerScope::Service { .. })),
        "{err}"
    );
    assert_eq!(
        rec.count(),
        2,
        "the refused call never reached the transport"
    );
    let (retries, denials) = retries_and_denials(&drain(&mut rx));
    assert_eq!(retries, Vec::<u32>::new());
    assert_eq!(denials, [RetryDenial::ServiceBreakerOpen]);
}

/// A call an open instance breaker refuses is retried, and the balancer sends the retry to
/// another instance, which answers.
#[tokio::test(start_paused = true)]
async fn an_instance_breaker_refusal_is_retried_on_another_instance() {
    use faultline_core::breaker::InstanceBreakerLayer;
    use faultline_core::lb::{Discovery, LoadBalanceLayer, WeightedRoundRobin};
    use faultline_core::rpc::Instance;

    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let discovery = Discovery::new([Instance::new("a:1"), Instance::new("b:1")]);
    let balancer = LoadBalanceLayer::new("svc", discovery, WeightedRoundRobin);
    let breakers = InstanceBreakerLayer::new(quick_breaker(), bus.clone()).unwrap();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(plain())
        .balancer(balancer)
        .instance_breaker(breakers)
        .build(rec.service(|n, call| async move {
            match call.target.as_deref().map(|i| &*i.addr) {
                Some("a:1") => Err(app_error()),
                _ => Ok(reply(n as u32)),
            }
        }));
    // Round robin: a fails (not retryable), b answers; twice: a's breaker opens.
    for _ in 0..2 {
        client.call(idempotent()).await.unwrap_err();
        client.call(idempotent()).await.unwrap();
    }
    drain(&mut rx);
    let sent = rec.count();
    // The next pick is a: refused by its breaker, retried, and b answers.
    let reply = client.call(idempotent()).await.unwrap();
    assert_eq!(
        rec.count(),
        sent + 1,
        "only b's attempt reached the transport"
    );
    let last = rec.attempts().pop().unwrap();
    assert_eq!(last.call.target.unwrap().addr.as_ref(), "b:1");
    assert_eq!(last.call.attempt, 1);
    assert!(!reply.is_fallback());
    let events = drain(&mut rx);
    assert!(
        events.iter().any(|e| matches!(
            e,
            EventKind::Retry {
                attempt: 1,
                error: RpcErrorKind::BreakerOpen,
                ..
            }
        )),
        "{events:?}"
    );
}
