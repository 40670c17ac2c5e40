//! The client under faults on turmoil: the real stack (balancer, instance breaker, pool;
//! retries off unless said, so no retry can hide a dead connection) against real servers,
//! through a partition under load, a crash and restart, a black hole under a call without
//! a deadline (the stall timeout), discovery dropping an
//! instance, and fallbacks served because a real breaker opened or a real call timed out.
//!
//! Fixed seeds and link latencies; simulated time only. Waits are on replies, events and
//! a channel to the loop that applies faults; a timed wait appears only where elapsed time
//! is the behaviour under test (the load's schedule, an idle timeout). Connections are
//! counted on both sides: the pool's own gauges, and a counting listener under the server.

use std::future::pending;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use faultline_core::breaker::{BreakerConfig, BreakerScope, BreakerState, InstanceBreakerLayer};
use faultline_core::client::{
    Client, ClientBuilder, ClientConfig, EchoClient, Pool, PoolConfig, PoolMode,
};
use faultline_core::echo::{self, EchoArgs, EchoResult, Response};
use faultline_core::event::{Event, EventBus, EventKind, FallbackReason};
use faultline_core::lb::{Discovery, LoadBalanceLayer, WeightedRoundRobin};
use faultline_core::net::{Listener, Net, Sim};
use faultline_core::protocol::{ApplicationException, ProtocolId};
use faultline_core::rpc::{Instance, RpcError, RpcErrorKind};
use faultline_core::server::{CallContext, Router, ServerBuilder};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

const PORT: u16 = 9090;
const TICK: Duration = Duration::from_millis(1);

fn sim<'a>(seed: u64) -> turmoil::Sim<'a> {
    turmoil::Builder::new()
        .rng_seed(seed)
        .tick_duration(TICK)
        .min_message_latency(TICK)
        .max_message_latency(TICK)
        .simulation_duration(Duration::from_secs(120))
        .build()
}

fn addr(host: &str) -> String {
    format!("{host}:{PORT}")
}

/// Server-side connection counts, kept by [`CountingListener`]: accepted since the
/// simulation started (across restarts), and open now.
#[derive(Clone, Default)]
struct ServerConns {
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    /// How many times the server software has bound its port (1 + restarts).
    started: Arc<AtomicUsize>,
}

impl ServerConns {
    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
    fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

/// A turmoil listener that counts the connections it hands out while they live.
struct CountingListener {
    inner: turmoil::net::TcpListener,
    conns: ServerConns,
}

impl Listener for CountingListener {
    type Stream = Counted;

