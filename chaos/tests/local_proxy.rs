//! The local backend's fault proxy over real TCP: core's echo server in this process, the
//! real client stack (`Client::from_config`, `EchoClient`) connecting through the proxy.
//! Timing assertions are on medians of many calls; sleeps only pace faults, never
//! synchronise.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_chaos::faults::latency::Fitted;
use faultline_chaos::faults::{Effect, MethodRule, Rule};
use faultline_chaos::local::proxy::{Proxy, ProxyConfig, ProxyFaults};
use faultline_chaos::plan::PROBE_NAME;
use faultline_chaos::spec::chaos_mesh::{HttpChaosTarget, MethodFault};
use faultline_core::breaker::BreakerConfig;
use faultline_core::client::retry::RetryConfig;
use faultline_core::client::{Client, ClientConfig, EchoClient, PoolConfig};
use faultline_core::echo::{self, EchoArgs, EchoResult};
use faultline_core::event::EventBus;
use faultline_core::frame::{encode_frame, Transport};
use faultline_core::lb::Discovery;
use faultline_core::net::Tcp;
use faultline_core::protocol::{
    Binary, DecodeLimits, Message, MessageHeader, MessageType, ProtocolId,
};
use faultline_core::rpc::{Instance, RpcError, RpcErrorKind};
use faultline_core::server::{Server, ServerBuilder};
use faultline_core::transport::FrameReader;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SERVER: &str = "echo-az1-0";

struct Rig {
    server: Server,
    proxy: Proxy,
    faults: Arc<ProxyFaults>,
}

async fn rig() -> Rig {
    rig_with(None).await
}

async fn rig_with(base_latency: Option<Fitted>) -> Rig {
    let server = ServerBuilder::new(echo::SERVICE)
        .bind(&Tcp, "127.0.0.1:0", echo::router())
        .await
        .unwrap();
    let faults = ProxyFaults::new();
    let proxy = Proxy::start(
        ProxyConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            upstream: server.local_addr(),
            server: SERVER.into(),
            client: PROBE_NAME.into(),
            base_latency,
            path_cost: Default::default(),
            rtt: Duration::from_micros(100),
            seed: 7,
        },
        faults.clone(),
    )
    .await
    .unwrap();
    Rig {
        server,
        proxy,
        faults,
    }
}

/// The real client stack to `addr`: no retries, no breakers, one pooled connection.
fn client(addr: std::net::SocketAddr, timeout: Duration) -> EchoClient {
    let off = BreakerConfig {
        enabled: false,
        ..BreakerConfig::default()
    };
    let config = ClientConfig {
        timeout,
        retry: RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        },
        service_breaker: off.clone(),
        instance_breaker: off,
        pool: PoolConfig {
            connect_timeout: Duration::from_secs(1),
            ..PoolConfig::default()
        },
        ..ClientConfig::default()
    };
    let discovery = Discovery::new([Instance::new(addr.to_string())]);
    let client = Client::from_config(&config, Tcp, discovery, EventBus::default()).unwrap();
    EchoClient::new(client, ProtocolId::Binary)
}

