//! The load-balancing layer over a `tower::service_fn` inner service, in paused tokio
//! time: it sets the target, learns latencies, follows discovery updates, refuses with
//! `NoInstance`, emits `BalancerPick`, and narrows by the route table.

#[path = "lb_support.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use faultline_core::event::{EventBus, EventKind};
use faultline_core::lb::{
    Discovery, LoadBalanceLayer, P2c, P2cConfig, WeightedRoundRobin, ZoneAware, ZoneConfig,
};
use faultline_core::protocol::MessageType;
use faultline_core::route::{RouteConfig, RouteTable};
use faultline_core::rpc::{Call, Instance, Reply, ReplyOrigin, RpcError};
use support::{call, inst, keyed};
use tower::{Layer, Service, ServiceExt};

/// An inner service that answers after a delay chosen by the target's address, and counts
/// the calls that reach it.
fn backend(
    delay: fn(&str) -> Duration,
    calls: Arc<AtomicUsize>,
) -> impl Service<Call, Response = Reply, Error = RpcError, Future: Send> + Clone {
    tower::service_fn(move |call: Call| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::Relaxed);
            let target = call.target.expect("the balancer sets the target");
            tokio::time::sleep(delay(&target.addr)).await;
            Ok(Reply {
                kind: MessageType::Reply,
                body: Bytes::new(),
                metadata: Default::default(),
                instance: Some(target),
                origin: ReplyOrigin::Remote,
            })
        }
    })
}

async fn send<S>(service: &mut S, call: Call) -> Result<String, RpcError>
where
    S: Service<Call, Response = Reply, Error = RpcError>,
{
    let reply = service.ready().await?.call(call).await?;
    Ok(reply.instance.expect("instance").addr.to_string())
}

fn instant(_: &str) -> Duration {
    Duration::ZERO
}

#[tokio::test(start_paused = true)]
async fn p2c_through_the_layer_learns_from_virtual_latency() {
    let discovery = Discovery::new([inst("fast", "z", 100), inst("slow", "z", 100)]);
    let layer = LoadBalanceLayer::new("echo", discovery, P2c::new(P2cConfig::default()));
    let delay: fn(&str) -> Duration = |addr| match addr {
        "fast" => Duration::from_millis(1),
        _ => Duration::from_millis(20),
    };
    let mut service = layer.layer(backend(delay, Arc::default()));
    let mut fast = 0;
    for _ in 0..400 {
        if send(&mut service, call()).await.unwrap() == "fast" {
            fast += 1;
        }
    }
    // Once both are measured, "slow" only wins when drawn twice: about 1/4 of the calls.
    assert!(fast > 260, "fast got {fast} of 400");
}

#[tokio::test(start_paused = true)]
async fn discovery_updates_take_effect_on_the_next_call() {
    let discovery = Discovery::new([inst("old", "z", 100)]);
    let mut changed = discovery.changed();
    let mut service = LoadBalanceLayer::new("echo", discovery.clone(), WeightedRoundRobin)
        .layer(backend(instant, Arc::default()));
    assert_eq!(send(&mut service, call()).await.unwrap(), "old");
    let version = discovery.set([inst("new", "z", 100)]);
    assert_eq!(version, 1);
    changed.changed().await.unwrap();
    assert_eq!(*changed.borrow(), 1);
    for _ in 0..3 {
        assert_eq!(send(&mut service, call()).await.unwrap(), "new");
    }
}

#[tokio::test(start_paused = true)]
async fn a_followed_watch_channel_feeds_discovery() {
    let (tx, rx) = tokio::sync::watch::channel(vec![inst("first", "z", 100)]);
    let (discovery, follow) = Discovery::follow(rx);
    let task = tokio::spawn(follow);
    let mut changed = discovery.changed();
    assert_eq!(&*discovery.snapshot().instances[0].addr, "first");
    tx.send(vec![inst("second", "z", 100)]).unwrap();
    changed.changed().await.unwrap();
    assert_eq!(&*discovery.snapshot().instances[0].addr, "second");
    drop(tx);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn no_instance_without_calling_the_inner_service() {
    let calls = Arc::new(AtomicUsize::new(0));
    let discovery = Discovery::new(Vec::<Instance>::new());
    let mut service = LoadBalanceLayer::new("echo", discovery.clone(), WeightedRoundRobin)
        .layer(backend(instant, calls.clone()));
    let err = send(&mut service, call()).await.unwrap_err();
    assert!(matches!(err, RpcError::NoInstance { ref service } if &**service == "echo"));
    discovery.set([inst("idle", "z", 0)]);
    assert!(matches!(
        send(&mut service, call()).await,
        Err(RpcError::NoInstance { .. })
    ));
    assert_eq!(calls.load(Ordering::Relaxed), 0);
}

#[tokio::test(start_paused = true)]
async fn every_pick_is_an_event_that_says_whether_it_stayed_local() {
    let events = EventBus::new(64);
    let mut rx = events.subscribe();
    let discovery = Discovery::new([inst("b1", "b", 100)]);
    let balancer = ZoneAware::new(ZoneConfig::new("a"), None);
    let mut service = LoadBalanceLayer::new("echo", discovery.clone(), balancer)
        .with_events(events)
        .layer(backend(instant, Arc::default()));
    send(&mut service, call()).await.unwrap();
    discovery.set([inst("a1", "a", 100)]);
    send(&mut service, call()).await.unwrap();
    let mut picks = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let EventKind::BalancerPick {
            instance, local, ..
        } = &event.kind
        {
            picks.push((instance.to_string(), *local));
        }
    }
    assert_eq!(picks, [("b1".into(), false), ("a1".into(), true)]);
}

