//! Kitex TTHeader (magic 0x1000) interop against `volo-thrift` 0.12, CloudWeGo's Rust
//! implementation of the same wire format, used as a library peer: its public
//! `TTHeaderEncoder` / `TTHeaderDecoder` over `FramedEncoder` / `FramedDecoder` over
//! `ThriftCodec`, with `ThriftMessage<Bytes>` so volo hands back (and takes) the raw
//! args/result struct bytes after the message envelope. The codec tests use no sockets:
//! they run synchronously inside a `metainfo::METAINFO` scope, as volo's own transport
//! does. One test runs a real volo server (`volo_thrift::server::Server`, default codec)
//! on a loopback listener and talks to it with faultline frames.
//!
//! Covered, for TTHeader and TTHeaderFramed, Binary payloads, several sequence ids
//! (including negative ones and the `i32` extremes):
//!
//! - faultline encodes → volo decodes (server side): volo reports the same seq id, method,
//!   caller / callee service names (FromService / ToService), RPC timeout (RPCTimeout), IDL
//!   service name (`isn`), `RPC_PERSIST_` / `RPC_TRANSIT_` metainfo, the framing it saw, and
//!   the args bytes equal faultline's encoding of the body. Int keys volo does not know
//!   (FromMethod, LogID, ...) and an ACL token (info 0x11) are skipped by volo without
//!   error. volo ignores ToMethod on the server (the method comes from the envelope).
//! - volo's server reply to that request (MsgType written as one raw byte, `RPC_BACKWARD_`
//!   metainfo) → faultline decodes it: same transport, seq id, `Metadata::msg_type()` =
//!   Reply, payload = the same `Value`.
//! - volo client frames (caller, callee, method, RPC and connect timeouts, `isn`, metainfo)
//!   → faultline decodes every field, with Kitex's int-key names, and re-encoding the
//!   decoded frame gives a frame of the same length (same header padding rule).
//! - Compact payloads (protocol id 2): volo decodes faultline's Compact TTHeader frames and
//!   its server replies in Compact with protocol id 2, which faultline decodes. A volo
//!   *client* configured for Compact still writes protocol id 0 (Binary) in the header —
//!   a volo quirk pinned by `volo_compact_client_announces_binary`.
//! - A volo server on 127.0.0.1 answers faultline TTHeader, TTHeaderFramed and Framed
//!   requests on one connection each (several seq ids per connection); its handler echoes
//!   what volo read from the header (caller, callee, method, timeout, isn, metainfo), and
//!   faultline decodes each reply with the same transport, seq id and MsgType Reply.
//!
//! volo's TTHeader decoder panics rather than errors on malformed input (unchecked `Buf`
//! reads and `usize` subtraction), so only valid frames are fed to it. The support code
//! lives here rather than in `peers/` because that module is compiled into every test that
//! uses it, and volo is only needed here.

use std::cell::RefCell;
use std::time::Duration;

use bytes::Bytes;
use faultline_core::frame::{decode_frame, encode_frame, Frame, Header, IntKey, Transport};
use faultline_core::protocol::{
    encode_to_vec, Binary, BinaryReader, Compact, DecodeLimits, ErrorKind, Field, Message,
    MessageHeader, MessageType, ProtocolId, TType, Value,
};
use metainfo::{Backward, Forward, MetaInfo, METAINFO};
use pilota::thrift::TMessageType;
use volo::context::{Context, Endpoint, Role, RpcInfo};
use volo::FastStr;
use volo_thrift::codec::default::framed::{
    FramedDecoder, FramedEncoder, HasFramed, DEFAULT_MAX_FRAME_SIZE,
};
use volo_thrift::codec::default::thrift::ThriftCodec;
use volo_thrift::codec::default::ttheader::{
    HasTTHeader, ProtocolId as VoloProtocolId, TTHeaderDecoder, TTHeaderEncoder,
};
use volo_thrift::codec::default::{ZeroCopyDecoder, ZeroCopyEncoder};
use volo_thrift::context::{ClientContext, Config, ServerContext, ThriftContext};
use volo_thrift::{LinkedBytes, ProtocolApacheCompact, ProtocolBinary, ThriftMessage};

