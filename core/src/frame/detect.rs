//! Transport and protocol detection from a frame's first bytes, as a Kitex server does it.
//!
//! Rules, in the order they are tried:
//! 1. byte 0 is `0x82`: buffered (unframed) Compact;
//! 2. bytes 0..2 are `0x8001`: buffered strict Binary;
//! 3. an old non-strict Binary message at byte 0 (see below): buffered old Binary;
//! 4. otherwise bytes 0..4 are a length and bytes 4.. say what follows it:
//!    byte 4 `0x82`: Framed Compact; bytes 4..6 `0x1000`: Kitex TTHeader; `0x0FFF`: Apache
//!    THeader; `0x8001`: Framed strict Binary; an old non-strict Binary message at byte 4:
//!    Framed old Binary;
//! 5. anything else is `UnknownTransport` at offset 0.
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
//! Old non-strict Binary (what Apache clients with `strict_write=false` send) has no
//! marker: the message starts with the method name's length. It is recognised by its
//! shape: a name length of 1 to `MAX_OLD_NAME_LEN`, that many printable ASCII bytes
//! (`is_ascii_graphic`: no spaces, no control bytes), then a message type byte of 1 to 4
//! (call, reply, exception, oneway). This makes no other transport ambiguous, because
//! every other rule decides on bytes this shape cannot have: buffered markers need byte 0
//! `0x80`/`0x82` (a name length of 2 GiB or more); the framed rules need byte 4 `0x82`,
//! `0x10`, `0x0F` or `0x80`, none of them printable, while an old message at byte 0 has a
//! printable byte 4 (the name's first byte) and one at byte 4 (Framed) has byte 4 `0x00`
//! (the top byte of its name length). The cost is in waiting: a length prefix of at most
//! `MAX_OLD_NAME_LEN` needs byte 4 too before its frame's length is known, and bytes that
//! start with a plausible name length and a printable byte wait for up to
//! `4 + MAX_OLD_NAME_LEN + 1` bytes before they are known not to be an old message.
//!
//! Kitex's server does not detect old Binary; the faultline server does, because it
//! detects with these same rules. That is deliberate: `faultline decode --frame auto`, the
//! server and the chaos fault proxy then agree on what a frame is (a frame `decode`
//! recognises is one the server serves and the proxy can frame), no frame a Kitex peer
//! sends is read differently, and the reply, strict Binary in the request's transport, is
//! read by every Binary reader (`strict_read` only refuses the old form). A service that
//! must refuse old clients as Kitex does is the one behaviour this gives up. A name with
//! non-ASCII bytes is not recognised: decode such a message by naming the transport (with
//! `Buffered` or `Framed` and no protocol, a payload without a marker is read as Binary,
//! and the Binary reader accepts the non-strict form).
//!
//! Compact and Apache THeader are not in Kitex's server detection; their rules follow
//! Apache's `THeaderTransport` (which looks for `0x82` and `0x0FFF` the same way).

use super::fixed::{FIXED_LEN, HEADER_SIZE_OFFSET, MAX_HEADER_LEN};
use super::{theader, ttheader, Transport};
use crate::protocol::{DecodeError, DecodeResult, ErrorKind, MessageType, ProtocolId};

const COMPACT_ID: u8 = 0x82;
/// Longest 32-bit varint (the THeader protocol id).
const MAX_VARINT32_LEN: usize = 5;
const BINARY_V1: [u8; 2] = [0x80, 0x01];
/// Longest method name an old non-strict Binary message is recognised with. Real names
/// are far shorter (multiplexed `Service:method` included); the bound caps how many bytes
/// detection may wait for.
const MAX_OLD_NAME_LEN: usize = 1024;

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

/// Whether `buf` starts an unframed message, strict or old Binary or Compact: `Need` if
/// more bytes could tell.
pub(super) fn sniff_buffered(buf: &[u8]) -> Probe<Option<ProtocolId>> {
    let marked = match buf {
        [] => return Err(Stop::Need(1)),
        [0x80] => return Err(Stop::Need(2)),
        _ => sniff_message(buf),
    };
    if marked.is_some() {
        return Ok(marked);
    }
    let unbounded = Window {
        buf,
        end: usize::MAX,
    };
    Ok(old_binary_at(&unbounded, 0)?.then_some(ProtocolId::Binary))
}

/// Whether an old non-strict Binary message starts at `at` (see the module doc): a name
/// length of 1 to `MAX_OLD_NAME_LEN`, that many printable ASCII bytes, then a message type
/// of 1 to 4. Decided at the first byte that rules it out; a message that would run past
/// the window's end is not one.
fn old_binary_at(w: &Window<'_>, at: usize) -> Probe<bool> {
    let mut len = 0usize;
    for i in at..at + 4 {
        let Some(byte) = w.get(i)? else {
            return Ok(false);
        };
        len = len << 8 | usize::from(byte);
    }
    if len == 0 || len > MAX_OLD_NAME_LEN {
        return Ok(false);
    }
    let name = at + 4;
    for i in name..name + len {
        match w.get(i)? {
            Some(byte) if byte.is_ascii_graphic() => {}
            _ => return Ok(false),
        }
    }
    Ok(w.get(name + len)?.and_then(MessageType::from_id).is_some())
}

