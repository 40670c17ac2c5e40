//! Frame decoding: `decode_frame` (over a slice), `decode_frame_bytes` (over `Bytes`, with
//! zero-copy metadata and payload), and `frame_len` for stream readers.
//!
//! Decoding checks the length prefix against `DecodeLimits::max_frame` before it looks at
//! anything else, parses the header of header transports, and hands back the payload as a
//! slice with its absolute offset, so payload decoders report offsets into `buf`. A
//! Buffered frame has no length: its end is found by skipping one message (envelope and
//! body) with the protocol's reader, within the first `max_frame` bytes.

use bytes::Bytes;

use super::detect::{detect_inner, sniff_buffered, sniff_message, Stop};
use super::{theader, ttheader, Header, Transport};
use crate::protocol::input::within;
use crate::protocol::{
    expect_end, skip, BinaryReader, CompactReader, DecodeError, DecodeLimits, DecodeResult,
    ErrorKind, Input, Message, MessageBody, ProtocolId, ProtocolReader, TType,
};

/// One decoded frame: how it was carried, its header, and where its payload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    pub transport: Transport,
    /// The payload's protocol.
    pub protocol: ProtocolId,
    /// The TTHeader / THeader header; `None` for Buffered and Framed.
    pub header: Option<Header>,
    /// The payload: the Thrift message, without any length prefix.
    pub payload: &'a [u8],
    /// Absolute offset of `payload[0]` in the decoded buffer.
    pub payload_offset: usize,
    /// Bytes the frame occupies from the start of the buffer (the next frame starts here).
    pub len: usize,
    owner: Option<&'a Bytes>,
}

impl<'a> Frame<'a> {
    /// The payload as `Bytes`: a zero-copy slice when decoded with `decode_frame_bytes`,
    /// otherwise a copy.
    pub fn payload_bytes(&self) -> Bytes {
        match self.owner {
            Some(owner) if within(owner, self.payload) => owner.slice_ref(self.payload),
            _ => Bytes::copy_from_slice(self.payload),
        }
    }

    /// A cursor over the payload that reports absolute offsets.
    /// Binaries read through it are zero-copy when the frame was decoded from `Bytes`.
    pub fn input(&self, limits: DecodeLimits) -> Input<'a> {
        Input::new(self.payload, self.payload_offset, limits).sharing(self.owner)
    }

    /// Decodes the payload as one message with a typed body, in the frame's protocol;
    /// bytes left after the message are `TrailingBytes`.
    pub fn decode_message<T: MessageBody>(&self, limits: DecodeLimits) -> DecodeResult<Message<T>> {
        fn run<'b, T: MessageBody, R: ProtocolReader<'b>>(mut r: R) -> DecodeResult<Message<T>> {
            let message = Message::<T>::decode(&mut r)?;
            expect_end(&r)?;
            Ok(message)
        }
        match self.protocol {
            ProtocolId::Binary => run(BinaryReader::new(self.input(limits))),
            ProtocolId::Compact => run(CompactReader::new(self.input(limits))),
        }
    }
}

/// Decodes the frame at the start of `buf`.
///
/// `transport: None` detects it (see [`detect`](super::detect())); `protocol: None` takes
/// it from the header (TTHeader, THeader) or from the payload's first bytes (Buffered,
/// Framed; without a marker, Binary, which covers old non-strict Binary). A given
/// `protocol` overrides that for Buffered and Framed; for header transports it must match
/// the header's protocol id, else `UnknownProtocol`. Bytes after the frame are left alone
/// (`Frame::len` says where the next one starts).
pub fn decode_frame<'a>(
    buf: &'a [u8],
    transport: Option<Transport>,
    protocol: Option<ProtocolId>,
    limits: &DecodeLimits,
) -> DecodeResult<Frame<'a>> {
    decode(buf, None, transport, protocol, limits)
}

/// `decode_frame` over `Bytes`: metadata values and `Frame::payload_bytes` are zero-copy
/// slices of `buf`.
pub fn decode_frame_bytes<'a>(
    buf: &'a Bytes,
    transport: Option<Transport>,
    protocol: Option<ProtocolId>,
    limits: &DecodeLimits,
) -> DecodeResult<Frame<'a>> {
    decode(buf, Some(buf), transport, protocol, limits)
}

