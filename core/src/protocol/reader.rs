//! `ProtocolReader`: the decoding interface both Thrift protocols implement.
//!
//! Readers work on a borrowed byte slice and never allocate by themselves: strings and
//! binaries come back as slices of the input. Every length, count and nesting level is
//! checked against `DecodeLimits` inside the reader, so typed decode, `Value` decode and
//! `skip` share one depth budget and one set of checks.

use bytes::Bytes;

use super::{DecodeError, DecodeLimits, DecodeResult, ErrorKind, FieldHeader, ListHeader};
use super::{MapHeader, MessageHeader};

pub trait ProtocolReader<'a> {
    /// Reads a message envelope; the name borrows from the input.
    fn read_message_begin(&mut self) -> DecodeResult<MessageHeader<&'a str>>;
    fn read_message_end(&mut self) -> DecodeResult<()>;

    /// Enters a struct (counts one nesting level).
    fn read_struct_begin(&mut self) -> DecodeResult<()>;
    /// Leaves a struct (releases one nesting level).
    fn read_struct_end(&mut self) -> DecodeResult<()>;
    /// Reads the next field header; `TType::Stop` ends the struct.
    fn read_field_begin(&mut self) -> DecodeResult<FieldHeader>;
    fn read_field_end(&mut self) -> DecodeResult<()>;

    /// Enters a list; the count is checked against limits and the remaining input.
    fn read_list_begin(&mut self) -> DecodeResult<ListHeader>;
    fn read_list_end(&mut self) -> DecodeResult<()>;
    fn read_set_begin(&mut self) -> DecodeResult<ListHeader>;
    fn read_set_end(&mut self) -> DecodeResult<()>;
    /// Enters a map. For an empty map Compact carries no types: both come back `TType::Void`.
    fn read_map_begin(&mut self) -> DecodeResult<MapHeader>;
    fn read_map_end(&mut self) -> DecodeResult<()>;

    fn read_bool(&mut self) -> DecodeResult<bool>;
    fn read_byte(&mut self) -> DecodeResult<i8>;
    fn read_i16(&mut self) -> DecodeResult<i16>;
    fn read_i32(&mut self) -> DecodeResult<i32>;
    fn read_i64(&mut self) -> DecodeResult<i64>;
    fn read_double(&mut self) -> DecodeResult<f64>;
    fn read_uuid(&mut self) -> DecodeResult<[u8; 16]>;
    /// Reads a binary; the slice borrows from the input.
    fn read_binary(&mut self) -> DecodeResult<&'a [u8]>;
    /// Reads a binary as `Bytes`: zero-copy when the reader was built over `Bytes`.
    fn read_bytes(&mut self) -> DecodeResult<Bytes>;

    /// The next `len * width` bytes, when this protocol writes a list of `len` fixed-width
    /// values (i16, i32, i64, double) as one big-endian run, as Binary does: a list body is
    /// then read with one bounds check. `None` when it does not (Compact's varints): the
    /// caller reads element by element.
    fn big_endian_run(&mut self, width: usize, len: usize) -> DecodeResult<Option<&'a [u8]>> {
        let _ = (width, len);
        Ok(None)
    }

    /// Reads a string and checks that it is UTF-8.
    fn read_string(&mut self) -> DecodeResult<&'a str> {
        let start = self.offset();
        let bytes = self.read_binary()?;
        std::str::from_utf8(bytes)
            .map_err(|_| DecodeError::new(ErrorKind::InvalidUtf8, start, "UTF-8 string"))
    }

    /// Absolute offset of the next byte to be read.
    fn offset(&self) -> usize;
    /// Bytes left in the input.
    fn remaining(&self) -> usize;
    fn limits(&self) -> &DecodeLimits;

    /// The deepest nesting level entered so far (feature `fuzzing`: the depth oracle).
    #[cfg(feature = "fuzzing")]
    fn depth_high_water(&self) -> usize;

    /// An error of `kind` at the current offset.
    fn error(&self, kind: ErrorKind, expected: &'static str) -> DecodeError {
        DecodeError::new(kind, self.offset(), expected)
    }
}