fn hosts(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// A link rule on requests (probe -> server).
fn on_requests(fault: &str, effect: Effect) -> Rule {
    Rule {
        fault: fault.into(),
        from: hosts(&[PROBE_NAME]),
        to: Some(hosts(&[SERVER])),
        effect,
    }
}

fn delay(ms: u64) -> Effect {
    Effect::Delay {
        latency: Duration::from_millis(ms),
        jitter: Duration::ZERO,
        correlation: 0.0,
    }
}

/// Latencies of `n` sequential calls, sorted; every call must succeed.
async fn latencies(client: &EchoClient, n: usize) -> Vec<Duration> {
    let mut all = Vec::with_capacity(n);
    for i in 0..n {
        let message = format!("m{i}");
        let start = Instant::now();
        let reply = client.echo(&message).await;
        all.push(start.elapsed());
        assert_eq!(reply.unwrap(), message);
    }
    all.sort();
    all
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

fn within_ten_percent(added: Duration, configured: Duration) {
    eprintln!("added {added:?} for {configured:?} configured");
    let error = (added.as_secs_f64() - configured.as_secs_f64()).abs();
    assert!(
        error <= configured.as_secs_f64() * 0.1,
        "added {added:?} for {configured:?} configured"
    );
}

#[tokio::test]
async fn injected_delay_is_accurate_on_a_pooled_connection() {
    let rig = rig().await;
    let client = client(rig.proxy.local_addr(), Duration::from_secs(2));
    let base = median(&latencies(&client, 100).await);
    for (ms, calls) in [(5, 60), (50, 15)] {
        rig.faults.add(on_requests("slow", delay(ms)));
        let slowed = median(&latencies(&client, calls).await);
        rig.faults.remove("slow");
        within_ten_percent(slowed.saturating_sub(base), Duration::from_millis(ms));
    }
    // Every rule acted on the one connection the pool opened before any rule existed.
    assert_eq!(rig.proxy.stats().connections, 1);
}

#[tokio::test]
async fn the_topology_base_latency_is_added_to_requests() {
    let plain = rig().await;
    let base = median(
        &latencies(
            &client(plain.proxy.local_addr(), Duration::from_secs(2)),
            100,
        )
        .await,
    );
    // 3 ms in microseconds, the proxy's unit.
    let far = rig_with(Some(Fitted::fixed(3000))).await;
    let client = client(far.proxy.local_addr(), Duration::from_secs(2));
    let slowed = median(&latencies(&client, 60).await);
    within_ten_percent(slowed.saturating_sub(base), Duration::from_millis(3));
}

#[tokio::test]
async fn a_delay_on_replies_acts_on_replies() {
    let rig = rig().await;
    let client = client(rig.proxy.local_addr(), Duration::from_secs(2));
    let base = median(&latencies(&client, 50).await);
    rig.faults.add(Rule {
        fault: "slow-replies".into(),
        from: hosts(&[SERVER]),
        to: None,
        effect: delay(10),
    });
    let slowed = median(&latencies(&client, 30).await);
    within_ten_percent(slowed.saturating_sub(base), Duration::from_millis(10));
    // A rule on another instance's links does nothing here.
    rig.faults.remove("slow-replies");
    rig.faults.add(Rule {
        fault: "elsewhere".into(),
        from: hosts(&["echo-az2-0"]),
        to: None,
        effect: delay(50),
    });
    assert!(median(&latencies(&client, 20).await) < Duration::from_millis(20));
}

#[tokio::test]
async fn corrupt_requests_are_decode_errors_the_server_counts_and_survives() {
    let rig = rig().await;
    rig.faults
        .add(on_requests("flip", Effect::Corrupt { probability: 1.0 }));
    let corrupted = client(rig.proxy.local_addr(), Duration::from_millis(300));
    let direct = client(rig.server.local_addr(), Duration::from_secs(1));
    let mut failed = 0;
    for i in 0..100 {
        if corrupted.echo(&format!("call {i}")).await.is_err() {
            failed += 1;
        }
        // The server keeps serving connections that are not corrupted.
        assert_eq!(direct.echo("clean").await.unwrap(), "clean");
    }
    let stats = rig.proxy.stats();
    assert!(stats.bits_corrupted >= 100, "{stats:?}");
    assert!(failed > 0);
    assert!(
        rig.server.stats().malformed_frames() > 0,
        "no malformed frame counted in {failed} failed calls"
    );
    // Rollback: clean again through the proxy.
    rig.faults.clear();
    latencies(&corrupted, 20).await;
}

#[tokio::test]
async fn a_partition_hangs_a_pooled_connection_until_it_heals() {
    let rig = rig().await;
    let short = client(rig.proxy.local_addr(), Duration::from_millis(200));
    latencies(&short, 5).await;
    rig.faults.add(on_requests("cut", Effect::Partition));
    let err = short.echo("lost in the partition").await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::Timeout, "{err}");
    // A call with a long deadline waits through the partition and is answered after it.
    let patient = client(rig.proxy.local_addr(), Duration::from_secs(5));
    let started = Instant::now();
    let waiting = tokio::spawn(async move { patient.echo("held").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished());
    rig.faults.remove("cut");
    assert_eq!(waiting.await.unwrap().unwrap(), "held");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(rig.proxy.stats().bytes_held_by_partitions > 0);
    latencies(&short, 20).await;
}

#[tokio::test]
async fn loss_delays_delivery_without_errors() {
    let rig = rig().await;
    let client = client(rig.proxy.local_addr(), Duration::from_secs(5));
    rig.faults
        .add(on_requests("lossy", Effect::Loss { probability: 0.05 }));
    let sorted = latencies(&client, 200).await;
    let p99 = sorted[sorted.len() * 99 / 100 - 1];
    let stats = rig.proxy.stats();
    assert!(stats.segments_lost > 0, "{stats:?}");
    // One call at a time: each lost request is a tail loss, repaired by the probe.
    assert!(p99 >= Duration::from_millis(200), "p99 {p99:?}");
    assert!(median(&sorted) < Duration::from_millis(20));
    assert_eq!(stats.connections_reset, 0);
}

fn method_rule(fault: &str, effect: MethodFault) -> MethodRule {
    MethodRule {
        fault: fault.into(),
        hosts: hosts(&[SERVER]),
        effect,
    }
}

fn method_fault(target: HttpChaosTarget) -> MethodFault {
    MethodFault {
        method: Some(echo::METHOD.into()),
        target,
        delay: None,
        abort: false,
        replace: None,
    }
}

#[tokio::test]
async fn method_faults_delay_abort_and_replace() {
    let rig = rig().await;
    let client = client(rig.proxy.local_addr(), Duration::from_secs(2));
    let base = median(&latencies(&client, 50).await);

    rig.faults.add_method(method_rule(
        "slow-echo",
        MethodFault {
            delay: Some(Duration::from_millis(20)),
            ..method_fault(HttpChaosTarget::Request)
        },
    ));
    let slowed = median(&latencies(&client, 20).await);
    within_ten_percent(slowed.saturating_sub(base), Duration::from_millis(20));
    rig.faults.remove("slow-echo");

    let served = rig.server.stats().requests();
    rig.faults.add_method(method_rule(
        "refuse",
        MethodFault {
            abort: true,
            ..method_fault(HttpChaosTarget::Request)
        },
    ));
    let err = client.echo("refused").await.unwrap_err();
    let RpcError::Application(exception) = &err else {
        panic!("a TApplicationException expected: {err}")
    };
    assert!(exception.message.contains("HTTPChaos"), "{exception:?}");
    assert_eq!(
        rig.server.stats().requests(),
        served,
        "the server saw the call"
    );
    rig.faults.remove("refuse");

    rig.faults.add_method(method_rule(
        "rewrite",
        MethodFault {
            replace: Some("replaced".into()),
            ..method_fault(HttpChaosTarget::Response)
        },
    ));
    assert_eq!(client.echo("original").await.unwrap(), "replaced");
    rig.faults.add_method(method_rule(
        "fail-replies",
        MethodFault {
            abort: true,
            ..method_fault(HttpChaosTarget::Response)
        },
    ));
    assert!(matches!(
        client.echo("x").await,
        Err(RpcError::Application(_))
    ));
    rig.faults.clear();
    assert_eq!(client.echo("clean").await.unwrap(), "clean");
    assert_eq!(rig.proxy.stats().method_faults_applied, 20 + 3);
    assert_eq!(rig.proxy.stats().connections, 1);
}

/// A framed echo call to `method` (the server knows only `echo`).
fn raw_call(method: &str, seq_id: i32) -> Vec<u8> {
    let message = Message {
        header: MessageHeader {
            name: method,
            kind: MessageType::Call,
            seq_id,
        },
        body: EchoArgs::new("raw"),
    };
    encode_frame::<Binary, _>(Transport::Framed, None, &message)
        .unwrap()
        .to_vec()
}

/// The next reply on a raw connection: its sequence id and echo message (`None` for an
/// exception); `Ok(None)` at the end of the stream.
async fn raw_reply(
    reader: &mut FrameReader,
    stream: &mut TcpStream,
) -> std::io::Result<Option<(i32, Option<String>)>> {
    let Some(bytes) = reader.read(stream).await.map_err(std::io::Error::other)? else {
        return Ok(None);
    };
    let frame = reader.decode(&bytes).unwrap();
    let limits = DecodeLimits::default();
    let reply = frame
        .decode_message::<faultline_core::protocol::Value>(limits)
        .unwrap();
    let message = match reply.header.kind {
        MessageType::Reply => frame
            .decode_message::<EchoResult>(limits)
            .unwrap()
            .body
            .success
            .map(|r| r.message),
        _ => None,
    };
    Ok(Some((reply.header.seq_id, message)))
}

/// One framed echo call on a raw connection; the reply's message.
async fn raw_echo(stream: &mut TcpStream, seq_id: i32) -> std::io::Result<Option<String>> {
    stream.write_all(&raw_call(echo::METHOD, seq_id)).await?;
    let mut reader = FrameReader::new(DecodeLimits::default());
    Ok(raw_reply(&mut reader, stream).await?.and_then(|(_, m)| m))
}

#[tokio::test]
async fn a_held_request_does_not_hold_back_the_frames_behind_it() {
    let rig = rig().await;
    rig.faults.add_method(method_rule(
        "slow-echo",
        MethodFault {
            delay: Some(Duration::from_millis(200)),
            ..method_fault(HttpChaosTarget::Request)
        },
    ));
    let mut stream = TcpStream::connect(rig.proxy.local_addr()).await.unwrap();
    let both = [raw_call(echo::METHOD, 1), raw_call("other", 2)].concat();
    stream.write_all(&both).await.unwrap();
    let mut reader = FrameReader::new(DecodeLimits::default());
    let first = raw_reply(&mut reader, &mut stream).await.unwrap().unwrap();
    let second = raw_reply(&mut reader, &mut stream).await.unwrap().unwrap();
    // The unknown method's exception comes first; the held echo after its delay.
    assert_eq!(first, (2, None));
    assert_eq!(second, (1, Some("raw".to_owned())));
}

/// The connection ends (EOF or reset) within a second.
async fn ends(stream: &mut TcpStream) {
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut byte))
        .await
        .expect("the connection stays open");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test]
