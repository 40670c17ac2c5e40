//! The breaker layers around `tower::service_fn` inner services, under paused tokio time
//! (virtual, advanced by hand; no sleeps): the service breaker opens once the window holds
//! enough failures, refuses with `RpcError::BreakerOpen` and a `BreakerRejected` event,
//! probes after cooling and closes; timeouts count, errors that say nothing about the callee
//! do not; a dropped probe frees its slot; the instance breaker keys by target address.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use faultline_core::breaker::{
    BreakerConfig, BreakerScope, BreakerState, InstanceBreakerLayer, ServiceBreakerLayer,
};
use faultline_core::event::{Event, EventBus, EventKind};
use faultline_core::protocol::MessageType;
use faultline_core::rpc::{Call, Instance, Reply, ReplyOrigin, RpcError, RpcErrorKind};
use tokio::sync::broadcast::Receiver;
use tower::{service_fn, Layer, Service, ServiceExt};

fn reply() -> Reply {
    Reply {
        kind: MessageType::Reply,
        body: Bytes::new(),
        metadata: Default::default(),
        instance: None,
        origin: ReplyOrigin::Remote,
    }
}

fn reset() -> RpcError {
    RpcError::Io {
        addr: "10.0.0.1:8888".into(),
        kind: std::io::ErrorKind::ConnectionReset,
        detail: "reset by peer".into(),
    }
}

fn echo() -> Call {
    Call::new("echo", Bytes::from_static(b"args"))
}

fn to(addr: &str) -> Call {
    let mut call = echo();
    call.target = Some(Arc::new(Instance::new(addr)));
    call
}

/// A service that answers while `healthy` is set and fails with a reset otherwise.
fn healthy_while(
    healthy: &Arc<AtomicBool>,
) -> impl Service<Call, Response = Reply, Error = RpcError, Future: Send> + Clone {
    let healthy = healthy.clone();
    service_fn(move |_call: Call| {
        let ok = healthy.load(SeqCst);
        async move {
            match ok {
                true => Ok(reply()),
                false => Err(reset()),
            }
        }
    })
}

/// Every event emitted so far.
fn drain(rx: &mut Receiver<Arc<Event>>) -> Vec<Arc<Event>> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn transitions(events: &[Arc<Event>]) -> Vec<(BreakerState, BreakerState, u64, f64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::BreakerTransition {
                from,
                to,
                samples,
                error_rate,
                ..
            } => Some((*from, *to, *samples, *error_rate)),
            _ => None,
        })
        .collect()
}

