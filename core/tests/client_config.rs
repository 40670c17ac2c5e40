//! `Client::from_config`: the stack a `ClientConfig` describes, built over real TCP — the
//! config decides what the stack does (retries, breakers, fallback replies as data) — and
//! no value of any field makes building or calling panic.

use std::time::Duration;

use faultline_core::client::{Client, ClientConfig, EchoClient};
use faultline_core::event::{EventBus, EventKind};
use faultline_core::lb::Discovery;
use faultline_core::net::Tcp;
use faultline_core::protocol::ProtocolId;
use faultline_core::rpc::{Instance, RpcError};
use faultline_core::{echo, server::ServerBuilder};
use proptest::prelude::*;
use serde_json::{json, Value};

/// An address nothing listens on (bound once, then closed).
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    drop(listener);
    addr
}

fn client(config: Value, addr: &str, events: EventBus) -> EchoClient {
    let config: ClientConfig = serde_json::from_value(config).expect("a ClientConfig");
    let protocol = config.pool.protocol;
    let client = Client::from_config(&config, Tcp, Discovery::new([Instance::new(addr)]), events)
        .unwrap_or_else(|errors| panic!("{errors}"));
    EchoClient::new(client, protocol)
}

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("finished within 20 s")
}

#[tokio::test]
async fn a_config_stack_calls_a_real_server() {
    let server = ServerBuilder::new(echo::SERVICE)
        .bind(&Tcp, "127.0.0.1:0", echo::router())
        .await
        .expect("bind");
    let addr = server.local_addr().to_string();
    let echo = client(
        json!({"pool": {"mode": "multiplexed", "protocol": "compact"}}),
        &addr,
        EventBus::default(),
    );
    assert_eq!(
        bounded(echo.echo("over config")).await.expect("echoed"),
        "over config"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn fallback_replies_and_errors_are_data() {
    let addr = closed_port();
    let events = EventBus::default();
    let mut rx = events.subscribe();
    let echo = client(
        json!({"retry": {"maxRetries": 0}, "fallback": {"on": "anyError", "reply": "served from cache"}}),
        &addr,
        events,
    );
    let (message, reply) = bounded(echo.echo_reply("x"))
        .await
        .expect("a fallback reply");
    assert_eq!(message, "served from cache");
    assert!(reply.is_fallback());
    let mut fallbacks = 0;
    while let Ok(event) = rx.try_recv() {
        fallbacks += usize::from(matches!(event.kind, EventKind::Fallback { .. }));
    }
    assert_eq!(fallbacks, 1);

    let echo = client(
        json!({"retry": {"maxRetries": 0}, "fallback": {"on": "anyError", "exception": "degraded"}}),
        &addr,
        EventBus::default(),
    );
    match bounded(echo.echo("x")).await {
        Err(RpcError::Application(exception)) => assert_eq!(exception.message, "degraded"),
        other => panic!("expected the configured exception, got {other:?}"),
    }

    let echo = client(
        json!({"retry": {"maxRetries": 0}}),
        &addr,
        EventBus::default(),
    );
    assert!(
        bounded(echo.echo("x")).await.is_err(),
        "no fallback configured: the error comes up"
    );
}

#[tokio::test]
async fn retries_and_breakers_follow_the_config() {
    let addr = closed_port();
    let count = |config: Value| {
        let addr = addr.clone();
        async move {
            let events = EventBus::default();
            let mut rx = events.subscribe();
            let echo = client(config, &addr, events);
            for _ in 0..3 {
                let _ = bounded(echo.echo("x")).await;
            }
            let (mut retries, mut breaker_events) = (0, 0);
            while let Ok(event) = rx.try_recv() {
                match event.kind {
                    EventKind::Retry { .. } => retries += 1,
                    EventKind::BreakerTransition { .. } | EventKind::BreakerRejected { .. } => {
                        breaker_events += 1
                    }
                    _ => {}
                }
            }
            (retries, breaker_events)
        }
    };
    let tripping =
        json!({"minSamples": 2, "errorRate": 0.5, "coolingBase": "1h", "coolingCap": "1h"});
    let (retries, breakers) =
        count(json!({"retry": {"maxRetries": 0}, "serviceBreaker": tripping})).await;
    assert_eq!(retries, 0);
    assert!(
        breakers >= 2,
        "the service breaker trips and refuses: {breakers}"
    );
    let (retries, breakers) = count(json!({
        "retry": {"maxRetries": 2, "budget": {"enabled": false}, "breaker": {"enabled": false}},
        "serviceBreaker": {"enabled": false}, "instanceBreaker": {"enabled": false}
    }))
    .await;
    assert_eq!(
        (retries, breakers),
        (6, 0),
        "two retries per call, no breaker at all"
    );
}

/// Values at and past every edge of a field like `default`: numbers for numbers, durations
/// for durations, any string for other strings.
fn extremes(default: &Value) -> Vec<Value> {
    match default {
        Value::Number(_) => vec![
            json!(0),
            json!(1),
            json!(u32::MAX),
            json!(u64::MAX),
            json!(-1),
            json!(1e308),
            json!(0.5),
            json!(2),
        ],
        Value::Bool(_) => vec![json!(true), json!(false)],
        Value::String(s) if faultline_core::config::duration::parse(s).is_ok() => {
            vec![
                json!("0"),
                json!("1ns"),
                json!("8760h"),
                json!("5124095h"),
                json!("1us"),
            ]
        }
        _ => vec![json!(""), json!("x"), json!(null), json!("az1")],
    }
}

/// Every leaf path of the default config (where a value can go).
fn leaves(value: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                let mut path = at.clone();
                path.push(name.clone());
                leaves(field, path, out);
            }
        }
        _ => out.push(at),
    }
}

fn set(value: &mut Value, path: &[String], to: Value) {
    let mut node = value;
    for name in &path[..path.len() - 1] {
        node = &mut node[name];
    }
    node[&path[path.len() - 1]] = to;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_value_of_any_field_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..6)
    ) {
        let mut value = serde_json::to_value(ClientConfig::default()).expect("serializes");
        let mut paths = Vec::new();
        leaves(&value, Vec::new(), &mut paths);
        for (which, pick) in edits {
            let path = &paths[which.index(paths.len())];
            let default = path.iter().fold(&value, |node, name| &node[name]).clone();
            let choices = extremes(&default);
            set(&mut value, path, choices[pick.index(choices.len())].clone());
        }
        let Ok(config) = serde_json::from_value::<ClientConfig>(value) else {
            return Ok(());
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().expect("runtime");
        runtime.block_on(async {
            let built = Client::from_config(&config, Tcp, Discovery::new([Instance::new(closed_port())]), EventBus::default());
            if let Ok(client) = built {
                let echo = EchoClient::new(client, ProtocolId::Binary);
                let _ = tokio::time::timeout(Duration::from_secs(60), echo.echo("x")).await;
            }
        });
    }
}
