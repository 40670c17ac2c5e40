//! The two tasks of a multiplexed connection: the writer drains the call queue onto the
//! write half, the reader matches reply frames to waiting calls and runs the idle and stall
//! timers (see `conn` for when a connection closes). Either task ending for a fault closes
//! the connection, which ends the other.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, watch};

use super::super::codec;
use super::super::gauge::Held;
use super::super::watched::{self, Watched};
use super::conn::Shared;
use crate::protocol::DecodeLimits;
use crate::rpc::RpcError;
use crate::transport::{write_frame, FrameReader};

/// Resolves once the connection is closed.
async fn closed(rx: &mut watch::Receiver<bool>) {
    // The sender lives in `Shared`, which the waiting task holds: it cannot be gone.
    let _ = rx.wait_for(|closed| *closed).await;
}

pub(super) async fn write_loop<S: AsyncWrite>(
    mut write: WriteHalf<S>,
    mut queue: mpsc::Receiver<BytesMut>,
    shared: Arc<Shared>,
    _connection: Arc<Held>,
    _task: Held,
) {
    let mut stop = shared.closed.subscribe();
    loop {
        let frame = tokio::select! {
            biased;
            () = closed(&mut stop) => return,
            frame = queue.recv() => frame,
        };
        let Some(frame) = frame else {
            // Every handle is gone, so no call waits on this connection any more.
            return shared.close(codec::closed(&shared.addr));
        };
        let written = tokio::select! {
            biased;
            () = closed(&mut stop) => return,
            written = write_frame(&mut write, &frame) => written,
        };
        match written {
            Ok(()) => shared.sent(),
            Err(err) => return shared.close(RpcError::io(&shared.addr, &err)),
        }
    }
}

pub(super) async fn read_loop<S: AsyncRead>(
    read: ReadHalf<S>,
    mut reader: FrameReader,
    limits: DecodeLimits,
    shared: Arc<Shared>,
    _connection: Arc<Held>,
    _task: Held,
) {
    let mut stop = shared.closed.subscribe();
    let mut stream = Watched::new(read);
    loop {
        let check_at = {
            let calls = shared.lock();
            shared.timer(&calls, stream.last_byte()).map(|(at, _)| at)
        };
        let event = tokio::select! {
            biased;
            () = closed(&mut stop) => return,
            read = codec::read_reply(&mut reader, &mut stream, &shared.addr, limits) => Some(read),
            () = shared.owing.notified() => None,
            () = watched::sleep_until(check_at) => None,
        };
        match event {
            Some(Ok(reply)) => shared.answer(reply),
            Some(Err(err)) => return shared.close(err),
            None if shared.expire(stream.last_byte()) => return,
            None => {}
        }
    }
}
