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
use faultline_core::client::{ClientBuilder, EchoClient, Pool, PoolConfig};
use faultline_core::echo::{self, EchoArgs, EchoResult, Response};
use faultline_core::event::{Event, EventBus, EventKind, Side};
use faultline_core::lb::{Discovery, LoadBalanceLayer, WeightedRoundRobin};
use faultline_core::net::Sim;
use faultline_core::protocol::{ApplicationException, ProtocolId};
use faultline_core::rpc::{Instance, RpcError, RpcErrorKind};
use faultline_core::server::{CallContext, Router, ServerBuilder};
use tokio::sync::{broadcast, mpsc};
use tokio::time::{sleep_until, Instant};

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

/// 1. A failing server trips the service breaker once the window holds `min_samples`
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

/// 5. A 100 ms client timeout goes on the wire as RPCTimeout: the server's handler sees
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
