//! The body of every fuzz target. Each takes the raw input and panics when a property
//! fails; returning normally means the input was handled correctly (accepted or refused).
//!
//! `decode_binary` and `decode_compact` run the two protocol readers alone, so they go as
//! fast as a target can. Beyond "never panics, never allocates past the limits", the
//! cross-check targets (`crosscheck_*`, and the frame targets) check that different ways of
//! decoding the same bytes agree, and that what faultline accepts it can write back:
//!
//! - slice and `Bytes` decoding give the same result (`decode_frame` / `decode_frame_bytes`,
//!   `Input::new` / `Input::from_bytes`);
//! - `skip` accepts and refuses exactly what `Value::decode` does, with the same error
//!   (a Buffered frame's end is found by skipping, the message is then decoded);
//! - `frame_len` gives the length of every frame `decode_frame` accepts; `detect` names the
//!   transport that auto-detection decoded;
//! - re-encoding an accepted message (and header) and decoding it again gives the same
//!   message (and header): decode is a fixpoint of encode.
//!
//! The round-trip targets generate well-formed values with `arbitrary` (see
//! [`generate`](super::generate)) and check that every protocol and framing gives them back.
//! The differential targets feed the same bytes to faultline and the Apache `thrift` crate.

use arbitrary::Unstructured;
use bytes::Bytes;
use futures_util::FutureExt;
use thrift::TConfiguration;

use super::apache::{self, Strictness};
use super::generate::{self, view};
use super::typed::{self, FuzzRequest};
use super::{alloc, pilota, strict, Proto, LIMITS};
use crate::frame::{decode_frame, decode_frame_bytes, detect, encode_frame, frame_len, Transport};
use crate::protocol::{
    decode_from_bytes, decode_from_slice, encode_to_vec, encoded_len, expect_end, skip,
    skip_message, Binary, Compact, DecodeError, DecodeLimits, DecodeResult, ErrorKind, Input,
    Message, Protocol, ProtocolId, ProtocolReader, TType, Value,
};
use crate::transport::FrameReader;

/// Limits for decoding what faultline re-encoded from an accepted input: the same, except
/// that frames may be a few bytes larger (an old non-strict Binary header is written back
/// in the strict form, 3 bytes longer).
const RELAXED: DecodeLimits = DecodeLimits {
    max_frame: LIMITS.max_frame * 2,
    ..LIMITS
};

/// Most frames `decode_auto` reads from one input, one after another as a connection does.
const MAX_FRAMES: usize = 8;

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `f` over a reader of protocol `P` over `data` and requires the whole input used.
/// The oracles watch it: it holds at most [`alloc::decode_bound`] bytes at its peak, and
/// the reader never nests deeper than `limits.max_depth`, accepted or refused.
fn read_all<P: Protocol, T>(
    data: &[u8],
    limits: DecodeLimits,
    f: impl for<'a> FnOnce(&mut P::Reader<'a>) -> DecodeResult<T>,
) -> DecodeResult<T> {
    read_over::<P, T>(Input::new(data, 0, limits), f)
}

/// As [`read_all`], over `Bytes` (binaries are zero-copy slices).
fn read_all_bytes<P: Protocol, T>(
    data: &Bytes,
    limits: DecodeLimits,
    f: impl for<'a> FnOnce(&mut P::Reader<'a>) -> DecodeResult<T>,
) -> DecodeResult<T> {
    read_over::<P, T>(Input::from_bytes(data, 0, limits), f)
}

fn read_over<'a, P: Protocol, T>(
    input: Input<'a>,
    f: impl FnOnce(&mut P::Reader<'a>) -> DecodeResult<T>,
) -> DecodeResult<T> {
    let (len, max_depth) = (input.remaining(), input.limits().max_depth);
    alloc::bounded("decode", len, || {
        let mut reader = P::reader(input);
        let out = f(&mut reader);
        let deepest = reader.depth_high_water();
        assert!(
            deepest <= max_depth,
            "the reader nested {deepest} levels deep, past max_depth {max_depth}"
        );
        let out = out?;
        expect_end(&reader)?;
        Ok(out)
    })
}