/// How many bytes the frame at the start of `buf` occupies; `Ok(None)` if more bytes are
/// needed to know.
///
/// For length-prefixed transports this needs only the 4-byte length (refused with
/// `FrameTooLarge` above `max_frame` right away), not the frame itself; when the transport
/// is detected and the length is small enough to be an old non-strict Binary name length,
/// also the bytes that rule that out (usually just byte 4; see `detect`). A Buffered
/// message has no length, so it is skipped: the answer needs the whole message, and each
/// call re-reads it (a stream reader should call again only after more bytes arrive).
/// A Buffered read that runs out of bytes — `UnexpectedEof`, or a container that the bytes
/// so far cannot hold — is `None`; past `max_frame` bytes it is `FrameTooLarge`.
pub fn frame_len(
    buf: &[u8],
    transport: Option<Transport>,
    protocol: Option<ProtocolId>,
    limits: &DecodeLimits,
) -> DecodeResult<Option<usize>> {
    let (prefixed, sniffed) = match transport {
        Some(t) => (t.is_length_prefixed(), None),
        None => match sniff_buffered(buf) {
            Ok(Some(p)) => (false, Some(p)),
            Ok(None) => (true, None),
            Err(_) => return Ok(None),
        },
    };
    if prefixed {
        return match buf.get(..4) {
            Some(_) => length_prefix(buf, limits).map(Some),
            None => Ok(None),
        };
    }
    match decode_buffered(buf, None, protocol.or(sniffed), limits) {
        Ok(frame) => Ok(Some(frame.len)),
        Err(err) if could_complete(&err) => Ok(None),
        Err(err) => Err(err),
    }
}

/// True for errors that more input could cure.
fn could_complete(err: &DecodeError) -> bool {
    matches!(
        err.kind,
        ErrorKind::UnexpectedEof { .. } | ErrorKind::ContainerExceedsInput { .. }
    )
}

/// Reads the 4-byte length and returns the whole frame's size (4 + length), refusing a
/// length above `max_frame` before anything else.
fn length_prefix(buf: &[u8], limits: &DecodeLimits) -> DecodeResult<usize> {
    let mut input = Input::new(buf, 0, *limits);
    let len = u32::from_be_bytes(input.take_array::<4>("4-byte frame length")?);
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > limits.max_frame {
        return Err(DecodeError::new(
            ErrorKind::FrameTooLarge {
                len,
                limit: limits.max_frame,
            },
            0,
            "frame length within max_frame",
        ));
    }
    len.checked_add(4).ok_or_else(|| {
        DecodeError::new(
            ErrorKind::FrameTooLarge {
                len,
                limit: limits.max_frame,
            },
            0,
            "frame length within max_frame",
        )
    })
}

/// Checks the length prefix and that `buf` holds the whole frame; returns its end.
fn whole_frame(buf: &[u8], limits: &DecodeLimits) -> DecodeResult<usize> {
    let end = length_prefix(buf, limits)?;
    if buf.len() < end {
        return Err(DecodeError::new(
            ErrorKind::UnexpectedEof {
                needed: end - 4,
                remaining: buf.len().saturating_sub(4),
            },
            4,
            "frame body (as long as the length prefix says)",
        ));
    }
    Ok(end)
}

fn decode<'a>(
    buf: &'a [u8],
    owner: Option<&'a Bytes>,
    transport: Option<Transport>,
    protocol: Option<ProtocolId>,
    limits: &DecodeLimits,
) -> DecodeResult<Frame<'a>> {
    let (transport, detected) = match transport {
        Some(t) => (t, None),
        None => match sniff_buffered(buf) {
            Ok(Some(p)) => (Transport::Buffered, Some(p)),
            Ok(None) => {
                // Length-prefixed: refuse a huge or truncated frame before detection.
                let end = whole_frame(buf, limits)?;
                let (t, p) = detect_inner(&buf[..end]).map_err(|stop| stop_error(stop, buf))?;
                (t, Some(p))
            }
            Err(stop) => return Err(stop_error(stop, buf)),
        },
    };
    match transport {
        Transport::Buffered => decode_buffered(buf, owner, protocol.or(detected), limits),
        Transport::Framed => {
            let end = whole_frame(buf, limits)?;
            let payload = &buf[4..end];
            let protocol = protocol
                .or(detected)
                .or_else(|| sniff_message(payload))
                .unwrap_or(ProtocolId::Binary);
            Ok(Frame {
                transport,
                protocol,
                header: None,
                payload,
                payload_offset: 4,
                len: end,
                owner,
            })
        }
        Transport::TTHeader | Transport::TTHeaderFramed | Transport::THeader => {
            decode_with_header(buf, owner, transport, protocol, limits)
        }
    }
}

/// The error for a detection that stopped: `Need` on a buffer that ends too early.
fn stop_error(stop: Stop, buf: &[u8]) -> DecodeError {
    match stop {
        Stop::Fail(err) => err,
        Stop::Need(n) => DecodeError::new(
            ErrorKind::UnexpectedEof {
                needed: n.saturating_sub(buf.len()),
                remaining: 0,
            },
            buf.len(),
            "enough bytes to detect the transport",
        ),
    }
}

