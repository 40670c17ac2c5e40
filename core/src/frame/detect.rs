//! Transport and protocol detection from a frame's first bytes, as a Kitex server does it.
//!
//! Rules, in the order they are tried:
//! 1. byte 0 is `0x82`: buffered (unframed) Compact;
//! 2. bytes 0..2 are `0x8001`: buffered strict Binary;
//! 3. otherwise bytes 0..4 are a length and bytes 4.. say what follows it:
//!    byte 4 `0x82`: Framed Compact; bytes 4..6 `0x1000`: Kitex TTHeader; `0x0FFF`: Apache
//!    THeader; `0x8001`: Framed strict Binary;
//! 4. anything else is `UnknownTransport` at offset 0.
//!
//! Kitex tries TTHeader first and the unframed forms after; faultline tries the unframed
//! forms first because they are decided by one or two bytes. The orders differ only on
//! frames whose length would be 2 GiB or more, which no Kitex peer sends.
//!
//! For TTHeader the payload decides between `TTHeader` and `TTHeaderFramed`, as in Kitex:
//! a payload starting with the message (`0x8001` / `0x82` for the header's protocol) is
//! TTHeader, one with the message at payload offset 4 is TTHeaderFramed. The protocol comes
//! from the header's protocol id (TTHeader byte 14, THeader varint at 14).
//!
//! Old non-strict Binary (a message that starts with the method name's length) has no
//! marker, so it is never detected — Kitex does not detect it either. Decode it by naming
//! the transport: with `Buffered` or `Framed` and no protocol, a payload without a marker
//! is read as Binary, and the Binary reader accepts the non-strict form.
//! Compact and Apache THeader are not in Kitex's server detection; their rules follow
//! Apache's `THeaderTransport` (which looks for `0x82` and `0x0FFF` the same way).

use super::fixed::{FIXED_LEN, HEADER_SIZE_OFFSET, MAX_HEADER_LEN};
use super::{theader, ttheader, Transport};
use crate::protocol::{DecodeError, DecodeResult, ErrorKind, ProtocolId};

const COMPACT_ID: u8 = 0x82;
/// Longest 32-bit varint (the THeader protocol id).
const MAX_VARINT32_LEN: usize = 5;
const BINARY_V1: [u8; 2] = [0x80, 0x01];

/// Detects the transport and payload protocol of the frame at the start of `buf`.
///
/// `Ok(None)` means `buf` is too short to tell yet. Errors: `UnknownTransport` (offset 0,
/// or the payload's offset when a TTHeader's payload is unrecognisable), and for header
/// transports `BadHeaderSize`, `UnknownProtocol` and `VarintTooLong` as decoding reports
/// them.
pub fn detect(buf: &[u8]) -> DecodeResult<Option<(Transport, ProtocolId)>> {
    match detect_inner(buf) {
        Ok(found) => Ok(Some(found)),
        Err(Stop::Need(_)) => Ok(None),
        Err(Stop::Fail(err)) => Err(err),
    }
}

/// Why detection stopped without an answer.
#[derive(Debug)]
pub(super) enum Stop {
    /// At least this many bytes (from the start of the buffer) are needed.
    Need(usize),
    Fail(DecodeError),
}

impl From<DecodeError> for Stop {
    fn from(err: DecodeError) -> Self {
        Stop::Fail(err)
    }
}

type Probe<T> = Result<T, Stop>;

/// The first bytes of an unframed message, if they carry a marker.
pub(super) fn sniff_message(bytes: &[u8]) -> Option<ProtocolId> {
    match bytes {
        [COMPACT_ID, ..] => Some(ProtocolId::Compact),
        [0x80, 0x01, ..] => Some(ProtocolId::Binary),
        _ => None,
    }
}

/// Whether `buf` starts an unframed message: `Need` if one more byte could tell.
pub(super) fn sniff_buffered(buf: &[u8]) -> Probe<Option<ProtocolId>> {
    match buf {
        [] => Err(Stop::Need(1)),
        [0x80] => Err(Stop::Need(2)),
        _ => Ok(sniff_message(buf)),
    }
}

/// Bytes of `buf` seen through the frame's own length: a byte past the frame's end can
/// never arrive, so asking for it fails instead of waiting.
struct Window<'a> {
    buf: &'a [u8],
    end: usize,
}

impl Window<'_> {
    fn byte(&self, i: usize, fail: impl FnOnce() -> DecodeError) -> Probe<u8> {
        if i >= self.end {
            return Err(Stop::Fail(fail()));
        }
        self.buf
            .get(i)
            .copied()
            .ok_or(Stop::Need(i.saturating_add(1)))
    }
}

fn unknown_transport(at: usize, expected: &'static str) -> impl FnOnce() -> DecodeError {
    move || DecodeError::new(ErrorKind::UnknownTransport, at, expected)
}

/// The frame ends (at `end`) before the fixed header fields do.
fn header_too_small(end: usize) -> impl Fn() -> DecodeError {
    move || {
        DecodeError::new(
            ErrorKind::BadHeaderSize(0),
            end,
            "header fixed fields within the frame",
        )
    }
}

