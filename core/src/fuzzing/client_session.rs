//! `client_session`: a real connection [`Pool`] (exclusive or multiplexed, any transport
//! and protocol) calling a scripted server over in-memory connections, the script being the
//! fuzz input. The server's side is what a broken or hostile peer sends a client: correct
//! replies, `TApplicationException`s, replies carrying another call's or an unknown
//! sequence id, messages of the wrong kind, result structs that are not the method's,
//! replies in another transport or protocol, answers to the same request twice, frames cut
//! short, raw garbage, and connections closed under calls in flight. Calls start before and
//! during the script, so exclusive connections are reused and multiplexed ones shared, and
//! the client gives up on some mid-call, as a deadline does.
//!
//! It runs on the current-thread runtime with a paused clock that `server_session` uses.
//! Before each step every task runs until it waits, so "the n-th request the server has
//! received" is well defined. After the script, every request not yet answered gets a
//! correct reply; then the server closes every connection.
//!
//! Properties:
//! - no panic, and no call still waiting once the server has closed every connection;
//! - every request the pool writes is a well-formed echo call in the configured transport
//!   and protocol, with a sequence id no other call of the pool has used;
//! - a call that succeeds got its own reply: when its result decodes, the echoed message
//!   is the one it sent, whatever sequence ids the server wrote (checked for scripts
//!   without garbage or cut frames, whose bytes may spell any reply at all);
//! - when the script is clean (only correct replies and exceptions, each request answered
//!   at most once), every call not given up on ends as the first answer to its request
//!   says: its own echo, or `RpcError::Application` with the exception's kind. A reply to
//!   a call given up on goes to nobody else.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use arbitrary::{Result, Unstructured};
use tokio::io::{AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use super::session::{block_on, echo_struct, encode, OneStream, HUNG, PIPE};
use super::LIMITS;
use crate::client::{decode_result, encode_args, Pool, PoolConfig, PoolMode};
use crate::echo::{self, EchoArgs, EchoResult};
use crate::frame::{Header, Transport};
use crate::net::Net;
use crate::protocol::{Field, Message, MessageHeader, MessageType, ProtocolId, Value};
use crate::rpc::{Call, Instance, Reply, RpcError};
use crate::transport::{FrameReader, ReadError};

/// Most calls in one session.
pub const MAX_CALLS: usize = 8;
/// Most script steps in one session.
pub const MAX_STEPS: usize = 24;
/// The one server address every call goes to.
const ADDR: &str = "server:9000";
/// How far the paused clock moves to let every task run until it waits.
const TICK: Duration = Duration::from_millis(1);

/// How the server answers one request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// `Reply` with the echo of the request's message.
    Echo,
    /// `Exception`: a `TApplicationException` of this kind.
    Exception(i32),
    /// A correct echo of another request, or of none, under this sequence id (an index
    /// into the requests received, or an id no call has).
    SeqId(SeqChoice),
    /// A message of a kind that is no answer (`Call`, `Oneway`).
    Kind(MessageType),
    /// `Reply` whose body is not an `echo_result`.
    NotEchoResult,
    /// A correct echo in another transport or protocol.
    OtherFraming(Transport, ProtocolId),
}

#[derive(Debug, Clone, Copy)]
enum SeqChoice {
    Received(usize),
    Unknown(i32),
}

/// One step of the server's script.
#[derive(Debug, Clone)]
enum Step {
    /// The client starts one more call.
    Call,
    /// The client gives up on the `nth` call it started (wrapping), as a deadline does.
    Cancel { nth: usize },
    /// Answer the `nth` request received (wrapping), however answered before.
    Answer { nth: usize, answer: Answer },
    /// Raw bytes on the `nth` request's connection.
    Garbage { nth: usize, bytes: Vec<u8> },
    /// The first `keep` bytes of a correct reply to the `nth` request, and no more.
    Cut { nth: usize, keep: usize },
    /// Close the `nth` request's connection.
    Close { nth: usize },
}

impl Step {
    fn is_clean(&self) -> bool {
        matches!(
            self,
            Step::Call
                | Step::Cancel { .. }
                | Step::Answer {
                    answer: Answer::Echo | Answer::Exception(_),
                    ..
                }
        )
    }

    /// The request a server step acts on (the `nth` received, wrapping); `None` for the
    /// client's steps.
    fn nth(&self) -> Option<usize> {
        match self {
            Step::Call | Step::Cancel { .. } => None,
            Step::Answer { nth, .. }
            | Step::Garbage { nth, .. }
            | Step::Cut { nth, .. }
            | Step::Close { nth } => Some(*nth),
        }
    }

