//! Deadlines through `ClientBuilder` in virtual time: the timeout fires exactly at the
//! deadline with `DeadlineExceeded`, cancellation reaches the transport, RPCTimeout is
//! stamped from the call's deadline or the per-attempt cap.

mod client_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use client_support::{drain, idempotent, reply, DropFlag, Recorder};
use faultline_core::client::ClientBuilder;
use faultline_core::event::{EventBus, EventKind, Side};
use faultline_core::frame::IntKey;
use faultline_core::rpc::{RpcError, RpcErrorKind};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn timeout_fires_at_the_deadline_and_cancels_the_attempt() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .timeout(Duration::from_millis(100))
        .build(rec.service(move |_, _| {
            let guard = DropFlag(flag.clone());
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok(reply(0))
            }
        }));
    let started = Instant::now();
    let err = client.call(idempotent()).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    assert!(
        matches!(err, RpcError::Timeout { budget } if budget == Duration::from_millis(100)),
        "{err:?}"
    );
    assert!(dropped.load(Ordering::SeqCst), "the attempt was cancelled");
    let events = drain(&mut rx);
    let exceeded: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventKind::DeadlineExceeded {
                side,
                method,
                budget,
            } => Some((*side, method.to_string(), *budget)),
            _ => None,
        })
        .collect();
    assert_eq!(
        exceeded,
        [(Side::Client, "echo".to_string(), Duration::from_millis(100))]
    );
    assert!(events.iter().any(|e| matches!(
        e,
        EventKind::CallFinished {
            error: Some(RpcErrorKind::Timeout),
            ..
        }
    )));
}

#[tokio::test(start_paused = true)]
async fn the_calls_own_deadline_wins_over_the_default() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .timeout(Duration::from_millis(100))
        .no_retry()
        .build(rec.service(|_, _| async {
            std::future::pending::<()>().await;
            Ok(reply(0))
        }));
    let mut call = idempotent();
    call.options.deadline = Some(Instant::now() + Duration::from_millis(30));
    let started = Instant::now();
    client.call(call).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_millis(30));
    assert_eq!(
        rec.attempts()[0].call.metadata.rpc_timeout(),
        Some(Duration::from_millis(30))
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_call_cancels_the_transport_and_reports_cancelled() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .build(rec.service(move |_, _| {
            let guard = DropFlag(flag.clone());
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok(reply(0))
            }
        }));
    let task = tokio::spawn({
        let client = client.clone();
        async move { client.call(idempotent()).await }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(rec.count(), 1);
    assert!(!dropped.load(Ordering::SeqCst));
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(dropped.load(Ordering::SeqCst), "the attempt was dropped");
    let finished: Vec<_> = drain(&mut rx)
        .into_iter()
        .filter_map(|e| match e {
            EventKind::CallFinished {
                error, duration, ..
            } => Some((error, duration)),
            _ => None,
        })
        .collect();
    assert_eq!(
        finished,
        [(Some(RpcErrorKind::Cancelled), Duration::from_millis(10))]
    );
}

#[tokio::test(start_paused = true)]
async fn rpc_timeout_is_the_per_attempt_cap_when_it_is_shorter() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .timeout(Duration::from_millis(250))
        .attempt_timeout(Duration::from_millis(80))
        .build(rec.service(|_, _| async { Ok(reply(0)) }));
    client.call(idempotent()).await.unwrap();
    let seen = &rec.attempts()[0].call;
    assert_eq!(seen.metadata.int_str(IntKey::RpcTimeout), Some("80"));
}

#[tokio::test(start_paused = true)]
async fn without_a_deadline_no_rpc_timeout_goes_on_the_wire() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc").build(rec.service(|_, _| async { Ok(reply(0)) }));
    client.call(idempotent()).await.unwrap();
    assert_eq!(rec.attempts()[0].call.metadata.rpc_timeout(), None);
}

#[tokio::test(start_paused = true)]
async fn an_attempt_with_no_time_left_is_not_sent() {
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .no_retry()
        .build(rec.service(|_, _| async { Ok(reply(0)) }));
    let mut call = idempotent();
    call.options.deadline = Some(Instant::now());
    let err = client.call(call).await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::Timeout);
    assert_eq!(rec.count(), 0);
}