/// The strict-acceptance oracle: `data`, accepted by faultline as a message (`message`)
/// or a bare struct and written back as `again`, is legal and `again` is its canonical
/// form, byte for byte (see [`strict`]).
fn assert_canonical<P: Protocol>(data: &[u8], message: bool, again: &[u8]) {
    match strict::canonical(P::ID, data, message, LIMITS.max_depth) {
        Ok(canonical) => assert!(
            canonical == again,
            "accepted {:?} input is not the canonical form of what was decoded:\n input: {}\n              canonical: {}\n re-encoded: {}",
            P::ID,
            hex(data),
            hex(&canonical),
            hex(again)
        ),
        Err(refusal) => panic!(
            "faultline accepted illegal {:?} input ({} at byte {}): {}",
            P::ID,
            refusal.why,
            refusal.at,
            hex(data)
        ),
    }
}

fn decode_message<P: Protocol>(data: &[u8], limits: DecodeLimits) -> DecodeResult<Message<Value>> {
    read_all::<P, _>(data, limits, |r| Message::<Value>::decode(r))
}

fn decode_struct<P: Protocol>(data: &[u8], limits: DecodeLimits) -> DecodeResult<Value> {
    read_all::<P, _>(data, limits, |r| Value::decode(r, TType::Struct))
}

/// Raw bytes as one message and as one bare struct in protocol `P`: the decoders alone, as
/// fast as a target can be (the consistency checks are [`crosscheck_target`]'s). A refusal
/// must point inside the input.
fn decode_target<P: Protocol>(data: &[u8]) {
    for result in [LIMITS, DecodeLimits::default()]
        .into_iter()
        .flat_map(|limits| {
            [
                decode_message::<P>(data, limits).map(drop),
                decode_struct::<P>(data, limits).map(drop),
            ]
        })
    {
        if let Err(error) = result {
            assert!(
                error.offset <= data.len(),
                "error offset {} past the input's {} bytes: {error}",
                error.offset,
                data.len()
            );
        }
    }
}

/// Raw bytes as one message and as one bare struct in protocol `P`, decoded every way
/// faultline can: slice and `Bytes` agree, `skip` agrees with `Value::decode`, and what is
/// accepted re-encodes to itself.
fn crosscheck_target<P: Protocol>(data: &[u8]) {
    let owned = Bytes::copy_from_slice(data);

    let message = decode_message::<P>(data, LIMITS);
    let from_bytes = read_all_bytes::<P, _>(&owned, LIMITS, |r| Message::<Value>::decode(r));
    assert_eq!(
        message, from_bytes,
        "slice and Bytes message decoding differ"
    );
    let skipped = read_all::<P, _>(data, LIMITS, |r| skip_message(r));
    assert_eq!(
        message.as_ref().map(drop),
        skipped.as_ref().map(drop),
        "skip_message and Message::decode disagree"
    );
    if let Ok(message) = &message {
        let again = encode_to_vec::<P, _>(message).expect("a decoded message encodes");
        assert_canonical::<P>(data, true, &again);
        let back = decode_message::<P>(&again, RELAXED).expect("a re-encoded message decodes");
        assert_eq!(&back, message, "re-encoded message decodes differently");
    }

    let body = decode_struct::<P>(data, LIMITS);
    let skipped = read_all::<P, _>(data, LIMITS, |r| skip(r, TType::Struct));
    assert_eq!(
        body.as_ref().map(drop),
        skipped.as_ref().map(drop),
        "skip and Value::decode disagree"
    );
    if let Ok(body) = &body {
        let again = encode_to_vec::<P, _>(body).expect("a decoded struct encodes");
        assert_canonical::<P>(data, false, &again);
        let back = decode_struct::<P>(&again, LIMITS).expect("a re-encoded struct decodes");
        assert_eq!(&back, body, "re-encoded struct decodes differently");
    }
}

