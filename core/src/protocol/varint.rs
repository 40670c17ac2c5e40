//! ULEB128 varints and zigzag, as Thrift Compact and Apache THeader use them: at most 5
//! bytes for 32-bit values and 10 for 64-bit ones; overlong or overflowing input is an error.

use super::{DecodeError, DecodeResult, ErrorKind, Input, Sink};

/// Reads an unsigned 32-bit varint (at most 5 bytes, no bits beyond 32).
#[inline]
pub fn read_varint32(input: &mut Input<'_>, expected: &'static str) -> DecodeResult<u32> {
    // The 5th byte may carry 4 value bits and no continuation: 0xF0 must be clear.
    read_uleb128(input, 5, 0xF0, expected).map(|v| v as u32)
}

/// Reads an unsigned 64-bit varint (at most 10 bytes, no bits beyond 64).
#[inline]
pub fn read_varint64(input: &mut Input<'_>, expected: &'static str) -> DecodeResult<u64> {
    // The 10th byte may carry 1 value bit and no continuation: 0xFE must be clear.
    read_uleb128(input, 10, 0xFE, expected)
}

/// ULEB128 of at most `max_len` bytes whose last byte has no bit of `last_mask` set.
#[inline]
fn read_uleb128(
    input: &mut Input<'_>,
    max_len: usize,
    last_mask: u8,
    expected: &'static str,
) -> DecodeResult<u64> {
    if let Some(byte) = input.peek().filter(|b| b & 0x80 == 0) {
        input.u8(expected)?;
        return Ok(byte.into());
    }
    let start = input.offset();
    let mut result: u64 = 0;
    for i in 0..max_len {
        let byte = input.u8(expected)?;
        if i + 1 == max_len && byte & last_mask != 0 {
            break;
        }
        result |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(result);
        }
    }
    Err(DecodeError::new(ErrorKind::VarintTooLong, start, expected))
}

#[inline]
pub fn write_varint32<S: Sink>(sink: &mut S, value: u32) {
    write_varint64(sink, value.into());
}

#[inline]
pub fn write_varint64<S: Sink>(sink: &mut S, mut value: u64) {
    let mut buf = [0u8; 10];
    let mut n = 0;
    while value >= 0x80 {
        buf[n] = (value as u8) | 0x80;
        value >>= 7;
        n += 1;
    }
    buf[n] = value as u8;
    sink.put_slice(&buf[..=n]);
}

/// Bytes a 32-bit varint of `value` takes.
#[inline]
pub fn varint32_len(value: u32) -> usize {
    match value {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0xFFF_FFFF => 4,
        _ => 5,
    }
}

#[inline]
pub fn zigzag32(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

#[inline]
pub fn unzigzag32(n: u32) -> i32 {
    ((n >> 1) as i32) ^ -((n & 1) as i32)
}

#[inline]
pub fn zigzag64(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

#[inline]
pub fn unzigzag64(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::DecodeLimits;

    fn read32(bytes: &[u8]) -> DecodeResult<u32> {
        read_varint32(&mut Input::new(bytes, 0, DecodeLimits::default()), "varint")
    }

    fn read64(bytes: &[u8]) -> DecodeResult<u64> {
        read_varint64(&mut Input::new(bytes, 0, DecodeLimits::default()), "varint")
    }

    #[test]
    fn round_trips_edges() {
        for v in [0u32, 1, 127, 128, 16383, 16384, u32::MAX] {
            let mut out = Vec::new();
            write_varint32(&mut out, v);
            assert_eq!(out.len(), varint32_len(v));
            assert_eq!(read32(&out).unwrap(), v);
        }
        for v in [0u64, 1, 127, 128, u64::from(u32::MAX) + 1, u64::MAX] {
            let mut out = Vec::new();
            write_varint64(&mut out, v);
            assert_eq!(read64(&out).unwrap(), v);
        }
        for v in [0i32, -1, 1, i32::MIN, i32::MAX] {
            assert_eq!(unzigzag32(zigzag32(v)), v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag64(zigzag64(v)), v);
        }
    }

    #[test]
    fn rejects_overlong_and_overflowing() {
        assert_eq!(
            read32(&[0xFF, 0xFF, 0xFF, 0xFF, 0x1F]).unwrap_err().kind,
            ErrorKind::VarintTooLong
        );
        assert_eq!(
            read32(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00])
                .unwrap_err()
                .kind,
            ErrorKind::VarintTooLong
        );
        assert_eq!(
            read64(&[0xFF; 9].iter().copied().chain([0x02]).collect::<Vec<_>>())
                .unwrap_err()
                .kind,
            ErrorKind::VarintTooLong
        );
        assert_eq!(
            read64(&[0x80; 11]).unwrap_err().kind,
            ErrorKind::VarintTooLong
        );
        assert!(read32(&[0x80, 0x80]).unwrap_err().is_eof());
    }
}
