//! The server under faults on real loopback TCP: slow-loris clients at the connection
//! limit lose their slots at the read timeout; a half-closed socket is answered and closed;
//! an idle connection closes at the idle timeout (not while a call is in flight); a peer
//! that never reads its replies is closed at the write timeout; a stuck
//! handler ends at the drain deadline; `abort` returns at once with calls in flight; a
//! graceful drain (the `Server` dropped) refuses new connections and answers every call
//! multiplexed on one connection.
//!
//! Tests that wait for a timeout run on tokio's paused clock (it jumps to the next timer
//! once every task waits), so they take no real time and measure virtual time exactly.
//! Every wait is bounded by `within`.

mod server_support;

use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::echo::{self, EchoArgs, EchoResult, METHOD};
use faultline_core::event::{CloseReason, EventBus};
use faultline_core::frame::{Header, Transport};
use faultline_core::net::Tcp;
use faultline_core::protocol::{MessageType, ProtocolId};
use faultline_core::server::{Router, Server, ServerBuilder};
use server_support::{call_frame, connect, next_close, within, RawClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

const FRAMED: Transport = Transport::Framed;
const BINARY: ProtocolId = ProtocolId::Binary;

async fn client(server: &Server) -> RawClient<TcpStream> {
    connect(&Tcp, &server.local_addr().to_string()).await
}

async fn call(client: &mut RawClient<TcpStream>, method: &str, seq_id: i32, message: &str) {
    let args = EchoArgs::new(message);
    client
        .call(FRAMED, BINARY, None, method, seq_id, &args)
        .await;
}

async fn assert_echoes(client: &mut RawClient<TcpStream>, seq_id: i32, message: &str) {
    call(client, METHOD, seq_id, message).await;
    let reply = within("an echo reply", client.reply::<EchoResult>()).await;
    assert_eq!(reply.envelope.seq_id, seq_id);
    let result = reply.result.expect("an echo reply");
    assert_eq!(result.success.expect("success").message, message);
}

/// Tells its channel when the handler holding it is dropped (finished or cancelled).
struct DropGuard(mpsc::UnboundedSender<()>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// What the `hold` handlers report.
struct Hold {
    /// The message of every `hold` call that started.
    started: mpsc::UnboundedReceiver<String>,
    /// One `()` per `hold` handler dropped.
    dropped: mpsc::UnboundedReceiver<()>,
    /// One permit lets one `hold` call finish.
    release: Arc<Semaphore>,
}

/// The echo router plus `slow`, which echoes after `delay`.
fn slow_router(delay: Duration) -> Router {
    echo::router().route("slow", move |ctx, args: EchoArgs| async move {
        tokio::time::sleep(delay).await;
        echo::echo(ctx, args).await
    })
}

/// Echo plus `hold`: reports that it started, waits for a permit of `release`, then echoes.
fn holding_router() -> (Router, Hold) {
    let (started_tx, started) = mpsc::unbounded_channel();
    let (dropped_tx, dropped) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    let permits = release.clone();
    let router = echo::router().route("hold", move |ctx, args: EchoArgs| {
        let guard = DropGuard(dropped_tx.clone());
        let started = started_tx.clone();
        let permits = permits.clone();
        async move {
            let _guard = guard;
            let _ = started.send(args.req.message.clone());
            match permits.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => pending().await,
            }
            echo::echo(ctx, args).await
        }
    });
    let hold = Hold {
        started,
        dropped,
        release,
    };
    (router, hold)
}

impl Hold {
    async fn started(&mut self, message: &str) {
        let started = within("a hold call starts", self.started.recv()).await;
        assert_eq!(started.as_deref(), Some(message));
    }

    async fn dropped(&mut self) {
        let dropped = within("a hold handler is dropped", self.dropped.recv()).await;
        assert_eq!(dropped, Some(()));
    }
}

/// Two clients hold both connection slots by sending a frame one byte every 300 ms. A
/// third is refused while they do. One second after its first byte each is closed (the
/// drip does not restart the read clock), and a new client is served.
#[tokio::test(start_paused = true)]
async fn slow_loris_clients_at_the_connection_limit_lose_their_slots_at_the_read_timeout() {
    let events = EventBus::default();
    let mut rx = events.subscribe();
    let server = ServerBuilder::new(echo::SERVICE)
        .max_connections(2)
        .read_timeout(Duration::from_secs(1))
        .events(events)
        .bind(&Tcp, "127.0.0.1:0", echo::router())
        .await
        .expect("bind");
    let addr = server.local_addr().to_string();
    let frame = call_frame(
        FRAMED,
        BINARY,
        None,
        METHOD,
        MessageType::Call,
        1,
        &EchoArgs::new("one byte at a time"),
    );
    let first_byte = Instant::now();
    let mut lorises = Vec::new();
    for _ in 0..2 {
        let stream = TcpStream::connect(&addr).await.expect("connect");
        let (rd, mut wr) = stream.into_split();
        let frame = frame.clone();
        let drip = tokio::spawn(async move {
            for byte in frame {
                if wr.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        lorises.push((rd, drip));
    }
    let mut refused = client(&server).await;
    assert!(
        within("the third connection closes", refused.closed()).await,
        "no slot while the lorises hold both"
    );
    assert_eq!(server.stats().connections_refused(), 1);

    for _ in 0..2 {
        assert_eq!(next_close(&mut rx).await, CloseReason::ReadTimeout);
    }
    let waited = first_byte.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_millis(1300),
        "closed at the read timeout after the first byte, not after {waited:?}"
    );
    assert_eq!(server.stats().read_timeouts(), 2);
    let mut served = client(&server).await;
    assert_echoes(&mut served, 2, "a slot is free again").await;
    for (mut rd, drip) in lorises {
        let mut buf = [0u8; 64];
        let read = within("the loris sees the close", rd.read(&mut buf)).await;
        assert!(matches!(read, Ok(0) | Err(_)), "closed, no reply: {read:?}");
        drip.abort();
    }
    server.shutdown().await;
}

/// A client that sends a call taking 1 s and half-closes gets its reply, then the close;
/// one that half-closes in the middle of a frame is closed at once, not at the (one hour)
/// read timeout.
#[tokio::test(start_paused = true)]
async fn a_half_closed_socket_is_answered_then_cleaned_up() {
    let events = EventBus::default();
    let mut rx = events.subscribe();
    let router = slow_router(Duration::from_secs(1));
    let server = ServerBuilder::new(echo::SERVICE)
        .read_timeout(Duration::from_secs(3600))
        .events(events)
        .bind(&Tcp, "127.0.0.1:0", router)
        .await
        .expect("bind");
    let mut whole = client(&server).await;
    call(&mut whole, "slow", 1, "then half-close").await;
    whole.io.shutdown().await.expect("half-close");
    // The clock moves only once the server has seen the half-close (paused time advances
    // when every task waits), so the call is still in flight then.
    let reply = within("the reply", whole.reply::<EchoResult>()).await;
    assert_eq!(reply.envelope.seq_id, 1);
    assert!(
        reply.result.is_ok(),
        "the call read before the half-close is answered"
    );
    assert!(
        within("the close", whole.closed()).await,
        "then the server closes its side"
    );
    assert_eq!(next_close(&mut rx).await, CloseReason::PeerClosed);

    let mut cut = client(&server).await;
    let frame = call_frame(
        FRAMED,
        BINARY,
        None,
        METHOD,
        MessageType::Call,
        2,
        &EchoArgs::new("cut short"),
    );
    let sent = Instant::now();
    cut.send_raw(&frame[..frame.len() / 2]).await;
    cut.io.shutdown().await.expect("half-close");
    assert!(within("the close", cut.closed()).await);
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "closed at the half-close, not at the read timeout: {:?}",
        sent.elapsed()
    );
    assert_eq!(next_close(&mut rx).await, CloseReason::PeerClosed);
    assert_eq!(server.stats().connections_open(), 0);
    assert_eq!(server.stats().read_timeouts(), 0);
    server.shutdown().await;
}

/// With a 3 s idle timeout: a call that takes 5 s is answered on the same connection (the
/// idle clock does not run while a call is in flight), and 3 s after that reply the
/// connection is closed.
#[tokio::test(start_paused = true)]
async fn an_idle_connection_is_closed_after_the_idle_timeout_but_not_while_a_call_is_in_flight() {
    let events = EventBus::default();
    let mut rx = events.subscribe();
    let router = slow_router(Duration::from_secs(5));
    let server = ServerBuilder::new(echo::SERVICE)
        .idle_timeout(Duration::from_secs(3))
        .events(events)
        .bind(&Tcp, "127.0.0.1:0", router)
        .await
        .expect("bind");
    let mut client = client(&server).await;
    assert_echoes(&mut client, 1, "quick").await;
    call(&mut client, "slow", 2, "five seconds").await;
    let reply = within("the slow reply", client.reply::<EchoResult>()).await;
    assert_eq!(reply.envelope.seq_id, 2);
    assert!(
        reply.result.is_ok(),
        "still open while the call was in flight"
    );
    let answered = Instant::now();
    assert!(within("the idle close", client.closed()).await);
    let idle = answered.elapsed();
    assert!(
        idle >= Duration::from_secs(3) && idle < Duration::from_millis(3100),
        "closed 3 s after the last reply, not {idle:?}"
    );
    assert_eq!(next_close(&mut rx).await, CloseReason::IdleTimeout);
    assert_eq!(server.stats().idle_timeouts(), 1);
    server.shutdown().await;
}

/// A client sends 24 MiB of echo calls and never reads: once the socket buffers are full
/// the server's writer waits, and 2 s later the connection is closed.
#[tokio::test(start_paused = true)]
async fn a_peer_that_never_reads_is_closed_at_the_write_timeout() {
    let events = EventBus::default();
    let mut rx = events.subscribe();
    let server = ServerBuilder::new(echo::SERVICE)
        .write_timeout(Duration::from_secs(2))
        .events(events)
        .bind(&Tcp, "127.0.0.1:0", echo::router())
        .await
        .expect("bind");
    let mut deaf = client(&server).await;
    let message = "x".repeat(512 * 1024);
    for seq_id in 0..48 {
        call(&mut deaf, METHOD, seq_id, &message).await;
    }
    let sent = Instant::now();
    assert_eq!(next_close(&mut rx).await, CloseReason::WriteTimeout);
    assert!(
        sent.elapsed() >= Duration::from_secs(2),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(server.stats().write_timeouts(), 1);
    assert_eq!(server.stats().connections_open(), 0);
    server.shutdown().await;
}

/// Shutdown with a handler that never finishes returns at the 2 s drain deadline; the
/// handler is cancelled and its connection closed without a reply.
#[tokio::test(start_paused = true)]
async fn drain_with_a_stuck_handler_ends_at_the_drain_deadline() {
    let events = EventBus::default();
    let mut rx = events.subscribe();
    let (router, mut hold) = holding_router();
    let server = ServerBuilder::new(echo::SERVICE)
        .drain_timeout(Duration::from_secs(2))
        .events(events)
        .bind(&Tcp, "127.0.0.1:0", router)
        .await
        .expect("bind");
    let stats = server.stats().clone();
    let mut stuck = client(&server).await;
    call(&mut stuck, "hold", 1, "stuck").await;
    hold.started("stuck").await;

    let asked = Instant::now();
    within("shutdown", server.shutdown()).await;
    let waited = asked.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_millis(2100),
        "shutdown ends at the drain deadline, not after {waited:?}"
    );
    hold.dropped().await;
    assert!(
        within("the close", stuck.closed()).await,
        "closed, no reply"
    );
    assert_eq!(next_close(&mut rx).await, CloseReason::Cancelled);
    assert_eq!(stats.calls_cancelled(), 1);
    assert_eq!(stats.connections_open(), 0);
}

/// `abort` with two calls in flight and an hour of drain timeout returns at once: both
/// handlers are cancelled and both connections closed without a reply.
#[tokio::test]
async fn abort_returns_promptly_with_calls_in_flight() {
    within("the test", async {
        let (router, mut hold) = holding_router();
        let server = ServerBuilder::new(echo::SERVICE)
            .drain_timeout(Duration::from_secs(3600))
            .bind(&Tcp, "127.0.0.1:0", router)
            .await
            .expect("bind");
        let stats = server.stats().clone();
        let mut first = client(&server).await;
        let mut second = client(&server).await;
        call(&mut first, "hold", 1, "first").await;
        hold.started("first").await;
        call(&mut second, "hold", 2, "second").await;
        hold.started("second").await;

        server.abort().await;
        hold.dropped().await;
        hold.dropped().await;
        assert!(first.closed().await, "closed, no reply");
        assert!(second.closed().await, "closed, no reply");
        assert_eq!(stats.calls_cancelled(), 2);
        assert_eq!(stats.connections_open(), 0);
    })
    .await;
}

/// The `Server` dropped with three calls multiplexed on one TTHeader connection: the idle
/// connection closes, new connections are refused, the three calls all get their replies
/// once they finish, then their connection closes.
#[tokio::test]
async fn graceful_drain_refuses_new_connections_and_answers_every_multiplexed_call() {
    within("the test", async {
        let events = EventBus::default();
        let mut rx = events.subscribe();
        let (router, mut hold) = holding_router();
        let server = ServerBuilder::new(echo::SERVICE)
            .events(events)
            .bind(&Tcp, "127.0.0.1:0", router)
            .await
            .expect("bind");
        let addr = server.local_addr().to_string();
        let stats = server.stats().clone();
        let mut idle = client(&server).await;
        assert_echoes(&mut idle, 1, "idle but open").await;
        let mut busy = client(&server).await;
        for seq_id in 1..=3 {
            let header = Header::new(BINARY, seq_id);
            let message = format!("call {seq_id}");
            let args = EchoArgs::new(message.as_str());
            busy.call(
                Transport::TTHeader,
                BINARY,
                Some(&header),
                "hold",
                seq_id,
                &args,
            )
            .await;
            hold.started(&message).await;
        }

        drop(server);
        // The idle connection closing shows the drain has begun, the listener closed.
        assert!(idle.closed().await, "idle connections close at once");
        assert!(
            TcpStream::connect(&addr).await.is_err(),
            "new connections are refused while draining"
        );
        assert_eq!(next_close(&mut rx).await, CloseReason::Shutdown);

        hold.release.add_permits(3);
        let mut answered = Vec::new();
        for _ in 0..3 {
            let reply = busy.reply::<EchoResult>().await;
            let message = reply
                .result
                .expect("answered")
                .success
                .expect("success")
                .message;
            assert_eq!(message, format!("call {}", reply.envelope.seq_id));
            answered.push(reply.envelope.seq_id);
        }
        answered.sort();
        assert_eq!(answered, [1, 2, 3]);
        assert!(busy.closed().await, "then its connection closes");
        assert_eq!(next_close(&mut rx).await, CloseReason::Shutdown);
        assert_eq!(stats.calls_cancelled(), 0);
        assert_eq!(stats.connections_open(), 0);
    })
    .await;
}