/// Raw bytes into the Binary reader: as a message (strict or old non-strict header) and as
/// a bare struct.
pub fn decode_binary(data: &[u8]) {
    decode_target::<Binary>(data);
}

/// Raw bytes into the Compact reader: as a message and as a bare struct.
pub fn decode_compact(data: &[u8]) {
    decode_target::<Compact>(data);
}

/// Raw bytes through every Binary decoding path (slice, `Bytes`, `skip`), which must agree;
/// accepted input re-encodes to itself.
pub fn crosscheck_binary(data: &[u8]) {
    crosscheck_target::<Binary>(data);
}

/// The same as [`crosscheck_binary`] in Compact.
pub fn crosscheck_compact(data: &[u8]) {
    crosscheck_target::<Compact>(data);
}

/// Decodes the frame at the start of `data` as `transport` (`None`: detected), then its
/// message, checking every consistency property; returns the frame's length if accepted.
fn frame_target(data: &[u8], transport: Option<Transport>) -> Option<usize> {
    let owned = Bytes::copy_from_slice(data);
    let slice = alloc::bounded("frame decode", data.len(), || {
        decode_frame(data, transport, None, &LIMITS)
    });
    let shared = alloc::bounded("frame decode", data.len(), || {
        decode_frame_bytes(&owned, transport, None, &LIMITS)
    });
    let frame = match (slice, shared) {
        (Ok(a), Ok(b)) => {
            assert_eq!(
                (&a.header, a.len, a.payload_offset, a.payload),
                (&b.header, b.len, b.payload_offset, b.payload),
                "slice and Bytes frame decoding differ"
            );
            a
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "slice and Bytes frame decoding fail differently");
            return None;
        }
        (a, b) => panic!("slice and Bytes frame decoding disagree: {a:?} / {b:?}"),
    };
    assert!(frame.len <= data.len() && frame.payload_offset + frame.payload.len() <= frame.len);
    assert_eq!(
        frame_len(data, transport, None, &LIMITS),
        Ok(Some(frame.len)),
        "frame_len differs from the decoded frame's length"
    );
    if transport.is_none() {
        assert_eq!(
            detect(data),
            Ok(Some((frame.transport, frame.protocol))),
            "detect differs from what auto-detection decoded"
        );
    }
    if let Some(header) = &frame.header {
        let _ = header.to_string();
        let _ = (header.metadata.rpc_timeout(), header.metadata.msg_type());
    }

    let message = alloc::bounded("payload decode", data.len(), || {
        frame.decode_message::<Value>(LIMITS)
    });
    let shared = decode_frame_bytes(&owned, transport, None, &LIMITS)
        .and_then(|f| f.decode_message::<Value>(LIMITS));
    assert_eq!(message, shared, "slice and Bytes payload decoding differ");
    let Ok(message) = message else {
        return Some(frame.len);
    };

    // Written back in the same transport and protocol, it decodes to the same frame.
    let again = match frame.protocol {
        ProtocolId::Binary => {
            encode_frame::<Binary, _>(frame.transport, frame.header.as_ref(), &message)
        }
        ProtocolId::Compact => {
            encode_frame::<Compact, _>(frame.transport, frame.header.as_ref(), &message)
        }
    }
    .expect("a decoded frame encodes");
    let back = decode_frame(
        &again,
        Some(frame.transport),
        Some(frame.protocol),
        &RELAXED,
    )
    .expect("a re-encoded frame decodes");
    assert_eq!(
        back.header, frame.header,
        "re-encoded header decodes differently"
    );
    assert_eq!(back.len, again.len());
    let back_message = back
        .decode_message::<Value>(RELAXED)
        .expect("a re-encoded message decodes");
    assert_eq!(
        back_message, message,
        "re-encoded message decodes differently"
    );
    assert_eq!(
        detect(&again),
        Ok(Some((frame.transport, frame.protocol))),
        "faultline wrote a frame that detection misreads: {}",
        hex(&again)
    );
    Some(frame.len)
}

