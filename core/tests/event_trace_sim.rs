//! The event record on turmoil: a client built with `Client::from_config` and two real
//! servers in two zones write into one lossless `Recorder`. Every event of a call names
//! it (call id, attempt) on both sides of the wire, says who saw it (host, zone), and one
//! seed gives one trace, byte for byte, while another seed gives another.

use std::future::pending;
use std::time::Duration;

use faultline_core::client::{Client, ClientConfig, EchoClient};
use faultline_core::echo;
use faultline_core::event::{CallRef, Event, EventBus, EventKind, Origin, Recorder, Side};
use faultline_core::lb::Discovery;
use faultline_core::net::Sim;
use faultline_core::rpc::Instance;
use faultline_core::server::ServerBuilder;

const PORT: u16 = 9090;
const SERVERS: [(&str, &str); 2] = [("echo-az1-0", "az1"), ("echo-az2-0", "az2")];

/// Runs 40 echo calls, one every 5 ms, over links of random latency (1..=6 ms, drawn by
/// turmoil from `seed`), and returns every event, serialized.
fn run(seed: u64) -> Vec<Event> {
    let recorder = Recorder::new();
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(6))
        .simulation_duration(Duration::from_secs(60))
        .build();
    for (host, zone) in SERVERS {
        let recorder = recorder.clone();
        sim.host(host, move || {
            let events = EventBus::default()
                .with_sink(recorder.clone())
                .with_origin(Origin::new(host, Some(zone.into())));
            async move {
                let _server = ServerBuilder::new(echo::SERVICE)
                    .zone(zone)
                    .events(events)
                    .bind(&Sim, &format!("0.0.0.0:{PORT}"), echo::router())
                    .await?;
                pending::<()>().await;
                Ok(())
            }
        });
    }
    let client_recorder = recorder.clone();
    sim.client("probe", async move {
        let events = EventBus::default()
            .with_sink(client_recorder)
            .with_origin(Origin::new("probe", Some("az1".into())));
        let config: ClientConfig = serde_json::from_value(serde_json::json!({
            "service": echo::SERVICE,
            "zone": "az1",
            "timeout": "1s",
            "balancer": {"type": "weightedRandom"},
        }))?;
        let discovery = Discovery::new(SERVERS.iter().map(|(host, zone)| {
            Instance::new(format!("{host}:{PORT}")).with_zone("region", *zone)
        }));
        let client = Client::from_config(&config.seeded(seed), Sim, discovery, events)?;
        let client = EchoClient::new(client, config.pool.protocol);
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..40 {
            let client = client.clone();
            calls.spawn(async move { client.echo(&format!("m{i}")).await });
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        while let Some(result) = calls.join_next().await {
            result??;
        }
        Ok(())
    });
    sim.run().unwrap();
    recorder.take()
}

fn serialized(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect()
}

#[test]
fn every_event_of_a_call_names_it_on_both_sides() {
    let events = run(7);
    let finished: Vec<&Event> = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::CallFinished {
                    side: Side::Client,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(finished.len(), 40);
    for call in finished {
        let id = call.call.expect("a client call carries its id").id;
        assert_eq!(&*call.origin.host, "probe");
        let attempt = CallRef {
            id,
            attempt: Some(0),
        };
        let of_attempt = |host: &str| {
            events
                .iter()
                .filter(|e| e.call == Some(attempt) && &*e.origin.host == host)
                .map(|e| &e.kind)
                .collect::<Vec<_>>()
        };
        let client_side = of_attempt("probe");
        let [EventKind::BalancerPick { instance, .. }, EventKind::AttemptFinished {
            instance: answered,
            zone,
            error: None,
            ..
        }] = &client_side[..]
        else {
            panic!("call {id}: client events {client_side:?}");
        };
        assert_eq!(instance, answered);
        let server = instance.split(':').next().unwrap();
        let server_side = of_attempt(server);
        assert!(
            matches!(
                &server_side[..],
                [EventKind::CallFinished {
                    side: Side::Server,
                    error: None,
                    budget: Some(_),
                    ..
                }]
            ),
            "call {id}: server {server} events {server_side:?}"
        );
        let server_zone = events
            .iter()
            .find(|e| e.call == Some(attempt) && &*e.origin.host == server)
            .and_then(|e| e.origin.zone.clone());
        assert_eq!(
            server_zone,
            zone.clone(),
            "the server's events carry its zone"
        );
    }
}

#[test]
fn one_seed_gives_one_trace_and_another_seed_another() {
    let first = serialized(&run(11));
    assert_eq!(first.len(), 160, "four events a call");
    assert_eq!(first, serialized(&run(11)), "same seed, same trace");
    assert_ne!(first, serialized(&run(12)), "another seed, another trace");
}
