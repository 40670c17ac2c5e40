//! One request: reads its envelope, sheds it past `max_in_flight`, and runs it in its own
//! task — route lookup, args decode, the handler under the caller's deadline — then
//! queues the reply (or the `TApplicationException`) and emits `CallFinished`.
//!
//! Failure -> `TApplicationException` kind, as Thrift and Kitex use them: unknown method
//! `UNKNOWN_METHOD`; a message that is not a call `INVALID_MESSAGE_TYPE`; args that do not
//! decode `PROTOCOL_ERROR`; a handler panic, a passed deadline, an unencodable result or
//! load shedding `INTERNAL_ERROR`. Oneway calls never get a reply.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;

use super::router::{Args, CallContext, ReplyBody};
use super::shared::Shared;
use crate::event::{CallRef, EventKind, Side, CALL_HEADER};
use crate::frame::Frame;
use crate::protocol::{
    ApplicationException, BinaryReader, CompactReader, DecodeLimits, DecodeResult, MessageType,
    ProtocolId, ProtocolReader,
};
use crate::rpc::RpcErrorKind;
use crate::transport::{FrameReader, Framing};

/// A request whose envelope has been read.
struct Call {
    shared: Arc<Shared>,
    framing: Framing,
    method: Arc<str>,
    kind: MessageType,
    seq_id: i32,
    peer: Arc<str>,
    args: Args,
    replies: mpsc::Sender<BytesMut>,
    received: Instant,
    /// The client's call and attempt, when it sent `event::CALL_HEADER`.
    call_ref: Option<CallRef>,
    /// The RPCTimeout the request carried.
    budget: Option<Duration>,
}

/// How a request ended.
enum Outcome {
    Reply(Box<dyn ReplyBody>),
    Failed(ApplicationException, RpcErrorKind),
}

/// Decodes `bytes` as a frame and its envelope and starts serving it in `calls`. An error
/// means the frame is malformed and the connection must close.
pub(super) async fn start_call(
    shared: &Arc<Shared>,
    reader: &mut FrameReader,
    bytes: Bytes,
    peer: &Arc<str>,
    replies: &mpsc::Sender<BytesMut>,
    calls: &mut JoinSet<()>,
) -> DecodeResult<()> {
    let received = Instant::now();
    let frame = reader.decode(&bytes)?;
    let (method, kind, seq_id, body_at) = read_envelope(&frame, shared.limits)?;
    let body_end = frame.payload_offset + frame.payload.len();
    let framing = Framing::of(&frame);
    let call = Call {
        shared: shared.clone(),
        budget: framing.rpc_timeout(),
        framing,
        method,
        kind,
        seq_id,
        peer: peer.clone(),
        args: Args {
            body: bytes.slice(body_at..body_end),
            offset: body_at,
            protocol: frame.protocol,
            limits: shared.limits,
        },
        replies: replies.clone(),
        received,
        call_ref: frame
            .header
            .as_ref()
            .and_then(|h| h.metadata.string_value(CALL_HEADER))
            .and_then(|v| CallRef::parse_header(v)),
    };
    shared.stats.request();
    let span = tracing::debug_span!(
        "rpc.server",
        service = %shared.service,
        zone = shared.zone.as_deref(),
        method = %call.method,
        seq_id,
        peer = %peer,
    );
    let permit = match &shared.in_flight {
        None => None,
        Some(limit) => match limit.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                shared.stats.shed();
                let overloaded = ApplicationException::new(
                    ApplicationException::INTERNAL_ERROR,
                    "server overloaded: max_in_flight requests are being served",
                );
                let outcome = Outcome::Failed(overloaded, RpcErrorKind::Overloaded);
                call.finish(outcome).instrument(span).await;
                return Ok(());
            }
        },
    };
    calls.spawn(call.run(permit).instrument(span));
    Ok(())
}

/// Reads the message envelope: method, kind, sequence id, and where the body starts.
fn read_envelope(
    frame: &Frame<'_>,
    limits: DecodeLimits,
) -> DecodeResult<(Arc<str>, MessageType, i32, usize)> {
    fn run<'a, R: ProtocolReader<'a>>(
        mut reader: R,
    ) -> DecodeResult<(Arc<str>, MessageType, i32, usize)> {
        let header = reader.read_message_begin()?;
        Ok((
            header.name.into(),
            header.kind,
            header.seq_id,
            reader.offset(),
        ))
    }
    match frame.protocol {
        ProtocolId::Binary => run(BinaryReader::new(frame.input(limits))),
        ProtocolId::Compact => run(CompactReader::new(frame.input(limits))),
    }
}