fn decode_with_header<'a>(
    buf: &'a [u8],
    owner: Option<&'a Bytes>,
    transport: Transport,
    protocol: Option<ProtocolId>,
    limits: &DecodeLimits,
) -> DecodeResult<Frame<'a>> {
    let end = whole_frame(buf, limits)?;
    let frame = &buf[..end];
    let (magic, what) = match transport {
        Transport::THeader => (theader::MAGIC, "THeader magic 0x0FFF"),
        _ => (ttheader::MAGIC, "TTHeader magic 0x1000"),
    };
    let found = frame
        .get(4..6)
        .map(|m| u16::from_be_bytes([m[0], m[1]]))
        .ok_or_else(|| {
            DecodeError::new(
                ErrorKind::UnexpectedEof {
                    needed: 2,
                    remaining: end.saturating_sub(4),
                },
                4,
                what,
            )
        })?;
    if found != magic {
        return Err(DecodeError::new(
            ErrorKind::BadMagic(u32::from(found)),
            4,
            what,
        ));
    }
    let (header, mut payload_at) = match transport {
        Transport::THeader => theader::decode(frame, owner, limits)?,
        _ => ttheader::decode(frame, owner, limits)?,
    };
    if let Some(p) = protocol {
        if p != header.protocol {
            return Err(DecodeError::new(
                ErrorKind::UnknownProtocol(header.protocol as u32),
                14,
                "the header's protocol id to match the requested protocol",
            ));
        }
    }
    if transport == Transport::TTHeaderFramed {
        payload_at = inner_frame(frame, payload_at)?;
    }
    Ok(Frame {
        transport,
        protocol: header.protocol,
        header: Some(header),
        payload: &frame[payload_at..],
        payload_offset: payload_at,
        len: end,
        owner,
    })
}

/// Checks the framed length inside a TTHeaderFramed frame: it must cover exactly the rest
/// of the outer frame. Returns the payload's offset.
fn inner_frame(frame: &[u8], at: usize) -> DecodeResult<usize> {
    let rest = frame.len().saturating_sub(at);
    let bytes: [u8; 4] = frame
        .get(at..)
        .and_then(|s| s.get(..4))
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| {
            DecodeError::new(
                ErrorKind::UnexpectedEof {
                    needed: 4,
                    remaining: rest,
                },
                at,
                "framed length after the TTHeader header",
            )
        })?;
    let inner = usize::try_from(u32::from_be_bytes(bytes)).unwrap_or(usize::MAX);
    let room = rest - 4;
    if inner > room {
        return Err(DecodeError::new(
            ErrorKind::FrameTooLarge {
                len: inner,
                limit: room,
            },
            at,
            "framed length within the TTHeader frame",
        ));
    }
    if inner < room {
        return Err(DecodeError::new(
            ErrorKind::TrailingBytes(room - inner),
            at + 4 + inner,
            "end of the TTHeader frame after the framed payload",
        ));
    }
    Ok(at + 4)
}

/// A Buffered frame: skips one message to find where it ends.
fn decode_buffered<'a>(
    buf: &'a [u8],
    owner: Option<&'a Bytes>,
    protocol: Option<ProtocolId>,
    limits: &DecodeLimits,
) -> DecodeResult<Frame<'a>> {
    let protocol = protocol
        .or_else(|| sniff_message(buf))
        .unwrap_or(ProtocolId::Binary);
    let window = &buf[..buf.len().min(limits.max_frame)];
    let input = Input::new(window, 0, *limits);
    let result = match protocol {
        ProtocolId::Binary => skip_message(BinaryReader::new(input)),
        ProtocolId::Compact => skip_message(CompactReader::new(input)),
    };
    let len = match result {
        Ok(len) => len,
        Err(err) if window.len() < buf.len() && could_complete(&err) => {
            return Err(DecodeError::new(
                ErrorKind::FrameTooLarge {
                    len: buf.len(),
                    limit: limits.max_frame,
                },
                limits.max_frame,
                "a buffered message within max_frame bytes",
            ))
        }
        Err(err) => return Err(err),
    };
    Ok(Frame {
        transport: Transport::Buffered,
        protocol,
        header: None,
        payload: &buf[..len],
        payload_offset: 0,
        len,
        owner,
    })
}

/// Skips an envelope, its body struct and the envelope's end; returns the bytes read.
fn skip_message<'a, R: ProtocolReader<'a>>(mut reader: R) -> DecodeResult<usize> {
    reader.read_message_begin()?;
    skip(&mut reader, TType::Struct)?;
    reader.read_message_end()?;
    Ok(reader.offset())
}
