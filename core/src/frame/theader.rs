//! Apache THeader (magic `0x0FFF`): decoding and sizing/writing of the header.
//!
//! Layout: the same 14 fixed bytes as TTHeader (`length u32 | 0x0FFF u16 | flags u16 |
//! seq id i32 | header size u16` in 4-byte words), then varints: protocol id, transform
//! count, transform ids, then info blocks — `0x01` KEYVALUE (`count`, then `len key len
//! value` pairs, every count and length a varint) — and zero padding to 4 bytes.
//!
//! Differences from Apache's own readers, all on the strict side: faultline implements no
//! transform (zlib is the one Apache defines), so any transform id is `UnknownTransform`;
//! an info id other than KEYVALUE or padding (`0x00`, after which the rest of the header
//! is padding) is `UnknownInfoId`, where Apache stops reading and ignores the rest; and
//! string keys must be UTF-8. THeader has no int keys and no ACL token.

use bytes::{BufMut, Bytes, BytesMut};

use super::fixed::{decode_header, write_fixed, MAX_HEADER_LEN};
use super::{Header, Metadata};
use crate::protocol::{
    read_varint32, varint32_len, write_varint32, DecodeError, DecodeLimits, DecodeResult,
    EncodeError, EncodeResult, ErrorKind, Input, ProtocolId,
};

pub(super) const MAGIC: u16 = 0x0FFF;

const INFO_PADDING: u32 = 0x00;
const INFO_KEY_VALUE: u32 = 0x01;

/// Decodes the header of the complete THeader frame `frame`; see `ttheader::decode`.
pub(super) fn decode(
    frame: &[u8],
    owner: Option<&Bytes>,
    limits: &DecodeLimits,
) -> DecodeResult<(Header, usize)> {
    decode_header(
        frame,
        owner,
        limits,
        "THeader fixed fields within the frame",
        decode_variable,
    )
}

fn decode_variable(input: &mut Input<'_>) -> DecodeResult<(ProtocolId, Metadata)> {
    let at = input.offset();
    let id = read_varint32(input, "THeader protocol id (varint)")?;
    let protocol = ProtocolId::from_id(id).ok_or_else(|| {
        DecodeError::new(
            ErrorKind::UnknownProtocol(id),
            at,
            "THeader protocol id 0 (binary) or 2 (compact)",
        )
    })?;
    let transforms = read_varint32(input, "THeader transform count (varint)")?;
    if transforms > 0 {
        let at = input.offset();
        let id = read_varint32(input, "THeader transform id (varint)")?;
        return Err(DecodeError::new(
            ErrorKind::UnknownTransform(id),
            at,
            "no transform (faultline implements none)",
        ));
    }
    let mut metadata = Metadata::default();
    while input.remaining() > 0 {
        let at = input.offset();
        match read_varint32(input, "THeader info id (varint)")? {
            INFO_PADDING => break,
            INFO_KEY_VALUE => read_kvs(input, &mut metadata)?,
            other => {
                return Err(DecodeError::new(
                    ErrorKind::UnknownInfoId(u8::try_from(other).unwrap_or(u8::MAX)),
                    at,
                    "THeader info id 0x00 (padding) or 0x01 (key/value)",
                ))
            }
        }
    }
    Ok((protocol, metadata))
}

/// A varint-length-prefixed byte string, bounded by `max_string`.
fn read_string(input: &mut Input<'_>, expected: &'static str) -> DecodeResult<Bytes> {
    let start = input.offset();
    let len = read_varint32(input, expected)?;
    let len = input.check_string_len(i64::from(len), start, expected)?;
    input.take_bytes(len, expected)
}

fn read_kvs(input: &mut Input<'_>, metadata: &mut Metadata) -> DecodeResult<()> {
    let count = read_varint32(input, "THeader key/value count (varint)")?;
    // Every pair takes at least two bytes, so a count the header cannot hold fails on
    // the first missing byte; no allocation depends on `count`.
    for _ in 0..count {
        let key_at = input.offset();
        let key = read_string(input, "THeader key")?;
        let key = std::str::from_utf8(&key)
            .map_err(|_| DecodeError::new(ErrorKind::InvalidUtf8, key_at, "UTF-8 THeader key"))?;
        let value = read_string(input, "THeader value")?;
        metadata.strings.insert(key.to_owned(), value);
    }
    Ok(())
}

fn u32_len(len: usize, what: &'static str) -> EncodeResult<u32> {
    u32::try_from(len).map_err(|_| EncodeError::TooLong { what, len })
}

/// The exact size of the variable header including padding.
pub(super) fn encoded_len(header: &Header) -> EncodeResult<usize> {
    if !header.transforms.is_empty() {
        return Err(EncodeError::Invalid(
            "THeader transforms are not implemented by faultline",
        ));
    }
    let md = &header.metadata;
    if !md.int.is_empty() || md.acl_token.is_some() {
        return Err(EncodeError::Invalid(
            "THeader carries string key/values only (no int keys, no ACL token)",
        ));
    }
    let mut len = varint32_len(header.protocol as u32) + varint32_len(0);
    if !md.strings.is_empty() {
        let count = u32_len(md.strings.len(), "THeader key/value count")?;
        len += varint32_len(INFO_KEY_VALUE) + varint32_len(count);
        for (key, value) in &md.strings {
            let k = u32_len(key.len(), "THeader key")?;
            let v = u32_len(value.len(), "THeader value")?;
            len = len
                .saturating_add(varint32_len(k) + key.len())
                .saturating_add(varint32_len(v) + value.len());
        }
    }
    let padded = len.saturating_add(3) & !3;
    if padded > MAX_HEADER_LEN {
        return Err(EncodeError::TooLong {
            what: "THeader header (the 16-bit word count allows 256 KiB)",
            len: padded,
        });
    }
    Ok(padded)
}

/// Writes the fixed fields and the variable header of `header_len` bytes (from
/// `encoded_len`, which has checked every length written here).
pub(super) fn write(out: &mut BytesMut, body_len: u32, header: &Header, header_len: usize) {
    let words = u16::try_from(header_len / 4).unwrap_or(u16::MAX);
    write_fixed(out, body_len, MAGIC, header.flags, header.seq_id, words);
    let start = out.len();
    write_varint32(out, header.protocol as u32);
    write_varint32(out, 0);
    let md = &header.metadata;
    if !md.strings.is_empty() {
        write_varint32(out, INFO_KEY_VALUE);
        write_varint32(out, md.strings.len() as u32);
        for (key, value) in &md.strings {
            write_varint32(out, key.len() as u32);
            out.put_slice(key.as_bytes());
            write_varint32(out, value.len() as u32);
            out.put_slice(value);
        }
    }
    let written = out.len() - start;
    out.put_bytes(0, header_len.saturating_sub(written));
}
