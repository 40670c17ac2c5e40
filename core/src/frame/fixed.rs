//! The 14 bytes TTHeader and THeader frames share: length, magic, flags, sequence id and
//! header size (in 4-byte words), and the checks on them.

use bytes::{BufMut, Bytes, BytesMut};

use super::{Header, Metadata};
use crate::protocol::{DecodeError, DecodeLimits, DecodeResult, ErrorKind, Input, ProtocolId};

/// Bytes before the variable header: length 4, magic 2, flags 2, seq id 4, size 2.
pub(super) const FIXED_LEN: usize = 14;
/// The largest variable header TTHeader and THeader decoding accept: all that the 16-bit
/// count of 4-byte words can express (current Kitex's `MaxHeaderSize`).
pub(super) const MAX_HEADER_LEN: usize = u16::MAX as usize * 4;
/// Offset of the header-size field.
pub(super) const HEADER_SIZE_OFFSET: usize = 12;

/// What the fixed part of a header frame says.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fixed {
    pub flags: u16,
    pub seq_id: i32,
    /// Absolute end of the variable header (= start of the payload).
    pub header_end: usize,
}

/// Reads the fixed fields of the complete frame `frame` (`frame.len()` is its end) and
/// checks the header size: not zero, at most `MAX_HEADER_LEN` bytes, and inside the frame.
/// The magic is assumed checked by the caller.
pub(super) fn read_fixed(frame: &[u8], what: &'static str) -> DecodeResult<Fixed> {
    let fixed: &[u8; FIXED_LEN] = frame
        .get(..FIXED_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| DecodeError::new(ErrorKind::BadHeaderSize(0), frame.len(), what))?;
    let flags = u16::from_be_bytes([fixed[6], fixed[7]]);
    let seq_id = i32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]);
    let words = u16::from_be_bytes([fixed[12], fixed[13]]);
    let header_len = usize::from(words) * 4;
    let header_end = FIXED_LEN + header_len;
    if header_len == 0 || header_len > MAX_HEADER_LEN || header_end > frame.len() {
        return Err(DecodeError::new(
            ErrorKind::BadHeaderSize(header_len),
            HEADER_SIZE_OFFSET,
            "header size (4-byte words): non-zero and within the frame",
        ));
    }
    Ok(Fixed {
        flags,
        seq_id,
        header_end,
    })
}

/// Decodes the header of the complete frame `frame` (from its length field to its last
/// byte): the fixed fields, then the variable header with `variable`, the part TTHeader and
/// THeader lay out differently. `owner`, when given, is the `Bytes` that `frame` starts;
/// metadata values are then zero-copy slices of it. Returns the header and the payload's
/// absolute offset.
pub(super) fn decode_header(
    frame: &[u8],
    owner: Option<&Bytes>,
    limits: &DecodeLimits,
    what: &'static str,
    variable: impl FnOnce(&mut Input<'_>) -> DecodeResult<(ProtocolId, Metadata)>,
) -> DecodeResult<(Header, usize)> {
    let fixed = read_fixed(frame, what)?;
    let header_len = fixed.header_end - FIXED_LEN;
    let mut input =
        Input::new(&frame[FIXED_LEN..fixed.header_end], FIXED_LEN, *limits).sharing(owner);
    let (protocol, metadata) = variable(&mut input).map_err(in_header(header_len))?;
    let header = Header {
        flags: fixed.flags,
        seq_id: fixed.seq_id,
        protocol,
        transforms: Vec::new(),
        metadata,
    };
    Ok((header, fixed.header_end))
}

/// Writes the fixed fields. `body_len` counts every byte after the length field.
pub(super) fn write_fixed(
    out: &mut BytesMut,
    body_len: u32,
    magic: u16,
    flags: u16,
    seq_id: i32,
    header_words: u16,
) {
    out.put_u32(body_len);
    out.put_u16(magic);
    out.put_u16(flags);
    out.put_i32(seq_id);
    out.put_u16(header_words);
}

/// Turns "ran out of bytes" inside a complete header into `BadHeaderSize`: the header
/// size field promised bytes that the header's own contents needed more than.
pub(super) fn in_header(header_len: usize) -> impl Fn(DecodeError) -> DecodeError {
    move |err| match err.kind {
        ErrorKind::UnexpectedEof { .. } => DecodeError {
            kind: ErrorKind::BadHeaderSize(header_len),
            ..err
        },
        _ => err,
    }
}
