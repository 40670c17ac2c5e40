//! Fault behaviour of the real stack — `ServerBuilder` + `Router` on one side, the full
//! `ClientBuilder` stack over the connection pool on the other — on turmoil's simulated
//! network, where timing matters: the service breaker's trip, half-open probe and
//! exponential cooling; deadline propagation to the server (RPCTimeout, server-side
//! cancellation); zone-aware spill and the RTT threshold; backup requests; the retry
//! budget.
//!
//! Every simulation has a fixed seed and fixed link latencies (min = max), and runs on
//! simulated time only. Nothing waits on a sleep for synchronisation: the client awaits
//! replies and typed events (server events are forwarded to it over a channel); a timed
//! wait appears only where elapsed time is the behaviour under test (a cooling period).

use std::future::pending;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_core::breaker::{BreakerConfig, BreakerScope, BreakerState, ServiceBreakerLayer};
use faultline_core::client::retry::{BackupDelay, BudgetConfig, RetryBreakerConfig, RetryConfig};
use faultline_core::client::{encode_args, ClientBuilder, EchoClient, Pool, PoolConfig};
use faultline_core::echo::{self, EchoArgs, EchoResult, Response};
use faultline_core::event::{Event, EventBus, EventKind, RetryDenial, Side};
use faultline_core::lb::{Discovery, LoadBalanceLayer, WeightedRoundRobin, ZoneAware, ZoneConfig};
use faultline_core::net::Sim;
use faultline_core::protocol::{ApplicationException, ProtocolId};
use faultline_core::rpc::{Call, Instance, RpcError, RpcErrorKind};
use faultline_core::server::{CallContext, Router, ServerBuilder};
use tokio::sync::{broadcast, mpsc};
use tokio::time::{sleep_until, Instant};
use tower::{Service, ServiceExt};

const PORT: u16 = 9090;
const TICK: Duration = Duration::from_millis(1);

/// A simulation with a fixed seed, 1 ms ticks and every link at `latency` each way.
fn sim<'a>(seed: u64, latency: Duration) -> turmoil::Sim<'a> {
    turmoil::Builder::new()
        .rng_seed(seed)
        .tick_duration(TICK)
        .min_message_latency(latency)
        .max_message_latency(latency)
        .simulation_duration(Duration::from_secs(120))
        .build()
}

/// Adds host `name` serving `router()` on `PORT`; its server's events go to `events`.
fn serve(
    sim: &mut turmoil::Sim<'_>,
    name: &str,
    router: impl Fn() -> Router + 'static,
    events: Option<mpsc::UnboundedSender<Arc<Event>>>,
) {
    sim.host(name, move || {
        let router = router();
        let events = events.clone();
        async move {
            let bus = EventBus::default();
            if let Some(tx) = events {
                let mut rx = bus.subscribe();
                tokio::spawn(async move {
                    while let Ok(event) = rx.recv().await {
                        if tx.send(event).is_err() {
                            break;
                        }
                    }
                });
            }
            let _server = ServerBuilder::new(echo::SERVICE)
                .events(bus)
                .bind(&Sim, &format!("0.0.0.0:{PORT}"), router)
                .await?;
            pending::<()>().await;
            Ok(())
        }
    });
}

/// An echo router that counts requests and fails them while `failing` is set.
fn flaky_router(failing: Arc<AtomicBool>, requests: Arc<AtomicUsize>) -> Router {
    Router::new().route(echo::METHOD, move |_ctx: CallContext, args: EchoArgs| {
        requests.fetch_add(1, Ordering::SeqCst);
        let fail = failing.load(Ordering::SeqCst);
        async move {
            if fail {
                return Err(ApplicationException::new(
                    ApplicationException::INTERNAL_ERROR,
                    "injected failure",
                ));
            }
            Ok(EchoResult {
                success: Some(Response {
                    message: args.req.message,
                }),
            })
        }
    })
}