/// Raw bytes as a Framed frame (payload protocol from its first bytes).
pub fn decode_framed(data: &[u8]) {
    frame_target(data, Some(Transport::Framed));
}

/// Raw bytes as a Kitex TTHeader frame, with the payload bare and framed.
pub fn decode_ttheader(data: &[u8]) {
    frame_target(data, Some(Transport::TTHeader));
    frame_target(data, Some(Transport::TTHeaderFramed));
}

/// Raw bytes as an Apache THeader frame.
pub fn decode_theader(data: &[u8]) {
    frame_target(data, Some(Transport::THeader));
}

/// Raw bytes as a server reads a connection: detect the transport, decode the frame and its
/// request as a `Value` message, and go on with the next frame. Then the same bytes as a
/// stream through the server's [`FrameReader`] with a server's limits
/// (`DecodeLimits::default()`, 16 MiB frames): what it holds stays within
/// [`alloc::stream_bound`] (a reader that reserved a frame's announced length before its
/// bytes arrived would hold 16 MiB for a 4-byte prefix).
pub fn decode_auto(data: &[u8]) {
    let mut rest = data;
    for _ in 0..MAX_FRAMES {
        match frame_target(rest, None) {
            Some(len) if len > 0 && len < rest.len() => rest = &rest[len..],
            _ => break,
        }
    }
    alloc::bounded_by(
        "FrameReader",
        data.len(),
        alloc::stream_bound(data.len()),
        || read_stream(data),
    );
}

/// Reads up to `MAX_FRAMES` frames from `data` with a [`FrameReader`] and
/// `DecodeLimits::default()`, until the stream ends or a frame is refused.
fn read_stream(data: &[u8]) {
    let mut reader = FrameReader::new(DecodeLimits::default());
    let mut io = data;
    for _ in 0..MAX_FRAMES {
        // `&[u8]` is always ready: one poll completes the read.
        match reader.read(&mut io).now_or_never() {
            Some(Ok(Some(_))) => {}
            Some(Ok(None) | Err(_)) => break,
            None => panic!("reading a frame from memory waited"),
        }
    }
}

fn typed_one<P: Protocol>(data: &[u8]) {
    let owned = Bytes::copy_from_slice(data);
    let typed = alloc::bounded("typed decode", data.len(), || {
        decode_from_slice::<P, FuzzRequest>(data, LIMITS)
    });
    let shared = alloc::bounded("typed decode", data.len(), || {
        decode_from_bytes::<P, FuzzRequest>(&owned, LIMITS)
    });
    let encode = |r: &FuzzRequest| encode_to_vec::<P, _>(r).expect("a decoded request encodes");
    assert_eq!(
        typed.as_ref().map(encode).map_err(Clone::clone),
        shared.as_ref().map(encode).map_err(Clone::clone),
        "slice and Bytes typed decoding differ"
    );
    if let Ok(request) = &typed {
        assert!(
            decode_struct::<P>(data, LIMITS).is_ok(),
            "a typed request decoded where the schema-less Value reader refused it"
        );
        let again = encode(request);
        let back = decode_from_slice::<P, FuzzRequest>(&again, LIMITS)
            .expect("a re-encoded request decodes");
        assert_eq!(
            encode(&back),
            again,
            "re-encoded request decodes differently"
        );
    }
    let message = read_all::<P, _>(data, LIMITS, |r| Message::<FuzzRequest>::decode(r));
    if message.is_ok() {
        assert!(
            decode_message::<P>(data, LIMITS).is_ok(),
            "a typed message decoded where the Value reader refused it"
        );
    }
}

/// Raw bytes into [`FuzzRequest`] (bare and as a message), both protocols.
pub fn decode_typed(data: &[u8]) {
    typed_one::<Binary>(data);
    typed_one::<Compact>(data);
}

/// `value` in protocol `P`: exact size, and decoded back to what `P`'s readers give.
fn value_round_trip<P: Protocol>(value: &Value) {
    let bytes = encode_to_vec::<P, _>(value).expect("a well-formed value encodes");
    assert_eq!(encoded_len::<P, _>(value), Ok(bytes.len()));
    let back = read_all::<P, _>(&bytes, LIMITS, |r| Value::decode(r, value.ttype()));
    assert_eq!(back, Ok(view(value, P::ID)), "{:?}: {}", P::ID, hex(&bytes));
}

