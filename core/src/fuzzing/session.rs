//! `server_session`: an arbitrary sequence of frames through one in-process connection to a
//! real [`Server`](crate::server::Server) serving the Echo router.
//!
//! The session is generated from the input: a transport and protocol, then up to
//! [`MAX_OPS`] ops — well-formed calls (echo, unknown methods, oneway, replies and
//! exceptions sent to the server, args that do not decode, duplicate and interleaved
//! sequence ids from a small pool), truncated frames, frames with bytes overwritten, length
//! prefixes past `max_frame`, frames in another transport or protocol, and raw garbage.
//!
//! What the server must do is computed first by [`expect`], a model of the connection built
//! from the same primitives the server reads with (`frame_len`, `decode_frame_bytes`,
//! the envelope, the Echo args struct): the replies it owes (sequence id, method, header
//! sequence id, echoed message or `TApplicationException` kind) and how the connection ends
//! — a malformed frame (it must close at once) or the end of the input (it must answer every
//! request, then close after the client does).
//!
//! The bytes then go through a `tokio::io::duplex` pipe of arbitrary capacity, one op per
//! write, while the client reads every reply. The runtime is a current-thread runtime with
//! a paused clock (one per thread), so a session that stalls ends at once in a "hung"
//! panic instead of a libFuzzer timeout, and "the server has not closed" is checked by a
//! read that times out. Properties:
//!
//! - no panic (libFuzzer aborts on a panic in any task);
//! - without a malformed frame: exactly the replies owed (as a multiset: replies go out in
//!   completion order), every reply framed like the requests, then EOF only after the
//!   client closed its side;
//! - with one: when the client waited for the replies owed before sending the malformed
//!   frame (`drain`), exactly those replies and the connection still open, then EOF with no
//!   further byte; when it did not wait, a subset of those replies (requests in flight are
//!   cancelled), each at most once, then EOF.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use arbitrary::{Result, Unstructured};
use bytes::Bytes;
use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use super::{alloc, generate, LIMITS};
use crate::echo::{self, EchoArgs, EchoResult};
use crate::frame::{decode_frame_bytes, encode_frame, frame_len, Header, IntKey, Transport};
use crate::net::Listener;
use crate::protocol::{
    ApplicationException, Binary, BinaryReader, Compact, CompactReader, DecodeResult, Field,
    Message, MessageHeader, MessageType, ProtocolId, ProtocolReader, Value,
};
use crate::server::ServerBuilder;
use crate::transport::{FrameReader, ReadError};

/// Most ops in one session.
pub const MAX_OPS: usize = 24;
/// Most bytes the client sends in one session: well below `max_frame`, so that "not enough
/// bytes for a frame" always means the stream ended mid-frame.
pub const MAX_STREAM: usize = 16 * 1024;
/// Sequence ids are mostly drawn from this pool, so duplicates and interleavings are common.
const SEQ_POOL: [i32; 7] = [0, 1, 2, 3, -1, i32::MAX, i32::MIN];
/// Capacities of the in-memory pipe (each direction).
pub(super) const PIPE: [usize; 4] = [7, 64, 1024, 64 * 1024];
/// Longer than any session on the paused clock: reaching it means the session stalled.
pub(super) const HUNG: Duration = Duration::from_secs(3600);
/// How long the client waits to see that the server has not closed (paused clock).
const QUIET: Duration = Duration::from_secs(1);

/// A listener that hands out one in-memory stream, then never another.
#[derive(Debug)]
pub struct OneStream(Mutex<Option<DuplexStream>>);

impl OneStream {
    pub fn new(stream: DuplexStream) -> Self {
        Self(Mutex::new(Some(stream)))
    }

    /// The peer address the server sees.
    pub const PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 1);
}

impl Listener for OneStream {
    type Stream = DuplexStream;

    fn accept(&self) -> impl Future<Output = io::Result<(DuplexStream, SocketAddr)>> + Send {
        let next = self.0.lock().expect("listener lock").take();
        async move {
            match next {
                Some(stream) => Ok((stream, Self::PEER)),
                None => std::future::pending().await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0))
    }
}

/// What a request's reply carries besides its identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// `Reply` with `echo_result.success.message`.
    Echo(String),
    /// `Exception` with this `TApplicationException` kind.
    Exception(i32),
}

/// One reply, as owed or as received.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reply {
    pub seq_id: i32,
    pub method: String,
    /// The TTHeader / THeader sequence id of the request (and so of its reply).
    pub header_seq_id: Option<i32>,
    pub outcome: Outcome,
}

