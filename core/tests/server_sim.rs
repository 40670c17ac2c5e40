//! The same Echo call through the transport seam on tokio TCP (loopback) and on turmoil's
//! simulated network (feature `sim`): server and raw client are generic over `Net`, and
//! nothing but the `Net` value differs. Then the server's timeouts in simulated time: a
//! slow loris loses its connection slot at the read timeout (and one seed gives one event
//! trace), an idle connection closes at the idle timeout, a half-closed connection is
//! answered then closed, a stuck handler ends at the drain deadline and `abort` ends it at
//! once.

mod server_support;

use std::future::pending;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_core::echo::{self, EchoArgs, EchoResult, METHOD};
use faultline_core::event::EventBus;
use faultline_core::frame::Transport;
use faultline_core::net::{Net, Sim, Tcp};
use faultline_core::protocol::{MessageType, ProtocolId};
use faultline_core::server::{Router, ServerBuilder};
use server_support::{call_frame, connect, echo_once, within};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

const ADDR: &str = "server:9090";

/// Serves Echo on `addr` over `net` until the task is dropped.
async fn serve_forever<N: Net>(net: N, addr: &str) -> std::io::Result<()> {
    let _server = ServerBuilder::new(echo::SERVICE)
        .bind(&net, addr, echo::router())
        .await?;
    pending::<()>().await;
    Ok(())
}

#[tokio::test]
async fn echo_over_tokio_tcp() {
    within("echo over tcp", async {
        let server = ServerBuilder::new(echo::SERVICE)
            .bind(&Tcp, "127.0.0.1:0", echo::router())
            .await
            .expect("bind");
        let addr = server.local_addr().to_string();
        assert_eq!(echo_once(&Tcp, &addr, "over tcp").await, "over tcp");
        server.shutdown().await;
    })
    .await;
}