impl Call {
    /// Serves the call. The in-flight permit is returned once the handler is done, before
    /// the reply is queued: a caller holding the reply may count on the slot being free.
    async fn run(self, permit: Option<OwnedSemaphorePermit>) {
        let outcome = self.execute().await;
        drop(permit);
        self.finish(outcome).await;
    }

    async fn execute(&self) -> Outcome {
        if !matches!(self.kind, MessageType::Call | MessageType::Oneway) {
            let message = format!("expected a call, got a {} message", self.kind.name());
            return failed(
                ApplicationException::INVALID_MESSAGE_TYPE,
                message,
                RpcErrorKind::Protocol,
            );
        }
        let budget = self.budget;
        let deadline = budget.map(|b| self.received + b);
        let ctx = CallContext {
            method: self.method.clone(),
            seq_id: self.seq_id,
            peer: self.peer.clone(),
            metadata: self
                .framing
                .header
                .as_ref()
                .map(|h| h.metadata.clone())
                .unwrap_or_default(),
            deadline,
        };
        let handler = match self.shared.router.start(ctx, &self.args) {
            None => {
                let message = format!("unknown method {}", self.method);
                return failed(
                    ApplicationException::UNKNOWN_METHOD,
                    message,
                    RpcErrorKind::Application,
                );
            }
            Some(Err(err)) => {
                let message = format!("cannot decode the arguments of {}: {err}", self.method);
                return failed(
                    ApplicationException::PROTOCOL_ERROR,
                    message,
                    RpcErrorKind::Protocol,
                );
            }
            Some(Ok(handler)) => AssertUnwindSafe(handler).catch_unwind(),
        };
        let result = match (deadline, budget) {
            (Some(deadline), Some(budget)) => {
                match tokio::time::timeout_at(deadline, handler).await {
                    Ok(result) => result,
                    Err(_) => {
                        self.emit(EventKind::DeadlineExceeded {
                            side: Side::Server,
                            method: self.method.clone(),
                            budget,
                        });
                        let message =
                            format!("deadline exceeded: RPCTimeout {} ms", budget.as_millis());
                        return failed(
                            ApplicationException::INTERNAL_ERROR,
                            message,
                            RpcErrorKind::Timeout,
                        );
                    }
                }
            }
            _ => handler.await,
        };
        match result {
            Ok(Ok(body)) => Outcome::Reply(body),
            Ok(Err(exception)) => Outcome::Failed(exception, RpcErrorKind::Application),
            Err(_) => failed(
                ApplicationException::INTERNAL_ERROR,
                format!("the handler of {} panicked", self.method),
                RpcErrorKind::Application,
            ),
        }
    }

    /// Queues the reply (not for oneway calls) and emits `CallFinished`.
    async fn finish(&self, outcome: Outcome) {
        let mut error = match &outcome {
            Outcome::Reply(_) => None,
            Outcome::Failed(_, kind) => Some(*kind),
        };
        if self.kind != MessageType::Oneway {
            let encoded = match &outcome {
                Outcome::Reply(body) => body.encode(&self.framing, &self.method, self.seq_id),
                Outcome::Failed(exception, _) => self.exception(exception),
            };
            let frame = encoded.or_else(|err| {
                error = Some(RpcErrorKind::Encode);
                let message = format!("cannot encode the reply of {}: {err}", self.method);
                self.exception(&ApplicationException::new(
                    ApplicationException::INTERNAL_ERROR,
                    message,
                ))
            });
            match frame {
                // A closed connection drops the reply: nobody is left to read it.
                Ok(frame) => drop(self.replies.send(frame).await),
                Err(err) => tracing::error!(error = %err, "cannot encode an exception reply"),
            }
        }
        if let Outcome::Failed(exception, _) = &outcome {
            tracing::debug!(%exception, "call failed");
        }
        self.emit(EventKind::CallFinished {
            side: Side::Server,
            service: self.shared.service.clone(),
            method: self.method.clone(),
            instance: Some(self.peer.clone()),
            error,
            fallback: false,
            duration: self.received.elapsed(),
            budget: self.budget,
        });
    }

    fn emit(&self, kind: EventKind) {
        self.shared.events.emit_with(self.call_ref, kind);
    }

    fn exception(
        &self,
        exception: &ApplicationException,
    ) -> crate::protocol::EncodeResult<BytesMut> {
        self.framing
            .encode_reply(&self.method, MessageType::Exception, self.seq_id, exception)
    }
}

fn failed(kind: i32, message: String, error: RpcErrorKind) -> Outcome {
    Outcome::Failed(ApplicationException::new(kind, message), error)
}
