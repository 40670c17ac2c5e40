//! `ClientBuilder`: breaker and balancer layers plug in at their documented places, every
//! attempt passes through them, and each call yields one `CallFinished` event.

mod client_support;

use std::sync::{Arc, Mutex};

use client_support::{drain, idempotent, io_error, reply, Recorder};
use faultline_core::client::retry::{BudgetConfig, RetryBreakerConfig, RetryConfig};
use faultline_core::client::ClientBuilder;
use faultline_core::event::{EventBus, EventKind, Side};
use faultline_core::rpc::{Call, Instance, RpcErrorKind};
use tower::util::MapRequestLayer;

type Log = Arc<Mutex<Vec<String>>>;

/// A layer that logs its name (and whether the call has a target yet) for every attempt.
fn tag(name: &'static str, log: &Log) -> MapRequestLayer<impl Fn(Call) -> Call + Clone> {
    let log = log.clone();
    MapRequestLayer::new(move |call: Call| {
        let routed = if call.target.is_some() { "+target" } else { "" };
        log.lock().unwrap().push(format!("{name}{routed}"));
        call
    })
}

#[tokio::test(start_paused = true)]
async fn layers_run_in_the_documented_order_on_every_attempt() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let log: Log = Arc::default();
    let pick = {
        let log = log.clone();
        MapRequestLayer::new(move |mut call: Call| {
            log.lock().unwrap().push("balancer".into());
            call.target = Some(Arc::new(Instance::new("10.0.0.7:8888")));
            call
        })
    };
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .retry(RetryConfig {
            budget: BudgetConfig::disabled(),
            breaker: RetryBreakerConfig::disabled(),
            ..RetryConfig::default()
        })
        .service_breaker(tag("service_breaker", &log))
        .balancer(pick)
        .instance_breaker(tag("instance_breaker", &log))
        .build(rec.service(|n, call| async move {
            if n == 0 {
                return Err(io_error());
            }
            let mut r = reply(n as u32);
            r.instance = call.target.clone();
            Ok(r)
        }));
    let ok = client.call(idempotent()).await.unwrap();
    assert_eq!(&ok.body[..], b"attempt 1");
    let once = ["service_breaker", "balancer", "instance_breaker+target"];
    let expected: Vec<String> = once
        .iter()
        .chain(once.iter())
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        *log.lock().unwrap(),
        expected,
        "retries pass every layer again"
    );

    let finished: Vec<_> = drain(&mut rx)
        .into_iter()
        .filter_map(|e| match e {
            EventKind::CallFinished {
                side,
                service,
                method,
                instance,
                error,
                fallback,
                ..
            } => Some((
                side,
                service.to_string(),
                method.to_string(),
                instance,
                error,
                fallback,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        finished,
        [(
            Side::Client,
            "svc".to_string(),
            "echo".to_string(),
            Some(Arc::from("10.0.0.7:8888")),
            None,
            false
        )]
    );
}

#[tokio::test(start_paused = true)]
async fn every_call_yields_one_call_finished() {
    let bus = EventBus::default();
    let mut rx = bus.subscribe();
    let rec = Recorder::new();
    let client = ClientBuilder::new("svc")
        .events(bus)
        .build(rec.service(|n, _| async move {
            if n % 2 == 0 {
                Ok(reply(0))
            } else {
                Err(client_support::app_error())
            }
        }));
    for _ in 0..4 {
        let _ = client.call(idempotent()).await;
    }
    let errors: Vec<Option<RpcErrorKind>> = drain(&mut rx)
        .into_iter()
        .filter_map(|e| match e {
            EventKind::CallFinished { error, .. } => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        [
            None,
            Some(RpcErrorKind::Application),
            None,
            Some(RpcErrorKind::Application)
        ]
    );
}