fn pool() -> Pool<Sim> {
    Pool::new(
        Sim,
        PoolConfig {
            connect_timeout: Duration::from_secs(1),
            ..PoolConfig::default()
        },
    )
}

fn balancer(hosts: &[&str], events: &EventBus) -> LoadBalanceLayer {
    let discovery = Discovery::new(hosts.iter().map(|h| Instance::new(format!("{h}:{PORT}"))));
    LoadBalanceLayer::new(echo::SERVICE, discovery, WeightedRoundRobin).with_events(events.clone())
}

/// Every event received so far, without waiting.
fn drain(rx: &mut broadcast::Receiver<Arc<Event>>) -> Vec<Arc<Event>> {
    let mut events = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(event) => events.push(event),
            Err(broadcast::error::TryRecvError::Empty) => return events,
            Err(err) => panic!("event stream: {err}"),
        }
    }
}

/// The breaker transitions among `events`: (at, from, to, samples, error_rate).
fn transitions(events: &[Arc<Event>]) -> Vec<(Duration, BreakerState, BreakerState, u64, f64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::BreakerTransition {
                from,
                to,
                samples,
                error_rate,
                ..
            } => Some((e.at, *from, *to, *samples, *error_rate)),
            _ => None,
        })
        .collect()
}

fn rejections(events: &[Arc<Event>]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::BreakerRejected { .. }))
        .count()
}

fn is_breaker_open(err: &RpcError) -> bool {
    matches!(err, RpcError::BreakerOpen(BreakerScope::Service { method, .. }) if &**method == echo::METHOD)
}

