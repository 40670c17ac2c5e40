//! HTTPChaos on Thrift frames (`MethodFault` says how its fields read for Thrift): the
//! proxy reads a whole frame's envelope with core's frame and protocol readers and, for a
//! selected method, acts as the simulation's router does, fault after fault in order:
//! each holds the frame for its `delay`; `abort` ends the call; `replace` replaces the
//! message.
//!
//! - On a request (`target: Request`, a `Call` or `Oneway` frame from the client): a held
//!   request does not hold back the frames behind it (a multiplexed connection's other
//!   calls go on); `abort` answers the client in place of the server, with the
//!   `TApplicationException` core's server would send (same transport, protocol, header
//!   and sequence id; a oneway call gets nothing), and the server never sees the call.
//! - On a reply (`target: Response`, a `Reply` or `Exception` frame from the server): a
//!   reply names its method and sequence id in its own envelope, so it is selected by
//!   that; `abort` replaces it with a `TApplicationException` to the same call.
//! - `replace` acts on the echo service's message (`core`'s `echo.rs`: the request's
//!   `req.message`, the reply's `success.message`); other methods' bodies pass unchanged.
//!
//! Frames the proxy cannot read pass as they are.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use faultline_core::echo::{self, EchoArgs, EchoResult};
use faultline_core::frame::{decode_frame_bytes, encode_frame, Frame};
use faultline_core::protocol::{
    ApplicationException, Binary, BinaryReader, Compact, CompactReader, DecodeLimits, DecodeResult,
    Encode, EncodeResult, Message, MessageBody, MessageHeader, MessageType, ProtocolId,
    ProtocolReader,
};
use faultline_core::transport::Framing;

use super::Side;
use crate::spec::chaos_mesh::{HttpChaosTarget, MethodFault};

/// What the faults did to a frame.
#[derive(Debug, PartialEq)]
pub(super) struct Acted {
    /// How long the frame is held first.
    pub delay: Duration,
    pub action: Action,
}

#[derive(Debug, PartialEq)]
pub(super) enum Action {
    /// Goes on its way (perhaps changed).
    Forward(Bytes),
    /// Goes back to the client instead: a request's answer.
    Answer(Bytes),
    /// Goes nowhere (an aborted oneway call).
    Drop,
}

/// Applies the faults of `faults` that select `frame` (from `side`). `None`: none does,
/// or the frame cannot be read; it passes unchanged.
pub(super) fn act(
    frame: &Bytes,
    faults: &[MethodFault],
    side: Side,
    limits: &DecodeLimits,
) -> Option<Acted> {
    let decoded = decode_frame_bytes(frame, None, None, limits).ok()?;
    let envelope = envelope(&decoded, limits)?;
    let (target, kinds) = match side {
        Side::Request => (
            HttpChaosTarget::Request,
            [MessageType::Call, MessageType::Oneway],
        ),
        Side::Response => (
            HttpChaosTarget::Response,
            [MessageType::Reply, MessageType::Exception],
        ),
    };
    if !kinds.contains(&envelope.kind) {
        return None;
    }
    let mut selected = faults
        .iter()
        .filter(|f| f.target == target && f.applies_to(&envelope.name))
        .peekable();
    selected.peek()?;
    let mut delay = Duration::ZERO;
    let mut replaced = None;
    for fault in selected {
        delay = delay.saturating_add(fault.delay.unwrap_or_default());
        if fault.abort {
            let action = aborted(&decoded, &envelope, side)
                .unwrap_or_else(|| Action::Forward(frame.clone()));
            return Some(Acted { delay, action });
        }
        if let Some(body) = &fault.replace {
            replaced = Some(body.clone());
        }
    }
    let forward = replaced
        .and_then(|message| replace(&decoded, &envelope, &message, limits))
        .unwrap_or_else(|| frame.clone());
    Some(Acted {
        delay,
        action: Action::Forward(forward),
    })
}

/// The `TApplicationException` an aborted call gets, framed like `frame` (`None` if it
/// cannot be encoded, which an exception always can: the frame then goes on untouched).
fn aborted(frame: &Frame<'_>, envelope: &MessageHeader, side: Side) -> Option<Action> {
    if side == Side::Request && envelope.kind == MessageType::Oneway {
        return Some(Action::Drop);
    }
    let what = match side {
        Side::Request => "request",
        Side::Response => "response",
    };
    let exception = ApplicationException::new(
        ApplicationException::INTERNAL_ERROR,
        format!("aborted by an HTTPChaos fault on the {what}"),
    );
    let reply = Framing::of(frame)
        .encode_reply(
            &envelope.name,
            MessageType::Exception,
            envelope.seq_id,
            &exception,
        )
        .ok()?
        .freeze();
    Some(match side {
        Side::Request => Action::Answer(reply),
        Side::Response => Action::Forward(reply),
    })
}

