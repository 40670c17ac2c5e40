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

    /// A reader that accepts only frames in `transport` and `protocol`, as a client that
    /// knows what it sent does.
    pub fn expecting(limits: DecodeLimits, transport: Transport, protocol: ProtocolId) -> Self {
        Self {
            framing: Some((transport, protocol)),
            ..Self::new(limits)
        }
    }

    /// The connection's transport and protocol, once the first frame has been decoded.
    pub fn framing(&self) -> Option<(Transport, ProtocolId)> {
        self.framing
    }

    /// Bytes read but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Reads the next whole frame. `Ok(None)` when the stream ends between frames.
    ///
    /// Cancel-safe: bytes read before a cancellation stay buffered for the next call.
    pub async fn read<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> Result<Option<Bytes>, ReadError> {
        loop {
            if let Some(frame) = self.next_buffered().map_err(ReadError::Malformed)? {
                return Ok(Some(frame));
            }
            if self.fill(io).await? == 0 {
                return match self.buf.is_empty() {
                    true => Ok(None),
                    false => Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into())),
                };
            }
        }
    }

    /// The next whole frame already buffered, if there is one; no I/O. With [`fill`],
    /// the two halves of [`read`] for a caller that must know when bytes arrive (the
    /// server's read and idle timeouts).
    ///
    /// [`fill`]: Self::fill
    /// [`read`]: Self::read
    pub fn next_buffered(&mut self) -> Result<Option<Bytes>, DecodeError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        match self.frame_end()? {
            Some(len) if self.buf.len() >= len => Ok(Some(self.buf.split_to(len).freeze())),
            _ => Ok(None),
        }
    }

    /// One read from `io` into the buffer: the number of bytes read, 0 at the end of the
    /// stream. Call it once `next_buffered` has returned `None` (a whole frame left in the
    /// buffer counts against the room for the next one). Cancel-safe: a cancelled `fill`
    /// has read nothing.
    pub async fn fill<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> Result<usize, ReadError> {
        // Where the frame ends, as far as the bytes so far tell.
        let end = match self.buf.is_empty() {
            true => None,
            false => self.frame_end().map_err(ReadError::Malformed)?,
        };
        self.make_room(end.unwrap_or(self.limits.max_frame))?;
        Ok(io.read_buf(&mut self.buf).await?)
    }

    /// The length of the frame at the front of the (non-empty) buffer, once known.
    fn frame_end(&self) -> Result<Option<usize>, DecodeError> {
        let (transport, protocol) = self.framing.unzip();
        frame_len(&self.buf, transport, protocol, &self.limits)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::encode_frame;
    use crate::protocol::{Binary, Message, MessageHeader, MessageType};
    use tokio::io::AsyncWriteExt;

    fn framed_call(payload_len: usize, seq_id: i32) -> BytesMut {
        let message = Message {
            header: MessageHeader {
                name: "m",
                kind: MessageType::Call,
                seq_id,
            },
            body: crate::protocol::Value::Struct(vec![crate::protocol::Field {
                id: 1,
                value: crate::protocol::Value::Binary(vec![b'x'; payload_len].into()),
            }]),
        };
        encode_frame::<Binary, _>(Transport::Framed, None, &message).unwrap()
    }

    #[tokio::test]
    async fn an_announced_length_costs_only_what_arrives() {
        let mut bytes = vec![0x00, 0xff, 0xff, 0xf0]; // about 16 MiB announced
        bytes.extend_from_slice(&[0x80, 0x01, 0, 1, 0, 0]);
        let mut reader = FrameReader::new(DecodeLimits::default());
        let err = reader.read(&mut bytes.as_slice()).await.unwrap_err();
        assert!(
            matches!(&err, ReadError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
            "{err:?}"
        );
        assert!(
            reader.buf.capacity() <= 2 * READ_CHUNK,
            "capacity {} for 10 bytes",
            reader.buf.capacity()
        );
    }

    #[tokio::test]
    async fn a_length_over_max_frame_is_refused_from_the_prefix() {
        let limits = DecodeLimits {
            max_frame: 1024,
            ..DecodeLimits::default()
        };
        let mut reader = FrameReader::new(limits);
        let bytes = [0x00, 0x00, 0x04, 0x01, 0x80, 0x01];
        let err = reader.read(&mut bytes.as_slice()).await.unwrap_err();
        let ReadError::Malformed(err) = err else {
            panic!("malformed expected: {err:?}")
        };
        assert_eq!(err.kind_name(), "frame_too_large");
    }

    #[tokio::test]
    async fn a_buffered_message_longer_than_max_frame_is_refused() {
        let limits = DecodeLimits {
            max_frame: 256,
            ..DecodeLimits::default()
        };
        let frame = framed_call(1000, 1);
        let unframed = &frame[4..];
        let mut reader = FrameReader::new(limits);
        let err = reader.read(&mut &unframed[..]).await.unwrap_err();
        let ReadError::Malformed(err) = err else {
            panic!("malformed expected: {err:?}")
        };
        assert_eq!(err.kind_name(), "frame_too_large");
        assert!(reader.buf.capacity() <= 2 * READ_CHUNK);
    }

    /// A 100 KiB frame through a 16-byte pipe, then a second frame that arrived with it:
    /// both come out whole, and the buffer stays within about twice the frame.
    #[tokio::test]
    async fn frames_arrive_whole_through_small_reads() {
        let first = framed_call(100 * 1024, 1);
        let second = framed_call(10, 2);
        let (mut tx, mut rx) = tokio::io::duplex(16);
        let sent = [first.clone(), second.clone()].concat();
        let writer = tokio::spawn(async move {
            tx.write_all(&sent).await.unwrap();
        });
        let mut reader = FrameReader::new(DecodeLimits::default());
        assert_eq!(reader.read(&mut rx).await.unwrap().unwrap(), first);
        assert!(
            reader.buf.capacity() <= 2 * first.len() + READ_CHUNK,
            "capacity {}",
            reader.buf.capacity()
        );
        assert_eq!(reader.read(&mut rx).await.unwrap().unwrap(), second);
        writer.await.unwrap();
        assert!(reader.read(&mut rx).await.unwrap().is_none(), "clean end");
        let frame = Bytes::from(second);
        let decoded = reader.decode(&frame).unwrap();
        assert_eq!(decoded.transport, Transport::Framed);
        assert_eq!(
            reader.framing(),
            Some((Transport::Framed, ProtocolId::Binary))
        );
    }
}
