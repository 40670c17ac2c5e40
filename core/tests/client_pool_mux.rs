//! The pool's multiplexed mode (TTHeader multiplexing by sequence id) against a real
//! server on 127.0.0.1: many concurrent calls on one connection, replies out of order,
//! cancellation, and a failing connection failing every call in flight.

use std::sync::Arc;
use std::time::Duration;

use faultline_core::client::{encode_args, ClientBuilder, EchoClient, Pool, PoolConfig, PoolMode};
use faultline_core::echo::{self, EchoArgs, EchoResult, Response};
use faultline_core::frame::Transport;
use faultline_core::lb::{Discovery, LoadBalanceLayer, WeightedRoundRobin};
use faultline_core::net::Tcp;
use faultline_core::protocol::{ApplicationException, DecodeLimits, ProtocolId};
use faultline_core::rpc::{Call, Instance, RpcErrorKind};
use faultline_core::server::{CallContext, Router, Server, ServerBuilder};
use faultline_core::transport::FrameReader;
use tokio::sync::{mpsc, Notify};
use tower::{Service, ServiceExt};

fn mux_pool() -> Pool<Tcp> {
    Pool::new(
        Tcp,
        PoolConfig {
            mode: PoolMode::Multiplexed,
            connect_timeout: Duration::from_secs(5),
            ..PoolConfig::default()
        },
    )
}

fn client(pool: Pool<Tcp>, server: &Server) -> EchoClient {
    let discovery = Discovery::new([Instance::new(server.local_addr().to_string())]);
    let balancer = LoadBalanceLayer::new(echo::SERVICE, discovery, WeightedRoundRobin);
    let client = ClientBuilder::new(echo::SERVICE)
        .no_retry()
        .balancer(balancer)
        .build(pool);
    EchoClient::new(client, ProtocolId::Binary)
}

/// An Echo server whose `slow` messages wait (announcing themselves on `started`) until
/// `release` is notified; other messages answer at once.
async fn gated_server() -> (Server, mpsc::UnboundedReceiver<()>, Arc<Notify>) {
    let (started, started_rx) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let router = Router::new().route(echo::METHOD, move |_ctx: CallContext, args: EchoArgs| {
        let started = started.clone();
        let gate = gate.clone();
        async move {
            if args.req.message == "slow" {
                let released = gate.notified();
                started.send(()).expect("the test is listening");
                released.await;
            }
            Ok::<_, ApplicationException>(EchoResult {
                success: Some(Response {
                    message: args.req.message,
                }),
            })
        }
    });
    let server = ServerBuilder::new(echo::SERVICE)
        .bind(&Tcp, "127.0.0.1:0", router)
        .await
        .unwrap();
    (server, started_rx, release)
}

#[tokio::test]
async fn many_concurrent_calls_share_one_connection() {
    let server = ServerBuilder::new(echo::SERVICE)
        .bind(&Tcp, "127.0.0.1:0", echo::router())
        .await
        .unwrap();
    let client = client(mux_pool(), &server);
    let calls = (0..200).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { (i, client.echo(&format!("m{i}")).await) })
    });
    for call in futures_util::future::join_all(calls).await {
        let (i, result) = call.unwrap();
        assert_eq!(result.unwrap(), format!("m{i}"));
    }
    assert_eq!(server.stats().connections_accepted(), 1);
    assert_eq!(server.stats().requests(), 200);
}

#[tokio::test]
async fn a_later_call_is_answered_before_an_earlier_one() {
    let (server, mut started, release) = gated_server().await;
    let pool = mux_pool();
    let client = client(pool.clone(), &server);
    let slow = tokio::spawn({
        let client = client.clone();
        async move { client.echo("slow").await }
    });
    started.recv().await.unwrap();
    assert_eq!(client.echo("fast").await.unwrap(), "fast");
    assert!(!slow.is_finished(), "the earlier call is still waiting");
    release.notify_one();
    assert_eq!(slow.await.unwrap().unwrap(), "slow");
    assert_eq!(server.stats().connections_accepted(), 1);
}

#[tokio::test]
async fn a_cancelled_call_frees_its_slot_and_its_late_reply_is_dropped() {
    let (server, mut started, release) = gated_server().await;
    let addr = server.local_addr().to_string();
    let pool = mux_pool();
    let client = client(pool.clone(), &server);
    let slow = tokio::spawn({
        let client = client.clone();
        async move { client.echo("slow").await }
    });
    started.recv().await.unwrap();
    assert_eq!(pool.in_flight(&addr), 1);
    slow.abort();
    assert!(slow.await.unwrap_err().is_cancelled());
    assert_eq!(pool.in_flight(&addr), 0, "the slot is gone");
    release.notify_one();
    assert_eq!(client.echo("next").await.unwrap(), "next");
    assert_eq!(server.stats().connections_accepted(), 1);
}

/// Every call in flight on a broken connection fails, in sequence-id order (the order they
/// were sent: on a current-thread runtime the woken calls then finish in that order, which
/// a map in hash order would shuffle), and the next call dials a new connection.
#[tokio::test(flavor = "current_thread")]
async fn a_broken_connection_fails_every_call_in_flight_in_order_and_is_replaced() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let pool = mux_pool();
    let finished = Arc::new(std::sync::Mutex::new(Vec::new()));
    let calls: Vec<_> = (0..8)
        .map(|i| {
            let mut pool = pool.clone();
            let args = encode_args(ProtocolId::Binary, &EchoArgs::new(format!("m{i}"))).unwrap();
            let mut call = Call::new(echo::METHOD, args);
            call.target = Some(Arc::new(Instance::new(addr.clone())));
            let finished = finished.clone();
            tokio::spawn(async move {
                let result = pool.ready().await?.call(call).await;
                finished.lock().unwrap().push(i);
                result
            })
        })
        .collect();
    // Read all eight requests off the one connection, then drop it unanswered.
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut reader = FrameReader::new(DecodeLimits::default());
    for _ in 0..8 {
        reader
            .read(&mut stream)
            .await
            .unwrap()
            .expect("a request frame");
    }
    drop(stream);
    for call in calls {
        let err = call.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), RpcErrorKind::Io, "{err}");
    }
    assert_eq!(*finished.lock().unwrap(), (0..8).collect::<Vec<_>>());
    // The next call dials a new connection.
    let next = tokio::spawn({
        let mut pool = pool.clone();
        let mut call = Call::new(echo::METHOD, bytes::Bytes::from_static(&[0]));
        call.target = Some(Arc::new(Instance::new(addr.clone())));
        async move { pool.ready().await?.call(call).await }
    });
    let (second, _) = listener.accept().await.unwrap();
    drop(second);
    assert_eq!(next.await.unwrap().unwrap_err().kind(), RpcErrorKind::Io);
    assert_eq!(pool.config().transport, Transport::TTHeader);
}