/// The frame with the echo message replaced by `message`; `None` if it is not an echo
/// message the proxy can read.
fn replace(
    frame: &Frame<'_>,
    envelope: &MessageHeader,
    message: &str,
    limits: &DecodeLimits,
) -> Option<Bytes> {
    if envelope.name != echo::METHOD {
        return None;
    }
    match envelope.kind {
        MessageType::Call | MessageType::Oneway => {
            let mut call = frame.decode_message::<EchoArgs>(*limits).ok()?;
            call.body.req.message = message.to_owned();
            reencode(frame, &call)
        }
        MessageType::Reply => {
            let mut reply = frame.decode_message::<EchoResult>(*limits).ok()?;
            reply.body.success.as_mut()?.message = message.to_owned();
            reencode(frame, &reply)
        }
        MessageType::Exception => None,
    }
}

/// `message` in `frame`'s transport, protocol and header.
fn reencode<B: Encode + MessageBody>(frame: &Frame<'_>, message: &Message<B>) -> Option<Bytes> {
    let encoded: EncodeResult<BytesMut> = match frame.protocol {
        ProtocolId::Binary => {
            encode_frame::<Binary, _>(frame.transport, frame.header.as_ref(), message)
        }
        ProtocolId::Compact => {
            encode_frame::<Compact, _>(frame.transport, frame.header.as_ref(), message)
        }
    };
    encoded.ok().map(BytesMut::freeze)
}

/// The message envelope of a frame.
fn envelope(frame: &Frame<'_>, limits: &DecodeLimits) -> Option<MessageHeader> {
    fn run<'a, R: ProtocolReader<'a>>(mut reader: R) -> DecodeResult<MessageHeader> {
        Ok(reader.read_message_begin()?.to_owned())
    }
    match frame.protocol {
        ProtocolId::Binary => run(BinaryReader::new(frame.input(*limits))),
        ProtocolId::Compact => run(CompactReader::new(frame.input(*limits))),
    }
    .ok()
}

#[cfg(test)]
mod tests {
    use faultline_core::frame::Transport;

    use super::*;

    fn call(transport: Transport, seq_id: i32) -> Bytes {
        let message = Message {
            header: MessageHeader {
                name: echo::METHOD.to_owned(),
                kind: MessageType::Call,
                seq_id,
            },
            body: EchoArgs::new("hello"),
        };
        encode_frame::<Compact, _>(transport, None, &message)
            .unwrap()
            .freeze()
    }

    fn fault(target: HttpChaosTarget) -> MethodFault {
        MethodFault {
            method: None,
            target,
            delay: Some(Duration::from_millis(3)),
            abort: false,
            replace: None,
        }
    }

    #[test]
    fn an_aborted_request_is_answered_in_its_transport_protocol_and_seq_id() {
        let limits = DecodeLimits::default();
        for transport in [Transport::Framed, Transport::TTHeader, Transport::Buffered] {
            let frame = call(transport, 41);
            let abort = MethodFault {
                abort: true,
                ..fault(HttpChaosTarget::Request)
            };
            let acted = act(&frame, &[abort], Side::Request, &limits).unwrap();
            assert_eq!(acted.delay, Duration::from_millis(3));
            let Action::Answer(reply) = acted.action else {
                panic!("{acted:?}")
            };
            let decoded = decode_frame_bytes(&reply, None, None, &limits).unwrap();
            assert_eq!(decoded.transport, transport);
            assert_eq!(decoded.protocol, ProtocolId::Compact);
            let envelope = envelope(&decoded, &limits).unwrap();
            assert_eq!(envelope.kind, MessageType::Exception);
            assert_eq!(envelope.seq_id, 41);
        }
    }

    #[test]
    fn faults_on_the_other_side_or_method_and_unreadable_frames_do_nothing() {
        let limits = DecodeLimits::default();
        let frame = call(Transport::Framed, 1);
        let replies = fault(HttpChaosTarget::Response);
        assert_eq!(act(&frame, &[replies], Side::Request, &limits), None);
        let other = MethodFault {
            method: Some("other".into()),
            ..fault(HttpChaosTarget::Request)
        };
        assert_eq!(act(&frame, &[other], Side::Request, &limits), None);
        let garbage = Bytes::from_static(b"\x00\x00\x00\x03abc");
        let any = fault(HttpChaosTarget::Request);
        assert_eq!(act(&garbage, &[any], Side::Request, &limits), None);
    }

    #[test]
    fn a_replaced_request_keeps_its_envelope() {
        let limits = DecodeLimits::default();
        let frame = call(Transport::TTHeader, 9);
        let replace = MethodFault {
            delay: None,
            replace: Some("changed".into()),
            ..fault(HttpChaosTarget::Request)
        };
        let acted = act(&frame, &[replace], Side::Request, &limits).unwrap();
        let Action::Forward(bytes) = acted.action else {
            panic!("{acted:?}")
        };
        let decoded = decode_frame_bytes(&bytes, None, None, &limits).unwrap();
        let call = decoded.decode_message::<EchoArgs>(limits).unwrap();
        assert_eq!(call.header.seq_id, 9);
        assert_eq!(call.body.req.message, "changed");
    }
}