const SEQ_IDS: [i32; 5] = [1, 42, -7, i32::MIN, i32::MAX];
const TTHEADER_TRANSPORTS: [Transport; 2] = [Transport::TTHeader, Transport::TTHeaderFramed];

const CALLER: &str = "faultline.client";
const CALLEE: &str = "echo.server";
const METHOD: &str = "echo";
const IDL_SERVICE: &str = "EchoService";
const TIMEOUT_MS: u64 = 1500;

fn limits() -> DecodeLimits {
    DecodeLimits::default()
}

/// Runs `f` with a fresh metainfo, as volo's transport does around each request.
fn in_metainfo<R>(f: impl FnOnce() -> R) -> R {
    METAINFO.sync_scope(RefCell::new(MetaInfo::default()), f)
}

/// `echo_args { 1: Echo { 1: string message } }` — the args struct of `echo(1: Echo req)`.
fn args_body(text: &str) -> Value {
    Value::Struct(vec![Field {
        id: 1,
        value: Value::Struct(vec![Field {
            id: 1,
            value: Value::Binary(Bytes::copy_from_slice(text.as_bytes())),
        }]),
    }])
}

/// `echo_result { 0: Echo { 1: string message } }` — a successful reply.
fn result_body(text: &str) -> Value {
    Value::Struct(vec![Field {
        id: 0,
        value: Value::Struct(vec![Field {
            id: 1,
            value: Value::Binary(Bytes::copy_from_slice(text.as_bytes())),
        }]),
    }])
}

fn message(kind: MessageType, seq_id: i32, body: Value) -> Message<Value> {
    Message {
        header: MessageHeader {
            name: METHOD.to_owned(),
            kind,
            seq_id,
        },
        body,
    }
}

fn encode_body(body: &Value, protocol: ProtocolId) -> Vec<u8> {
    match protocol {
        ProtocolId::Binary => encode_to_vec::<Binary, _>(body),
        ProtocolId::Compact => encode_to_vec::<Compact, _>(body),
    }
    .expect("faultline encodes the body")
}

/// A request header the way a Kitex client fills it, plus keys volo does not know.
fn kitex_request_header(protocol: ProtocolId, seq_id: i32, with_acl: bool) -> Header {
    let mut header = Header::new(protocol, seq_id);
    header.flags = Header::FLAG_SUPPORT_OUT_OF_ORDER;
    let md = &mut header.metadata;
    md.set_int(IntKey::FromService, CALLER);
    md.set_int(IntKey::FromMethod, "caller_method");
    md.set_int(IntKey::ToService, CALLEE);
    md.set_int(IntKey::ToMethod, METHOD);
    md.set_int(IntKey::TransportType, "framed");
    md.set_int(IntKey::LogId, "20260101-log");
    md.set_msg_type(MessageType::Call);
    md.set_rpc_timeout(Duration::from_millis(TIMEOUT_MS));
    md.set_string("isn", IDL_SERVICE);
    md.set_string("RPC_PERSIST_tenant", "acme");
    md.set_string("RPC_TRANSIT_trace", "t-123");
    md.set_string("pcs", "1700000000");
    if with_acl {
        md.acl_token = Some(Bytes::from_static(b"acl-token"));
    }
    header
}

fn fl_encode(
    transport: Transport,
    header: &Header,
    message: &Message<Value>,
    protocol: ProtocolId,
) -> Vec<u8> {
    match protocol {
        ProtocolId::Binary => encode_frame::<Binary, _>(transport, Some(header), message),
        ProtocolId::Compact => encode_frame::<Compact, _>(transport, Some(header), message),
    }
    .expect("faultline encodes the frame")
    .to_vec()
}