/// A failing server trips the service breaker once the window holds `min_samples`
/// failures; calls then fail fast (never reaching the server); after the cooling time one
/// half-open probe goes through; a failed probe re-opens it for twice as long; a
/// successful probe closes it, and the next trip cools for the base time again.
#[test]
fn service_breaker_trips_probes_and_cools_exponentially_over_the_network() {
    let failing = Arc::new(AtomicBool::new(true));
    let requests = Arc::new(AtomicUsize::new(0));
    let mut sim = sim(1, TICK);
    {
        let (failing, requests) = (failing.clone(), requests.clone());
        serve(
            &mut sim,
            "server",
            move || flaky_router(failing.clone(), requests.clone()),
            None,
        );
    }
    sim.client("client", async move {
        let config = BreakerConfig {
            bucket: Duration::from_millis(100),
            buckets: 10,
            min_samples: 5,
            error_rate: 0.5,
            cooling_base: Duration::from_millis(200),
            cooling_cap: Duration::from_secs(5),
            half_open_probes: 1,
            half_open_successes: 1,
            ..BreakerConfig::default()
        };
        let bus = EventBus::default();
        let mut rx = bus.subscribe();
        let breaker = ServiceBreakerLayer::new("client", echo::SERVICE, config, bus.clone())?;
        let client = ClientBuilder::new(echo::SERVICE)
            .events(bus.clone())
            .timeout(Duration::from_secs(1))
            .no_retry()
            .service_breaker(breaker)
            .balancer(balancer(&["server"], &bus))
            .build(pool());
        let client = EchoClient::new(client, ProtocolId::Binary);
        let at = |d: Duration| bus.epoch() + d;

        // Four failures: below min_samples, the breaker stays closed.
        for _ in 0..4 {
            let err = client.echo("x").await.unwrap_err();
            assert_eq!(err.kind(), RpcErrorKind::Application, "{err}");
        }
        assert!(transitions(&drain(&mut rx)).is_empty());
        // The fifth fills the window to min_samples: it opens.
        let err = client.echo("x").await.unwrap_err();
        assert_eq!(err.kind(), RpcErrorKind::Application, "{err}");
        let t = transitions(&drain(&mut rx));
        assert_eq!(t.len(), 1, "{t:?}");
        let (opened, from, to, samples, rate) = t[0];
        assert_eq!(
            (from, to, samples, rate),
            (BreakerState::Closed, BreakerState::Open, 5, 1.0)
        );
        assert_eq!(requests.load(Ordering::SeqCst), 5);

        // Open: calls fail fast and never reach the server.
        for _ in 0..3 {
            let err = client.echo("x").await.unwrap_err();
            assert!(is_breaker_open(&err), "{err}");
        }
        assert_eq!(rejections(&drain(&mut rx)), 3);
        assert_eq!(requests.load(Ordering::SeqCst), 5);

        // One tick before the cooling time (200 ms) ends: still open.
        sleep_until(at(opened + Duration::from_millis(200) - TICK)).await;
        assert!(is_breaker_open(&client.echo("x").await.unwrap_err()));
        // At 200 ms one probe goes to the server; it fails and re-opens the breaker.
        sleep_until(at(opened + Duration::from_millis(200))).await;
        let err = client.echo("probe 1").await.unwrap_err();
        assert_eq!(err.kind(), RpcErrorKind::Application, "{err}");
        assert_eq!(requests.load(Ordering::SeqCst), 6);
        let t = transitions(&drain(&mut rx));
        assert_eq!(
            t.iter().map(|t| (t.1, t.2)).collect::<Vec<_>>(),
            [
                (BreakerState::Open, BreakerState::HalfOpen),
                (BreakerState::HalfOpen, BreakerState::Open)
            ]
        );
        let reopened = t[1].0;

        // Second trip of the streak: 400 ms of cooling.
        sleep_until(at(reopened + Duration::from_millis(400) - TICK)).await;
        assert!(is_breaker_open(&client.echo("x").await.unwrap_err()));
        assert_eq!(requests.load(Ordering::SeqCst), 6);
        sleep_until(at(reopened + Duration::from_millis(400))).await;
        failing.store(false, Ordering::SeqCst);
        assert_eq!(client.echo("probe 2").await?, "probe 2");
        let t = transitions(&drain(&mut rx));
        assert_eq!(
            t.iter().map(|t| (t.1, t.2)).collect::<Vec<_>>(),
            [
                (BreakerState::Open, BreakerState::HalfOpen),
                (BreakerState::HalfOpen, BreakerState::Closed)
            ]
        );
        assert_eq!(client.echo("closed").await?, "closed");
        assert_eq!(requests.load(Ordering::SeqCst), 8);

        // Closing ended the streak: the next trip cools for the base 200 ms again.
        failing.store(true, Ordering::SeqCst);
        let mut failures = 0;
        let tripped = loop {
            client.echo("x").await.unwrap_err();
            failures += 1;
            let t = transitions(&drain(&mut rx));
            if let Some(&(at, _, to, samples, rate)) = t.first() {
                assert_eq!(to, BreakerState::Open);
                // One success and four failures: 5 samples at 80 %.
                assert_eq!((failures, samples, rate), (4, 5, 0.8));
                break at;
            }
            assert!(failures < 10, "never tripped");
        };
        sleep_until(at(tripped + Duration::from_millis(200) - TICK)).await;
        assert!(is_breaker_open(&client.echo("x").await.unwrap_err()));
        sleep_until(at(tripped + Duration::from_millis(200))).await;
        failing.store(false, Ordering::SeqCst);
        assert_eq!(client.echo("probe 3").await?, "probe 3");
        let t = transitions(&drain(&mut rx));
        assert_eq!(t.last().map(|t| t.2), Some(BreakerState::Closed), "{t:?}");
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}

/// What the deadline test's handler saw on the server.
#[derive(Debug, Default)]
struct Seen {
    rpc_timeout: Option<Duration>,
    /// `CallContext::deadline` minus the handler's start.
    deadline_in: Option<Duration>,
    /// How long after its start the handler was dropped unfinished.
    cancelled_after: Option<Duration>,
    finished: bool,
}

/// Records, when dropped, how long after `start` the handler was cancelled.
struct CancelProbe {
    start: Instant,
    seen: Arc<Mutex<Seen>>,
    done: bool,
}

impl Drop for CancelProbe {
    fn drop(&mut self) {
        if !self.done {
            self.seen.lock().unwrap().cancelled_after = Some(self.start.elapsed());
        }
    }
}

/// A 100 ms client timeout goes on the wire as RPCTimeout: the server's handler sees
/// at most 100 ms in its CallContext (metadata and deadline), and the server cancels it
/// when that passes (`DeadlineExceeded { side: Server }`), while the client has given up
/// at its own deadline (`DeadlineExceeded { side: Client }`).
#[test]
fn the_client_deadline_reaches_the_server_and_cancels_the_handler() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (server_tx, mut server_events) = mpsc::unbounded_channel();
    let mut sim = sim(5, Duration::from_millis(2));
    {
        let seen = seen.clone();
        let router = move || {
            let seen = seen.clone();
            Router::new().route(echo::METHOD, move |ctx: CallContext, args: EchoArgs| {
                let seen = seen.clone();
                async move {
                    let start = Instant::now();
                    {
                        let mut s = seen.lock().unwrap();
                        s.rpc_timeout = ctx.metadata.rpc_timeout();
                        s.deadline_in = ctx.deadline.map(|d| d.saturating_duration_since(start));
                    }
                    let mut probe = CancelProbe {
                        start,
                        seen: seen.clone(),
                        done: false,
                    };
                    // Far longer than any deadline: only cancellation ends it early.
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    probe.done = true;
                    seen.lock().unwrap().finished = true;
                    Ok(EchoResult {
                        success: Some(Response {
                            message: args.req.message,
                        }),
                    })
                }
            })
        };
        serve(&mut sim, "server", router, Some(server_tx));
    }
    sim.client("client", async move {
        let bus = EventBus::default();
        let mut rx = bus.subscribe();
        let client = ClientBuilder::new(echo::SERVICE)
            .events(bus.clone())
            .timeout(Duration::from_millis(100))
            .no_retry()
            .balancer(balancer(&["server"], &bus))
            .build(pool());
        let client = EchoClient::new(client, ProtocolId::Binary);
        let start = Instant::now();
        let err = client.echo("slow").await.unwrap_err();
        assert!(
            matches!(err, RpcError::Timeout { budget } if budget == Duration::from_millis(100)),
            "{err}"
        );
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        let client_events = drain(&mut rx);
        assert!(
            client_events.iter().any(|e| matches!(
                &e.kind,
                EventKind::DeadlineExceeded { side: Side::Client, budget, .. }
                    if *budget == Duration::from_millis(100)
            )),
            "{client_events:?}"
        );

        // Wait for the server's side of the story (forwarded events, no sleep).
        let server_budget = loop {
            let event = server_events.recv().await.expect("server events");
            if let EventKind::DeadlineExceeded {
                side: Side::Server,
                budget,
                method,
            } = &event.kind
            {
                assert_eq!(&**method, echo::METHOD);
                break *budget;
            }
        };
        let finished = loop {
            let event = server_events.recv().await.expect("server events");
            if let EventKind::CallFinished {
                side: Side::Server,
                error,
                ..
            } = &event.kind
            {
                break *error;
            }
        };
        assert_eq!(finished, Some(RpcErrorKind::Timeout));
        let s = seen.lock().unwrap();
        let rpc_timeout = s.rpc_timeout.expect("RPCTimeout on the wire");
        assert!(
            rpc_timeout <= Duration::from_millis(100) && rpc_timeout >= Duration::from_millis(90),
            "{s:?}"
        );
        assert_eq!(server_budget, rpc_timeout);
        let deadline_in = s.deadline_in.expect("a deadline in the CallContext");
        assert!(deadline_in <= rpc_timeout, "{s:?}");
        let cancelled_after = s.cancelled_after.expect("the handler was cancelled");
        assert_eq!(cancelled_after, deadline_in, "{s:?}");
        assert!(!s.finished, "{s:?}");
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}

/// The zone-aware balancer's picks among `events`: (instance, local).
fn picks(events: &[Arc<Event>]) -> Vec<(Arc<str>, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::BalancerPick {
                instance, local, ..
            } => Some((instance.clone(), *local)),
            _ => None,
        })
        .collect()
}

/// `ZoneWeights` among `events`: (remote share, remote RTT).
fn zone_weights(events: &[Arc<Event>]) -> Vec<(f64, Duration)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ZoneWeights {
                remote_share,
                remote_rtt,
                ..
            } => Some((*remote_share, *remote_rtt)),
            _ => None,
        })
        .collect()
}

