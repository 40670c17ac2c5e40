//! How the server fails, on real loopback TCP: `TApplicationException`s on the wire for
//! an unknown method, undecodable args, a message that is not a call, a handler's own
//! exception and a handler panic (each leaving the connection usable); oneway calls get no
//! reply; a malformed frame closes only its connection, is counted and emitted as
//! `MalformedFrame`, while another connection keeps working.

mod server_support;

use faultline_core::echo::{self, EchoArgs, EchoResult, METHOD};
use faultline_core::event::{CloseReason, EventBus, EventKind, Side};
use faultline_core::frame::Transport;
use faultline_core::net::Tcp;
use faultline_core::protocol::{ApplicationException, MessageType, ProtocolId};
use faultline_core::rpc::RpcErrorKind;
use faultline_core::server::{Router, Server, ServerBuilder};
use faultline_core::Thrift;
use server_support::{call_frame, connect, next_close, next_event, within, RawClient};
use tokio::net::TcpStream;

const FRAMED: Transport = Transport::Framed;
const BINARY: ProtocolId = ProtocolId::Binary;

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

/// Echoes `message` on `client` and checks the answer.
async fn assert_echoes(client: &mut RawClient<TcpStream>, seq_id: i32, message: &str) {
    assert_echoes_in(client, BINARY, seq_id, message).await;
}

/// `assert_echoes` on a connection whose protocol is `protocol`.
async fn assert_echoes_in(
    client: &mut RawClient<TcpStream>,
    protocol: ProtocolId,
    seq_id: i32,
    message: &str,
) {
    client
        .call(
            FRAMED,
            protocol,
            None,
            METHOD,
            seq_id,
            &EchoArgs::new(message),
        )
        .await;
    let reply = client.reply::<EchoResult>().await;
    assert_eq!(reply.envelope.seq_id, seq_id);
    let result = reply.result.expect("an echo reply");
    assert_eq!(result.success.expect("success").message, message);
}

#[tokio::test]
async fn unknown_method_is_unknown_method_exception_in_both_protocols() {
    within(
        "unknown_method_is_unknown_method_exception_in_both_protocols",
        async {
            let server = start(echo::router(), EventBus::default()).await;
            for protocol in [ProtocolId::Binary, ProtocolId::Compact] {
                let mut client = client(&server).await;
                client
                    .call(FRAMED, protocol, None, "shout", 5, &EchoArgs::new("x"))
                    .await;
                let reply = client.reply::<EchoResult>().await;
                assert_eq!(reply.protocol, protocol);
                assert_eq!(reply.envelope.name, "shout");
                assert_eq!(reply.envelope.kind, MessageType::Exception);
                assert_eq!(reply.envelope.seq_id, 5);
                let exception = reply.exception();
                assert_eq!(exception.kind, ApplicationException::UNKNOWN_METHOD);
                assert_eq!(exception.message, "unknown method shout");
                assert_echoes_in(&mut client, protocol, 6, "still here").await;
            }
            server.shutdown().await;
        },
    )
    .await;
}

/// `echo_args` whose `req` lacks the required `message`.
#[derive(Thrift, Default)]
struct Empty {}

#[derive(Thrift)]
struct BadArgs {
    #[thrift(id = 1)]
    req: Empty,
}

