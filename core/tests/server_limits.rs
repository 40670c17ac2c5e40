//! Server limits and lifecycle on real loopback TCP: `max_connections`, `max_in_flight`,
//! graceful shutdown draining in-flight calls, and the caller's deadline (TTHeader
//! `RPCTimeout`) cancelling a slow handler, in tokio's paused time.

mod server_support;

use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::echo::{self, EchoArgs, EchoResult, METHOD};
use faultline_core::event::{EventBus, EventKind, Side};
use faultline_core::frame::{Header, Transport};
use faultline_core::net::Tcp;
use faultline_core::protocol::{ApplicationException, ProtocolId};
use faultline_core::rpc::RpcErrorKind;
use faultline_core::server::{Router, Server, ServerBuilder};
use server_support::{connect, next_event, within, RawClient};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

const FRAMED: Transport = Transport::Framed;
const BINARY: ProtocolId = ProtocolId::Binary;

async fn client(server: &Server) -> RawClient<TcpStream> {
    connect(&Tcp, &server.local_addr().to_string()).await
}

async fn call(client: &mut RawClient<TcpStream>, method: &str, seq_id: i32, message: &str) {
    client
        .call(
            FRAMED,
            BINARY,
            None,
            method,
            seq_id,
            &EchoArgs::new(message),
        )
        .await;
}

async fn assert_echoes(client: &mut RawClient<TcpStream>, seq_id: i32, message: &str) {
    call(client, METHOD, seq_id, message).await;
    let reply = client.reply::<EchoResult>().await;
    assert_eq!(reply.envelope.seq_id, seq_id);
    let result = reply.result.expect("an echo reply");
    assert_eq!(result.success.expect("success").message, message);
}

/// Echo plus `hold`: tells `started` it runs, then waits for `release` before echoing.
fn holding_router(started: mpsc::UnboundedSender<String>, release: Arc<Notify>) -> Router {
    echo::router().route("hold", move |ctx, args: EchoArgs| {
        let started = started.clone();
        let release = release.clone();
        async move {
            started
                .send(args.req.message.clone())
                .expect("the test listens");
            release.notified().await;
            echo::echo(ctx, args).await
        }
    })
}