/// What the server owes for a session's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Replies owed, in request order.
    pub replies: Vec<Reply>,
    /// Where the malformed frame that closes the connection starts, if there is one.
    pub malformed_at: Option<usize>,
    /// The transport and protocol fixed by the first request.
    pub framing: Option<(Transport, ProtocolId)>,
}

fn read_begin<'a, R: ProtocolReader<'a>>(mut reader: R) -> DecodeResult<MessageHeader<String>> {
    let header = reader.read_message_begin()?;
    Ok(MessageHeader {
        name: header.name.to_owned(),
        kind: header.kind,
        seq_id: header.seq_id,
    })
}

/// The server's view of `stream`, read as one connection that ends after it.
pub fn expect(stream: &[u8]) -> Expected {
    let mut out = Expected {
        replies: Vec::new(),
        malformed_at: None,
        framing: None,
    };
    let mut at = 0;
    while at < stream.len() {
        let rest = &stream[at..];
        let (transport, protocol) = out.framing.unzip();
        let len = match frame_len(rest, transport, protocol, &LIMITS) {
            Ok(Some(len)) if len <= rest.len() => len,
            // The stream ends inside a frame: the server stops reading and drains.
            Ok(_) => break,
            Err(_) => {
                out.malformed_at = Some(at);
                break;
            }
        };
        let bytes = Bytes::copy_from_slice(&rest[..len]);
        let Some(reply) = request(&bytes, &mut out.framing) else {
            out.malformed_at = Some(at);
            break;
        };
        out.replies.extend(reply);
        at += len;
    }
    out
}

/// One whole frame as the server takes it: `None` if malformed (frame or envelope), else
/// the reply it owes, if any.
fn request(bytes: &Bytes, framing: &mut Option<(Transport, ProtocolId)>) -> Option<Option<Reply>> {
    let (transport, protocol) = framing.unzip();
    let frame = decode_frame_bytes(bytes, transport, protocol, &LIMITS).ok()?;
    framing.get_or_insert((frame.transport, frame.protocol));
    let input = frame.input(LIMITS);
    let header = match frame.protocol {
        ProtocolId::Binary => read_begin(BinaryReader::new(input)),
        ProtocolId::Compact => read_begin(CompactReader::new(input)),
    }
    .ok()?;
    let outcome = match header.kind {
        MessageType::Call | MessageType::Oneway if header.name == echo::METHOD => {
            match frame.decode_message::<EchoArgs>(LIMITS) {
                Ok(args) => Outcome::Echo(args.body.req.message),
                Err(_) => Outcome::Exception(ApplicationException::PROTOCOL_ERROR),
            }
        }
        MessageType::Call | MessageType::Oneway => {
            Outcome::Exception(ApplicationException::UNKNOWN_METHOD)
        }
        _ => Outcome::Exception(ApplicationException::INVALID_MESSAGE_TYPE),
    };
    Some((header.kind != MessageType::Oneway).then(|| Reply {
        seq_id: header.seq_id,
        method: header.name,
        header_seq_id: frame.header.as_ref().map(|h| h.seq_id),
        outcome,
    }))
}

/// A generated session: the bytes of each op, and how the client behaves.
#[derive(Debug, Clone)]
pub struct Session {
    pub chunks: Vec<Vec<u8>>,
    /// Wait for every reply owed before sending a malformed frame (and before closing).
    pub drain: bool,
    /// Capacity of the in-memory pipe.
    pub pipe: usize,
}

impl Session {
    pub fn stream(&self) -> Vec<u8> {
        self.chunks.concat()
    }
}

/// How the session's frames are carried.
struct Carrier {
    transport: Transport,
    protocol: ProtocolId,
    header: Option<Header>,
}

fn seq_id(u: &mut Unstructured<'_>) -> Result<i32> {
    if u.ratio(1, 8)? {
        u.arbitrary()
    } else {
        u.choose(&SEQ_POOL).copied()
    }
}

/// `{field: {1: message}}`: the Echo args (`field` 1, the request) or result (`field` 0,
/// the response) carrying `message`, as a `Value`.
pub(super) fn echo_struct(field: i16, message: &str) -> Value {
    Value::Struct(vec![Field {
        id: field,
        value: Value::Struct(vec![Field {
            id: 1,
            value: Value::string(message),
        }]),
    }])
}