    async fn accept(&self) -> io::Result<(Counted, SocketAddr)> {
        let (stream, peer) = self.inner.accept().await?;
        self.conns.accepted.fetch_add(1, Ordering::SeqCst);
        self.conns.open.fetch_add(1, Ordering::SeqCst);
        let open = self.conns.open.clone();
        Ok((Counted { stream, open }, peer))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A server-side stream, counted open until dropped.
struct Counted {
    stream: turmoil::net::TcpStream,
    open: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Adds host `name` serving `router()` on `PORT`, counting its connections in `conns`.
fn serve(
    sim: &mut turmoil::Sim<'_>,
    name: &str,
    router: impl Fn() -> Router + 'static,
    conns: ServerConns,
) {
    sim.host(name, move || {
        let router = router();
        let conns = conns.clone();
        async move {
            let inner = Sim.bind(&format!("0.0.0.0:{PORT}")).await?;
            conns.started.fetch_add(1, Ordering::SeqCst);
            let listener = CountingListener { inner, conns };
            let _server = ServerBuilder::new(echo::SERVICE).serve(listener, router)?;
            pending::<()>().await;
            Ok(())
        }
    });
}

/// An echo router that fails every call while `failing` is set.
fn flaky_router(failing: Arc<AtomicBool>) -> Router {
    Router::new().route(echo::METHOD, move |_ctx: CallContext, args: EchoArgs| {
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

/// A client stack whose pool and instance breakers are in reach of the test.
struct Stack {
    client: EchoClient,
    pool: Pool<Sim>,
    breakers: InstanceBreakerLayer,
}

/// Balancer, instance breaker (`breaker`) and pool (`pool`) over `discovery`, both
/// following it; a `timeout` deadline (zero: none) and no retries.
fn stack(
    pool: PoolConfig,
    breaker: BreakerConfig,
    discovery: &Discovery,
    bus: &EventBus,
    timeout: Duration,
) -> Stack {
    let pool = Pool::with_discovery(Sim, pool, discovery.clone());
    let breakers = InstanceBreakerLayer::with_discovery(breaker, bus.clone(), discovery.clone())
        .expect("a valid breaker config");
    let balancer = LoadBalanceLayer::new(echo::SERVICE, discovery.clone(), WeightedRoundRobin)
        .with_events(bus.clone());
    let mut builder = ClientBuilder::new(echo::SERVICE).events(bus.clone());
    if !timeout.is_zero() {
        builder = builder.timeout(timeout);
    }
    let client = builder
        .no_retry()
        .balancer(balancer)
        .instance_breaker(breakers.clone())
        .build(pool.clone());
    Stack {
        client: EchoClient::new(client, ProtocolId::Binary),
        pool,
        breakers,
    }
}

/// Every event received so far, without waiting.
fn drain(rx: &mut broadcast::Receiver<Arc<Event>>) -> Vec<Arc<Event>> {
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    events
}

/// Instance breaker transitions: (at, from, to).
fn instance_transitions(events: &[Arc<Event>]) -> Vec<(Duration, BreakerState, BreakerState)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::BreakerTransition {
                scope: BreakerScope::Instance { .. },
                from,
                to,
                ..
            } => Some((e.at, *from, *to)),
            _ => None,
        })
        .collect()
}

const DEADLINE: Duration = Duration::from_millis(100);
const INTERVAL: Duration = Duration::from_millis(10);
const PARTITION_AT: Duration = Duration::from_secs(2);
const HEAL_AT: Duration = Duration::from_secs(7);
const LOAD_UNTIL: Duration = Duration::from_secs(12);
/// The stated recovery bound after the partition heals: the instance breaker's longest
/// cooling (1 s) plus a dial and a round trip, rounded up.
const RECOVERY: Duration = Duration::from_millis(1100);

/// One call of the load: when it was due (since the start), how long it took, its outcome.
type Outcome = (Duration, Duration, Result<(), RpcErrorKind>);

/// 100 calls/s against one server that is partitioned away from 2 s to 7 s.
fn partition_under_load(mode: PoolMode) {
    let server = ServerConns::default();
    let mut sim = sim(12);
    serve(
        &mut sim,
        "server",
        || flaky_router(Arc::default()),
        server.clone(),
    );
    {
        let server = server.clone();
        sim.client("client", async move {
            let bus = EventBus::default();
            let mut rx = bus.subscribe();
            let discovery = Discovery::new([Instance::new(addr("server"))]);
            let pool = PoolConfig {
                mode,
                stall_timeout: Duration::from_secs(1),
                ..PoolConfig::default()
            };
            let breaker = BreakerConfig {
                bucket: Duration::from_millis(100),
                buckets: 10,
                min_samples: 20,
                error_rate: 0.5,
                cooling_base: Duration::from_millis(200),
                cooling_cap: Duration::from_secs(1),
                half_open_probes: 1,
                half_open_successes: 1,
                ..BreakerConfig::default()
            };
            let Stack { client, pool, .. } = stack(pool, breaker, &discovery, &bus, DEADLINE);
            let start = Instant::now();
            let mut calls = JoinSet::new();
            let mut steady = None;
            let total = (LOAD_UNTIL.as_millis() / INTERVAL.as_millis()) as u32;
            for i in 0..total {
                let due = start + INTERVAL * i;
                sleep_until(due).await;
                if steady.is_none() && due >= start + PARTITION_AT - Duration::from_millis(100) {
                    steady = Some((pool.connections(), pool.tasks(), server.open()));
                }
                let call = client.echo_reply("x");
                calls.spawn(async move {
                    let result = call.await.map(|_| ()).map_err(|e| e.kind());
                    (due - start, due.elapsed(), result)
                });
            }
            let mut outcomes: Vec<Outcome> = Vec::new();
            while let Some(done) = calls.join_next().await {
                outcomes.push(done.expect("a call task"));
            }
            outcomes.sort_by_key(|o| o.0);
            let (connections, tasks, server_open) = steady.expect("a steady state");
            let label = format!("{mode:?}");

            // Every call ended by its deadline, whatever the network did.
            let late: Vec<_> = outcomes.iter().filter(|o| o.1 > DEADLINE).collect();
            assert!(late.is_empty(), "{label}: calls past the deadline {late:?}");
            // Healthy before the partition.
            assert!(
                outcomes
                    .iter()
                    .filter(|o| o.0 < PARTITION_AT)
                    .all(|o| o.2.is_ok()),
                "{label}: failures before the partition"
            );
            // The instance breaker opened during the partition.
            let t = instance_transitions(&drain(&mut rx));
            let opened = t
                .iter()
                .find(|(_, _, to)| *to == BreakerState::Open)
                .map(|(at, _, _)| *at)
                .unwrap_or_else(|| panic!("{label}: the instance breaker never opened: {t:?}"));
            assert!(
                opened > PARTITION_AT && opened < PARTITION_AT + Duration::from_secs(1),
                "{label}: opened at {opened:?}"
            );
            // Recovery within the stated bound, and from then on no call waits on a
            // dead connection: every one succeeds.
            let first_ok = outcomes
                .iter()
                .find(|o| o.0 >= HEAL_AT && o.2.is_ok())
                .map(|o| o.0)
                .unwrap_or_else(|| panic!("{label}: never recovered"));
            assert!(
                first_ok <= HEAL_AT + RECOVERY,
                "{label}: first success at {first_ok:?}"
            );
            let after: Vec<_> = outcomes
                .iter()
                .filter(|o| o.0 >= HEAL_AT + RECOVERY && o.2.is_err())
                .collect();
            assert!(
                after.is_empty(),
                "{label}: failures after recovery {after:?}"
            );
            // The pool is back to its steady state: as many connections and tasks.
            assert_eq!(
                (pool.connections(), pool.tasks()),
                (connections, tasks),
                "{label}: pool connections and tasks"
            );
            // The server holds the new connection and the old one whose close the
            // partition swallowed (turmoil has no keepalive; the server no idle timeout).
            assert_eq!(
                server.open(),
                server_open + 1,
                "{label}: server connections"
            );
            Ok(())
        });
    }
    let (mut partitioned, mut healed) = (false, false);
    while !sim.step().expect("the simulation steps") {
        if !partitioned && sim.elapsed() >= PARTITION_AT {
            sim.partition("client", "server");
            partitioned = true;
        }
        if !healed && sim.elapsed() >= HEAL_AT {
            sim.repair("client", "server");
            healed = true;
        }
    }
    assert!(healed);
}

#[test]
fn a_partition_under_load_ends_every_call_by_its_deadline_and_recovers_exclusive() {
    partition_under_load(PoolMode::Exclusive);
}

#[test]
fn a_partition_under_load_ends_every_call_by_its_deadline_and_recovers_multiplexed() {
    partition_under_load(PoolMode::Multiplexed);
}

/// A call without a deadline on a connection the network black-holes does not wait
/// forever: after `stallTimeout` without a byte it fails (`Io`, `TimedOut`), the
/// connection is closed, and once the partition heals the next call succeeds on a new one.
fn stall_without_deadline(mode: PoolMode) {
    let server = ServerConns::default();
    let mut sim = sim(66);
    serve(
        &mut sim,
        "server",
        || flaky_router(Arc::default()),
        server.clone(),
    );
    let (ask_tx, mut ask) = watch::channel(false);
    let (done_tx, mut done) = watch::channel(false);
    let stall = Duration::from_secs(1);
    {
        let server = server.clone();
        sim.client("client", async move {
            let bus = EventBus::default();
            let discovery = Discovery::new([Instance::new(addr("server"))]);
            let pool = PoolConfig {
                mode,
                stall_timeout: stall,
                ..PoolConfig::default()
            };
            let breaker = BreakerConfig {
                enabled: true,
                ..BreakerConfig::default()
            };
            let Stack { client, pool, .. } = stack(pool, breaker, &discovery, &bus, Duration::ZERO);
            assert_eq!(client.echo("before").await?, "before");
            ask_tx.send_replace(true);
            done.wait_for(|partitioned| *partitioned).await?;
            let start = Instant::now();
            let err = client.echo("lost").await.unwrap_err();
            let RpcError::Io { kind, .. } = &err else {
                panic!("{mode:?}: a stall is an Io error: {err}");
            };
            assert_eq!(*kind, io::ErrorKind::TimedOut, "{mode:?}");
            assert_eq!(start.elapsed(), stall, "{mode:?}");
            assert_eq!(pool.connections(), 0, "{mode:?}: closed");
            ask_tx.send_replace(false);
            done.wait_for(|partitioned| !*partitioned).await?;
            assert_eq!(client.echo("after").await?, "after");
            assert_eq!(server.accepted(), 2, "{mode:?}: a new connection");
            Ok(())
        });
    }
    while !sim.step().expect("the simulation steps") {
        let partition = *ask.borrow_and_update();
        if partition != *done_tx.borrow() {
            match partition {
                true => sim.partition("client", "server"),
                false => sim.repair("client", "server"),
            }
            done_tx.send_replace(partition);
        }
    }
}

#[test]
fn a_call_without_a_deadline_on_a_black_hole_fails_after_the_stall_timeout_exclusive() {
    stall_without_deadline(PoolMode::Exclusive);
}

#[test]
fn a_call_without_a_deadline_on_a_black_hole_fails_after_the_stall_timeout_multiplexed() {
    stall_without_deadline(PoolMode::Multiplexed);
}

/// What the client asks the fault loop to do to the server host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Crash,
    Bounce,
}

/// A crash and a restart of the server, retries off: calls while it is down fail at the
/// dial (never hang), and the first call after the restart succeeds on a new connection:
/// the pool never reuses the connection the crash closed. (The fault loop acknowledges a
/// crash once the crashed host's FIN has crossed the 1 ms link: a call made before that
/// is a call in flight when the peer closed, which fails with `Io`.)
fn crash_and_bounce(mode: PoolMode) {
    let server = ServerConns::default();
    let mut sim = sim(21);
    serve(
        &mut sim,
        "server",
        || flaky_router(Arc::default()),
        server.clone(),
    );
    let (ask_tx, mut ask) = watch::channel(Fault::None);
    let (done_tx, mut done) = watch::channel(Fault::None);
    {
        let server = server.clone();
        sim.client("client", async move {
            let bus = EventBus::default();
            let discovery = Discovery::new([Instance::new(addr("server"))]);
            let pool = PoolConfig {
                mode,
                ..PoolConfig::default()
            };
            let off = BreakerConfig {
                enabled: true,
                min_samples: 1_000,
                ..BreakerConfig::default()
            };
            let Stack { client, pool, .. } = stack(pool, off, &discovery, &bus, DEADLINE);
            for i in 0..3 {
                assert_eq!(
                    client.echo(&format!("before {i}")).await?,
                    format!("before {i}")
                );
            }
            assert_eq!((server.accepted(), pool.connections()), (1, 1));

            ask_tx.send_replace(Fault::Crash);
            done.wait_for(|f| *f == Fault::Crash).await?;
            for _ in 0..3 {
                let start = Instant::now();
                let err = client.echo("down").await.unwrap_err();
                // Nothing listens (refused), or nothing answers at all (turmoil drops
                // segments to a crashed host): either way the dial gives up in time.
                assert!(
                    matches!(
                        err.kind(),
                        RpcErrorKind::Connect | RpcErrorKind::ConnectTimeout
                    ),
                    "{mode:?}: {err}"
                );
                assert!(start.elapsed() < DEADLINE);
            }

            ask_tx.send_replace(Fault::Bounce);
            done.wait_for(|f| *f == Fault::Bounce).await?;
            for i in 0..3 {
                assert_eq!(
                    client.echo(&format!("after {i}")).await?,
                    format!("after {i}")
                );
            }
            assert_eq!(server.accepted(), 2, "{mode:?}: one new connection");
            assert_eq!(pool.connections(), 1, "{mode:?}");
            Ok(())
        });
    }
    let mut crashed_at = None;
    while !sim.step().expect("the simulation steps") {
        let asked = *ask.borrow_and_update();
        match asked {
            Fault::Crash if *done_tx.borrow() == Fault::None => match crashed_at {
                None => {
                    sim.crash("server");
                    crashed_at = Some(sim.elapsed());
                }
                Some(at) if sim.elapsed() >= at + TICK * 5 => {
                    done_tx.send_replace(Fault::Crash);
                }
                Some(_) => {}
            },
            // Acknowledged once the restarted software listens again.
            Fault::Bounce if *done_tx.borrow() == Fault::Crash => {
                if server.started.load(Ordering::SeqCst) == 1 {
                    sim.bounce("server");
                }
                if server.started.load(Ordering::SeqCst) == 2 {
                    done_tx.send_replace(Fault::Bounce);
                }
            }
            _ => {}
        }
    }
    assert_eq!(*done_tx.borrow(), Fault::Bounce);
}

#[test]
fn after_a_crash_and_restart_the_pool_reconnects_without_retries_exclusive() {
    crash_and_bounce(PoolMode::Exclusive);
}

#[test]
fn after_a_crash_and_restart_the_pool_reconnects_without_retries_multiplexed() {
    crash_and_bounce(PoolMode::Multiplexed);
}

/// When discovery drops an instance, its instance breaker and its connections go (with
/// a multiplexed connection's two tasks); when it comes back it starts afresh: a breaker
/// that was open (cooling for a minute) no longer refuses it.
fn removed_instance(mode: PoolMode) {
    let b_failing = Arc::new(AtomicBool::new(true));
    let (a_conns, b_conns) = (ServerConns::default(), ServerConns::default());
    let mut sim = sim(33);
    serve(&mut sim, "a", || flaky_router(Arc::default()), a_conns);
    {
        let b_failing = b_failing.clone();
        serve(
            &mut sim,
            "b",
            move || flaky_router(b_failing.clone()),
            b_conns.clone(),
        );
    }
    sim.client("client", async move {
        let bus = EventBus::default();
        let both = || [Instance::new(addr("a")), Instance::new(addr("b"))];
        let discovery = Discovery::new(both());
        let pool = PoolConfig {
            mode,
            ..PoolConfig::default()
        };
        let breaker = BreakerConfig {
            min_samples: 2,
            error_rate: 0.5,
            cooling_base: Duration::from_secs(60),
            cooling_cap: Duration::from_secs(60),
            ..BreakerConfig::default()
        };
        let Stack {
            client,
            pool,
            breakers,
        } = stack(pool, breaker, &discovery, &bus, DEADLINE);
        // Round robin: a, b, a, b. b's two failures open its breaker.
        for _ in 0..2 {
            assert_eq!(client.echo("a").await?, "a");
            assert_eq!(
                client.echo("b").await.unwrap_err().kind(),
                RpcErrorKind::Application
            );
        }
        assert_eq!(client.echo("a").await?, "a");
        assert_eq!(
            client.echo("b").await.unwrap_err().kind(),
            RpcErrorKind::BreakerOpen
        );
        let tasks_per_conn = match mode {
            PoolMode::Exclusive => 0,
            PoolMode::Multiplexed => 2,
        };
        assert_eq!(breakers.breakers(), 2);
        assert_eq!(pool.connections(), 2);
        assert_eq!(pool.tasks(), 2 * tasks_per_conn);

        discovery.set([Instance::new(addr("a"))]);
        assert_eq!(client.echo("only a").await?, "only a");
        assert_eq!(breakers.breakers(), 1, "{mode:?}: b's breaker is gone");
        assert_eq!(pool.connections(), 1, "{mode:?}: b's connection is gone");
        assert_eq!(pool.tasks(), tasks_per_conn, "{mode:?}");
        assert_eq!(b_conns.open(), 0, "{mode:?}: b saw its connection close");

        b_failing.store(false, Ordering::SeqCst);
        discovery.set(both());
        let mut answered = Vec::new();
        for i in 0..4 {
            let (message, reply) = client.echo_reply(&format!("{i}")).await?;
            assert_eq!(message, format!("{i}"));
            answered.push(reply.instance.expect("a remote reply").addr.to_string());
        }
        assert!(answered.contains(&addr("b")), "{mode:?}: {answered:?}");
        assert_eq!(breakers.breakers(), 2);
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}

#[test]
fn a_removed_instance_loses_its_breaker_and_connections_exclusive() {
    removed_instance(PoolMode::Exclusive);
}

#[test]
fn a_removed_instance_loses_its_breaker_and_connections_multiplexed() {
    removed_instance(PoolMode::Multiplexed);
}

/// `muxConnections: 3` opens three connections per instance, used round robin; after
/// `idleTimeout` without calls each closes with its tasks, on both sides.
#[test]
fn multiplexed_connections_per_instance_and_their_idle_timeout() {
    let server = ServerConns::default();
    let mut sim = sim(44);
    serve(
        &mut sim,
        "server",
        || flaky_router(Arc::default()),
        server.clone(),
    );
    sim.client("client", async move {
        let bus = EventBus::default();
        let discovery = Discovery::new([Instance::new(addr("server"))]);
        let idle = Duration::from_secs(1);
        let pool = PoolConfig {
            mode: PoolMode::Multiplexed,
            mux_connections: 3,
            idle_timeout: idle,
            ..PoolConfig::default()
        };
        let Stack { client, pool, .. } =
            stack(pool, BreakerConfig::default(), &discovery, &bus, DEADLINE);
        for i in 0..6 {
            assert_eq!(client.echo(&format!("{i}")).await?, format!("{i}"));
        }
        assert_eq!((server.accepted(), server.open()), (3, 3));
        assert_eq!((pool.connections(), pool.tasks()), (3, 6));
        let last = Instant::now();
        // Elapsed time is the behaviour under test: one tick short, still open.
        tokio::time::sleep_until(last + idle - TICK * 5).await;
        assert_eq!((pool.connections(), pool.tasks()), (3, 6));
        tokio::time::sleep_until(last + idle + TICK * 5).await;
        assert_eq!((pool.connections(), pool.tasks()), (0, 0));
        assert_eq!(server.open(), 0, "the server saw them close");
        assert_eq!(client.echo("again").await?, "again");
        assert_eq!(server.accepted(), 4, "a new one is dialed");
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}

/// A client built by `Client::from_config` with a fallback serves it because its real
/// service breaker opened on a failing server, and because a real pool call to a server
/// that does not answer ran out its deadline.
#[test]
fn fallbacks_served_by_a_real_breaker_and_a_real_timeout() {
    let failing = Arc::new(AtomicBool::new(true));
    let mut sim = sim(55);
    {
        let failing = failing.clone();
        serve(
            &mut sim,
            "failing",
            move || flaky_router(failing.clone()),
            ServerConns::default(),
        );
    }
    let silent = || {
        Router::new().route(echo::METHOD, |_ctx: CallContext, _args: EchoArgs| async {
            pending::<Result<EchoResult, ApplicationException>>().await
        })
    };
    serve(&mut sim, "silent", silent, ServerConns::default());
    sim.client("client", async move {
        let config: ClientConfig = serde_yaml::from_str(
            "{ timeout: 100ms, retry: { maxRetries: 0 }, fallback: { reply: cached },
               serviceBreaker: { bucket: 100ms, buckets: 10, minSamples: 3, errorRate: 0.5,
                                 coolingBase: 10s } }",
        )?;
        // Through a real breaker.
        let bus = EventBus::default();
        let mut rx = bus.subscribe();
        let discovery = Discovery::new([Instance::new(addr("failing"))]);
        let client = Client::from_config(&config, Sim, discovery, bus.clone())?;
        let client = EchoClient::new(client, ProtocolId::Binary);
        for _ in 0..3 {
            let err = client.echo("x").await.unwrap_err();
            assert_eq!(
                err.kind(),
                RpcErrorKind::Application,
                "not a fallback: {err}"
            );
        }
        let (message, reply) = client.echo_reply("x").await?;
        assert_eq!((message.as_str(), reply.is_fallback()), ("cached", true));
        let reasons: Vec<_> = drain(&mut rx)
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Fallback { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect();
        assert_eq!(reasons, [FallbackReason::BreakerOpen]);

        // Through a real pool call that timed out.
        let bus = EventBus::default();
        let mut rx = bus.subscribe();
        let discovery = Discovery::new([Instance::new(addr("silent"))]);
        let client = Client::from_config(&config, Sim, discovery, bus.clone())?;
        let client = EchoClient::new(client, ProtocolId::Binary);
        let start = Instant::now();
        let (message, reply) = client.echo_reply("x").await?;
        assert_eq!((message.as_str(), reply.is_fallback()), ("cached", true));
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        let reasons: Vec<_> = drain(&mut rx)
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Fallback { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect();
        assert_eq!(reasons, [FallbackReason::Timeout]);
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}
