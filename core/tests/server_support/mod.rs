//! Test support for the `server_*` tests: a raw client built from `encode_frame` and the
//! stream codec (`FrameReader`), so the server is checked against frames built by hand
//! rather than by a client stack, and reply decoding into typed results or
//! `TApplicationException`s; [`within`], the bound on every wait, so a regression fails
//! instead of hanging; [`next_close`], the next connection the server closed.
//!
//! Not every test binary uses every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use faultline_core::echo::{EchoArgs, EchoResult, METHOD};
use faultline_core::event::{CloseReason, Event, EventKind};
use faultline_core::frame::{decode_frame_bytes, encode_frame, Header, Transport};
use faultline_core::net::Net;
use faultline_core::protocol::{
    ApplicationException, Binary, Compact, DecodeLimits, Encode, Message, MessageHeader,
    MessageType, ProtocolId, ThriftType, Value,
};
use faultline_core::transport::{write_frame, FrameReader, ReadError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;

/// The longest any one wait of a test may take (tokio time: real, or virtual in paused
/// tests, where reaching it ends a stalled test at once).
pub const BOUND: Duration = Duration::from_secs(10);

/// `fut`'s output; a panic naming `what` if it is not ready within [`BOUND`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(BOUND, fut).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: still waiting after {BOUND:?}"),
    }
}

/// The next event, within [`BOUND`].
pub async fn next_event(rx: &mut broadcast::Receiver<Arc<Event>>) -> Arc<Event> {
    within("the next event", rx.recv())
        .await
        .expect("the event bus is open")
}

/// The reason of the next `ConnectionClosed` event (other events are skipped), within
/// [`BOUND`].
pub async fn next_close(rx: &mut broadcast::Receiver<Arc<Event>>) -> CloseReason {
    within("a ConnectionClosed event", async {
        loop {
            let event = rx.recv().await.expect("the event bus is open");
            if let EventKind::ConnectionClosed { reason, .. } = event.kind {
                return reason;
            }
        }
    })
    .await
}

/// A client that writes frames it builds itself and reads whole frames back.
pub struct RawClient<S> {
    pub io: S,
    reader: FrameReader,
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawClient<S> {
    pub fn new(io: S) -> Self {
        Self {
            io,
            reader: FrameReader::new(DecodeLimits::default()),
        }
    }

    /// Sends a call of `method` with `args` as one frame.
    pub async fn call<A: Encode>(
        &mut self,
        transport: Transport,
        protocol: ProtocolId,
        header: Option<&Header>,
        method: &str,
        seq_id: i32,
        args: &A,
    ) {
        let frame = call_frame(
            transport,
            protocol,
            header,
            method,
            MessageType::Call,
            seq_id,
            args,
        );
        self.send_raw(&frame).await;
    }

    /// Writes `bytes` as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        write_frame(&mut self.io, bytes)
            .await
            .expect("write to the server");
    }

    /// The next whole frame; `Ok(None)` when the server closed the connection.
    pub async fn recv(&mut self) -> Result<Option<Bytes>, ReadError> {
        self.reader.read(&mut self.io).await
    }

    /// The next reply, decoded; panics if the server closed the connection instead.
    pub async fn reply<R: ThriftType>(&mut self) -> Reply<R> {
        let frame = self
            .recv()
            .await
            .expect("read a reply")
            .expect("a reply, not a closed connection");
        decode_reply(&frame)
    }

    /// True when the server closed the connection (end of stream or reset) instead of
    /// sending another frame.
    pub async fn closed(&mut self) -> bool {
        match self.recv().await {
            Ok(None) | Err(ReadError::Io(_)) => true,
            Ok(Some(frame)) => panic!("expected a closed connection, got a frame {frame:?}"),
            Err(ReadError::Malformed(err)) => panic!("expected a closed connection: {err}"),
        }
    }
}

/// Connects over `net` to `addr`.
pub async fn connect<N: Net>(net: &N, addr: &str) -> RawClient<N::Stream> {
    RawClient::new(net.connect(addr).await.expect("connect to the server"))
}

/// One frame carrying a message of `kind` with `args` in `protocol`.
pub fn call_frame<A: Encode>(
    transport: Transport,
    protocol: ProtocolId,
    header: Option<&Header>,
    method: &str,
    kind: MessageType,
    seq_id: i32,
    args: &A,
) -> Vec<u8> {
    let message = Message {
        header: MessageHeader {
            name: method,
            kind,
            seq_id,
        },
        body: args,
    };
    let frame = match protocol {
        ProtocolId::Binary => encode_frame::<Binary, _>(transport, header, &message),
        ProtocolId::Compact => encode_frame::<Compact, _>(transport, header, &message),
    };
    frame.expect("encode the call").to_vec()
}

/// A decoded reply frame.
#[derive(Debug)]
pub struct Reply<R> {
    pub transport: Transport,
    pub protocol: ProtocolId,
    pub header: Option<Header>,
    pub envelope: MessageHeader,
    /// The result struct, or the exception the server sent instead.
    pub result: Result<R, ApplicationException>,
}

impl<R> Reply<R> {
    /// The exception; panics on a regular reply.
    pub fn exception(self) -> ApplicationException {
        match self.result {
            Err(exception) => exception,
            Ok(_) => panic!("expected a TApplicationException, got a reply"),
        }
    }
}

/// Decodes a reply frame (transport detected) into its result struct or exception.
pub fn decode_reply<R: ThriftType>(frame: &Bytes) -> Reply<R> {
    let limits = DecodeLimits::default();
    let decoded = decode_frame_bytes(frame, None, None, &limits).expect("reply frame");
    let probe = decoded
        .decode_message::<Value>(limits)
        .expect("reply message");
    let result = match probe.header.kind {
        MessageType::Reply => Ok(decoded.decode_message::<R>(limits).expect("result").body),
        MessageType::Exception => Err(decoded
            .decode_message::<ApplicationException>(limits)
            .expect("exception")
            .body),
        other => panic!("a reply or exception expected, got {other:?}"),
    };
    Reply {
        transport: decoded.transport,
        protocol: decoded.protocol,
        header: decoded.header.clone(),
        envelope: probe.header,
        result,
    }
}

/// Calls `Echo.echo(message)` over a fresh TTHeader + Binary connection on `net` and
/// returns the message that came back.
pub async fn echo_once<N: Net>(net: &N, addr: &str, message: &str) -> String {
    let mut client = connect(net, addr).await;
    let header = Header::new(ProtocolId::Binary, 1);
    client
        .call(
            Transport::TTHeader,
            ProtocolId::Binary,
            Some(&header),
            METHOD,
            1,
            &EchoArgs::new(message),
        )
        .await;
    let reply = client.reply::<EchoResult>().await;
    assert_eq!(reply.envelope.seq_id, 1);
    reply
        .result
        .expect("an echo reply")
        .success
        .expect("a success field")
        .message
}