/// Zone-aware balancing over the network: a client in zone a with two servers in a and
/// two in b. Healthy, everything stays in a. When one of a's instances fails until it is
/// ejected, half of a's capacity is missing and half of the traffic spills to b (b's RTT,
/// 2 ms, is under the 3.5 ms bar). When the client-b links slow to a 6 ms RTT, b turns
/// degraded and the remote share drops to 5 % of the spill.
#[test]
fn zone_aware_spills_to_the_remote_zone_and_pulls_back_when_its_rtt_passes_the_threshold() {
    let hosts = ["a1", "a2", "b1", "b2"];
    let failing: Vec<Arc<AtomicBool>> = hosts.iter().map(|_| Arc::default()).collect();
    let requests = Arc::new(AtomicUsize::new(0));
    let mut sim = sim(4, TICK);
    for (host, failing) in hosts.iter().zip(&failing) {
        let (failing, requests) = (failing.clone(), requests.clone());
        serve(
            &mut sim,
            host,
            move || flaky_router(failing.clone(), requests.clone()),
            None,
        );
    }
    // The client asks for the slow b links; the driver loop below applies them.
    let want_slow = Arc::new(AtomicBool::new(false));
    let (slowed_tx, mut slowed) = tokio::sync::watch::channel(false);
    let a1_failing = failing[0].clone();
    {
        let want_slow = want_slow.clone();
        sim.client("client", async move {
            let bus = EventBus::default();
            let mut rx = bus.subscribe();
            let discovery = Discovery::new(
                hosts
                    .iter()
                    .map(|h| Instance::new(format!("{h}:{PORT}")).with_zone("r", &h[..1])),
            );
            let zone = ZoneConfig {
                eject_after: 3,
                eject_for: Duration::from_secs(60),
                seed: 4,
                ..ZoneConfig::new("a")
            };
            let balancer = LoadBalanceLayer::new(
                echo::SERVICE,
                discovery,
                ZoneAware::new(zone, Some(bus.clone())),
            )
            .with_events(bus.clone());
            let pool = pool();
            let client = ClientBuilder::new(echo::SERVICE)
                .events(bus.clone())
                .timeout(Duration::from_secs(1))
                .no_retry()
                .balancer(balancer)
                .build(pool.clone());
            let client = EchoClient::new(client, ProtocolId::Binary);
            // Dial b's instances ahead, so b's first RTT samples are calls, not handshakes.
            for host in ["b1", "b2"] {
                let args = encode_args(ProtocolId::Binary, &EchoArgs::new("warm"))?;
                let mut call = Call::new(echo::METHOD, args);
                call.target = Some(Arc::new(Instance::new(format!("{host}:{PORT}"))));
                let mut pool = pool.clone();
                pool.ready().await?.call(call).await?;
            }

            // Healthy: every pick is local.
            for i in 0..20 {
                assert_eq!(client.echo(&format!("{i}")).await?, format!("{i}"));
            }
            let events = drain(&mut rx);
            assert!(picks(&events).iter().all(|(_, local)| *local));
            assert_eq!(zone_weights(&events), [(0.0, Duration::ZERO)]);

            // a1 fails until it is ejected: a's healthy capacity halves, half spills to b.
            a1_failing.store(true, Ordering::SeqCst);
            let mut failures = 0;
            let spill = loop {
                if client.echo("x").await.is_err() {
                    failures += 1;
                }
                let weights = zone_weights(&drain(&mut rx));
                if let Some(&w) = weights.last() {
                    break w;
                }
                assert!(failures <= 3, "ejected after 3 failures");
            };
            assert_eq!(failures, 3);
            assert_eq!(spill.0, 0.5);
            for i in 0..40 {
                assert_eq!(client.echo(&format!("{i}")).await?, format!("{i}"));
            }
            let events = drain(&mut rx);
            let p = picks(&events);
            assert!(p.iter().all(|(i, _)| &**i != "a1:9090"), "a1 is ejected");
            let remote = p.iter().filter(|(_, local)| !local).count();
            assert!((19..=21).contains(&remote), "{remote} of 40 remote");
            assert!(p.iter().any(|(i, _)| &**i == "b1:9090"));
            assert!(p.iter().any(|(i, _)| &**i == "b2:9090"));
            assert!(zone_weights(&events).is_empty(), "b stays under the bar");

            // b's links slow to 3 ms each way (6 ms RTT): b degrades, the share drops.
            want_slow.store(true, Ordering::SeqCst);
            slowed.wait_for(|s| *s).await?;
            let mut calls = 0;
            let (share, rtt) = loop {
                client.echo("y").await?;
                calls += 1;
                let weights = zone_weights(&drain(&mut rx));
                if let Some(&w) = weights.last() {
                    break w;
                }
                assert!(calls < 40, "b never degraded");
            };
            assert!((share - 0.025).abs() < 1e-9, "share {share}");
            assert!(rtt > ZoneConfig::DEFAULT_THRESHOLD, "rtt {rtt:?}");
            for i in 0..80 {
                assert_eq!(client.echo(&format!("{i}")).await?, format!("{i}"));
            }
            let remote = picks(&drain(&mut rx))
                .iter()
                .filter(|(_, local)| !local)
                .count();
            assert!(remote <= 3, "{remote} of 80 remote after b degraded");
            Ok(())
        });
    }
    let mut applied = false;
    while !sim.step().expect("the simulation steps") {
        if !applied && want_slow.load(Ordering::SeqCst) {
            for b in ["b1", "b2"] {
                sim.set_link_latency("client", b, Duration::from_millis(3));
            }
            applied = true;
            slowed_tx.send_replace(true);
        }
    }
    assert!(applied);
}