#[tokio::test]
async fn undecodable_args_are_a_protocol_error_and_the_connection_stays() {
    within(
        "undecodable_args_are_a_protocol_error_and_the_connection_stays",
        async {
            let events = EventBus::default();
            let mut rx = events.subscribe();
            let server = start(echo::router(), events).await;
            let mut client = client(&server).await;
            let args = BadArgs { req: Empty {} };
            client.call(FRAMED, BINARY, None, METHOD, 1, &args).await;
            let exception = client.reply::<EchoResult>().await.exception();
            assert_eq!(exception.kind, ApplicationException::PROTOCOL_ERROR);
            assert!(
                exception.message.contains("missing"),
                "names the missing field: {}",
                exception.message
            );
            match &next_event(&mut rx).await.kind {
                EventKind::CallFinished { side, error, .. } => {
                    assert_eq!(*side, Side::Server);
                    assert_eq!(*error, Some(RpcErrorKind::Protocol));
                }
                other => panic!("CallFinished expected, got {other:?}"),
            }
            assert_echoes(&mut client, 2, "after").await;
            assert_eq!(server.stats().malformed_frames(), 0);
            server.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn a_reply_sent_to_the_server_is_invalid_message_type() {
    within(
        "a_reply_sent_to_the_server_is_invalid_message_type",
        async {
            let server = start(echo::router(), EventBus::default()).await;
            let mut client = client(&server).await;
            let frame = call_frame(
                FRAMED,
                BINARY,
                None,
                METHOD,
                MessageType::Reply,
                3,
                &EchoArgs::new("x"),
            );
            client.send_raw(&frame).await;
            let exception = client.reply::<EchoResult>().await.exception();
            assert_eq!(exception.kind, ApplicationException::INVALID_MESSAGE_TYPE);
            assert_echoes(&mut client, 4, "ok").await;
            server.shutdown().await;
        },
    )
    .await;
}

#[tokio::test]
async fn handler_exceptions_and_panics_reach_the_caller() {
    within("handler_exceptions_and_panics_reach_the_caller", async {
        let router = echo::router()
            .route("refuse", |_ctx, _args: EchoArgs| async {
                Err::<EchoResult, _>(ApplicationException::new(
                    ApplicationException::INTERNAL_ERROR,
                    "refused",
                ))
            })
            .route("explode", |_ctx, args: EchoArgs| async move {
                if args.req.message == "boom" {
                    panic!("handler panic on purpose");
                }
                Ok(EchoResult::default())
            });
        let server = start(router, EventBus::default()).await;
        let mut client = client(&server).await;
        client
            .call(FRAMED, BINARY, None, "refuse", 1, &EchoArgs::new("x"))
            .await;
        let exception = client.reply::<EchoResult>().await.exception();
        assert_eq!(
            exception,
            ApplicationException::new(ApplicationException::INTERNAL_ERROR, "refused")
        );
        client
            .call(FRAMED, BINARY, None, "explode", 2, &EchoArgs::new("boom"))
            .await;
        let reply = client.reply::<EchoResult>().await;
        assert_eq!(reply.envelope.seq_id, 2);
        let exception = reply.exception();
        assert_eq!(exception.kind, ApplicationException::INTERNAL_ERROR);
        assert!(exception.message.contains("panicked"), "{exception}");
        assert_echoes(&mut client, 3, "after the panic").await;
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn oneway_calls_get_no_reply() {
    within("oneway_calls_get_no_reply", async {
        let server = start(echo::router(), EventBus::default()).await;
        let mut client = client(&server).await;
        let oneway = call_frame(
            FRAMED,
            BINARY,
            None,
            METHOD,
            MessageType::Oneway,
            1,
            &EchoArgs::new("fire and forget"),
        );
        client.send_raw(&oneway).await;
        // The next frame the client reads answers the call after the oneway one.
        assert_echoes(&mut client, 2, "answered").await;
        assert_eq!(server.stats().requests(), 2);
        server.shutdown().await;
    })
    .await;
}

/// Malformed frames of several kinds: each closes its own connection, is counted and
/// emitted; a connection opened before keeps working throughout.
#[tokio::test]
async fn malformed_frames_close_only_their_connection() {
    within("malformed_frames_close_only_their_connection", async {
        let events = EventBus::default();
        let mut rx = events.subscribe();
        let server = start(echo::router(), events).await;
        let mut good = client(&server).await;
        assert_echoes(&mut good, 1, "before").await;
        assert!(matches!(
            next_event(&mut rx).await.kind,
            EventKind::CallFinished { .. }
        ));

        let mut envelope = call_frame(
            FRAMED,
            BINARY,
            None,
            METHOD,
            MessageType::Call,
            1,
            &EchoArgs::new("x"),
        );
        envelope[7] = 9; // message type 9: not one Thrift defines
        let cases: [(&str, Vec<u8>, &str, usize); 4] = [
            (
                "unknown transport",
                vec![0, 0, 0, 8, 0x12, 0x34, 0, 0, 0, 0, 0, 0],
                "unknown_transport",
                0,
            ),
            (
                // Refused from the 4-byte prefix alone: the 2 GiB never have to arrive.
                "frame over max_frame",
                vec![0x7f, 0xff, 0xff, 0xff, 0x80, 0x01],
                "frame_too_large",
                0,
            ),
            ("bad envelope", envelope, "invalid_message_type", 4),
            (
                "TTHeader with an unknown info id",
                ttheader_with_info_id(0x7e),
                "unknown_info_id",
                16,
            ),
        ];
        for (i, (what, bytes, kind, offset)) in cases.into_iter().enumerate() {
            let mut bad = client(&server).await;
            bad.send_raw(&bytes).await;
            assert!(bad.closed().await, "{what}: the connection is closed");
            match &next_event(&mut rx).await.kind {
                EventKind::MalformedFrame {
                    peer,
                    error,
                    offset: at,
                } => {
                    assert_eq!(*error, kind, "{what}");
                    assert_eq!(*at, offset, "{what}");
                    let local = bad.io.local_addr().expect("local addr").to_string();
                    assert_eq!(&**peer, local, "{what}");
                }
                other => panic!("{what}: MalformedFrame expected, got {other:?}"),
            }
            assert_eq!(next_close(&mut rx).await, CloseReason::Malformed, "{what}");
            assert_eq!(server.stats().malformed_frames(), i as u64 + 1, "{what}");
            assert_echoes(&mut good, 10 + i as i32, what).await;
            assert!(matches!(
                next_event(&mut rx).await.kind,
                EventKind::CallFinished { .. }
            ));
        }
        server.shutdown().await;
    })
    .await;
}

/// A TTHeader frame whose header holds one info block with id `info_id` after the
/// protocol id and transform count.
fn ttheader_with_info_id(info_id: u8) -> Vec<u8> {
    // header: protocol 0, 0 transforms, info id, padding to 4 bytes.
    let header = [0u8, 0, info_id, 0];
    let payload = call_frame(
        Transport::Buffered,
        BINARY,
        None,
        METHOD,
        MessageType::Call,
        1,
        &EchoArgs::new("x"),
    );
    let mut frame = Vec::new();
    let body_len = 10 + header.len() + payload.len();
    frame.extend_from_slice(&(body_len as u32).to_be_bytes());
    frame.extend_from_slice(&[0x10, 0x00, 0, 0, 0, 0, 0, 1, 0, 1]);
    frame.extend_from_slice(&header);
    frame.extend_from_slice(&payload);
    frame
}
