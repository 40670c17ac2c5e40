//! `FrameReader`: reads whole frames off an `AsyncRead` into one reusable `BytesMut`.
//!
//! Memory: the buffer grows by at most `max(buffered, READ_CHUNK)` bytes per read and
//! never past the frame's announced end, so a peer that announces 16 MiB and sends 10
//! bytes costs `READ_CHUNK`, not 16 MiB: allocation stays within about twice what
//! actually arrived. Frame lengths above `DecodeLimits::max_frame` are refused as soon as
//! their 4-byte prefix is in. A Buffered (unframed) message has no length; its end is
//! found by skipping it, which `frame_len` re-does after each read, bounded by `max_frame`.

use std::io;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::frame::{decode_frame_bytes, frame_len, Frame, Transport};
use crate::protocol::{DecodeError, DecodeLimits, ErrorKind, ProtocolId};

/// Bytes asked of the stream at least, per read.
const READ_CHUNK: usize = 8 * 1024;

/// Why no frame could be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The stream failed, or ended in the middle of a frame (`UnexpectedEof`).
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
    /// The bytes are not a frame faultline accepts; the stream cannot be resynchronised.
    #[error("malformed frame: {0}")]
    Malformed(DecodeError),
}

/// Reads frames off one connection.
#[derive(Debug)]
pub struct FrameReader {
    buf: BytesMut,
    limits: DecodeLimits,
    /// The connection's transport and protocol, fixed by its first frame.
    framing: Option<(Transport, ProtocolId)>,
}

impl FrameReader {
    pub fn new(limits: DecodeLimits) -> Self {
        Self {
            buf: BytesMut::new(),
            limits,
            framing: None,
        }
    }

    /// The connection's transport and protocol, once the first frame has been decoded.
    pub fn framing(&self) -> Option<(Transport, ProtocolId)> {
        self.framing
    }

    /// Reads the next whole frame. `Ok(None)` when the stream ends between frames.
    ///
    /// Cancel-safe: bytes read before a cancellation stay buffered for the next call.
    pub async fn read<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> Result<Option<Bytes>, ReadError> {
        let (transport, protocol) = self.framing.unzip();
        loop {
            // Where the frame ends, as far as the bytes so far tell.
            let end = match self.buf.is_empty() {
                true => self.limits.max_frame,
                false => match frame_len(&self.buf, transport, protocol, &self.limits) {
                    Ok(Some(len)) if self.buf.len() >= len => {
                        return Ok(Some(self.buf.split_to(len).freeze()))
                    }
                    Ok(Some(len)) => len,
                    Ok(None) => self.limits.max_frame,
                    Err(err) => return Err(ReadError::Malformed(err)),
                },
            };
            self.make_room(end)?;
            if io.read_buf(&mut self.buf).await? == 0 {
                return match self.buf.is_empty() {
                    true => Ok(None),
                    false => Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into())),
                };
            }
        }
    }

    /// Decodes a frame `read` returned. The first frame fixes the connection's transport
    /// and protocol; later frames must use the same.
    pub fn decode<'a>(&mut self, frame: &'a Bytes) -> Result<Frame<'a>, DecodeError> {
        let (transport, protocol) = self.framing.unzip();
        let decoded = decode_frame_bytes(frame, transport, protocol, &self.limits)?;
        self.framing
            .get_or_insert((decoded.transport, decoded.protocol));
        Ok(decoded)
    }

    /// Makes room for the next read: at most `max(buffered, READ_CHUNK)` more bytes, and
    /// never past `end` bytes in all. A buffer already at `end` without a whole frame can
    /// only be a Buffered message as long as `max_frame`: it is too large.
    fn make_room(&mut self, end: usize) -> Result<(), ReadError> {
        let len = self.buf.len();
        if len >= end {
            return Err(ReadError::Malformed(DecodeError::new(
                ErrorKind::FrameTooLarge {
                    len,
                    limit: self.limits.max_frame,
                },
                0,
                "a frame within max_frame bytes",
            )));
        }
        if self.buf.capacity() == len {
            self.buf.reserve(len.max(READ_CHUNK).min(end - len));
        }
        Ok(())
    }
}