fn volo_decoder() -> TTHeaderDecoder<FramedDecoder<ThriftCodec>> {
    TTHeaderDecoder::new(FramedDecoder::new(
        ThriftCodec::default(),
        DEFAULT_MAX_FRAME_SIZE,
    ))
}

/// Volo's encoder for `transport` (TTHeaderFramed adds volo's framed layer).
fn volo_encode<Cx: ThriftContext>(
    transport: Transport,
    codec: ThriftCodec,
    cx: &mut Cx,
    msg: ThriftMessage<Bytes>,
) -> Vec<u8> {
    fn run<E: ZeroCopyEncoder, Cx: ThriftContext>(
        mut enc: E,
        cx: &mut Cx,
        msg: ThriftMessage<Bytes>,
    ) -> Vec<u8> {
        // `size` must run first: it caches the inner sizes that `encode` writes.
        let (real, _) = enc.size(cx, &msg).expect("volo sizes the message");
        let mut out = LinkedBytes::with_capacity(real);
        enc.encode(cx, &mut out, msg).expect("volo encodes");
        let bytes = out.concat().to_vec();
        assert_eq!(bytes.len(), real, "volo's size() matches what it wrote");
        bytes
    }
    match transport {
        Transport::TTHeader => run(TTHeaderEncoder::new(codec), cx, msg),
        Transport::TTHeaderFramed => run(
            TTHeaderEncoder::new(FramedEncoder::new(codec, DEFAULT_MAX_FRAME_SIZE)),
            cx,
            msg,
        ),
        other => unreachable!("not a TTHeader transport: {other}"),
    }
}

/// What volo's server side makes of a request frame.
struct VoloRequest {
    cx: ServerContext,
    msg: ThriftMessage<Bytes>,
    persistent_tenant: Option<FastStr>,
    upstream_trace: Option<FastStr>,
}