fn tagged(addr: &str, zone: &str, version: &str) -> Instance {
    let mut instance = inst(addr, zone, 100);
    instance.tags.insert("version".into(), version.into());
    instance
}

fn canary_routes(sticky: bool) -> RouteConfig {
    let text = format!(
        r#"{{"metadata_key": "x-color", "routes": [{{"tag": "canary", "sticky": {sticky},
            "targets": [{{"weight": 3, "tags": {{"version": "v2"}}}},
                        {{"weight": 1, "zone": "b"}}]}}]}}"#
    );
    RouteConfig::parse(&text, faultline_core::route::Format::Json, None).unwrap()
}

fn canary_discovery() -> Discovery {
    Discovery::new([
        tagged("a-v1", "a", "v1"),
        tagged("a-v2", "a", "v2"),
        tagged("b-v1", "b", "v1"),
    ])
}

#[tokio::test(start_paused = true)]
async fn routes_narrow_by_tag_from_options_or_metadata() {
    let table = RouteTable::new(canary_routes(false));
    let mut service = LoadBalanceLayer::new("echo", canary_discovery(), WeightedRoundRobin)
        .with_routes(table.clone())
        .layer(backend(instant, Arc::default()));

    let mut by_option = std::collections::HashMap::<String, usize>::new();
    for _ in 0..400 {
        let mut c = call();
        c.options.tag = Some("canary".into());
        *by_option
            .entry(send(&mut service, c).await.unwrap())
            .or_default() += 1;
    }
    // Targets weigh 3:1 (exact per cycle); b-v1 is the only instance in zone b.
    assert_eq!(by_option.get("a-v2"), Some(&300));
    assert_eq!(by_option.get("b-v1"), Some(&100));
    assert_eq!(by_option.get("a-v1"), None);

    let mut c = call();
    c.metadata.set_string("x-color", "canary");
    let via_metadata = send(&mut service, c).await.unwrap();
    assert!(via_metadata == "a-v2" || via_metadata == "b-v1");

    // Untagged calls and unknown tags use every instance.
    let mut untagged = std::collections::HashSet::new();
    for _ in 0..3 {
        untagged.insert(send(&mut service, call()).await.unwrap());
    }
    assert_eq!(untagged.len(), 3);

    // A swapped table applies to the next call.
    table.set(RouteConfig::default());
    let mut after = std::collections::HashSet::new();
    for _ in 0..3 {
        let mut c = call();
        c.options.tag = Some("canary".into());
        after.insert(send(&mut service, c).await.unwrap());
    }
    assert_eq!(after.len(), 3, "no route any more: {after:?}");
}

#[tokio::test(start_paused = true)]
async fn a_sticky_route_sends_a_key_to_the_same_instance() {
    let mut service = LoadBalanceLayer::new("echo", canary_discovery(), WeightedRoundRobin)
        .with_routes(RouteTable::new(canary_routes(true)))
        .layer(backend(instant, Arc::default()));
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for key in 0..200u64 {
        let mut first = keyed(key);
        first.options.tag = Some("canary".into());
        let target = send(&mut service, first).await.unwrap();
        for _ in 0..3 {
            let mut again = keyed(key);
            again.options.tag = Some("canary".into());
            assert_eq!(send(&mut service, again).await.unwrap(), target);
        }
        *seen.entry(target).or_default() += 1;
    }
    // Keys spread over both targets roughly 3:1, and never leave the route.
    assert!(!seen.contains_key("a-v1"));
    assert!((120..180).contains(&seen["a-v2"]), "{seen:?}");
}
