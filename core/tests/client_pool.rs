//! The connection pool against a real `faultline_core::server` on 127.0.0.1: every
//! transport and protocol, connection reuse (counted by the server's accepted
//! connections), max idle, idle-timeout eviction, broken connections, connect failures,
//! reconnection after a server restart (retries off), a connection whose call hit its
//! deadline never reused, TCP keepalive through the `Net` seam, and the typed Echo client
//! over the full `ClientBuilder` stack with a balancer.

use std::future::pending;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use faultline_core::client::{encode_args, ClientBuilder, EchoClient, Pool, PoolConfig, PoolMode};
use faultline_core::echo;
use faultline_core::frame::Transport;
use faultline_core::lb::{Discovery, LoadBalanceLayer, WeightedRoundRobin};
use faultline_core::net::{ConnectOptions, Net, Tcp};
use faultline_core::protocol::{ApplicationException, ProtocolId};
use faultline_core::rpc::{Call, Instance, RpcError, RpcErrorKind};
use faultline_core::server::{Server, ServerBuilder};
use tower::{Service, ServiceExt};

async fn serve(addr: &str) -> Server {
    ServerBuilder::new(echo::SERVICE)
        .bind(&Tcp, addr, echo::router())
        .await
        .expect("bind")
}

fn echo_client(pool: Pool<Tcp>, addrs: &[SocketAddr]) -> EchoClient {
    let discovery = Discovery::new(addrs.iter().map(|a| Instance::new(a.to_string())));
    let balancer = LoadBalanceLayer::new(echo::SERVICE, discovery, WeightedRoundRobin);
    let protocol = pool.config().protocol;
    let client = ClientBuilder::new(echo::SERVICE)
        .timeout(Duration::from_secs(5))
        .balancer(balancer)
        .build(pool);
    EchoClient::new(client, protocol)
}

fn config(transport: Transport, protocol: ProtocolId) -> PoolConfig {
    PoolConfig {
        transport,
        protocol,
        connect_timeout: Duration::from_secs(5),
        ..PoolConfig::default()
    }
}

#[tokio::test]
async fn every_transport_and_protocol_echoes_and_reuses_one_connection() {
    for transport in Transport::ALL {
        for protocol in [ProtocolId::Binary, ProtocolId::Compact] {
            let server = serve("127.0.0.1:0").await;
            let pool = Pool::new(Tcp, config(transport, protocol));
            let client = echo_client(pool.clone(), &[server.local_addr()]);
            for i in 0..3 {
                let message = format!("hi {transport} {} #{i}", protocol.name());
                assert_eq!(client.echo(&message).await.unwrap(), message);
            }
            assert_eq!(server.stats().connections_accepted(), 1, "{transport}");
            assert_eq!(pool.idle(&server.local_addr().to_string()), 1);
            server.shutdown().await;
        }
    }
}

#[tokio::test]
async fn an_unknown_method_is_an_application_exception_and_keeps_the_connection() {
    let server = serve("127.0.0.1:0").await;
    let addr = server.local_addr().to_string();
    let mut pool = Pool::new(Tcp, config(Transport::TTHeader, ProtocolId::Binary));
    let args =
        faultline_core::client::encode_args(ProtocolId::Binary, &echo::EchoArgs::new("x")).unwrap();
    let mut call = Call::new("nope", args);
    call.target = Some(Arc::new(Instance::new(addr.clone())));
    let err = pool
        .ready()
        .await
        .unwrap()
        .call(call.clone())
        .await
        .unwrap_err();
    let RpcError::Application(exception) = err else {
        panic!("application exception expected: {err:?}")
    };
    assert_eq!(exception.kind, ApplicationException::UNKNOWN_METHOD);
    call.method = echo::METHOD.into();
    let reply = pool.ready().await.unwrap().call(call).await.unwrap();
    assert_eq!(reply.instance.as_deref().map(|i| &*i.addr), Some(&*addr));
    assert!(!reply.is_fallback());
    assert_eq!(server.stats().connections_accepted(), 1);
}

#[tokio::test]
async fn concurrent_calls_open_connections_and_max_idle_keeps_two() {
    let server = serve("127.0.0.1:0").await;
    let addr = server.local_addr().to_string();
    let pool = Pool::new(
        Tcp,
        PoolConfig {
            max_idle_per_instance: 2,
            ..config(Transport::TTHeader, ProtocolId::Binary)
        },
    );
    let client = echo_client(pool.clone(), &[server.local_addr()]);
    // Hold five calls open at once on the server, so the pool must dial five connections.
    let calls = (0..5).map(|i| {
        let client = client.clone();
        async move { client.echo(&format!("m{i}")).await }
    });
    for (i, result) in futures_util::future::join_all(calls)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(result.unwrap(), format!("m{i}"));
    }
    let accepted = server.stats().connections_accepted();
    assert!((1..=5).contains(&accepted), "accepted {accepted}");
    assert!(pool.idle(&addr) <= 2, "idle {}", pool.idle(&addr));
    client.echo("again").await.unwrap();
    assert_eq!(server.stats().connections_accepted(), accepted, "reused");
}