/// Decodes `frame` as volo's server does; must be called inside `in_metainfo`.
fn volo_server_decode(frame: &[u8]) -> VoloRequest {
    let mut cx = ServerContext::default();
    let mut buf = Bytes::copy_from_slice(frame);
    let msg = volo_decoder()
        .decode::<Bytes, _>(&mut cx, &mut buf)
        .unwrap_or_else(|e| panic!("volo rejects faultline's frame: {e}\n{}", hex(frame)))
        .expect("volo returns a message");
    // volo's `Bytes` body hands back the rest of the buffer without advancing it, so
    // `buf` is not empty here; the args bytes are checked by the callers.
    let (persistent_tenant, upstream_trace) = METAINFO.with(|mi| {
        let mi = mi.borrow();
        (mi.get_persistent("tenant"), mi.get_upstream("trace"))
    });
    VoloRequest {
        cx,
        msg,
        persistent_tenant,
        upstream_trace,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn volo_protocol_id(cx: &impl Context) -> Option<u8> {
    cx.extensions().get::<VoloProtocolId>().map(|p| *p as u8)
}

fn check_volo_saw_request(
    req: &VoloRequest,
    transport: Transport,
    protocol: ProtocolId,
    seq_id: i32,
    body: &Value,
    ctx: &str,
) {
    let cx = &req.cx;
    assert_eq!(cx.seq_id(), seq_id, "{ctx}: seq id");
    assert_eq!(req.msg.meta.msg_type, TMessageType::Call, "{ctx}");
    assert_eq!(cx.rpc_info().method().as_str(), METHOD, "{ctx}: method");
    assert_eq!(
        cx.rpc_info().caller().service_name_ref(),
        CALLER,
        "{ctx}: FromService"
    );
    assert_eq!(
        cx.rpc_info().callee().service_name_ref(),
        CALLEE,
        "{ctx}: ToService"
    );
    assert_eq!(
        cx.rpc_info().config().rpc_timeout(),
        Some(Duration::from_millis(TIMEOUT_MS)),
        "{ctx}: RPCTimeout"
    );
    assert_eq!(
        cx.idl_service_name().map(FastStr::as_str),
        Some(IDL_SERVICE),
        "{ctx}: isn"
    );
    assert_eq!(req.persistent_tenant.as_deref(), Some("acme"), "{ctx}");
    assert_eq!(req.upstream_trace.as_deref(), Some("t-123"), "{ctx}");
    assert!(cx.extensions().contains::<HasTTHeader>(), "{ctx}");
    assert_eq!(
        cx.extensions().contains::<HasFramed>(),
        transport == Transport::TTHeaderFramed,
        "{ctx}: volo's framed layer"
    );
    assert_eq!(
        volo_protocol_id(cx),
        Some(protocol as u8),
        "{ctx}: protocol id"
    );
    match protocol {
        ProtocolId::Binary => assert!(cx.extensions().contains::<ProtocolBinary>(), "{ctx}"),
        ProtocolId::Compact => {
            assert!(cx.extensions().contains::<ProtocolApacheCompact>(), "{ctx}")
        }
    }
    let args = req.msg.data.as_ref().expect("a call, not an exception");
    assert_eq!(
        args.as_ref(),
        encode_body(body, protocol).as_slice(),
        "{ctx}: args bytes"
    );
}

/// volo's server answer to the request it decoded into `cx`, as its server loop builds it.
fn volo_server_reply(
    req: &mut VoloRequest,
    transport: Transport,
    body: &Value,
    protocol: ProtocolId,
) -> Vec<u8> {
    req.cx.msg_type = Some(TMessageType::Reply);
    METAINFO.with(|mi| mi.borrow_mut().set_backward_transient("served_by", "volo"));
    let result = Bytes::from(encode_body(body, protocol));
    let reply = ThriftMessage::mk_server_resp(&req.cx, Ok(result));
    volo_encode(transport, ThriftCodec::default(), &mut req.cx, reply)
}

fn fl_decode<'a>(bytes: &'a [u8], transport: Transport, ctx: &str) -> Frame<'a> {
    let frame = decode_frame(bytes, None, None, &limits())
        .unwrap_or_else(|e| panic!("{ctx}: faultline rejects volo's frame: {e}\n{}", hex(bytes)));
    assert_eq!(frame.transport, transport, "{ctx}: detected transport");
    assert_eq!(frame.len, bytes.len(), "{ctx}");
    let again = decode_frame(bytes, Some(transport), None, &limits()).expect(ctx);
    assert_eq!(again, frame, "{ctx}: explicit transport");
    frame
}

#[test]
fn volo_decodes_faultline_requests() {
    for transport in TTHEADER_TRANSPORTS {
        for seq_id in SEQ_IDS {
            for with_acl in [false, true] {
                let ctx = format!("{transport} seq {seq_id} acl {with_acl}");
                let header = kitex_request_header(ProtocolId::Binary, seq_id, with_acl);
                let body = args_body("hello from faultline");
                let msg = message(MessageType::Call, seq_id, body.clone());
                let frame = fl_encode(transport, &header, &msg, ProtocolId::Binary);
                in_metainfo(|| {
                    let req = volo_server_decode(&frame);
                    check_volo_saw_request(
                        &req,
                        transport,
                        ProtocolId::Binary,
                        seq_id,
                        &body,
                        &ctx,
                    );
                });
            }
        }
    }
}

#[test]
fn volo_decodes_faultline_request_with_minimal_header() {
    // Only the keys volo acts on, no string block: volo must not need the others.
    for transport in TTHEADER_TRANSPORTS {
        let mut header = Header::new(ProtocolId::Binary, 9);
        header.metadata.set_int(IntKey::FromService, CALLER);
        let body = args_body("");
        let frame = fl_encode(
            transport,
            &header,
            &message(MessageType::Call, 9, body.clone()),
            ProtocolId::Binary,
        );
        in_metainfo(|| {
            let req = volo_server_decode(&frame);
            assert_eq!(req.cx.seq_id(), 9);
            assert_eq!(req.cx.rpc_info().caller().service_name_ref(), CALLER);
            assert_eq!(req.cx.rpc_info().config().rpc_timeout(), None);
            assert_eq!(req.cx.idl_service_name(), None);
            assert_eq!(
                req.msg.data.as_ref().unwrap().as_ref(),
                encode_body(&body, ProtocolId::Binary).as_slice()
            );
        });
    }
}

