//! Kitex TTHeader (magic `0x1000`): decoding and sizing/writing of the header.
//!
//! Layout (big-endian): `length u32 | 0x1000 u16 | flags u16 | seq id i32 |
//! header size u16 (4-byte words) | protocol id u8 | transform count u8 | transform ids u8.. |
//! info blocks.. | zero padding to 4 bytes`, then the payload. Info blocks:
//! `0x01` string key/values (`count u16`, then `len u16 key len u16 value` pairs),
//! `0x10` int key/values (`count u16`, then `key u16 len u16 value`), `0x11` ACL token
//! (`len u16 token`), and `0x00` padding. As Kitex does, a padding byte is skipped and
//! parsing continues with the next byte, so trailing zeros end the header and any other
//! id is `UnknownInfoId`.
//!
//! Sizes: decoding accepts any header the 16-bit word count can express (current Kitex's
//! `MaxHeaderSize` is 4 x 65535); encoding stays within 64 KiB, the limit of older Kitex
//! releases, so every Kitex version accepts what faultline writes. Blocks are written in
//! Kitex's order: ACL token, string key/values, int key/values, padding.
//!
//! Transforms: Kitex reads transform ids and ignores them; faultline refuses any with
//! `UnknownTransform`, since it cannot know what a transform did to the payload.
//!
//! Protocol ids: 0 (Binary) and 2 (Compact) are accepted. Kitex itself speaks Binary
//! (and its own Protobuf, id 3/4) in TTHeader and refuses Compact; faultline accepts
//! Compact because `ProtocolId` has it, and refuses Protobuf with `UnknownProtocol`.

use bytes::{BufMut, Bytes, BytesMut};

use super::fixed::{decode_header, write_fixed};
use super::{Header, Metadata};
use crate::protocol::{
    DecodeError, DecodeLimits, DecodeResult, EncodeError, EncodeResult, ErrorKind, Input,
    ProtocolId,
};

pub(super) const MAGIC: u16 = 0x1000;
/// The largest variable header encoding writes: older Kitex's `MaxHeaderSize`.
const MAX_WRITE_HEADER_LEN: usize = 65536;

const INFO_PADDING: u8 = 0x00;
const INFO_KEY_VALUE: u8 = 0x01;
const INFO_INT_KEY_VALUE: u8 = 0x10;
const INFO_ACL_TOKEN: u8 = 0x11;

/// Decodes the header of the complete TTHeader frame `frame` (from its length field to its
/// last byte). `owner`, when given, is the `Bytes` that `frame` starts; metadata values are
/// then zero-copy slices of it. Returns the header and the payload's absolute offset.
pub(super) fn decode(
    frame: &[u8],
    owner: Option<&Bytes>,
    limits: &DecodeLimits,
) -> DecodeResult<(Header, usize)> {
    decode_header(
        frame,
        owner,
        limits,
        "TTHeader fixed fields within the frame",
        decode_variable,
    )
}

fn decode_variable(input: &mut Input<'_>) -> DecodeResult<(ProtocolId, Metadata)> {
    let at = input.offset();
    let id = input.u8("TTHeader protocol id")?;
    let protocol = ProtocolId::from_id(u32::from(id)).ok_or_else(|| {
        DecodeError::new(
            ErrorKind::UnknownProtocol(u32::from(id)),
            at,
            "TTHeader protocol id 0 (binary) or 2 (compact)",
        )
    })?;
    let transforms = input.u8("TTHeader transform count")?;
    if transforms > 0 {
        let at = input.offset();
        let id = input.u8("TTHeader transform id")?;
        return Err(DecodeError::new(
            ErrorKind::UnknownTransform(u32::from(id)),
            at,
            "no transform (faultline implements none)",
        ));
    }
    let mut metadata = Metadata::default();
    while input.remaining() > 0 {
        let at = input.offset();
        match input.u8("TTHeader info id")? {
            INFO_PADDING => {}
            INFO_KEY_VALUE => read_string_kvs(input, &mut metadata)?,
            INFO_INT_KEY_VALUE => read_int_kvs(input, &mut metadata)?,
            INFO_ACL_TOKEN => {
                metadata.acl_token = Some(read_string(input, "TTHeader ACL token")?);
            }
            other => {
                return Err(DecodeError::new(
                    ErrorKind::UnknownInfoId(other),
                    at,
                    "TTHeader info id 0x00, 0x01, 0x10 or 0x11",
                ))
            }
        }
    }
    Ok((protocol, metadata))
}

fn read_u16(input: &mut Input<'_>, expected: &'static str) -> DecodeResult<u16> {
    input.take_array::<2>(expected).map(u16::from_be_bytes)
}