    /// Whether its bytes may spell any reply at all.
    fn is_raw(&self) -> bool {
        matches!(self, Step::Garbage { .. } | Step::Cut { .. })
    }
}

/// A generated session.
#[derive(Debug, Clone)]
pub struct Script {
    config: PoolConfig,
    /// Capacity of every in-memory connection (each direction).
    pipe: usize,
    /// Calls started before the first step.
    first_calls: usize,
    steps: Vec<Step>,
}

fn answer(u: &mut Unstructured<'_>) -> Result<Answer> {
    Ok(match u.int_in_range(0..=9)? {
        0..=4 => Answer::Echo,
        5 => Answer::Exception(u.int_in_range(0..=10)?),
        6 => Answer::SeqId(match u.arbitrary()? {
            true => SeqChoice::Received(u.arbitrary()?),
            false => SeqChoice::Unknown(*u.choose(&[0, -1, i32::MAX, i32::MIN, 1 << 20])?),
        }),
        7 => Answer::Kind(*u.choose(&[MessageType::Call, MessageType::Oneway])?),
        8 => Answer::NotEchoResult,
        _ => Answer::OtherFraming(
            *u.choose(&Transport::ALL)?,
            *u.choose(&[ProtocolId::Binary, ProtocolId::Compact])?,
        ),
    })
}

fn step(u: &mut Unstructured<'_>) -> Result<Step> {
    let nth = u.arbitrary::<u8>()? as usize;
    Ok(match u.int_in_range(0..=16)? {
        0..=2 => Step::Call,
        15 => Step::Cancel { nth },
        3..=11 => Step::Answer {
            nth,
            answer: answer(u)?,
        },
        12 => {
            let len = u.int_in_range(0..=24)?;
            Step::Garbage {
                nth,
                bytes: u.bytes(len.min(u.len()))?.to_vec(),
            }
        }
        13 => Step::Cut {
            nth,
            keep: u.int_in_range(0..=64)?,
        },
        _ => Step::Close { nth },
    })
}

/// The session `u` describes.
pub fn script(u: &mut Unstructured<'_>) -> Result<Script> {
    let config = PoolConfig {
        transport: *u.choose(&Transport::ALL)?,
        protocol: *u.choose(&[ProtocolId::Binary, ProtocolId::Compact])?,
        mode: *u.choose(&[PoolMode::Exclusive, PoolMode::Multiplexed])?,
        max_idle_per_instance: u.int_in_range(0..=2)?,
        limits: LIMITS,
        ..PoolConfig::default()
    };
    let pipe = *u.choose(&PIPE)?;
    let first_calls = u.int_in_range(1..=4)?;
    let mut steps = Vec::new();
    while steps.len() < MAX_STEPS && !u.is_empty() {
        steps.push(step(u)?);
    }
    Ok(Script {
        config,
        pipe,
        first_calls,
        steps,
    })
}

/// A network whose every connect opens an in-memory connection to the scripted server.
#[derive(Debug, Clone)]
struct ScriptedNet {
    pipe: usize,
    dials: mpsc::UnboundedSender<DuplexStream>,
}

impl Net for ScriptedNet {
    type Stream = DuplexStream;
    type Listener = OneStream;

    fn connect(&self, _addr: &str) -> impl Future<Output = io::Result<DuplexStream>> + Send {
        let (client, server) = tokio::io::duplex(self.pipe);
        let sent = self.dials.send(server);
        async move {
            sent.map_err(|_| io::Error::new(io::ErrorKind::ConnectionRefused, "server gone"))?;
            Ok(client)
        }
    }

    async fn bind(&self, _addr: &str) -> io::Result<OneStream> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "client only"))
    }
}

/// A request as the server read it.
#[derive(Debug, Clone)]
struct Request {
    conn: usize,
    seq_id: i32,
    header_seq_id: Option<i32>,
    message: String,
}

/// One server-side connection: a task reading requests, a task writing what it is given.
struct Conn {
    reader: JoinHandle<()>,
    writes: mpsc::UnboundedSender<Vec<u8>>,
    writer: JoinHandle<()>,
}

impl Conn {
    fn close(&self) {
        self.reader.abort();
        self.writer.abort();
    }
}