#[test]
fn faultline_decodes_volo_server_replies() {
    for transport in TTHEADER_TRANSPORTS {
        for seq_id in SEQ_IDS {
            let ctx = format!("{transport} seq {seq_id}");
            let header = kitex_request_header(ProtocolId::Binary, seq_id, false);
            let request = fl_encode(
                transport,
                &header,
                &message(MessageType::Call, seq_id, args_body("ping")),
                ProtocolId::Binary,
            );
            let body = result_body("pong from volo");
            let reply = in_metainfo(|| {
                let mut req = volo_server_decode(&request);
                volo_server_reply(&mut req, transport, &body, ProtocolId::Binary)
            });
            let frame = fl_decode(&reply, transport, &ctx);
            let h = frame.header.as_ref().expect("TTHeader has a header");
            assert_eq!(h.seq_id, seq_id, "{ctx}: header seq id");
            assert_eq!(h.flags, 0, "{ctx}: volo writes flags 0");
            assert_eq!(h.protocol, ProtocolId::Binary, "{ctx}");
            assert!(h.transforms.is_empty(), "{ctx}");
            // volo writes MsgType as the raw byte 0x02, not Kitex's ASCII "2".
            assert_eq!(
                h.metadata.int_value(IntKey::MsgType).map(|v| v.as_ref()),
                Some(&[2u8][..]),
                "{ctx}: raw MsgType byte"
            );
            assert_eq!(h.metadata.msg_type(), Some(MessageType::Reply), "{ctx}");
            let names: Vec<_> = h
                .metadata
                .int_entries()
                .map(|(_, k, _)| k.map(IntKey::name))
                .collect();
            assert_eq!(names, [Some("MsgType")], "{ctx}: volo's server int keys");
            assert_eq!(
                h.metadata
                    .string_value("RPC_BACKWARD_served_by")
                    .map(|v| v.as_ref()),
                Some(&b"volo"[..]),
                "{ctx}: backward metainfo"
            );
            assert_eq!(h.metadata.acl_token, None, "{ctx}");
            let decoded = frame.decode_message::<Value>(limits()).expect(&ctx);
            assert_eq!(decoded, message(MessageType::Reply, seq_id, body), "{ctx}");
        }
    }
}

fn volo_client_context(seq_id: i32) -> ClientContext {
    let mut config = Config::new();
    config.set_rpc_timeout(Some(Duration::from_millis(TIMEOUT_MS)));
    config.set_connect_timeout(Some(Duration::from_millis(50)));
    let ri = RpcInfo::new(
        Role::Client,
        FastStr::from_static_str(METHOD),
        Endpoint::new(FastStr::from_static_str("volo.client")),
        Endpoint::new(FastStr::from_static_str(CALLEE)),
        config,
    );
    let mut cx = ClientContext::new(seq_id, ri, TMessageType::Call);
    cx.set_idl_service_name(FastStr::from_static_str(IDL_SERVICE));
    cx
}

/// A volo client request carrying `body` (already encoded by faultline in `protocol`).
fn volo_client_request(
    transport: Transport,
    seq_id: i32,
    body: &Value,
    protocol: ProtocolId,
    codec: ThriftCodec,
) -> Vec<u8> {
    in_metainfo(|| {
        METAINFO.with(|mi| {
            let mut mi = mi.borrow_mut();
            mi.set_persistent("tenant", "acme");
            mi.set_transient("trace", "t-123");
        });
        let mut cx = volo_client_context(seq_id);
        let msg = ThriftMessage::mk_client_msg(&cx, Bytes::from(encode_body(body, protocol)));
        volo_encode(transport, codec, &mut cx, msg)
    })
}