fn service_scope() -> BreakerScope {
    BreakerScope::Service {
        caller: "frontend".into(),
        callee: "echo.svc".into(),
        method: "echo".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn service_breaker_opens_probes_and_closes() {
    let bus = EventBus::new(1024);
    let mut rx = bus.subscribe();
    let healthy = Arc::new(AtomicBool::new(false));
    let inner = healthy_while(&healthy);
    let layer = ServiceBreakerLayer::new(
        "frontend",
        "echo.svc",
        BreakerConfig::default(),
        bus.clone(),
    )
    .unwrap();
    let mut svc = layer.layer(inner);

    // 200 failures, one every 10 ms: the window fills and the last one trips the breaker.
    for i in 0..200 {
        let err = svc.ready().await.unwrap().call(echo()).await.unwrap_err();
        assert_eq!(err.kind(), RpcErrorKind::Io, "call {i}");
        tokio::time::advance(Duration::from_millis(10)).await;
    }
    let events = drain(&mut rx);
    assert_eq!(
        transitions(&events),
        [(BreakerState::Closed, BreakerState::Open, 200, 1.0)]
    );
    let EventKind::BreakerTransition { scope, .. } = &events[0].kind else {
        unreachable!()
    };
    assert_eq!(scope, &service_scope());
    // The trip happened with the 200th call, at 1.99 s of virtual time.
    assert_eq!(events[0].at, Duration::from_millis(1990));

    // Refused without reaching the service.
    let err = svc.ready().await.unwrap().call(echo()).await.unwrap_err();
    assert!(matches!(&err, RpcError::BreakerOpen(s) if s == &service_scope()));
    let events = drain(&mut rx);
    assert!(matches!(&events[..], [e] if matches!(&e.kind,
        EventKind::BreakerRejected { scope } if scope == &service_scope())));

    // Cooling (100 ms from the trip) passes; the service has recovered; probes close it.
    tokio::time::advance(Duration::from_millis(90)).await;
    healthy.store(true, SeqCst);
    for _ in 0..5 {
        svc.ready().await.unwrap().call(echo()).await.unwrap();
    }
    assert_eq!(
        transitions(&drain(&mut rx)),
        [
            (BreakerState::Open, BreakerState::HalfOpen, 0, 0.0),
            (BreakerState::HalfOpen, BreakerState::Closed, 5, 0.0)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens_with_longer_cooling() {
    let bus = EventBus::new(1024);
    let mut rx = bus.subscribe();
    let inner = service_fn(|_call: Call| async { Err::<Reply, _>(reset()) });
    let layer = ServiceBreakerLayer::new(
        "frontend",
        "echo.svc",
        BreakerConfig::default(),
        bus.clone(),
    )
    .unwrap();
    let mut svc = layer.layer(inner);
    for _ in 0..200 {
        let _ = svc.ready().await.unwrap().call(echo()).await;
    }
    tokio::time::advance(Duration::from_millis(100)).await;
    let probe = svc.ready().await.unwrap().call(echo()).await.unwrap_err();
    assert_eq!(probe.kind(), RpcErrorKind::Io);
    // Second trip: 200 ms of cooling.
    tokio::time::advance(Duration::from_millis(199)).await;
    let err = svc.ready().await.unwrap().call(echo()).await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::BreakerOpen);
    tokio::time::advance(Duration::from_millis(1)).await;
    let err = svc.ready().await.unwrap().call(echo()).await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::Io, "a second probe went through");
    assert_eq!(
        transitions(&drain(&mut rx)),
        [
            (BreakerState::Closed, BreakerState::Open, 200, 1.0),
            (BreakerState::Open, BreakerState::HalfOpen, 0, 0.0),
            (BreakerState::HalfOpen, BreakerState::Open, 1, 1.0),
            (BreakerState::Open, BreakerState::HalfOpen, 0, 0.0),
            (BreakerState::HalfOpen, BreakerState::Open, 1, 1.0),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn timeouts_count_and_errors_that_say_nothing_about_the_callee_do_not() {
    let bus = EventBus::new(16);
    let layer =
        ServiceBreakerLayer::new("frontend", "echo.svc", BreakerConfig::default(), bus).unwrap();
    let mut cancelled = layer.layer(service_fn(|_call: Call| async {
        Err::<Reply, _>(RpcError::Cancelled)
    }));
    for _ in 0..300 {
        let err = cancelled
            .ready()
            .await
            .unwrap()
            .call(echo())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), RpcErrorKind::Cancelled);
    }
    // Same layer, same breaker: 200 timeouts trip it.
    let mut timeouts = layer.layer(service_fn(|_call: Call| async {
        Err::<Reply, _>(RpcError::Timeout {
            budget: Duration::from_millis(50),
        })
    }));
    for _ in 0..200 {
        let err = timeouts
            .ready()
            .await
            .unwrap()
            .call(echo())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), RpcErrorKind::Timeout);
    }
    let err = timeouts
        .ready()
        .await
        .unwrap()
        .call(echo())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::BreakerOpen);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_frees_its_slot() {
    let config = BreakerConfig {
        half_open_probes: 1,
        ..BreakerConfig::default()
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let inner = service_fn({
        let calls = calls.clone();
        move |_call: Call| {
            let n = calls.fetch_add(1, SeqCst);
            async move {
                match n {
                    0..200 => Err(reset()),
                    // The first probe hangs until the caller gives up.
                    200 => std::future::pending().await,
                    _ => Ok(reply()),
                }
            }
        }
    });
    let layer =
        ServiceBreakerLayer::new("frontend", "echo.svc", config, EventBus::new(16)).unwrap();
    let mut svc = layer.layer(inner);
    for _ in 0..200 {
        let _ = svc.ready().await.unwrap().call(echo()).await;
    }
    tokio::time::advance(Duration::from_millis(100)).await;
    let hanging = svc.ready().await.unwrap().call(echo());
    let err = svc.ready().await.unwrap().call(echo()).await.unwrap_err();
    assert_eq!(
        err.kind(),
        RpcErrorKind::BreakerOpen,
        "the one probe slot is taken"
    );
    let timed_out = tokio::time::timeout(Duration::from_millis(50), hanging).await;
    assert!(timed_out.is_err());
    svc.ready().await.unwrap().call(echo()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn instance_breaker_keys_by_target_address() {
    let bus = EventBus::new(1024);
    let mut rx = bus.subscribe();
    let inner = service_fn(|call: Call| async move {
        match call.target.as_deref().map(|i| &*i.addr) {
            Some("10.0.0.1:8888") => Err(reset()),
            _ => Ok(reply()),
        }
    });
    let layer = InstanceBreakerLayer::new(BreakerConfig::default(), bus.clone()).unwrap();
    let mut svc = layer.layer(inner);
    for _ in 0..200 {
        let _ = svc.ready().await.unwrap().call(to("10.0.0.1:8888")).await;
        svc.ready()
            .await
            .unwrap()
            .call(to("10.0.0.2:8888"))
            .await
            .unwrap();
    }
    let err = svc
        .ready()
        .await
        .unwrap()
        .call(to("10.0.0.1:8888"))
        .await
        .unwrap_err();
    let bad = BreakerScope::Instance {
        addr: "10.0.0.1:8888".into(),
    };
    assert!(matches!(&err, RpcError::BreakerOpen(s) if s == &bad));
    svc.ready()
        .await
        .unwrap()
        .call(to("10.0.0.2:8888"))
        .await
        .unwrap();
    // No target: nothing to key by, the call passes.
    svc.ready().await.unwrap().call(echo()).await.unwrap();
    let events = drain(&mut rx);
    let scopes: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::BreakerTransition { scope, .. } => Some(scope.clone()),
            EventKind::BreakerRejected { scope } => Some(scope.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(scopes, [bad.clone(), bad]);
}

#[test]
fn layers_refuse_an_invalid_config() {
    let config = BreakerConfig {
        buckets: 0,
        ..BreakerConfig::default()
    };
    assert!(InstanceBreakerLayer::new(config.clone(), EventBus::new(1)).is_err());
    assert!(ServiceBreakerLayer::new("a", "b", config, EventBus::new(1)).is_err());
}

/// The move from OPEN to HALF_OPEN is reported when the cooling ends, with no call to
/// cause it (a timer on the runtime), stamped with the cooling's end; the next call is the
/// first probe and closes the breaker.
#[tokio::test(start_paused = true)]
async fn the_end_of_cooling_is_reported_when_it_happens() {
    let bus = EventBus::new(1024);
    let mut rx = bus.subscribe();
    let healthy = Arc::new(AtomicBool::new(false));
    let inner = healthy_while(&healthy);
    let config = BreakerConfig {
        half_open_successes: 1,
        ..BreakerConfig::default()
    };
    let mut svc = ServiceBreakerLayer::new("frontend", "echo.svc", config, bus.clone())
        .unwrap()
        .layer(inner);
    for _ in 0..200 {
        let _ = svc.ready().await.unwrap().call(echo()).await;
    }
    let tripped = drain(&mut rx);
    assert_eq!(
        transitions(&tripped),
        [(BreakerState::Closed, BreakerState::Open, 200, 1.0)]
    );
    assert!(
        tripped[0].call.is_some(),
        "the trip names the call that caused it"
    );

    // Cooling is 100 ms; the timer fires at its end, before this sleep does.
    tokio::time::sleep(Duration::from_millis(101)).await;
    let cooled = drain(&mut rx);
    assert_eq!(
        transitions(&cooled),
        [(BreakerState::Open, BreakerState::HalfOpen, 0, 0.0)]
    );
    assert_eq!(cooled[0].at, Duration::from_millis(100));
    assert_eq!(cooled[0].call, None, "no call caused it");

    healthy.store(true, SeqCst);
    svc.ready().await.unwrap().call(echo()).await.unwrap();
    assert_eq!(
        transitions(&drain(&mut rx)),
        [(BreakerState::HalfOpen, BreakerState::Closed, 1, 0.0)]
    );
}