/// Real I/O runs on the running clock; the clock is paused only to jump past the idle
/// timeout, then resumed (tokio keeps the advanced offset).
#[tokio::test(flavor = "current_thread")]
async fn an_idle_connection_past_its_timeout_is_evicted_on_checkout() {
    let server = serve("127.0.0.1:0").await;
    let addr = server.local_addr().to_string();
    let idle_timeout = Duration::from_secs(30);
    let pool = Pool::new(
        Tcp,
        PoolConfig {
            idle_timeout,
            ..config(Transport::TTHeader, ProtocolId::Binary)
        },
    );
    let client = echo_client(pool.clone(), &[server.local_addr()]);
    client.echo("a").await.unwrap();
    tokio::time::pause();
    tokio::time::advance(idle_timeout - Duration::from_secs(1)).await;
    tokio::time::resume();
    client.echo("b").await.unwrap();
    assert_eq!(server.stats().connections_accepted(), 1, "still fresh");
    tokio::time::pause();
    tokio::time::advance(idle_timeout).await;
    tokio::time::resume();
    client.echo("c").await.unwrap();
    assert_eq!(
        server.stats().connections_accepted(),
        2,
        "evicted, redialed"
    );
    assert_eq!(pool.idle(&addr), 1);
}

/// Bound on every test here that does real I/O.
const BOUND: Duration = Duration::from_secs(20);

/// A client without retries, so that no retry can hide a call that failed on a dead
/// connection.
fn client_without_retry(pool: Pool<Tcp>, addr: SocketAddr, timeout: Duration) -> EchoClient {
    let discovery = Discovery::new([Instance::new(addr.to_string())]);
    let balancer = LoadBalanceLayer::new(echo::SERVICE, discovery, WeightedRoundRobin);
    let protocol = pool.config().protocol;
    let client = ClientBuilder::new(echo::SERVICE)
        .timeout(timeout)
        .no_retry()
        .balancer(balancer)
        .build(pool);
    EchoClient::new(client, protocol)
}

/// A server restarted on the same address gets a new connection, in both modes and with
/// retries off: the first call after the restart must not go to the connection the old
/// server closed.
#[tokio::test(flavor = "current_thread")]
async fn a_restarted_server_gets_a_new_connection_without_retries() {
    tokio::time::timeout(BOUND, async {
        for mode in [PoolMode::Exclusive, PoolMode::Multiplexed] {
            let server = serve("127.0.0.1:0").await;
            let addr = server.local_addr();
            let pool = Pool::new(
                Tcp,
                PoolConfig {
                    mode,
                    ..config(Transport::TTHeader, ProtocolId::Binary)
                },
            );
            let client = client_without_retry(pool.clone(), addr, Duration::from_secs(5));
            client.echo("before").await.unwrap();
            assert_eq!(pool.connections(), 1, "{mode:?}");
            server.shutdown().await;
            // A yielding tokio task resumes after the runtime has polled its I/O driver,
            // so the pool's end of the old connection has seen the server's FIN (sent
            // before `shutdown` returned) by then.
            tokio::task::yield_now().await;
            let restarted = serve(&addr.to_string()).await;
            assert_eq!(client.echo("after").await.unwrap(), "after", "{mode:?}");
            assert_eq!(restarted.stats().connections_accepted(), 1, "{mode:?}");
            client.echo("again").await.unwrap();
            assert_eq!(
                restarted.stats().connections_accepted(),
                1,
                "{mode:?}: the new one is reused"
            );
            assert_eq!(pool.connections(), 1, "{mode:?}");
        }
    })
    .await
    .expect("bounded");
}

/// An exclusive connection whose call ended by its deadline is dropped, never returned to
/// the pool: the reply still owed on it can never be read as the next call's. The next
/// call, made while that reply is still due, dials a new connection.
#[tokio::test]
async fn an_exclusive_connection_whose_call_hit_its_deadline_is_discarded() {
    tokio::time::timeout(BOUND, async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        tokio::spawn(serve_misbehaving(
            listener,
            Misbehaviour::SilentTo("hang"),
            accepted.clone(),
        ));
        let pool = Pool::new(Tcp, config(Transport::TTHeader, ProtocolId::Binary));
        let client = client_without_retry(pool.clone(), addr, Duration::from_millis(200));
        assert_eq!(client.echo("warm").await.unwrap(), "warm");
        assert_eq!(pool.idle(&addr.to_string()), 1);
        let err = client.echo("hang").await.unwrap_err();
        assert_eq!(err.kind(), RpcErrorKind::Timeout, "{err}");
        assert_eq!(pool.idle(&addr.to_string()), 0, "not checked back in");
        assert_eq!(pool.connections(), 0, "closed");
        assert_eq!(client.echo("next").await.unwrap(), "next");
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "a new connection");
        assert_eq!(client.echo("again").await.unwrap(), "again");
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "which is reused");
    })
    .await
    .expect("bounded");
}