/// A `u16`-length-prefixed byte string, bounded by `max_string`.
fn read_string(input: &mut Input<'_>, expected: &'static str) -> DecodeResult<Bytes> {
    let start = input.offset();
    let len = read_u16(input, expected)?;
    let len = input.check_string_len(i64::from(len), start, expected)?;
    input.take_bytes(len, expected)
}

fn read_string_kvs(input: &mut Input<'_>, metadata: &mut Metadata) -> DecodeResult<()> {
    let count = read_u16(input, "TTHeader string key/value count")?;
    for _ in 0..count {
        let key_at = input.offset();
        let key = read_string(input, "TTHeader string key")?;
        let key = std::str::from_utf8(&key).map_err(|_| {
            DecodeError::new(ErrorKind::InvalidUtf8, key_at, "UTF-8 TTHeader string key")
        })?;
        let value = read_string(input, "TTHeader string value")?;
        metadata.strings.insert(key.to_owned(), value);
    }
    Ok(())
}

fn read_int_kvs(input: &mut Input<'_>, metadata: &mut Metadata) -> DecodeResult<()> {
    let count = read_u16(input, "TTHeader int key/value count")?;
    for _ in 0..count {
        let key = read_u16(input, "TTHeader int key")?;
        let value = read_string(input, "TTHeader int key value")?;
        metadata.int.insert(key, value);
    }
    Ok(())
}

fn u16_len(len: usize, what: &'static str) -> EncodeResult<u16> {
    u16::try_from(len).map_err(|_| EncodeError::TooLong { what, len })
}

/// The exact size of the variable header including padding, after checking that every
/// count and length fits its `u16` and the whole fits older Kitex's 64 KiB.
pub(super) fn encoded_len(header: &Header) -> EncodeResult<usize> {
    if !header.transforms.is_empty() {
        return Err(EncodeError::Invalid(
            "TTHeader transforms are not implemented by faultline",
        ));
    }
    let md = &header.metadata;
    let mut len = 2usize; // protocol id, transform count
    if !md.strings.is_empty() {
        u16_len(md.strings.len(), "TTHeader string key/value count")?;
        len += 3;
        for (key, value) in &md.strings {
            u16_len(key.len(), "TTHeader string key")?;
            u16_len(value.len(), "TTHeader string value")?;
            len = len.saturating_add(4 + key.len() + value.len());
        }
    }
    if !md.int.is_empty() {
        u16_len(md.int.len(), "TTHeader int key/value count")?;
        len += 3;
        for value in md.int.values() {
            u16_len(value.len(), "TTHeader int key value")?;
            len = len.saturating_add(4 + value.len());
        }
    }
    if let Some(token) = &md.acl_token {
        u16_len(token.len(), "TTHeader ACL token")?;
        len = len.saturating_add(3 + token.len());
    }
    let padded = len.saturating_add(3) & !3;
    if padded > MAX_WRITE_HEADER_LEN {
        return Err(EncodeError::TooLong {
            what: "TTHeader header (older Kitex accepts at most 64 KiB)",
            len: padded,
        });
    }
    Ok(padded)
}

/// Writes the fixed fields and the variable header of `header_len` bytes (from
/// `encoded_len`, which has checked every length written here).
pub(super) fn write(out: &mut BytesMut, body_len: u32, header: &Header, header_len: usize) {
    // header_len <= MAX_WRITE_HEADER_LEN, so the word count fits u16.
    let words = u16::try_from(header_len / 4).unwrap_or(u16::MAX);
    write_fixed(out, body_len, MAGIC, header.flags, header.seq_id, words);
    let start = out.len();
    out.put_u8(header.protocol as u8);
    out.put_u8(0);
    let md = &header.metadata;
    let put_str = |out: &mut BytesMut, bytes: &[u8]| {
        out.put_u16(bytes.len() as u16);
        out.put_slice(bytes);
    };
    if let Some(token) = &md.acl_token {
        out.put_u8(INFO_ACL_TOKEN);
        put_str(out, token);
    }
    if !md.strings.is_empty() {
        out.put_u8(INFO_KEY_VALUE);
        out.put_u16(md.strings.len() as u16);
        for (key, value) in &md.strings {
            put_str(out, key.as_bytes());
            put_str(out, value);
        }
    }
    if !md.int.is_empty() {
        out.put_u8(INFO_INT_KEY_VALUE);
        out.put_u16(md.int.len() as u16);
        for (&key, value) in &md.int {
            out.put_u16(key);
            put_str(out, value);
        }
    }
    let written = out.len() - start;
    out.put_bytes(INFO_PADDING, header_len.saturating_sub(written));
}