/// Bytes of `buf` seen through the frame's own length: a byte past the frame's end can
/// never arrive, so asking for it fails instead of waiting.
struct Window<'a> {
    buf: &'a [u8],
    end: usize,
}

impl Window<'_> {
    /// Byte `i`, or `None` past the frame's end.
    fn get(&self, i: usize) -> Probe<Option<u8>> {
        if i >= self.end {
            return Ok(None);
        }
        match self.buf.get(i) {
            Some(&byte) => Ok(Some(byte)),
            None => Err(Stop::Need(i.saturating_add(1))),
        }
    }

    /// Byte `i`; `fail` past the frame's end.
    fn byte(&self, i: usize, fail: impl FnOnce() -> DecodeError) -> Probe<u8> {
        self.get(i)?.ok_or_else(|| Stop::Fail(fail()))
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
    const WHAT: &str = "a known transport: 0x8001/0x82 or an old binary message at byte 0, \
         or 0x1000/0x0FFF/0x8001/0x82 or an old binary message at byte 4";
    let b4 = w.byte(4, unknown_transport(0, WHAT))?;
    if b4 == COMPACT_ID {
        return Ok((Transport::Framed, ProtocolId::Compact));
    }
    let b5 = w.byte(5, unknown_transport(0, WHAT))?;
    match u16::from_be_bytes([b4, b5]) {
        ttheader::MAGIC => detect_ttheader(&w),
        theader::MAGIC => detect_theader(&w),
        0x8001 => Ok((Transport::Framed, ProtocolId::Binary)),
        _ if b4 == 0 && old_binary_at(&w, 4)? => Ok((Transport::Framed, ProtocolId::Binary)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{decode_frame, frame_len};
    use crate::protocol::{DecodeLimits, Value};

    /// An old non-strict Binary message: name length, name, type, sequence id, empty body.
    fn old(name: &[u8], kind: u8) -> Vec<u8> {
        let mut v = (name.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(name);
        v.push(kind);
        v.extend_from_slice(&7i32.to_be_bytes());
        v.push(0); // the args struct's stop
        v
    }

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut v = (payload.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn old_binary_is_detected_buffered_and_framed() {
        let limits = DecodeLimits::default();
        for kind in 1..=4 {
            let message = old(b"Echo:echo_2", kind);
            for (bytes, transport) in [
                (message.clone(), Transport::Buffered),
                (framed(&message), Transport::Framed),
            ] {
                let found = detect(&bytes).unwrap();
                assert_eq!(found, Some((transport, ProtocolId::Binary)));
                let frame = decode_frame(&bytes, None, None, &limits).unwrap();
                assert_eq!((frame.transport, frame.len), (transport, bytes.len()));
                let header = frame.decode_message::<Value>(limits).unwrap().header;
                assert_eq!(header.name, "Echo:echo_2");
                assert_eq!(Some(header.kind), MessageType::from_id(kind));
                assert_eq!(header.seq_id, 7);
            }
        }
    }

    #[test]
    fn other_shapes_are_not_old_binary() {
        let long = vec![b'a'; MAX_OLD_NAME_LEN + 1];
        for message in [
            old(b"echo", 0),
            old(b"echo", 5),
            old(b"ec ho", 1),
            old(b"ec\x01ho", 1),
            old("échø".as_bytes(), 1),
            old(b"", 1),
            old(&long, 1),
        ] {
            let bytes = framed(&message);
            let err = decode_frame(&bytes, None, None, &DecodeLimits::default()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::UnknownTransport);
            assert!(!matches!(
                detect(&message),
                Ok(Some((Transport::Buffered, _)))
            ));
        }
        let longest = old(&long[1..], 1);
        assert_eq!(
            detect(&longest).unwrap(),
            Some((Transport::Buffered, ProtocolId::Binary))
        );
    }

    #[test]
    fn a_framed_old_message_must_fit_its_frame() {
        let mut bytes = framed(&old(b"echo", 1));
        bytes[3] = 8; // the frame ends inside the name
        let err = detect(&bytes).unwrap_err();
        assert_eq!((err.kind, err.offset), (ErrorKind::UnknownTransport, 0));
    }

    #[test]
    fn a_partial_old_message_waits_for_more_bytes() {
        let message = old(b"echo", 1);
        let limits = DecodeLimits::default();
        for end in 1..9 {
            assert_eq!(detect(&message[..end]).unwrap(), None, "{end} bytes");
            assert_eq!(
                frame_len(&message[..end], None, None, &limits).unwrap(),
                None
            );
        }
        assert_eq!(
            frame_len(&message, None, None, &limits).unwrap(),
            Some(message.len())
        );
    }
}