#[test]
fn faultline_decodes_volo_client_requests() {
    for transport in TTHEADER_TRANSPORTS {
        for seq_id in SEQ_IDS {
            let ctx = format!("{transport} seq {seq_id}");
            let body = args_body("hello from volo");
            let bytes = volo_client_request(
                transport,
                seq_id,
                &body,
                ProtocolId::Binary,
                ThriftCodec::default(),
            );
            let frame = fl_decode(&bytes, transport, &ctx);
            let h = frame.header.as_ref().expect("TTHeader has a header");
            assert_eq!(h.seq_id, seq_id, "{ctx}: header seq id");
            assert_eq!(h.flags, 0, "{ctx}");
            assert_eq!(h.protocol, ProtocolId::Binary, "{ctx}");
            let md = &h.metadata;
            assert_eq!(md.from_service(), Some("volo.client"), "{ctx}");
            assert_eq!(md.to_service(), Some(CALLEE), "{ctx}");
            assert_eq!(md.to_method(), Some(METHOD), "{ctx}");
            assert_eq!(
                md.rpc_timeout(),
                Some(Duration::from_millis(TIMEOUT_MS)),
                "{ctx}"
            );
            assert_eq!(md.int_str(IntKey::ConnectTimeout), Some("50"), "{ctx}");
            assert_eq!(md.int_str(IntKey::WithMeshHeader), Some("3"), "{ctx}");
            let named: Vec<_> = md
                .int_entries()
                .map(|(n, k, _)| (n, k.map(IntKey::name)))
                .collect();
            assert_eq!(
                named,
                [
                    (3, Some("FromService")),
                    (6, Some("ToService")),
                    (9, Some("ToMethod")),
                    (12, Some("RPCTimeout")),
                    (16, Some("WithMeshHeader")),
                    (17, Some("ConnectTimeout")),
                ],
                "{ctx}: volo's client int keys by name"
            );
            let strings: Vec<_> = md
                .strings
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_ref()))
                .collect();
            assert_eq!(
                strings,
                [
                    ("RPC_PERSIST_tenant", &b"acme"[..]),
                    ("RPC_TRANSIT_trace", &b"t-123"[..]),
                    ("isn", IDL_SERVICE.as_bytes()),
                ],
                "{ctx}: string keys"
            );
            assert_eq!(md.acl_token, None, "{ctx}");
            // volo's client writes no MsgType; the envelope says Call.
            assert_eq!(md.msg_type(), None, "{ctx}");
            let decoded = frame.decode_message::<Value>(limits()).expect(&ctx);
            assert_eq!(
                decoded,
                message(MessageType::Call, seq_id, body.clone()),
                "{ctx}"
            );

            // Same header content, same padding rule: faultline's re-encoding has the
            // same length (key order differs: volo writes its fixed order, faultline sorts).
            let ours = fl_encode(transport, h, &decoded, ProtocolId::Binary);
            assert_eq!(ours.len(), bytes.len(), "{ctx}: re-encoded length");
            let back = decode_frame(&ours, None, None, &limits()).expect(&ctx);
            assert_eq!(back.header, frame.header, "{ctx}: re-encoded header");
        }
    }
}