async fn upstream_death_closes_the_client_side_and_a_dead_upstream_refuses() {
    let rig = rig().await;
    let mut stream = TcpStream::connect(rig.proxy.local_addr()).await.unwrap();
    assert_eq!(
        raw_echo(&mut stream, 1).await.unwrap().as_deref(),
        Some("raw")
    );
    rig.server.abort().await;
    ends(&mut stream).await;
    // The instance is down: a new connection is accepted by the proxy and reset at once.
    let mut refused = TcpStream::connect(rig.proxy.local_addr()).await.unwrap();
    ends(&mut refused).await;
    assert!(rig.proxy.stats().connections_reset >= 1);
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_connections() {
    let rig = rig().await;
    let mut stream = TcpStream::connect(rig.proxy.local_addr()).await.unwrap();
    assert_eq!(
        raw_echo(&mut stream, 1).await.unwrap().as_deref(),
        Some("raw")
    );
    let addr = rig.proxy.local_addr();
    rig.proxy.shutdown().await;
    ends(&mut stream).await;
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}

#[tokio::test]
async fn rollback_leaves_traffic_clean() {
    let rig = rig().await;
    let client = client(rig.proxy.local_addr(), Duration::from_secs(2));
    let base = median(&latencies(&client, 50).await);
    rig.faults.add(on_requests("slow", delay(20)));
    rig.faults
        .add(on_requests("dup", Effect::Duplicate { probability: 1.0 }));
    rig.faults.add(on_requests(
        "thin",
        Effect::Bandwidth {
            bytes_per_second: 1e6,
        },
    ));
    latencies(&client, 5).await;
    assert!(rig.proxy.stats().bytes_duplicated > 0);
    rig.faults.clear();
    let after = median(&latencies(&client, 50).await);
    assert!(
        after < base + Duration::from_millis(2),
        "{after:?} after rollback, {base:?} before"
    );
    assert_eq!(rig.proxy.stats().connections_reset, 0);
}

#[tokio::test]
async fn a_close_does_not_cross_a_partition() {
    let rig = rig().await;
    let mut stream = TcpStream::connect(rig.proxy.local_addr()).await.unwrap();
    assert_eq!(
        raw_echo(&mut stream, 1).await.unwrap().as_deref(),
        Some("raw")
    );
    rig.faults.add(Rule {
        fault: "cut".into(),
        from: hosts(&[SERVER]),
        to: None,
        effect: Effect::Partition,
    });
    rig.server.abort().await;
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut byte)).await;
    assert!(read.is_err(), "the close crossed the partition: {read:?}");
    rig.faults.remove("cut");
    ends(&mut stream).await;
}
