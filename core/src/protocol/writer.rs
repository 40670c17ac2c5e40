//! `ProtocolWriter` and `Sink`: the encoding interface both Thrift protocols implement.
//!
//! A writer puts bytes into a `Sink`. The same writer run over a `SizeCounter` measures the
//! exact encoded size, so an encoder sizes its output first and then writes once into a
//! buffer of exactly that capacity, with one code path for both.

use bytes::{BufMut, BytesMut};

use super::{
    EncodeError, EncodeResult, FieldHeader, ListHeader, MapHeader, MessageHeader, MAX_WRITE_DEPTH,
};

/// Where a writer's bytes go.
pub trait Sink {
    fn put_slice(&mut self, bytes: &[u8]);
    fn put_u8(&mut self, byte: u8);
}

impl<S: Sink + ?Sized> Sink for &mut S {
    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        (**self).put_slice(bytes);
    }
    #[inline]
    fn put_u8(&mut self, byte: u8) {
        (**self).put_u8(byte);
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    #[inline]
    fn put_u8(&mut self, byte: u8) {
        self.push(byte);
    }
}

impl Sink for BytesMut {
    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        BufMut::put_slice(self, bytes);
    }
    #[inline]
    fn put_u8(&mut self, byte: u8) {
        BufMut::put_u8(self, byte);
    }
}

/// A sink that only counts: the exact size an encoding would take.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SizeCounter(pub usize);

impl Sink for SizeCounter {
    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
    #[inline]
    fn put_u8(&mut self, _byte: u8) {
        self.0 += 1;
    }
}

pub trait ProtocolWriter {
    fn write_message_begin(&mut self, header: &MessageHeader<&str>) -> EncodeResult;
    fn write_message_end(&mut self) -> EncodeResult;

    /// Enters a struct; fails past the writer's nesting limit.
    fn write_struct_begin(&mut self) -> EncodeResult;
    fn write_struct_end(&mut self) -> EncodeResult;
    fn write_field_begin(&mut self, header: FieldHeader) -> EncodeResult;
    fn write_field_end(&mut self) -> EncodeResult;
    fn write_field_stop(&mut self) -> EncodeResult;

    fn write_list_begin(&mut self, header: ListHeader) -> EncodeResult;
    fn write_list_end(&mut self) -> EncodeResult;
    fn write_set_begin(&mut self, header: ListHeader) -> EncodeResult;
    fn write_set_end(&mut self) -> EncodeResult;
    fn write_map_begin(&mut self, header: MapHeader) -> EncodeResult;
    fn write_map_end(&mut self) -> EncodeResult;

    fn write_bool(&mut self, value: bool) -> EncodeResult;
    fn write_byte(&mut self, value: i8) -> EncodeResult;
    fn write_i16(&mut self, value: i16) -> EncodeResult;
    fn write_i32(&mut self, value: i32) -> EncodeResult;
    fn write_i64(&mut self, value: i64) -> EncodeResult;
    fn write_double(&mut self, value: f64) -> EncodeResult;
    fn write_uuid(&mut self, value: &[u8; 16]) -> EncodeResult;
    fn write_binary(&mut self, value: &[u8]) -> EncodeResult;
    fn write_string(&mut self, value: &str) -> EncodeResult {
        self.write_binary(value.as_bytes())
    }

    /// Writes `bytes`, one whole struct already encoded in this writer's protocol, as they
    /// are (a client resends pre-encoded args this way). The caller vouches for the bytes.
    fn write_encoded_struct(&mut self, bytes: &[u8]) -> EncodeResult;
}

/// A writer's nesting depth, bounded by `MAX_WRITE_DEPTH` so that faultline never writes
/// what its own readers would refuse.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WriteDepth(usize);

impl WriteDepth {
    /// Enters a struct or container.
    #[inline]
    pub(crate) fn enter(&mut self) -> EncodeResult {
        if self.0 >= MAX_WRITE_DEPTH {
            return Err(EncodeError::DepthExceeded {
                limit: MAX_WRITE_DEPTH,
            });
        }
        self.0 += 1;
        Ok(())
    }

    /// Leaves a struct or container.
    #[inline]
    pub(crate) fn leave(&mut self) -> EncodeResult {
        self.0 = self.0.saturating_sub(1);
        Ok(())
    }
}

/// `len` as the i32 the wire carries for string, binary and container lengths.
#[inline]
pub(crate) fn wire_len(what: &'static str, len: usize) -> EncodeResult<i32> {
    i32::try_from(len).map_err(|_| EncodeError::TooLong { what, len })
}