/// `message` in protocol `P` framed as `transport`, decoded back with the transport detected
/// (`detect`) or named.
fn message_round_trip<P: Protocol>(message: &Message<Value>, transport: Transport, detect: bool) {
    let expected = Message {
        header: message.header.clone(),
        body: view(&message.body, P::ID),
    };
    let bytes = encode_frame::<P, _>(transport, None, message).expect("a message frames");
    let ctx = || format!("{transport} {:?}: {}", P::ID, hex(&bytes));
    let (t, p) = if detect {
        (None, None)
    } else {
        (Some(transport), Some(P::ID))
    };
    let frame = decode_frame(&bytes, t, p, &LIMITS).unwrap_or_else(|e| panic!("{e}: {}", ctx()));
    assert_eq!(
        (frame.transport, frame.protocol, frame.len),
        (transport, P::ID, bytes.len()),
        "{}",
        ctx()
    );
    let back = frame.decode_message::<Value>(LIMITS);
    assert_eq!(back.as_ref(), Ok(&expected), "{}", ctx());
}

/// Any well-formed `Value` -> encode -> decode == original, both protocols; any message in
/// both protocols, in the framing the input picks, detected or named as the input says.
pub fn roundtrip_value(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let generated = |u: &mut Unstructured<'_>| -> arbitrary::Result<_> {
        let transport = *u.choose(&Transport::ALL)?;
        let detect = u.arbitrary::<bool>()?;
        let value = generate::value(u, LIMITS.max_depth)?;
        let message = generate::message(u)?;
        Ok((transport, detect, value, message))
    };
    let Ok((transport, detect, value, message)) = generated(&mut u) else {
        return;
    };
    value_round_trip::<Binary>(&value);
    value_round_trip::<Compact>(&value);
    message_round_trip::<Binary>(&message, transport, detect);
    message_round_trip::<Compact>(&message, transport, detect);
}

fn typed_round_trip<P: Protocol>(request: &FuzzRequest) {
    let bytes = encode_to_vec::<P, _>(request).expect("a request encodes");
    assert_eq!(encoded_len::<P, _>(request), Ok(bytes.len()));
    let encode = |r: &FuzzRequest| encode_to_vec::<P, _>(r).expect("a request encodes");
    let back = decode_from_slice::<P, FuzzRequest>(&bytes, LIMITS)
        .unwrap_or_else(|e| panic!("{e}: {:?} {}", P::ID, hex(&bytes)));
    assert_eq!(encode(&back), bytes, "decoded request encodes differently");
    let shared = decode_from_bytes::<P, FuzzRequest>(&Bytes::from(bytes.clone()), LIMITS)
        .expect("a request decodes from Bytes");
    assert_eq!(encode(&shared), bytes);
    let as_value = decode_struct::<P>(&bytes, LIMITS).expect("a request decodes as a Value");
    assert_eq!(encode_to_vec::<P, _>(&as_value).as_deref(), Ok(&bytes[..]));
}

/// Any [`FuzzRequest`] -> encode -> decode == original, both protocols, also as a `Value`.
pub fn roundtrip_typed(data: &[u8]) {
    let Ok(request) = typed::request(&mut Unstructured::new(data)) else {
        return;
    };
    typed_round_trip::<Binary>(&request);
    typed_round_trip::<Compact>(&request);
}