/// A backup request wins against a slow server: the first attempt goes to `slow`
/// (20 ms links), the backup after 10 ms to `fast` (1 ms links), and the reply comes from
/// `fast` long before `slow` could have answered.
#[test]
fn a_backup_request_to_a_fast_server_wins_over_a_slow_one() {
    let requests = Arc::new(AtomicUsize::new(0));
    let mut sim = sim(3, TICK);
    for host in ["slow", "fast"] {
        let requests = requests.clone();
        serve(
            &mut sim,
            host,
            move || flaky_router(Arc::default(), requests.clone()),
            None,
        );
    }
    sim.client("client", async move {
        let bus = EventBus::default();
        let mut rx = bus.subscribe();
        let retry = RetryConfig {
            max_retries: 0,
            backup: Some(BackupDelay::Fixed {
                delay: Duration::from_millis(10),
            }),
            ..RetryConfig::default()
        };
        let client = ClientBuilder::new(echo::SERVICE)
            .events(bus.clone())
            .timeout(Duration::from_secs(1))
            .retry(retry)
            .balancer(balancer(&["slow", "fast"], &bus))
            .build(pool());
        let client = EchoClient::new(client, ProtocolId::Binary);
        let start = Instant::now();
        let (message, reply) = client.echo_reply("hedged").await?;
        let took = start.elapsed();
        assert_eq!(message, "hedged");
        let instance = reply.instance.as_ref().expect("a remote reply");
        assert_eq!(&*instance.addr, "fast:9090");
        // Backup at 10 ms, then dialing `fast` and a round trip to it (1 ms links); `slow`
        // needs at least 80 ms for the same (20 ms links).
        assert!(
            took >= Duration::from_millis(12) && took < Duration::from_millis(20),
            "{took:?}"
        );
        let events = drain(&mut rx);
        let backups: Vec<Duration> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::BackupRequest { after, .. } => Some(*after),
                _ => None,
            })
            .collect();
        assert_eq!(backups, [Duration::from_millis(10)]);
        let order: Vec<Arc<str>> = picks(&events).into_iter().map(|(i, _)| i).collect();
        assert_eq!(order, [Arc::from("slow:9090"), Arc::from("fast:9090")]);
        let finished: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::CallFinished {
                    side: Side::Client,
                    instance,
                    error,
                    ..
                } => Some((instance.clone(), *error)),
                _ => None,
            })
            .collect();
        assert_eq!(finished, [(Some(Arc::from("fast:9090")), None)]);
        Ok(())
    });
    // After the client host exists: links are made between registered hosts.
    sim.set_link_latency("client", "slow", Duration::from_millis(20));
    sim.run().expect("the simulation runs to the end");
    // The slow attempt was cancelled while still dialing: only `fast` served a request.
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