/// A network that records the options the pool dials with.
#[derive(Clone, Default)]
struct Recording(Arc<std::sync::Mutex<Vec<ConnectOptions>>>);

impl Net for Recording {
    type Stream = tokio::net::TcpStream;
    type Listener = tokio::net::TcpListener;

    async fn connect(&self, addr: &str) -> io::Result<tokio::net::TcpStream> {
        Tcp.connect(addr).await
    }

    async fn connect_with(
        &self,
        addr: &str,
        options: &ConnectOptions,
    ) -> io::Result<tokio::net::TcpStream> {
        self.0.lock().unwrap().push(*options);
        Tcp.connect_with(addr, options).await
    }

    async fn bind(&self, addr: &str) -> io::Result<tokio::net::TcpListener> {
        Tcp.bind(addr).await
    }
}

/// `Tcp` sets keepalive (first probe and interval) when asked, and the pool asks with its
/// `keepalive` (15 s by default, none at 0).
#[tokio::test]
async fn tcp_keepalive_is_set_through_the_net_seam() {
    tokio::time::timeout(BOUND, async {
        let server = serve("127.0.0.1:0").await;
        let addr = server.local_addr().to_string();
        let asked = ConnectOptions {
            keepalive: Some(Duration::from_secs(7)),
        };
        let stream = Tcp.connect_with(&addr, &asked).await.unwrap();
        let socket = socket2::SockRef::from(&stream);
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.tcp_keepalive_time().unwrap(), Duration::from_secs(7));
        assert_eq!(
            socket.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(7)
        );
        let plain = Tcp.connect(&addr).await.unwrap();
        assert!(!socket2::SockRef::from(&plain).keepalive().unwrap());

        for (keepalive, expected) in [
            (
                PoolConfig::default().keepalive,
                Some(Duration::from_secs(15)),
            ),
            (Duration::ZERO, None),
        ] {
            let net = Recording::default();
            let mut pool = Pool::new(
                net.clone(),
                PoolConfig {
                    keepalive,
                    ..config(Transport::TTHeader, ProtocolId::Binary)
                },
            );
            let args = encode_args(ProtocolId::Binary, &echo::EchoArgs::new("k")).unwrap();
            let mut call = Call::new(echo::METHOD, args);
            call.target = Some(Arc::new(Instance::new(addr.clone())));
            pool.ready().await.unwrap().call(call).await.unwrap();
            let dialed: Vec<_> = net.0.lock().unwrap().iter().map(|o| o.keepalive).collect();
            assert_eq!(dialed, [expected]);
        }
    })
    .await
    .expect("bounded");
}

#[tokio::test]
async fn a_refused_connect_is_a_connect_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let mut pool = Pool::new(Tcp, PoolConfig::default());
    let mut call = Call::new(echo::METHOD, bytes::Bytes::from_static(&[0]));
    call.target = Some(Arc::new(Instance::new(addr)));
    let err = pool.ready().await.unwrap().call(call).await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::Connect, "{err}");
    let RpcError::Connect { kind, .. } = err else {
        unreachable!()
    };
    assert_eq!(kind, io::ErrorKind::ConnectionRefused);
}

/// A network whose connects never complete.
#[derive(Clone)]
struct Blackhole;

impl Net for Blackhole {
    type Stream = tokio::net::TcpStream;
    type Listener = tokio::net::TcpListener;

    async fn connect(&self, _addr: &str) -> io::Result<tokio::net::TcpStream> {
        pending().await
    }