#[test]
fn echo_over_turmoil() {
    let mut sim = turmoil::Builder::new().build();
    sim.host("server", || async {
        serve_forever(Sim, "0.0.0.0:9090").await?;
        Ok(())
    });
    sim.client("client", async {
        assert_eq!(
            echo_once(&Sim, "server:9090", "over turmoil").await,
            "over turmoil"
        );
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}

/// A simulation whose every message takes exactly 1 ms, so timeouts can be measured.
fn sim<'a>(seed: u64) -> turmoil::Sim<'a> {
    turmoil::Builder::new()
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .rng_seed(seed)
        .build()
}

/// Asserts `waited` is `at_least` plus at most 100 ms of simulated network and ticks.
fn assert_about(waited: Duration, at_least: Duration, what: &str) {
    assert!(
        waited >= at_least && waited < at_least + Duration::from_millis(100),
        "{what}: expected {at_least:?}, took {waited:?}"
    );
}

/// One slow-loris run: the server (one connection slot, 1 s read timeout) and a loris
/// that sends one byte of a frame; returns the server's events as `at: kind` lines.
fn slow_loris_trace(seed: u64) -> Vec<String> {
    let trace = Arc::new(Mutex::new(Vec::new()));
    let mut sim = sim(seed);
    let record = trace.clone();
    sim.host("server", move || {
        let record = record.clone();
        async move {
            let events = EventBus::default();
            let mut rx = events.subscribe();
            let _server = ServerBuilder::new(echo::SERVICE)
                .max_connections(1)
                .read_timeout(Duration::from_secs(1))
                .events(events)
                .bind(&Sim, "0.0.0.0:9090", echo::router())
                .await?;
            while let Ok(event) = rx.recv().await {
                let line = format!("{:?}: {:?}", event.at, event.kind);
                record.lock().expect("trace").push(line);
            }
            Ok(())
        }
    });
    sim.client("client", async {
        let mut loris = connect(&Sim, ADDR).await;
        let frame = call_frame(
            Transport::Framed,
            ProtocolId::Binary,
            None,
            METHOD,
            MessageType::Call,
            1,
            &EchoArgs::new("never whole"),
        );
        loris.send_raw(&frame[..1]).await;
        let sent = Instant::now();
        let mut refused = connect(&Sim, ADDR).await;
        assert!(refused.closed().await, "no slot while the loris holds it");
        assert!(loris.closed().await, "the loris is closed");
        assert_about(sent.elapsed(), Duration::from_secs(1), "read timeout");
        assert_eq!(echo_once(&Sim, ADDR, "served").await, "served");
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
    let trace = trace.lock().expect("trace").clone();
    trace
}

#[test]
fn a_slow_loris_loses_its_slot_at_the_read_timeout_over_turmoil() {
    let trace = slow_loris_trace(7);
    assert!(
        trace
            .iter()
            .any(|line| line.contains("reason: ReadTimeout")),
        "{trace:#?}"
    );
    assert_eq!(trace, slow_loris_trace(7), "one seed, one trace");
}

#[test]
fn an_idle_connection_closes_at_the_idle_timeout_over_turmoil() {
    let mut sim = sim(1);
    sim.host("server", || async {
        let _server = ServerBuilder::new(echo::SERVICE)
            .idle_timeout(Duration::from_secs(2))
            .bind(&Sim, "0.0.0.0:9090", echo::router())
            .await?;
        pending::<()>().await;
        Ok(())
    });
    sim.client("client", async {
        let mut client = connect(&Sim, ADDR).await;
        let args = EchoArgs::new("then nothing");
        client
            .call(
                Transport::Framed,
                ProtocolId::Binary,
                None,
                METHOD,
                1,
                &args,
            )
            .await;
        assert!(client.reply::<EchoResult>().await.result.is_ok());
        let answered = Instant::now();
        assert!(client.closed().await, "closed when idle");
        assert_about(answered.elapsed(), Duration::from_secs(2), "idle timeout");
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}

#[test]
fn a_half_closed_connection_is_answered_then_closed_over_turmoil() {
    let mut sim = sim(2);
    sim.host("server", || async {
        let router = echo::router().route("slow", |ctx, args: EchoArgs| async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            echo::echo(ctx, args).await
        });
        let _server = ServerBuilder::new(echo::SERVICE)
            .bind(&Sim, "0.0.0.0:9090", router)
            .await?;
        pending::<()>().await;
        Ok(())
    });
    sim.client("client", async {
        let mut client = connect(&Sim, ADDR).await;
        let args = EchoArgs::new("then half-close");
        client
            .call(
                Transport::Framed,
                ProtocolId::Binary,
                None,
                "slow",
                1,
                &args,
            )
            .await;
        client.io.shutdown().await?;
        let sent = Instant::now();
        let reply = client.reply::<EchoResult>().await;
        assert!(reply.result.is_ok(), "answered after the half-close");
        assert!(client.closed().await, "then closed");
        assert_about(sent.elapsed(), Duration::from_millis(500), "the slow call");
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}

/// Echo plus `stall`, which reports on `started` and never finishes.
fn stalling_router(started: mpsc::UnboundedSender<()>) -> Router {
    echo::router().route("stall", move |_ctx, _args: EchoArgs| {
        let started = started.clone();
        async move {
            let _ = started.send(());
            pending::<()>().await;
            Ok(EchoResult::default())
        }
    })
}

/// A server host that stops (shutdown with a 2 s drain timeout, or abort) once a stalled
/// call is in flight, and checks how long stopping took; a client whose call is cancelled.
fn stop_with_a_stuck_call(abort: bool) {
    let mut sim = sim(3);
    sim.host("server", move || async move {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let server = ServerBuilder::new(echo::SERVICE)
            .drain_timeout(Duration::from_secs(2))
            .bind(&Sim, "0.0.0.0:9090", stalling_router(started_tx))
            .await?;
        let stats = server.stats().clone();
        started.recv().await;
        let asked = Instant::now();
        match abort {
            true => server.abort().await,
            false => server.shutdown().await,
        }
        let expected = if abort {
            Duration::ZERO
        } else {
            Duration::from_secs(2)
        };
        assert_about(asked.elapsed(), expected, "stop");
        assert_eq!(stats.calls_cancelled(), 1);
        pending::<()>().await;
        Ok(())
    });
    sim.client("client", async {
        let mut client = connect(&Sim, ADDR).await;
        let args = EchoArgs::new("stuck");
        client
            .call(
                Transport::Framed,
                ProtocolId::Binary,
                None,
                "stall",
                1,
                &args,
            )
            .await;
        assert!(client.closed().await, "cancelled: closed without a reply");
        Ok(())
    });
    sim.run().expect("the simulation runs to the end");
}

#[test]
fn a_stuck_handler_ends_at_the_drain_deadline_over_turmoil() {
    stop_with_a_stuck_call(false);
}

#[test]
fn abort_ends_a_stuck_handler_at_once_over_turmoil() {
    stop_with_a_stuck_call(true);
}