/// Reads every request of one connection and hands it to the server, until the pool closes
/// the connection (mid-frame too: a call given up on drops its exclusive connection).
async fn read_requests(
    conn: usize,
    mut rd: ReadHalf<DuplexStream>,
    framing: (Transport, ProtocolId),
    requests: mpsc::UnboundedSender<Request>,
) {
    let mut reader = FrameReader::new(LIMITS);
    loop {
        let bytes = match reader.read(&mut rd).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) | Err(ReadError::Io(_)) => return,
            Err(ReadError::Malformed(e)) => panic!("the pool wrote a malformed frame: {e}"),
        };
        let frame = reader
            .decode(&bytes)
            .unwrap_or_else(|e| panic!("the pool wrote an undecodable frame: {e}"));
        assert_eq!(
            (frame.transport, frame.protocol),
            framing,
            "the pool wrote a frame in another framing than configured"
        );
        let call = frame
            .decode_message::<EchoArgs>(LIMITS)
            .unwrap_or_else(|e| panic!("the pool wrote a request that is no echo call: {e}"));
        assert_eq!(
            (call.header.name.as_str(), call.header.kind),
            (echo::METHOD, MessageType::Call)
        );
        let request = Request {
            conn,
            seq_id: call.header.seq_id,
            header_seq_id: frame.header.as_ref().map(|h| h.seq_id),
            message: call.body.req.message,
        };
        if requests.send(request).is_err() {
            return;
        }
    }
}