fn echo_body(message: &str) -> Value {
    echo_struct(1, message)
}

/// A well-formed message: mostly echo calls, else the other ways a request goes wrong
/// without breaking its frame.
fn message(u: &mut Unstructured<'_>) -> Result<Message<Value>> {
    let seq_id = seq_id(u)?;
    let short = |u: &mut Unstructured<'_>| -> Result<String> {
        let len = u.int_in_range(0..=24)?;
        let raw = u.bytes(len.min(u.len()))?;
        Ok(String::from_utf8_lossy(raw).into_owned())
    };
    let (name, kind, body) = match u.int_in_range(0..=9)? {
        0..=4 => (
            echo::METHOD.to_owned(),
            MessageType::Call,
            echo_body(&short(u)?),
        ),
        5 => (short(u)?, MessageType::Call, echo_body("x")),
        6 => (
            echo::METHOD.to_owned(),
            MessageType::Oneway,
            echo_body(&short(u)?),
        ),
        7 => {
            let kind = *u.choose(&[MessageType::Reply, MessageType::Exception])?;
            (echo::METHOD.to_owned(), kind, echo_body("r"))
        }
        // Args that do not decode (a required field missing, a field of another type) or
        // that decode to the default.
        8 => {
            let body = match u.int_in_range(0..=2)? {
                0 => Value::Struct(vec![Field {
                    id: 1,
                    value: Value::Struct(Vec::new()),
                }]),
                1 => Value::Struct(vec![Field {
                    id: 1,
                    value: Value::Struct(vec![Field {
                        id: 1,
                        value: Value::I32(7),
                    }]),
                }]),
                _ => Value::Struct(Vec::new()),
            };
            (echo::METHOD.to_owned(), MessageType::Call, body)
        }
        _ => (
            echo::METHOD.to_owned(),
            MessageType::Call,
            generate::struct_value(u, 3)?,
        ),
    };
    Ok(Message {
        header: MessageHeader { name, kind, seq_id },
        body,
    })
}

pub(super) fn encode(
    transport: Transport,
    protocol: ProtocolId,
    header: Option<&Header>,
    m: &Message<Value>,
) -> Vec<u8> {
    let encoded = match protocol {
        ProtocolId::Binary => encode_frame::<Binary, _>(transport, header, m),
        ProtocolId::Compact => encode_frame::<Compact, _>(transport, header, m),
    };
    // Generated messages always encode; an error here is the encoder's bug.
    encoded
        .map(|b| b.to_vec())
        .expect("a generated frame encodes")
}

impl Carrier {
    fn arbitrary(u: &mut Unstructured<'_>) -> Result<Self> {
        let transport = *u.choose(&Transport::ALL)?;
        let protocol = *u.choose(&[ProtocolId::Binary, ProtocolId::Compact])?;
        let header = match transport.has_header() {
            false => None,
            true => {
                let kitex = transport != Transport::THeader;
                let mut header = generate::header(u, protocol, kitex)?;
                if kitex && u.arbitrary()? {
                    let timeout = *u.choose(&["0", "1", "1500", "18446744073709551615"])?;
                    header.metadata.set_int(IntKey::RpcTimeout, timeout);
                }
                Some(header)
            }
        };
        Ok(Self {
            transport,
            protocol,
            header,
        })
    }

    /// A well-formed frame of this session.
    fn frame(&self, u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
        let m = message(u)?;
        let mut header = self.header.clone();
        if let Some(h) = &mut header {
            h.seq_id = seq_id(u)?;
        }
        Ok(encode(self.transport, self.protocol, header.as_ref(), &m))
    }
}