pub(super) fn detect_inner(buf: &[u8]) -> Probe<(Transport, ProtocolId)> {
    if let Some(protocol) = sniff_buffered(buf)? {
        return Ok((Transport::Buffered, protocol));
    }
    let len: [u8; 4] = buf
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or(Stop::Need(4))?;
    let end = usize::try_from(u32::from_be_bytes(len))
        .ok()
        .and_then(|n| n.checked_add(4))
        .unwrap_or(usize::MAX);
    let w = Window { buf, end };
    const WHAT: &str =
        "a known transport: 0x8001/0x82 at byte 0, or 0x1000/0x0FFF/0x8001/0x82 at byte 4";
    let b4 = w.byte(4, unknown_transport(0, WHAT))?;
    if b4 == COMPACT_ID {
        return Ok((Transport::Framed, ProtocolId::Compact));
    }
    let b5 = w.byte(5, unknown_transport(0, WHAT))?;
    match u16::from_be_bytes([b4, b5]) {
        ttheader::MAGIC => detect_ttheader(&w),
        theader::MAGIC => detect_theader(&w),
        0x8001 => Ok((Transport::Framed, ProtocolId::Binary)),
        _ => Err(Stop::Fail(unknown_transport(0, WHAT)())),
    }
}

/// Header size in bytes from bytes 12..14, checked like decoding checks it.
fn header_end(w: &Window<'_>) -> Probe<usize> {
    let hi = w.byte(12, header_too_small(w.end))?;
    let lo = w.byte(13, header_too_small(w.end))?;
    let header_len = usize::from(u16::from_be_bytes([hi, lo])) * 4;
    let end = FIXED_LEN + header_len;
    if header_len == 0 || header_len > MAX_HEADER_LEN || end > w.end {
        return Err(Stop::Fail(DecodeError::new(
            ErrorKind::BadHeaderSize(header_len),
            HEADER_SIZE_OFFSET,
            "header size (4-byte words): non-zero and within the frame",
        )));
    }
    Ok(end)
}

fn detect_ttheader(w: &Window<'_>) -> Probe<(Transport, ProtocolId)> {
    let payload = header_end(w)?;
    let id = w.byte(FIXED_LEN, header_too_small(w.end))?;
    let protocol = ProtocolId::from_id(u32::from(id)).ok_or_else(|| {
        DecodeError::new(
            ErrorKind::UnknownProtocol(u32::from(id)),
            FIXED_LEN,
            "TTHeader protocol id 0 (binary) or 2 (compact)",
        )
    })?;
    const WHAT: &str = "a strict binary or compact message after the TTHeader, framed or not";
    let fail = || unknown_transport(payload, WHAT);
    if has_marker(w, payload, protocol, fail)? {
        Ok((Transport::TTHeader, protocol))
    } else if has_marker(w, payload.saturating_add(4), protocol, fail)? {
        Ok((Transport::TTHeaderFramed, protocol))
    } else {
        Err(Stop::Fail(fail()()))
    }
}

/// Whether a message of `protocol` starts at `at`: `0x82` for Compact, `0x8001` for Binary.
fn has_marker<F: FnOnce() -> DecodeError>(
    w: &Window<'_>,
    at: usize,
    protocol: ProtocolId,
    fail: impl Fn() -> F,
) -> Probe<bool> {
    let first = w.byte(at, fail())?;
    Ok(match protocol {
        ProtocolId::Compact => first == COMPACT_ID,
        ProtocolId::Binary => {
            first == BINARY_V1[0] && w.byte(at.saturating_add(1), fail())? == BINARY_V1[1]
        }
    })
}

fn detect_theader(w: &Window<'_>) -> Probe<(Transport, ProtocolId)> {
    let header_end = header_end(w)?;
    // The protocol id varint, read byte by byte so a short buffer asks for more.
    let mut id: u32 = 0;
    for i in 0..MAX_VARINT32_LEN {
        let at = FIXED_LEN + i;
        let too_small = || {
            DecodeError::new(
                ErrorKind::BadHeaderSize(header_end - FIXED_LEN),
                at,
                "THeader protocol id (varint) within the header",
            )
        };
        let byte = Window {
            buf: w.buf,
            end: header_end,
        }
        .byte(at, too_small)?;
        if i == MAX_VARINT32_LEN - 1 && byte & 0xF0 != 0 {
            break;
        }
        id |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return match ProtocolId::from_id(id) {
                Some(protocol) => Ok((Transport::THeader, protocol)),
                None => Err(Stop::Fail(DecodeError::new(
                    ErrorKind::UnknownProtocol(id),
                    FIXED_LEN,
                    "THeader protocol id 0 (binary) or 2 (compact)",
                ))),
            };
        }
    }
    Err(Stop::Fail(DecodeError::new(
        ErrorKind::VarintTooLong,
        FIXED_LEN,
        "THeader protocol id (varint)",
    )))
}