#[test]
fn compact_payloads_round_trip_through_volo() {
    // faultline → volo server (protocol id 2, Compact payload) → volo reply → faultline.
    for transport in TTHEADER_TRANSPORTS {
        for seq_id in SEQ_IDS {
            let ctx = format!("compact {transport} seq {seq_id}");
            let header = kitex_request_header(ProtocolId::Compact, seq_id, true);
            let body = args_body("compact hello");
            let request = fl_encode(
                transport,
                &header,
                &message(MessageType::Call, seq_id, body.clone()),
                ProtocolId::Compact,
            );
            let reply_body = result_body("compact pong");
            let reply = in_metainfo(|| {
                let mut req = volo_server_decode(&request);
                check_volo_saw_request(&req, transport, ProtocolId::Compact, seq_id, &body, &ctx);
                volo_server_reply(&mut req, transport, &reply_body, ProtocolId::Compact)
            });
            let frame = fl_decode(&reply, transport, &ctx);
            assert_eq!(frame.protocol, ProtocolId::Compact, "{ctx}");
            let h = frame.header.as_ref().unwrap();
            assert_eq!(h.seq_id, seq_id, "{ctx}");
            assert_eq!(h.metadata.msg_type(), Some(MessageType::Reply), "{ctx}");
            assert_eq!(
                frame.decode_message::<Value>(limits()).expect(&ctx),
                message(MessageType::Reply, seq_id, reply_body),
                "{ctx}"
            );
        }
    }
}

#[test]
fn volo_compact_client_announces_binary() {
    // volo's client takes the header's protocol id from a `ProtocolId` context extension
    // that only its server-side decoder sets, so a client configured for Compact writes
    // protocol id 0 (Binary) in front of a Compact payload. Kitex sniffs the payload and
    // ignores the id (and has no Compact codec at all); faultline trusts the header, so it
    // refuses the frame. Pinned so a volo fix (or a faultline policy change) shows up here.
    let body = args_body("compact from volo");
    let bytes = volo_client_request(
        Transport::TTHeader,
        5,
        &body,
        ProtocolId::Compact,
        ThriftCodec::new(volo_thrift::Protocol::ApacheCompact),
    );
    // Detection checks that the payload starts with the announced protocol's marker, so
    // it finds no transport; the error points at the payload (offset 14 + header).
    let header_end = 14 + 4 * usize::from(u16::from_be_bytes([bytes[12], bytes[13]]));
    let err = decode_frame(&bytes, None, None, &limits()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownTransport, "{err}");
    assert_eq!(err.offset, header_end, "{err}");
    // Asking for Compact explicitly contradicts the header.
    let err = decode_frame(
        &bytes,
        Some(Transport::TTHeader),
        Some(ProtocolId::Compact),
        &limits(),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownProtocol(0), "{err}");
    // With the transport given, the header is trusted and the payload read as Binary fails.
    let frame = decode_frame(&bytes, Some(Transport::TTHeader), None, &limits()).unwrap();
    assert_eq!(
        frame.protocol,
        ProtocolId::Binary,
        "header protocol id byte"
    );
    assert_eq!(frame.payload_offset, header_end);
    assert_eq!(
        frame.payload.first(),
        Some(&0x82),
        "Compact protocol id byte"
    );
    assert!(frame.decode_message::<Value>(limits()).is_err());
    // The payload itself is a well-formed Compact message.
    let compact_payload = encode_to_vec::<Compact, _>(&message(MessageType::Call, 5, body))
        .expect("faultline encodes the message");
    assert_eq!(frame.payload, compact_payload.as_slice());
}

/// A volo service that echoes the request's `Echo` back, prefixed with what volo's server
/// read from the TTHeader: `caller|callee|method|timeout ms|isn|persist tenant|upstream trace|`.
#[derive(Clone)]
struct EchoService;

impl volo::Service<ServerContext, Bytes> for EchoService {
    type Response = Bytes;
    type Error = volo_thrift::ServerError;