/// One op's bytes.
fn op(u: &mut Unstructured<'_>, carrier: &Carrier) -> Result<Vec<u8>> {
    Ok(match u.int_in_range(0..=23)? {
        // Well-formed frames, most of the time.
        0..=13 => carrier.frame(u)?,
        // Truncated: the next op's bytes continue it.
        14 => {
            let mut frame = carrier.frame(u)?;
            let keep = u.int_in_range(0..=frame.len())?;
            frame.truncate(keep);
            frame
        }
        // Bytes overwritten.
        15 => {
            let mut frame = carrier.frame(u)?;
            for _ in 0..u.int_in_range(1..=4)? {
                if frame.is_empty() {
                    break;
                }
                let at = u.choose_index(frame.len())?;
                frame[at] = u.arbitrary()?;
            }
            frame
        }
        // A length prefix past `max_frame`, negative, or zero.
        16 => {
            let mut frame = carrier.frame(u)?;
            let len: u32 = *u.choose(&[
                LIMITS.max_frame as u32 + 1,
                i32::MAX as u32,
                u32::MAX,
                0,
                0x8001_0001,
            ])?;
            if frame.len() >= 4 {
                frame[..4].copy_from_slice(&len.to_be_bytes());
            }
            frame
        }
        // A well-formed frame in another transport or protocol.
        17 => {
            let other = Carrier::arbitrary(u)?;
            other.frame(u)?
        }
        // Raw bytes.
        18 => {
            let len = u.int_in_range(0..=32)?;
            u.bytes(len.min(u.len()))?.to_vec()
        }
        // Several well-formed frames in one write (pipelined).
        _ => {
            let mut burst = Vec::new();
            for _ in 0..u.int_in_range(2..=4)? {
                burst.extend(carrier.frame(u)?);
            }
            burst
        }
    })
}

/// The session `u` describes.
pub fn session(u: &mut Unstructured<'_>) -> Result<Session> {
    let carrier = Carrier::arbitrary(u)?;
    let drain = u.arbitrary()?;
    let pipe = *u.choose(&PIPE)?;
    let mut chunks = Vec::new();
    let mut total = 0;
    while chunks.len() < MAX_OPS && !u.is_empty() {
        let chunk = op(u, &carrier)?;
        if total + chunk.len() > MAX_STREAM {
            break;
        }
        total += chunk.len();
        chunks.push(chunk);
    }
    Ok(Session {
        chunks,
        drain,
        pipe,
    })
}

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Runs `f` to completion on this thread's current-thread runtime (paused clock).
pub(super) fn block_on<F: Future>(f: F) -> F::Output {
    RUNTIME.with(|rt| {
        let mut rt = rt.borrow_mut();
        let rt = rt.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("a current-thread runtime")
        });
        rt.block_on(f)
    })
}

/// What the client read: every whole reply, then how the stream ended.
struct Client {
    reader: FrameReader,
    io: tokio::io::ReadHalf<DuplexStream>,
    replies: Vec<Reply>,
    framing: Option<(Transport, ProtocolId)>,
}

/// How a read ended.
enum Read {
    Reply,
    Eof,
    /// The stream ended inside a reply (a write cancelled by the close).
    Cut,
}

impl Client {
    async fn next(&mut self) -> Read {
        let bytes = match self.reader.read(&mut self.io).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Read::Eof,
            Err(ReadError::Io(err)) if err.kind() == io::ErrorKind::UnexpectedEof => {
                return Read::Cut
            }
            Err(err) => panic!("the server wrote a frame its own reader refuses: {err}"),
        };
        let frame = self
            .reader
            .decode(&bytes)
            .unwrap_or_else(|e| panic!("the server wrote an undecodable reply frame: {e}"));
        if let Some(want) = self.framing {
            assert_eq!(
                (frame.transport, frame.protocol),
                want,
                "a reply framed unlike the requests"
            );
        }
        let message = frame
            .decode_message::<Value>(LIMITS)
            .unwrap_or_else(|e| panic!("an undecodable reply message: {e}"));
        let outcome = match message.header.kind {
            MessageType::Reply => {
                let result = frame
                    .decode_message::<EchoResult>(LIMITS)
                    .unwrap_or_else(|e| panic!("a reply that is no echo_result: {e}"));
                let response = result.body.success.expect("echo_result.success set");
                Outcome::Echo(response.message)
            }
            MessageType::Exception => {
                let exception = frame
                    .decode_message::<ApplicationException>(LIMITS)
                    .unwrap_or_else(|e| {
                        panic!("an exception that is no TApplicationException: {e}")
                    });
                Outcome::Exception(exception.body.kind)
            }
            other => panic!("the server sent a {other:?} message"),
        };
        self.replies.push(Reply {
            seq_id: message.header.seq_id,
            method: message.header.name,
            header_seq_id: frame.header.as_ref().map(|h| h.seq_id),
            outcome,
        });
        Read::Reply
    }
}

fn counts(replies: &[Reply]) -> BTreeMap<&Reply, usize> {
    let mut out = BTreeMap::new();
    for reply in replies {
        *out.entry(reply).or_default() += 1;
    }
    out
}