#[tokio::test]
async fn connections_past_max_connections_are_closed_at_accept() {
    within(
        "connections_past_max_connections_are_closed_at_accept",
        async {
            let server = ServerBuilder::new(echo::SERVICE)
                .max_connections(1)
                .bind(&Tcp, "127.0.0.1:0", echo::router())
                .await
                .expect("bind");
            let mut first = client(&server).await;
            assert_echoes(&mut first, 1, "first").await;
            let mut second = client(&server).await;
            assert!(second.closed().await, "the second connection is closed");
            assert_eq!(server.stats().connections_refused(), 1);
            assert_eq!(server.stats().connections_accepted(), 1);
            assert_echoes(&mut first, 2, "first still served").await;
            server.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn requests_past_max_in_flight_are_shed_with_an_exception() {
    within(
        "requests_past_max_in_flight_are_shed_with_an_exception",
        async {
            let events = EventBus::default();
            let mut rx = events.subscribe();
            let (started_tx, mut started) = mpsc::unbounded_channel();
            let release = Arc::new(Notify::new());
            let server = ServerBuilder::new(echo::SERVICE)
                .max_in_flight(1)
                .events(events)
                .bind(
                    &Tcp,
                    "127.0.0.1:0",
                    holding_router(started_tx, release.clone()),
                )
                .await
                .expect("bind");
            let mut holder = client(&server).await;
            call(&mut holder, "hold", 1, "held").await;
            assert_eq!(
                within("the handler starts", started.recv())
                    .await
                    .as_deref(),
                Some("held")
            );

            let mut other = client(&server).await;
            call(&mut other, METHOD, 2, "one too many").await;
            let reply = other.reply::<EchoResult>().await;
            assert_eq!(reply.envelope.seq_id, 2);
            let exception = reply.exception();
            assert_eq!(exception.kind, ApplicationException::INTERNAL_ERROR);
            assert!(exception.message.contains("overloaded"), "{exception}");
            assert_eq!(server.stats().requests_shed(), 1);
            match &next_event(&mut rx).await.kind {
                EventKind::CallFinished { error, .. } => {
                    assert_eq!(*error, Some(RpcErrorKind::Overloaded))
                }
                other => panic!("CallFinished expected, got {other:?}"),
            }

            release.notify_one();
            let reply = holder.reply::<EchoResult>().await;
            assert_eq!(reply.envelope.seq_id, 1);
            assert!(reply.result.is_ok());
            // The held call's slot is free again once its reply is out.
            assert_echoes(&mut other, 3, "room again").await;
            assert_eq!(server.stats().requests_shed(), 1);
            server.shutdown().await;
        },
    )
    .await;
}

/// Shutdown with a call in flight: idle connections close at once, the in-flight call
/// finishes and is answered, then its connection closes and `shutdown` returns.
#[tokio::test]
async fn shutdown_drains_in_flight_calls() {
    within("shutdown_drains_in_flight_calls", async {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let release = Arc::new(Notify::new());
        let server = ServerBuilder::new(echo::SERVICE)
            .bind(
                &Tcp,
                "127.0.0.1:0",
                holding_router(started_tx, release.clone()),
            )
            .await
            .expect("bind");
        let mut busy = client(&server).await;
        let mut idle = client(&server).await;
        assert_echoes(&mut idle, 1, "idle but open").await;
        call(&mut busy, "hold", 2, "in flight").await;
        assert_eq!(
            within("the handler starts", started.recv())
                .await
                .as_deref(),
            Some("in flight")
        );

        let shutdown = tokio::spawn(server.shutdown());
        // The idle connection closing shows the server has begun to shut down.
        assert!(idle.closed().await, "idle connections close on shutdown");
        assert!(
            !shutdown.is_finished(),
            "shutdown waits for the call in flight"
        );

        release.notify_one();
        let reply = busy.reply::<EchoResult>().await;
        assert_eq!(reply.envelope.seq_id, 2);
        let result = reply.result.expect("the drained call is answered");
        assert_eq!(result.success.expect("success").message, "in flight");
        assert!(busy.closed().await, "then its connection closes");
        shutdown.await.expect("shutdown completes");
    })
    .await;
}

/// Drops its sender when the handler holding it is cancelled.
struct CancelGuard(mpsc::UnboundedSender<()>);

impl Drop for CancelGuard {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// A TTHeader `RPCTimeout` of 50 ms cancels a handler that never finishes: the caller
/// gets an exception when the deadline passes (virtual time), the handler is dropped, and
/// `DeadlineExceeded { side: Server }` and `CallFinished { error: Timeout }` are emitted.
#[tokio::test(start_paused = true)]
async fn rpc_timeout_cancels_a_slow_handler() {
    within("rpc_timeout_cancels_a_slow_handler", async {
        let events = EventBus::default();
        let mut rx = events.subscribe();
        let (cancelled_tx, mut cancelled) = mpsc::unbounded_channel();
        let router = echo::router().route("stall", move |_ctx, _args: EchoArgs| {
            let guard = CancelGuard(cancelled_tx.clone());
            async move {
                let _guard = guard;
                pending::<()>().await;
                Ok(EchoResult::default())
            }
        });
        let server = ServerBuilder::new(echo::SERVICE)
            .events(events)
            .bind(&Tcp, "127.0.0.1:0", router)
            .await
            .expect("bind");
        let mut client = client(&server).await;
        let mut header = Header::new(BINARY, 9);
        header.metadata.set_rpc_timeout(Duration::from_millis(50));
        let sent = Instant::now();
        client
            .call(
                Transport::TTHeader,
                BINARY,
                Some(&header),
                "stall",
                9,
                &EchoArgs::new("too slow"),
            )
            .await;
        let reply = client.reply::<EchoResult>().await;
        let waited = sent.elapsed();
        assert!(
            waited >= Duration::from_millis(50) && waited < Duration::from_secs(1),
            "answered when the deadline passed, after {waited:?}"
        );
        assert_eq!(reply.envelope.seq_id, 9);
        let exception = reply.exception();
        assert_eq!(exception.kind, ApplicationException::INTERNAL_ERROR);
        assert!(
            exception.message.contains("deadline exceeded"),
            "{exception}"
        );
        assert_eq!(
            within("the handler is dropped", cancelled.recv()).await,
            Some(()),
            "the handler was dropped"
        );

        match &next_event(&mut rx).await.kind {
            EventKind::DeadlineExceeded {
                side,
                method,
                budget,
            } => {
                assert_eq!(*side, Side::Server);
                assert_eq!(&**method, "stall");
                assert_eq!(*budget, Duration::from_millis(50));
            }
            other => panic!("DeadlineExceeded expected, got {other:?}"),
        }
        match &next_event(&mut rx).await.kind {
            EventKind::CallFinished { error, .. } => {
                assert_eq!(*error, Some(RpcErrorKind::Timeout))
            }
            other => panic!("CallFinished expected, got {other:?}"),
        }
        // The connection stays usable, and a call within its deadline is answered.
        header.seq_id = 10;
        client
            .call(
                Transport::TTHeader,
                BINARY,
                Some(&header),
                METHOD,
                10,
                &EchoArgs::new("quick"),
            )
            .await;
        let reply = client.reply::<EchoResult>().await;
        assert_eq!(
            reply
                .result
                .expect("echo")
                .success
                .expect("success")
                .message,
            "quick"
        );
        server.shutdown().await;
    })
    .await;
}
