//! The server on real loopback TCP: Echo round trips in every transport x protocol it
//! detects, reply framing (TTHeader header carries the sequence id and `MsgType` as ASCII
//! digits), several calls on one connection, pipelined calls answered out of order, and
//! one `CallFinished { side: Server }` event per request.

mod server_support;

use std::sync::Arc;

use bytes::Bytes;
use faultline_core::echo::{self, EchoArgs, EchoResult, METHOD};
use faultline_core::event::{EventBus, EventKind, Side};
use faultline_core::frame::{Header, IntKey, Transport};
use faultline_core::net::Tcp;
use faultline_core::protocol::{ApplicationException, MessageType, ProtocolId};
use faultline_core::server::{Router, Server, ServerBuilder};
use server_support::{connect, echo_once, next_event, within, RawClient};
use tokio::net::TcpStream;
use tokio::sync::Notify;

async fn start(router: Router, events: EventBus) -> Server {
    ServerBuilder::new(echo::SERVICE)
        .events(events)
        .bind(&Tcp, "127.0.0.1:0", router)
        .await
        .expect("bind 127.0.0.1:0")
}

async fn client(server: &Server) -> RawClient<TcpStream> {
    connect(&Tcp, &server.local_addr().to_string()).await
}

/// The request header a client of `transport` would send.
fn request_header(transport: Transport, protocol: ProtocolId, seq_id: i32) -> Option<Header> {
    if !transport.has_header() {
        return None;
    }
    let mut header = Header::new(protocol, seq_id);
    if transport == Transport::THeader {
        header.metadata.set_string("caller", "test");
    } else {
        header.metadata.set_int(IntKey::ToMethod, METHOD);
        header.metadata.set_int(IntKey::FromService, "test");
        header.metadata.set_msg_type(MessageType::Call);
    }
    Some(header)
}

#[tokio::test]
async fn echo_in_every_transport_and_protocol() {
    within("echo_in_every_transport_and_protocol", async {
        let server = start(echo::router(), EventBus::default()).await;
        for transport in Transport::ALL {
            for protocol in [ProtocolId::Binary, ProtocolId::Compact] {
                let what = format!("{transport} + {}", protocol.name());
                let mut client = client(&server).await;
                // Two calls: the second is held to the framing the first one fixed.
                for (seq_id, message) in [(7, "hello"), (8, "wörld ✓")] {
                    let header = request_header(transport, protocol, seq_id);
                    let args = EchoArgs::new(message);
                    client
                        .call(transport, protocol, header.as_ref(), METHOD, seq_id, &args)
                        .await;
                    let reply = client.reply::<EchoResult>().await;
                    assert_eq!(reply.transport, transport, "{what}");
                    assert_eq!(reply.protocol, protocol, "{what}");
                    assert_eq!(reply.envelope.name, METHOD, "{what}");
                    assert_eq!(reply.envelope.kind, MessageType::Reply, "{what}");
                    assert_eq!(reply.envelope.seq_id, seq_id, "{what}");
                    let result = reply.result.expect("a reply");
                    assert_eq!(result.success.expect("success").message, message, "{what}");
                    match reply.header {
                        None => assert!(!transport.has_header(), "{what}: header missing"),
                        Some(header) => {
                            assert_eq!(header.seq_id, seq_id, "{what}");
                            assert_eq!(header.protocol, protocol, "{what}");
                            let msg_type = header.metadata.int_value(IntKey::MsgType);
                            if transport == Transport::THeader {
                                assert_eq!(msg_type, None, "{what}: THeader has no int keys");
                            } else {
                                assert_eq!(msg_type, Some(&Bytes::from_static(b"2")), "{what}");
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(server.stats().connections_accepted(), 10);
        assert_eq!(server.stats().requests(), 20);
        assert_eq!(server.stats().malformed_frames(), 0);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn echo_helper_round_trip_and_call_finished_events() {
    within("echo_helper_round_trip_and_call_finished_events", async {
        let events = EventBus::default();
        let mut rx = events.subscribe();
        let server = start(echo::router(), events).await;
        let addr = server.local_addr().to_string();
        assert_eq!(echo_once(&Tcp, &addr, "ping").await, "ping");
        let event = next_event(&mut rx).await;
        match &event.kind {
            EventKind::CallFinished {
                side,
                service,
                method,
                error,
                fallback,
                ..
            } => {
                assert_eq!(*side, Side::Server);
                assert_eq!(&**service, echo::SERVICE);
                assert_eq!(&**method, METHOD);
                assert_eq!(*error, None);
                assert!(!fallback);
            }
            other => panic!("CallFinished expected, got {other:?}"),
        }
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn ttheader_exception_reply_carries_msg_type_3() {
    within("ttheader_exception_reply_carries_msg_type_3", async {
        let server = start(echo::router(), EventBus::default()).await;
        let mut client = client(&server).await;
        let header = request_header(Transport::TTHeader, ProtocolId::Binary, 41);
        client
            .call(
                Transport::TTHeader,
                ProtocolId::Binary,
                header.as_ref(),
                "nope",
                41,
                &EchoArgs::new("x"),
            )
            .await;
        let reply = client.reply::<EchoResult>().await;
        assert_eq!(reply.envelope.kind, MessageType::Exception);
        assert_eq!(reply.envelope.seq_id, 41);
        let header = reply.header.clone().expect("a TTHeader");
        assert_eq!(header.seq_id, 41);
        assert_eq!(
            header.metadata.int_value(IntKey::MsgType),
            Some(&Bytes::from_static(b"3"))
        );
        let exception = reply.exception();
        assert_eq!(exception.kind, ApplicationException::UNKNOWN_METHOD);
        server.shutdown().await;
    })
    .await;
}

/// Two calls pipelined on one connection: the first waits until the second has run, so
/// the replies can only arrive if the server serves them concurrently, and they come back
/// in completion order, each with its own sequence id.
#[tokio::test]
async fn pipelined_calls_are_served_concurrently_and_matched_by_seq_id() {
    within(
        "pipelined_calls_are_served_concurrently_and_matched_by_seq_id",
        async {
            let gate = Arc::new(Notify::new());
            let (wait, open) = (gate.clone(), gate);
            let router = echo::router()
                .route("wait", move |ctx, args: EchoArgs| {
                    let gate = wait.clone();
                    async move {
                        gate.notified().await;
                        echo::echo(ctx, args).await
                    }
                })
                .route("open", move |ctx, args: EchoArgs| {
                    open.notify_one();
                    echo::echo(ctx, args)
                });
            let server = start(router, EventBus::default()).await;
            let mut client = client(&server).await;
            let header = request_header(Transport::TTHeader, ProtocolId::Compact, 0);
            let (t, p) = (Transport::TTHeader, ProtocolId::Compact);
            client
                .call(t, p, header.as_ref(), "wait", 100, &EchoArgs::new("first"))
                .await;
            client
                .call(t, p, header.as_ref(), "open", 200, &EchoArgs::new("second"))
                .await;
            let mut seen = Vec::new();
            for _ in 0..2 {
                let reply = client.reply::<EchoResult>().await;
                let message = reply
                    .result
                    .expect("reply")
                    .success
                    .expect("success")
                    .message;
                seen.push((reply.envelope.seq_id, reply.envelope.name, message));
            }
            assert_eq!(
                seen,
                [
                    (200, "open".to_owned(), "second".to_owned()),
                    (100, "wait".to_owned(), "first".to_owned()),
                ]
            );
            server.shutdown().await;
        },
    )
    .await;
}