fn header_round_trip<P: Protocol>(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let transport = *u.choose(&[
        Transport::TTHeader,
        Transport::TTHeaderFramed,
        Transport::THeader,
    ])?;
    let kitex = transport != Transport::THeader;
    let header = generate::header(u, P::ID, kitex)?;
    let message = Message {
        header: crate::protocol::MessageHeader {
            name: generate::string(u)?,
            kind: crate::protocol::MessageType::Call,
            seq_id: header.seq_id,
        },
        body: Value::Struct(Vec::new()),
    };
    let bytes = encode_frame::<P, _>(transport, Some(&header), &message)
        .expect("a generated header encodes");
    let ctx = || format!("{transport} {:?}: {}", P::ID, hex(&bytes));
    let frame =
        decode_frame(&bytes, None, None, &LIMITS).unwrap_or_else(|e| panic!("{e}: {}", ctx()));
    assert_eq!(frame.transport, transport, "{}", ctx());
    assert_eq!(frame.header.as_ref(), Some(&header), "{}", ctx());
    assert_eq!(
        frame.decode_message::<Value>(LIMITS).as_ref(),
        Ok(&message),
        "{}",
        ctx()
    );
    let _ = header.to_string();

    // THeader has no int keys and no ACL token: writing them is refused, not dropped.
    if !kitex {
        let mut kitex_only = header.clone();
        kitex_only.metadata = generate::metadata(u, true)?;
        if !kitex_only.metadata.int.is_empty() || kitex_only.metadata.acl_token.is_some() {
            assert!(encode_frame::<P, _>(transport, Some(&kitex_only), &message).is_err());
        }
    }
    Ok(())
}

/// Any TTHeader / THeader header (flags, seq id, int and string metadata, ACL token) ->
/// encode -> detect and decode == original.
pub fn roundtrip_metadata(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = if u.arbitrary().unwrap_or(false) {
        header_round_trip::<Compact>(&mut u)
    } else {
        header_round_trip::<Binary>(&mut u)
    };
}

/// `breaker_model`: an arbitrary sequence of admits, outcomes (success, failure, timeout)
/// and clock advances against the circuit breaker and its reference model
/// (`breaker::model`); `check` panics when their states or decisions disagree.
pub fn breaker_model(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let ops: Vec<crate::breaker::model::Op> = u.arbitrary_iter().map_or_else(
        |_| Vec::new(),
        |ops| ops.take(2048).map_while(Result::ok).collect(),
    );
    crate::breaker::model::check(&crate::breaker::model::small_config(), &ops);
}

/// An arbitrary session of frames (well-formed calls with duplicate and interleaved sequence
/// ids, unknown methods, oneway calls, undecodable args, truncated and corrupted frames,
/// oversized lengths, foreign transports, garbage) through one in-memory connection to a
/// real server serving the Echo router: no panic, every request before the first malformed
/// frame answered exactly once with its sequence id, the connection closed on a malformed
/// frame and not before (see [`session`](super::session)).
pub fn server_session(data: &[u8]) {
    super::session::server_session(data);
}

/// A real connection pool against a scripted server whose replies are the input (see
/// [`client_session`](super::client_session)).
pub fn client_session(data: &[u8]) {
    super::client_session::client_session(data);
}

/// The Apache crate with faultline's fuzzing limits.
fn apache_config() -> TConfiguration {
    TConfiguration::builder()
        .max_string_size(Some(LIMITS.max_string))
        .max_container_size(Some(LIMITS.max_container))
        .max_recursion_depth(Some(LIMITS.max_depth))
        .build()
        .expect("a valid thrift configuration")
}

/// faultline errors on input the Apache crate accepts that are deliberate (faultline is
/// stricter), as `faultline_deliberately_stricter` in `core/tests/interop_rust.rs` lists
/// them, plus the depth limit:
///
/// - `InvalidType(0 | 1)`: a list/set/map whose element type is stop or void. The crate
///   accepts it when the container is empty (it never reads an element); no IDL type
///   produces it.
/// - `VarintTooLong`: a Compact i16 whose zigzag value does not fit i16, or a 5th/10th
///   varint byte with bits past 32/64. The crate truncates silently.
/// - `FieldIdOverflow`: a Compact long-form field id that does not fit i16 (the crate
///   truncates it).
/// - `DepthExceeded`: faultline counts lists, sets and maps towards `max_depth` as well as
///   structs (so `skip` and `Value` decode are bounded on any nesting); the crate counts
///   structs only.
fn deliberately_stricter(err: &DecodeError) -> bool {
    matches!(
        err.kind,
        ErrorKind::InvalidType(0 | 1)
            | ErrorKind::VarintTooLong
            | ErrorKind::FieldIdOverflow
            | ErrorKind::DepthExceeded { .. }
    )
}

