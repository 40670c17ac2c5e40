//! Fallback through `ClientBuilder`: which errors a policy covers, how a fallback reply is
//! marked, and the `Fallback` and `CallFinished` events.

mod client_support;

use std::time::Duration;

use client_support::{drain, idempotent, io_error, reply, Recorder};
use faultline_core::breaker::BreakerScope;
use faultline_core::client::{ClientBuilder, FallbackOn, FallbackPolicy};
use faultline_core::event::{EventBus, EventKind, FallbackReason};
use faultline_core::rpc::{ReplyOrigin, RpcError, RpcErrorKind};

fn canned(on: FallbackOn) -> FallbackPolicy {
    FallbackPolicy::new(on, |call, _| {
        let mut r = reply(99);
        r.body = format!("fallback for {}", call.method).into();
        Some(r)
    })
}

fn fallbacks(events: &[EventKind]) -> Vec<FallbackReason> {
    events
        .iter()
        .filter_map(|e| match e {
            EventKind::Fallback { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_timeout_falls_back_to_a_marked_reply() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .timeout(Duration::from_millis(50))
        .fallback(canned(FallbackOn::TimeoutOrBreakerOpen))
        .build(rec.service(|_, _| async {
            std::future::pending::<()>().await;
            Ok(reply(0))
        }));
    let ok = client.call(idempotent()).await.unwrap();
    assert!(ok.is_fallback());
    assert_eq!(ok.origin, ReplyOrigin::Fallback);
    assert_eq!(&ok.body[..], b"fallback for echo");
    let events = drain(&mut rx);
    assert_eq!(fallbacks(&events), [FallbackReason::Timeout]);
    assert!(events.iter().any(|e| matches!(
        e,
        EventKind::CallFinished {
            fallback: true,
            error: None,
            ..
        }
    )));
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_falls_back_with_its_reason() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .no_retry()
        .fallback(canned(FallbackOn::TimeoutOrBreakerOpen))
        .build(rec.service(|_, _| async {
            Err(RpcError::BreakerOpen(BreakerScope::Instance {
                addr: "10.0.0.1:8888".into(),
            }))
        }));
    assert!(client.call(idempotent()).await.unwrap().is_fallback());
    assert_eq!(fallbacks(&drain(&mut rx)), [FallbackReason::BreakerOpen]);
}

#[tokio::test(start_paused = true)]
async fn timeout_or_breaker_policy_lets_other_errors_through() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .no_retry()
        .fallback(canned(FallbackOn::TimeoutOrBreakerOpen))
        .build(rec.service(|_, _| async { Err(io_error()) }));
    let err = client.call(idempotent()).await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::Io);
    assert!(fallbacks(&drain(&mut rx)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn any_error_policy_covers_every_error() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .no_retry()
        .fallback(canned(FallbackOn::AnyError))
        .build(rec.service(|_, _| async { Err(io_error()) }));
    assert!(client.call(idempotent()).await.unwrap().is_fallback());
    assert_eq!(
        fallbacks(&drain(&mut rx)),
        [FallbackReason::Error(RpcErrorKind::Io)]
    );
}

#[tokio::test(start_paused = true)]
async fn the_function_may_decline_and_keep_the_error() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .no_retry()
        .fallback(FallbackPolicy::new(FallbackOn::AnyError, |call, _| {
            (&*call.method != "echo").then(|| reply(0))
        }))
        .build(rec.service(|_, _| async { Err(io_error()) }));
    assert_eq!(
        client.call(idempotent()).await.unwrap_err().kind(),
        RpcErrorKind::Io
    );
    assert!(fallbacks(&drain(&mut rx)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_remote_reply_is_not_marked_even_if_the_function_would_answer() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .fallback(canned(FallbackOn::AnyError))
        .build(rec.service(|_, _| async { Ok(reply(0)) }));
    let ok = client.call(idempotent()).await.unwrap();
    assert!(!ok.is_fallback());
    assert_eq!(&ok.body[..], b"attempt 0");
}

#[tokio::test(start_paused = true)]
async fn a_fallback_reply_ends_the_call_without_retries() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .fallback(canned(FallbackOn::AnyError))
        .build(rec.service(|_, _| async { Err(io_error()) }));
    assert!(client.call(idempotent()).await.unwrap().is_fallback());
    assert_eq!(rec.count(), 1, "fallback sits below retry");
}