/// Runs `session` against a fresh server and checks what it does against [`expect`].
///
/// The allocation oracle watches the whole session, server and client: a hostile stream
/// cannot make it hold more than [`alloc::session_bound`] of the bytes sent.
pub fn run(session: &Session) {
    let stream = session.stream();
    let want = expect(&stream);
    let bound = alloc::session_bound(stream.len());
    alloc::bounded_by("server_session", stream.len(), bound, || {
        block_on(async {
            tokio::time::timeout(HUNG, drive(session, &stream, &want))
                .await
                .unwrap_or_else(|_| {
                    panic!(
                    "the session stalled (server or client waiting forever); {want:?}, {} bytes",
                    stream.len()
                )
                });
        })
    });
}

async fn drive(session: &Session, stream: &[u8], want: &Expected) {
    let (client, server_end) = tokio::io::duplex(session.pipe);
    let server = ServerBuilder::new(echo::SERVICE)
        .limits(LIMITS)
        .serve(OneStream::new(server_end), echo::router())
        .expect("an in-memory server starts");
    let (rd, mut wr) = tokio::io::split(client);

    // The writer: everything before the malformed frame (or all), one op per write; then,
    // when draining, waits for the reader's go; then the rest; then closes its side.
    let split = want.malformed_at.unwrap_or(stream.len());
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut at = 0;
    for chunk in &session.chunks {
        let end = at + chunk.len();
        if end <= split {
            before.push(chunk.clone());
        } else if at >= split {
            after.push(chunk.clone());
        } else {
            before.push(chunk[..split - at].to_vec());
            after.push(chunk[split - at..].to_vec());
        }
        at = end;
    }
    let (go, wait) = oneshot::channel::<()>();
    let drain = session.drain;
    let writer = tokio::spawn(async move {
        // Write errors mean the server closed: expected after a malformed frame, and the
        // reader checks the rest.
        for chunk in before {
            if wr.write_all(&chunk).await.is_err() {
                return;
            }
        }
        if drain && wait.await.is_err() {
            return;
        }
        for chunk in after {
            if wr.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
        // Keep the write half until the reader is done: dropping it is no close.
        std::future::pending::<()>().await;
    });

    let mut client = Client {
        reader: FrameReader::new(LIMITS),
        io: rd,
        replies: Vec::new(),
        framing: want.framing,
    };
    let owed = counts(&want.replies);
    if drain {
        // Every reply owed arrives while the connection stays open.
        while client.replies.len() < want.replies.len() {
            match client.next().await {
                Read::Reply => {}
                Read::Eof | Read::Cut => panic!(
                    "the server closed before answering every request: got {:?}, owed {:?}",
                    client.replies, want.replies
                ),
            }
        }
        assert_eq!(
            counts(&client.replies),
            owed,
            "replies differ from those owed"
        );
        if let Ok(read) = tokio::time::timeout(QUIET, client.next()).await {
            match read {
                Read::Reply => panic!("an extra reply: {:?}", client.replies.last()),
                _ => panic!(
                    "the server closed the connection before a malformed frame or the \
                     client's close ({want:?})"
                ),
            }
        }
        let _ = go.send(());
    } else {
        drop(go);
    }
    loop {
        match client.next().await {
            Read::Reply => {}
            Read::Eof => break,
            Read::Cut if want.malformed_at.is_some() && !drain => break,
            Read::Cut => panic!("a reply cut short ({want:?})"),
        }
    }
    let got = counts(&client.replies);
    if want.malformed_at.is_some() && !drain {
        for (reply, n) in &got {
            assert!(
                owed.get(reply).is_some_and(|owed| n <= owed),
                "{n} x {reply:?}, not owed (owed {:?})",
                want.replies
            );
        }
    } else {
        assert_eq!(got, owed, "replies differ from those owed");
    }
    writer.abort();
    let stats = server.stats();
    assert_eq!(stats.connections_accepted(), 1);
    assert_eq!(
        stats.malformed_frames(),
        u64::from(want.malformed_at.is_some()),
        "malformed frames counted"
    );
    server.shutdown().await;
}

/// The target body: never panics unless the server misbehaves.
pub fn server_session(data: &[u8]) {
    let mut u = Unstructured::new(data);
    if let Ok(session) = session(&mut u) {
        run(&session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(seq_id: i32, text: &str) -> Message<Value> {
        Message {
            header: MessageHeader {
                name: echo::METHOD.to_owned(),
                kind: MessageType::Call,
                seq_id,
            },
            body: echo_body(text),
        }
    }

    fn header(transport: Transport, protocol: ProtocolId) -> Option<Header> {
        transport.has_header().then(|| Header::new(protocol, 77))
    }

    fn echoed(seq_id: i32, text: &str, header_seq_id: Option<i32>) -> Reply {
        Reply {
            seq_id,
            method: echo::METHOD.to_owned(),
            header_seq_id,
            outcome: Outcome::Echo(text.to_owned()),
        }
    }

    /// Echo calls with a duplicate sequence id in every transport and protocol, pipelined
    /// or one by one, with and without a malformed frame after them.
    #[test]
    fn every_framing_is_served_and_closed_on_a_malformed_frame() {
        for transport in Transport::ALL {
            for protocol in [ProtocolId::Binary, ProtocolId::Compact] {
                let h = header(transport, protocol);
                let frames: Vec<Vec<u8>> = [(1, "a"), (1, "b"), (-1, "")]
                    .iter()
                    .map(|(seq, text)| encode(transport, protocol, h.as_ref(), &call(*seq, text)))
                    .collect();
                let header_seq = h.as_ref().map(|h| h.seq_id);
                let want = expect(&frames.concat());
                assert_eq!(want.malformed_at, None);
                assert_eq!(want.framing, Some((transport, protocol)));
                assert_eq!(
                    want.replies,
                    vec![
                        echoed(1, "a", header_seq),
                        echoed(1, "b", header_seq),
                        echoed(-1, "", header_seq)
                    ]
                );
                for malformed in [false, true] {
                    let mut chunks = frames.clone();
                    if malformed {
                        chunks.push(vec![0xff; 8]);
                    }
                    for drain in [false, true] {
                        for pipe in PIPE {
                            run(&Session {
                                chunks: chunks.clone(),
                                drain,
                                pipe,
                            });
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_methods_wrong_kinds_and_bad_args_get_exceptions() {
        let (t, p) = (Transport::Framed, ProtocolId::Compact);
        let mut unknown = call(5, "x");
        unknown.header.name = "nope".to_owned();
        let mut reply = call(6, "x");
        reply.header.kind = MessageType::Reply;
        let mut oneway = call(7, "x");
        oneway.header.kind = MessageType::Oneway;
        let mut bad = call(8, "x");
        bad.body = Value::Struct(vec![Field {
            id: 1,
            value: Value::Struct(Vec::new()),
        }]);
        let messages = [unknown, reply, oneway, bad];
        let chunks: Vec<Vec<u8>> = messages.iter().map(|m| encode(t, p, None, m)).collect();
        let want = expect(&chunks.concat());
        let kinds: Vec<(i32, Outcome)> = want
            .replies
            .iter()
            .map(|r| (r.seq_id, r.outcome.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (5, Outcome::Exception(ApplicationException::UNKNOWN_METHOD)),
                (
                    6,
                    Outcome::Exception(ApplicationException::INVALID_MESSAGE_TYPE)
                ),
                (8, Outcome::Exception(ApplicationException::PROTOCOL_ERROR)),
            ]
        );
        run(&Session {
            chunks,
            drain: true,
            pipe: 64,
        });
    }

    /// A frame cut short at the end of the stream: the server answers what came before it
    /// and closes after the client, not because of the partial frame.
    #[test]
    fn a_truncated_last_frame_is_no_protocol_error() {
        let (t, p) = (Transport::TTHeader, ProtocolId::Binary);
        let h = header(t, p);
        let whole = encode(t, p, h.as_ref(), &call(1, "a"));
        let cut = encode(t, p, h.as_ref(), &call(2, "b"))[..10].to_vec();
        let want = expect(&[whole.clone(), cut.clone()].concat());
        assert_eq!(want.malformed_at, None);
        assert_eq!(want.replies.len(), 1);
        run(&Session {
            chunks: vec![whole, cut],
            drain: true,
            pipe: 7,
        });
    }

    /// An `RPCTimeout` too large to add to the clock is no deadline, not a panic.
    #[test]
    fn the_largest_rpc_timeout_is_served() {
        let (t, p) = (Transport::TTHeader, ProtocolId::Compact);
        let mut h = Header::new(p, 3);
        h.metadata.set_int(IntKey::RpcTimeout, u64::MAX.to_string());
        run(&Session {
            chunks: vec![encode(t, p, Some(&h), &call(1, "a"))],
            drain: true,
            pipe: 1024,
        });
    }
}