/// Compares faultline's result with the Apache crate's on the same bytes.
fn agree<T: PartialEq + std::fmt::Debug>(
    what: &str,
    data: &[u8],
    ours: DecodeResult<T>,
    theirs: impl FnOnce() -> thrift::Result<T>,
) {
    if matches!(&ours, Err(e) if matches!(e.kind, ErrorKind::DepthExceeded { .. })) {
        // Deliberate (see above), and the crate would recurse as deep as the input goes.
        return;
    }
    match (ours, theirs()) {
        (Ok(a), Ok(b)) => assert_eq!(
            a,
            b,
            "{what}: faultline and Apache decode differently: {}",
            hex(data)
        ),
        (Err(_), Err(_)) => {}
        (Err(e), Ok(_)) if deliberately_stricter(&e) => {}
        (ours, theirs) => panic!(
            "{what}: faultline and Apache disagree on {}\n faultline: {ours:?}\n apache: {:?}",
            hex(data),
            theirs.map_err(|e| e.to_string())
        ),
    }
}

fn diff<P: Protocol>(data: &[u8], proto: Proto) {
    agree("struct", data, decode_struct::<P>(data, LIMITS), || {
        apache::decode_with(data, TType::Struct, proto, apache_config())
    });
    agree("message", data, decode_message::<P>(data, LIMITS), || {
        apache::decode_message_with(data, proto, Strictness::NonStrict, apache_config())
    });
}

/// The same bytes into faultline's and the Apache crate's Binary readers (as a bare struct
/// and as a message; the crate's non-strict reader, which like faultline's takes both
/// header forms): they agree on accept/reject and on the value.
pub fn diff_binary(data: &[u8]) {
    diff::<Binary>(data, Proto::Binary);
}

/// As [`diff_binary`], in Compact.
pub fn diff_compact(data: &[u8]) {
    diff::<Compact>(data, Proto::Compact);
}

/// faultline's refusals where pilota accepts that are deliberate: those of
/// [`deliberately_stricter`] (pilota truncates varints and i16s as the Apache crate does),
/// and the size limits, which pilota does not have (the targets decode with
/// `DecodeLimits::small()`).
fn pilota_deliberate(err: &DecodeError) -> bool {
    deliberately_stricter(err)
        || matches!(
            err.kind,
            ErrorKind::StringTooLong { .. } | ErrorKind::ContainerTooLarge { .. }
        )
}

fn diff_pilota<P: Protocol>(data: &[u8], proto: Proto) {
    pilota::check(
        "struct",
        data,
        proto,
        decode_struct::<P>(data, LIMITS),
        |bytes| decode_struct::<P>(bytes, RELAXED),
        pilota_deliberate,
    );
    // pilota's Binary reader takes only the strict message header (as the Apache crate's
    // strict reader does); faultline also reads the old non-strict one.
    if proto == Proto::Binary && data.first().is_some_and(|b| b & 0x80 == 0) {
        return;
    }
    pilota::check(
        "message",
        data,
        proto,
        decode_message::<P>(data, LIMITS),
        |bytes| decode_message::<P>(bytes, RELAXED),
        pilota_deliberate,
    );
}

/// The same bytes into faultline's and pilota 0.13's Binary readers (as a bare struct
/// and as a message): same accept/reject and value; what both accept, pilota writes and
/// faultline reads back to the same value (see [`pilota`]).
pub fn diff_pilota_binary(data: &[u8]) {
    diff_pilota::<Binary>(data, Proto::Binary);
}

/// As [`diff_pilota_binary`], in Compact.
pub fn diff_pilota_compact(data: &[u8]) {
    diff_pilota::<Compact>(data, Proto::Compact);
}