/// The retry budget caps amplification against a server that times every attempt out:
/// unbudgeted, 3 attempts per call would reach it; with a 10 % budget (and a reserve of 1
/// per second over 10 s) the server sees at most 10 % more requests than calls, plus the
/// reserve, and the rest are `RetryDenied { Budget }`.
#[test]
fn the_retry_budget_caps_amplification_against_a_timing_out_server() {
    const CALLS: usize = 200;
    let requests = Arc::new(AtomicUsize::new(0));
    let mut sim = sim(2, TICK);
    {
        let requests = requests.clone();
        let router = move || {
            let requests = requests.clone();
            Router::new().route(echo::METHOD, move |_ctx: CallContext, args: EchoArgs| {
                requests.fetch_add(1, Ordering::SeqCst);
                async move {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok(EchoResult {
                        success: Some(Response {
                            message: args.req.message,
                        }),
                    })
                }
            })
        };
        serve(&mut sim, "server", router, None);
    }
    let server_requests = requests.clone();
    sim.client("client", async move {
        let bus = EventBus::default();
        let mut rx = bus.subscribe();
        let retry = RetryConfig {
            max_retries: 2,
            budget: BudgetConfig {
                ttl: Duration::from_secs(10),
                min_per_sec: 1,
                ratio: 0.1,
                ..BudgetConfig::default()
            },
            breaker: RetryBreakerConfig::disabled(),
            ..RetryConfig::default()
        };
        let client = ClientBuilder::new(echo::SERVICE)
            .events(bus.clone())
            .timeout(Duration::from_secs(1))
            .attempt_timeout(Duration::from_millis(10))
            .retry(retry)
            .balancer(balancer(&["server"], &bus))
            .build(pool());
        let client = EchoClient::new(client, ProtocolId::Binary);
        let mut retries = 0;
        let mut denied = 0;
        for _ in 0..CALLS {
            let err = client.echo("x").await.unwrap_err();
            assert_eq!(err.kind(), RpcErrorKind::Timeout, "{err}");
            for event in drain(&mut rx) {
                match &event.kind {
                    EventKind::Retry { .. } => retries += 1,
                    EventKind::RetryDenied {
                        reason: RetryDenial::Budget,
                        ..
                    } => denied += 1,
                    _ => {}
                }
            }
        }
        let served = server_requests.load(Ordering::SeqCst);
        let cap = CALLS / 10 + 10 + 1;
        assert_eq!(served, CALLS + retries, "every attempt reached the server");
        assert!(
            retries > 0 && retries <= cap,
            "{retries} retries, cap {cap}"
        );
        // A call is denied once unless both its retries were granted.
        assert!(
            denied <= CALLS && denied + retries / 2 >= CALLS,
            "{denied} denied, {retries} retries"
        );
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}