    async fn call(&self, cx: &mut ServerContext, args: Bytes) -> Result<Bytes, Self::Error> {
        let seen = METAINFO.with(|mi| {
            let mi = mi.borrow();
            let ri = cx.rpc_info();
            format!(
                "{}|{}|{}|{}|{}|{}|{}|",
                ri.caller().service_name_ref(),
                ri.callee().service_name_ref(),
                ri.method(),
                ri.config().rpc_timeout().map_or(0, |t| t.as_millis()),
                cx.idl_service_name().map_or("", FastStr::as_str),
                mi.get_persistent("tenant").unwrap_or_default(),
                mi.get_upstream("trace").unwrap_or_default(),
            )
        });
        let mut reader = BinaryReader::from_slice(&args, limits());
        let args = Value::decode(&mut reader, TType::Struct)
            .map_err(|e| anyhow_error(format!("args: {e}")))?;
        let text = match &args {
            Value::Struct(f) => match f.as_slice() {
                [Field {
                    id: 1,
                    value: Value::Struct(inner),
                }] => match inner.as_slice() {
                    [Field {
                        id: 1,
                        value: Value::Binary(b),
                    }] => String::from_utf8_lossy(b).into_owned(),
                    _ => return Err(anyhow_error("no Echo.message".into())),
                },
                _ => return Err(anyhow_error("no args field 1".into())),
            },
            _ => return Err(anyhow_error("args not a struct".into())),
        };
        Ok(Bytes::from(encode_body(
            &result_body(&format!("{seen}{text}")),
            ProtocolId::Binary,
        )))
    }
}

fn anyhow_error(msg: String) -> volo_thrift::ServerError {
    volo_thrift::AnyhowError::msg(msg).into()
}

/// Reads one length-prefixed frame (TTHeader, TTHeaderFramed, Framed) from `sock`.
async fn read_frame(sock: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut len = [0u8; 4];
    sock.read_exact(&mut len).await.expect("reply length");
    let n = usize::try_from(u32::from_be_bytes(len)).unwrap();
    assert!(n < 1 << 20, "reply length {n}");
    let mut frame = vec![0u8; 4 + n];
    frame[..4].copy_from_slice(&len);
    sock.read_exact(&mut frame[4..]).await.expect("reply body");
    frame
}

#[tokio::test]
async fn volo_server_on_loopback_answers_faultline_frames() {
    use tokio::io::AsyncWriteExt;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(
        volo_thrift::server::Server::new(EchoService)
            .run(volo::net::incoming::DefaultIncoming::from(listener)),
    );

    let step = Duration::from_secs(10);
    // One connection per transport: volo's codec fixes the transport per connection.
    for transport in [
        Transport::TTHeader,
        Transport::TTHeaderFramed,
        Transport::Framed,
    ] {
        let mut sock = tokio::time::timeout(step, tokio::net::TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        for seq_id in SEQ_IDS {
            let ctx = format!("server {transport} seq {seq_id}");
            let text = format!("ping {seq_id}");
            let msg = message(MessageType::Call, seq_id, args_body(&text));
            let request = if transport == Transport::Framed {
                encode_frame::<Binary, _>(transport, None, &msg)
                    .unwrap()
                    .to_vec()
            } else {
                let header = kitex_request_header(ProtocolId::Binary, seq_id, seq_id < 0);
                fl_encode(transport, &header, &msg, ProtocolId::Binary)
            };
            sock.write_all(&request).await.expect(&ctx);
            let reply = tokio::time::timeout(step, read_frame(&mut sock))
                .await
                .unwrap_or_else(|_| panic!("{ctx}: no reply in time"));
            let frame = fl_decode(&reply, transport, &ctx);
            let seen = if transport == Transport::Framed {
                assert_eq!(frame.header, None, "{ctx}");
                // No header: volo knows only the method, from the envelope.
                format!("||{METHOD}|0||||")
            } else {
                let h = frame.header.as_ref().expect("TTHeader reply");
                assert_eq!(h.seq_id, seq_id, "{ctx}: header seq id");
                assert_eq!(h.metadata.msg_type(), Some(MessageType::Reply), "{ctx}");
                format!("{CALLER}|{CALLEE}|{METHOD}|{TIMEOUT_MS}|{IDL_SERVICE}|acme|t-123|")
            };
            assert_eq!(
                frame.decode_message::<Value>(limits()).expect(&ctx),
                message(
                    MessageType::Reply,
                    seq_id,
                    result_body(&format!("{seen}{text}"))
                ),
                "{ctx}"
            );
        }
    }
    server.abort();
}