    async fn bind(&self, addr: &str) -> io::Result<tokio::net::TcpListener> {
        tokio::net::TcpListener::bind(addr).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_connect_that_hangs_is_a_connect_timeout() {
    let mut pool = Pool::new(Blackhole, PoolConfig::default());
    let mut call = Call::new(echo::METHOD, bytes::Bytes::from_static(&[0]));
    call.target = Some(Arc::new(Instance::new("127.0.0.1:9")));
    let err = pool.ready().await.unwrap().call(call).await.unwrap_err();
    let RpcError::ConnectTimeout { after, .. } = err else {
        panic!("connect timeout expected: {err:?}")
    };
    assert_eq!(after, PoolConfig::default().connect_timeout);
}

#[tokio::test]
async fn a_call_without_a_target_has_no_instance() {
    let mut pool = Pool::new(Tcp, PoolConfig::default());
    let call = Call::new(echo::METHOD, bytes::Bytes::from_static(&[0]));
    let err = pool.ready().await.unwrap().call(call).await.unwrap_err();
    assert_eq!(err.kind(), RpcErrorKind::NoInstance);
}

#[tokio::test]
async fn the_full_stack_balances_over_two_servers() {
    let a = serve("127.0.0.1:0").await;
    let b = serve("127.0.0.1:0").await;
    let pool = Pool::new(Tcp, config(Transport::TTHeader, ProtocolId::Compact));
    let client = echo_client(pool, &[a.local_addr(), b.local_addr()]);
    let mut answered = std::collections::HashSet::new();
    for i in 0..10 {
        let (message, reply) = client.echo_reply(&format!("m{i}")).await.unwrap();
        assert_eq!(message, format!("m{i}"));
        answered.insert(reply.instance.unwrap().addr.to_string());
    }
    assert_eq!(answered.len(), 2, "both servers answered");
    assert_eq!(a.stats().connections_accepted(), 1);
    assert_eq!(b.stats().connections_accepted(), 1);
    assert_eq!(a.stats().requests() + b.stats().requests(), 10);
}

/// How the raw test server below misbehaves.
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// After the first reply on the first connection, three bytes of a frame that never
    /// completes.
    StrayBytes,
    /// Every reply in Compact, whatever the request's protocol.
    CompactReplies,
    /// No reply at all to requests carrying this message.
    SilentTo(&'static str),
}

/// A server that answers each request on its connection, misbehaving as `how` says, and
/// counts the connections it accepts in `accepted`.
async fn serve_misbehaving(
    listener: tokio::net::TcpListener,
    how: Misbehaviour,
    accepted: Arc<AtomicUsize>,
) {
    use faultline_core::echo::{EchoArgs, EchoResult, Response};
    use faultline_core::protocol::{DecodeLimits, MessageType};
    use faultline_core::transport::{FrameReader, Framing};
    use tokio::io::AsyncWriteExt;

    for connection in 0.. {
        let (mut stream, _) = listener.accept().await.unwrap();
        accepted.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let mut reader = FrameReader::new(DecodeLimits::default());
            while let Ok(Some(bytes)) = reader.read(&mut stream).await {
                let frame = reader.decode(&bytes).unwrap();
                let call = frame
                    .decode_message::<EchoArgs>(DecodeLimits::default())
                    .unwrap();
                if matches!(how, Misbehaviour::SilentTo(m) if m == call.body.req.message) {
                    continue;
                }
                let result = EchoResult {
                    success: Some(Response {
                        message: call.body.req.message,
                    }),
                };
                let mut framing = Framing::of(&frame);
                if let Misbehaviour::CompactReplies = how {
                    framing.protocol = ProtocolId::Compact;
                }
                let mut reply = framing
                    .encode_reply(
                        echo::METHOD,
                        MessageType::Reply,
                        call.header.seq_id,
                        &result,
                    )
                    .unwrap()
                    .to_vec();
                if let (Misbehaviour::StrayBytes, 0) = (how, connection) {
                    reply.extend_from_slice(&[0, 0, 0]);
                }
                stream.write_all(&reply).await.unwrap();
            }
        });
    }
}

#[tokio::test]
async fn a_connection_holding_part_of_a_frame_nobody_asked_for_is_not_reused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_misbehaving(
        listener,
        Misbehaviour::StrayBytes,
        Arc::default(),
    ));
    let pool = Pool::new(Tcp, config(Transport::Framed, ProtocolId::Binary));
    let client = echo_client(pool.clone(), &[addr]);
    assert_eq!(client.echo("first").await.unwrap(), "first");
    // The stray bytes came in the reply's write, so they sit in the idle connection's read
    // buffer: reusing it would read them as the start of the next reply.
    assert_eq!(client.echo("second").await.unwrap(), "second");
}

/// A Binary client refuses a Compact reply as malformed, in both pool modes, instead of
/// handing a body in the wrong protocol up the stack.
#[tokio::test]
async fn a_reply_in_another_protocol_is_malformed() {
    for mode in [PoolMode::Exclusive, PoolMode::Multiplexed] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve_misbehaving(
            listener,
            Misbehaviour::CompactReplies,
            Arc::default(),
        ));
        let mut pool = Pool::new(
            Tcp,
            PoolConfig {
                mode,
                ..config(Transport::Framed, ProtocolId::Binary)
            },
        );
        let args = encode_args(ProtocolId::Binary, &echo::EchoArgs::new("hi")).unwrap();
        let mut call = Call::new(echo::METHOD, args);
        call.target = Some(Arc::new(Instance::new(addr.to_string())));
        let outcome = pool.ready().await.unwrap().call(call).await;
        assert!(
            matches!(outcome, Err(RpcError::Protocol(_))),
            "{mode:?}: {outcome:?}"
        );
    }
}