/// Writes what the server gives it, until closed.
async fn write_replies(
    mut wr: WriteHalf<DuplexStream>,
    mut writes: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    while let Some(bytes) = writes.recv().await {
        if wr.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

fn echo_result(message: &str) -> Value {
    echo_struct(0, message)
}

fn exception(kind: i32) -> Value {
    Value::Struct(vec![
        Field {
            id: 1,
            value: Value::string("scripted"),
        },
        Field {
            id: 2,
            value: Value::I32(kind),
        },
    ])
}

/// A message no call sends, for replies to sequence ids no call has.
const STRANGER: &str = "from nobody";

/// The scripted server: the connections the pool opened and the requests it sent.
struct ScriptedServer {
    config: PoolConfig,
    dials: mpsc::UnboundedReceiver<DuplexStream>,
    requests_tx: mpsc::UnboundedSender<Request>,
    requests_rx: mpsc::UnboundedReceiver<Request>,
    conns: Vec<Conn>,
    received: Vec<Request>,
    /// How each request was first answered, by index in `received`.
    first_answer: Vec<Option<Answer>>,
}

impl ScriptedServer {
    /// Lets every task run until it waits, taking in new connections and requests, until
    /// nothing new arrives.
    async fn settle(&mut self) {
        loop {
            tokio::time::sleep(TICK).await;
            let mut progressed = false;
            while let Ok(stream) = self.dials.try_recv() {
                self.accept(stream);
                progressed = true;
            }
            while let Ok(request) = self.requests_rx.try_recv() {
                assert!(
                    self.received.iter().all(|r| r.seq_id != request.seq_id),
                    "the pool reused sequence id {}",
                    request.seq_id
                );
                self.received.push(request);
                self.first_answer.push(None);
                progressed = true;
            }
            if !progressed {
                return;
            }
        }
    }

    fn accept(&mut self, stream: DuplexStream) {
        let (rd, wr) = tokio::io::split(stream);
        let (writes, queue) = mpsc::unbounded_channel();
        let conn = self.conns.len();
        self.conns.push(Conn {
            reader: tokio::spawn(read_requests(
                conn,
                rd,
                (self.config.transport, self.config.protocol),
                self.requests_tx.clone(),
            )),
            writes,
            writer: tokio::spawn(write_replies(wr, queue)),
        });
    }

    /// The index of the `nth` request received, wrapping; `None` before the first.
    fn pick(&self, nth: usize) -> Option<usize> {
        (!self.received.is_empty()).then(|| nth % self.received.len())
    }

    fn send(&self, request: usize, bytes: Vec<u8>) {
        // A closed connection's queue is gone; what is written to it is lost, as on a socket.
        let _ = self.conns[self.received[request].conn].writes.send(bytes);
    }

    /// A reply frame to `request` with `body`, in `framing` (default: the pool's).
    fn frame(
        &self,
        request: &Request,
        seq_id: i32,
        kind: MessageType,
        body: Value,
        framing: Option<(Transport, ProtocolId)>,
    ) -> Vec<u8> {
        let (transport, protocol) =
            framing.unwrap_or((self.config.transport, self.config.protocol));
        let header = transport
            .has_header()
            .then(|| Header::new(protocol, request.header_seq_id.unwrap_or(seq_id)));
        let message = Message {
            header: MessageHeader {
                name: echo::METHOD.to_owned(),
                kind,
                seq_id,
            },
            body,
        };
        encode(transport, protocol, header.as_ref(), &message)
    }

    fn reply(&self, index: usize, answer: Answer) -> Vec<u8> {
        let request = &self.received[index];
        let echo = |r: &Request| echo_result(&r.message);
        match answer {
            Answer::Echo => self.frame(
                request,
                request.seq_id,
                MessageType::Reply,
                echo(request),
                None,
            ),
            Answer::Exception(kind) => self.frame(
                request,
                request.seq_id,
                MessageType::Exception,
                exception(kind),
                None,
            ),
            Answer::SeqId(SeqChoice::Received(other)) => {
                let other = &self.received[other % self.received.len()];
                self.frame(request, other.seq_id, MessageType::Reply, echo(other), None)
            }
            Answer::SeqId(SeqChoice::Unknown(seq_id)) => {
                let body = match self.received.iter().find(|r| r.seq_id == seq_id) {
                    Some(known) => echo(known),
                    None => echo_result(STRANGER),
                };
                self.frame(request, seq_id, MessageType::Reply, body, None)
            }
            Answer::Kind(kind) => self.frame(request, request.seq_id, kind, echo(request), None),
            Answer::NotEchoResult => self.frame(
                request,
                request.seq_id,
                MessageType::Reply,
                Value::Struct(vec![Field {
                    id: 0,
                    value: Value::I32(7),
                }]),
                None,
            ),
            Answer::OtherFraming(transport, protocol) => self.frame(
                request,
                request.seq_id,
                MessageType::Reply,
                echo(request),
                Some((transport, protocol)),
            ),
        }
    }

    /// Runs one step; returns whether it answered a request a second time.
    fn run(&mut self, step: &Step) -> bool {
        let Some(index) = step.nth().and_then(|nth| self.pick(nth)) else {
            return false;
        };
        match step {
            Step::Call | Step::Cancel { .. } => {}
            Step::Answer { answer, .. } => {
                self.send(index, self.reply(index, *answer));
                let repeated = self.first_answer[index].is_some();
                if !repeated {
                    self.first_answer[index] = Some(*answer);
                }
                return repeated;
            }
            Step::Garbage { bytes, .. } => self.send(index, bytes.clone()),
            Step::Cut { keep, .. } => {
                let mut reply = self.reply(index, Answer::Echo);
                reply.truncate(*keep);
                self.send(index, reply);
            }
            Step::Close { .. } => self.conns[self.received[index].conn].close(),
        }
        false
    }

    /// Answers every request not answered yet.
    fn answer_the_rest(&mut self) {
        for index in 0..self.received.len() {
            if self.first_answer[index].is_none() {
                self.send(index, self.reply(index, Answer::Echo));
                self.first_answer[index] = Some(Answer::Echo);
            }
        }
    }
}

/// One call of the session: its message and how it ended, once it has.
struct Started {
    message: String,
    task: JoinHandle<std::result::Result<Reply, RpcError>>,
}

fn start_call(pool: &Pool<ScriptedNet>, calls: &mut Vec<Started>) {
    if calls.len() >= MAX_CALLS {
        return;
    }
    let message = format!("call-{}", calls.len());
    let args = encode_args(pool.config().protocol, &EchoArgs::new(message.clone()))
        .expect("echo args encode");
    let mut call = Call::new(echo::METHOD, args);
    call.target = Some(Arc::new(Instance::new(ADDR)));
    let task = tokio::spawn(pool.clone().oneshot(call));
    calls.push(Started { message, task });
}

/// The echoed message of a successful reply, if its body is an `echo_result` with one.
fn echoed(protocol: ProtocolId, reply: &Reply) -> Option<String> {
    let result = decode_result::<EchoResult>(protocol, reply, LIMITS).ok()?;
    result.success.map(|r| r.message)
}

/// Runs `script` and checks every property.
pub fn run(script: &Script) {
    block_on(async {
        tokio::time::timeout(HUNG, drive(script))
            .await
            .unwrap_or_else(|_| panic!("the client session stalled: {script:?}"));
    });
}

async fn drive(script: &Script) {
    let (dials_tx, dials) = mpsc::unbounded_channel();
    let (requests_tx, requests_rx) = mpsc::unbounded_channel();
    let net = ScriptedNet {
        pipe: script.pipe,
        dials: dials_tx,
    };
    let pool = Pool::new(net, script.config.clone());
    let mut server = ScriptedServer {
        config: script.config.clone(),
        dials,
        requests_tx,
        requests_rx,
        conns: Vec::new(),
        received: Vec::new(),
        first_answer: Vec::new(),
    };
    let mut calls = Vec::new();
    for _ in 0..script.first_calls {
        start_call(&pool, &mut calls);
    }
    let mut clean = true;
    for step in &script.steps {
        server.settle().await;
        match step {
            Step::Call => start_call(&pool, &mut calls),
            Step::Cancel { nth } => calls[nth % calls.len()].task.abort(),
            _ => {}
        }
        let repeated = server.run(step);
        clean &= step.is_clean() && !repeated;
    }
    server.settle().await;
    server.answer_the_rest();
    server.settle().await;
    for conn in &server.conns {
        conn.close();
    }

    let raw = script.steps.iter().any(Step::is_raw);
    let protocol = script.config.protocol;
    for Started { message, task } in calls {
        let outcome = match task.await {
            Ok(outcome) => outcome,
            Err(e) if e.is_cancelled() => continue,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        if let Ok(reply) = &outcome {
            assert_eq!(
                reply.kind,
                MessageType::Reply,
                "a successful call that is no reply"
            );
            if let (false, Some(echoed)) = (raw, echoed(protocol, reply)) {
                assert_eq!(echoed, message, "a call got another call's reply");
            }
        }
        if clean {
            check_clean(&server, &message, &outcome, protocol);
        }
    }
}

/// In a clean session a call ends as the first answer to its request says.
fn check_clean(
    server: &ScriptedServer,
    message: &str,
    outcome: &std::result::Result<Reply, RpcError>,
    protocol: ProtocolId,
) {
    let index = server
        .received
        .iter()
        .position(|r| r.message == message)
        .unwrap_or_else(|| panic!("{message} never reached the server"));
    match (server.first_answer[index], outcome) {
        (Some(Answer::Echo), Ok(reply)) => {
            assert_eq!(echoed(protocol, reply).as_deref(), Some(message));
        }
        (Some(Answer::Exception(kind)), Err(RpcError::Application(e))) => {
            assert_eq!(e.kind, kind, "{e}");
        }
        (first, outcome) => {
            panic!("{message}: answered {first:?}, ended {outcome:?}")
        }
    }
}

/// The target body: never panics unless the pool misbehaves.
pub fn client_session(data: &[u8]) {
    if let Ok(script) = script(&mut Unstructured::new(data)) {
        run(&script);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ApplicationException;

    fn clean(
        mode: PoolMode,
        transport: Transport,
        protocol: ProtocolId,
        steps: Vec<Step>,
    ) -> Script {
        Script {
            config: PoolConfig {
                transport,
                protocol,
                mode,
                limits: LIMITS,
                ..PoolConfig::default()
            },
            pipe: 64,
            first_calls: 3,
            steps,
        }
    }

    /// Echoes, an exception and a late call, in every mode, transport and protocol.
    #[test]
    fn clean_sessions_end_as_answered() {
        for mode in [PoolMode::Exclusive, PoolMode::Multiplexed] {
            for transport in Transport::ALL {
                for protocol in [ProtocolId::Binary, ProtocolId::Compact] {
                    let steps = vec![
                        Step::Answer {
                            nth: 1,
                            answer: Answer::Exception(ApplicationException::INTERNAL_ERROR),
                        },
                        Step::Call,
                        Step::Cancel { nth: 2 },
                        Step::Answer {
                            nth: 0,
                            answer: Answer::Echo,
                        },
                    ];
                    run(&clean(mode, transport, protocol, steps));
                }
            }
        }
    }

    /// Replies under other calls' sequence ids, duplicates, garbage and a close never hand
    /// a call someone else's reply, and never leave a call waiting.
    #[test]
    fn hostile_replies_end_every_call() {
        for mode in [PoolMode::Exclusive, PoolMode::Multiplexed] {
            let steps = vec![
                Step::Answer {
                    nth: 0,
                    answer: Answer::SeqId(SeqChoice::Received(1)),
                },
                Step::Answer {
                    nth: 1,
                    answer: Answer::SeqId(SeqChoice::Unknown(i32::MAX)),
                },
                Step::Answer {
                    nth: 2,
                    answer: Answer::Echo,
                },
                Step::Answer {
                    nth: 2,
                    answer: Answer::Echo,
                },
                Step::Call,
                Step::Garbage {
                    nth: 3,
                    bytes: vec![0, 0, 0, 9, 1],
                },
                Step::Close { nth: 0 },
            ];
            run(&clean(mode, Transport::TTHeader, ProtocolId::Binary, steps));
        }
    }
}
