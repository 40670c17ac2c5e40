//! `BinaryReader`: strict and old non-strict message headers, every value bounded by the
//! input's `DecodeLimits`.

use bytes::Bytes;

use super::VERSION_1;
use crate::protocol::{
    DecodeError, DecodeLimits, DecodeResult, ErrorKind, FieldHeader, Input, ListHeader, MapHeader,
    MessageHeader, MessageType, ProtocolReader, TType,
};

const VERSION_MASK: u32 = 0xFFFF_0000;

/// The fewest bytes one value of `ttype` takes in Binary.
fn min_size(ttype: TType) -> usize {
    match ttype {
        TType::Stop | TType::Void => 0,
        TType::Bool | TType::Byte | TType::Struct => 1,
        TType::I16 => 2,
        TType::I32 | TType::Binary => 4,
        TType::Double | TType::I64 => 8,
        TType::Set | TType::List => 5,
        TType::Map => 6,
        TType::Uuid => 16,
    }
}

/// A Binary reader over a bounded input.
#[derive(Debug, Clone)]
pub struct BinaryReader<'a> {
    input: Input<'a>,
}

impl<'a> BinaryReader<'a> {
    pub fn new(input: Input<'a>) -> Self {
        Self { input }
    }

    /// A reader over `buf` with absolute offsets starting at 0.
    pub fn from_slice(buf: &'a [u8], limits: DecodeLimits) -> Self {
        Self::new(Input::new(buf, 0, limits))
    }

    fn value_type(&mut self, expected: &'static str) -> DecodeResult<TType> {
        let start = self.input.offset();
        let id = self.input.u8(expected)?;
        match TType::from_binary_id(id) {
            Some(t) if t.is_value_type() => Ok(t),
            _ => Err(DecodeError::new(
                ErrorKind::InvalidType(id),
                start,
                expected,
            )),
        }
    }

    /// The i32 length prefix of a string or binary, checked against limits and input.
    #[inline]
    fn binary_len(&mut self) -> DecodeResult<usize> {
        let start = self.input.offset();
        let len = self.read_i32()?;
        self.input.check_string_len(len.into(), start, "binary")
    }

    fn list_like(&mut self, expected: &'static str) -> DecodeResult<ListHeader> {
        self.input.enter(expected)?;
        let start = self.input.offset();
        let elem = self.value_type(expected)?;
        let len = self.read_i32()?;
        let len = self
            .input
            .check_container_len(len.into(), min_size(elem), start, expected)?;
        Ok(ListHeader { elem, len })
    }
}

impl<'a> ProtocolReader<'a> for BinaryReader<'a> {
    fn read_message_begin(&mut self) -> DecodeResult<MessageHeader<&'a str>> {
        const WHAT: &str = "binary message header";
        let start = self.input.offset();
        let first = self.read_i32()? as u32;
        let (kind_id, name) = if first & 0x8000_0000 != 0 {
            if first & VERSION_MASK != VERSION_1 {
                return Err(DecodeError::new(ErrorKind::BadVersion(first), start, WHAT));
            }
            (first as u8, self.read_string()?)
        } else {
            let len = self.input.check_string_len(i64::from(first), start, WHAT)?;
            let name = self.input.take(len, WHAT)?;
            let name = std::str::from_utf8(name)
                .map_err(|_| DecodeError::new(ErrorKind::InvalidUtf8, start, "message name"))?;
            (self.input.u8(WHAT)?, name)
        };
        let kind = MessageType::from_id(kind_id)
            .ok_or_else(|| DecodeError::new(ErrorKind::InvalidMessageType(kind_id), start, WHAT))?;
        let seq_id = self.read_i32()?;
        Ok(MessageHeader { name, kind, seq_id })
    }

    fn read_message_end(&mut self) -> DecodeResult<()> {
        Ok(())
    }

    #[inline]
    fn read_struct_begin(&mut self) -> DecodeResult<()> {
        self.input.enter("struct")
    }

    #[inline]
    fn read_struct_end(&mut self) -> DecodeResult<()> {
        self.input.leave();
        Ok(())
    }

    #[inline]
    fn read_field_begin(&mut self) -> DecodeResult<FieldHeader> {
        const WHAT: &str = "field header";
        let start = self.input.offset();
        let id = self.input.u8(WHAT)?;
        if id == 0 {
            return Ok(FieldHeader {
                ttype: TType::Stop,
                id: 0,
            });
        }
        let ttype = match TType::from_binary_id(id) {
            Some(t) if t.is_value_type() => t,
            _ => return Err(DecodeError::new(ErrorKind::InvalidType(id), start, WHAT)),
        };
        let field_id = self.read_i16()?;
        Ok(FieldHeader {
            ttype,
            id: field_id,
        })
    }

    #[inline]
    fn read_field_end(&mut self) -> DecodeResult<()> {
        Ok(())
    }

    fn read_list_begin(&mut self) -> DecodeResult<ListHeader> {
        self.list_like("list header")
    }

    fn read_list_end(&mut self) -> DecodeResult<()> {
        self.input.leave();
        Ok(())
    }

    fn read_set_begin(&mut self) -> DecodeResult<ListHeader> {
        self.list_like("set header")
    }

    fn read_set_end(&mut self) -> DecodeResult<()> {
        self.input.leave();
        Ok(())
    }

    fn read_map_begin(&mut self) -> DecodeResult<MapHeader> {
        const WHAT: &str = "map header";
        self.input.enter(WHAT)?;
        let start = self.input.offset();
        let key = self.value_type(WHAT)?;
        let value = self.value_type(WHAT)?;
        let len = self.read_i32()?;
        let len = self.input.check_container_len(
            len.into(),
            min_size(key) + min_size(value),
            start,
            WHAT,
        )?;
        Ok(MapHeader { key, value, len })
    }

    fn read_map_end(&mut self) -> DecodeResult<()> {
        self.input.leave();
        Ok(())
    }

    #[inline]
    fn read_bool(&mut self) -> DecodeResult<bool> {
        Ok(self.input.u8("bool")? != 0)
    }

    #[inline]
    fn read_byte(&mut self) -> DecodeResult<i8> {
        Ok(self.input.u8("byte")? as i8)
    }

    #[inline]
    fn read_i16(&mut self) -> DecodeResult<i16> {
        Ok(i16::from_be_bytes(self.input.take_array("i16")?))
    }

    #[inline]
    fn read_i32(&mut self) -> DecodeResult<i32> {
        Ok(i32::from_be_bytes(self.input.take_array("i32")?))
    }

    #[inline]
    fn read_i64(&mut self) -> DecodeResult<i64> {
        Ok(i64::from_be_bytes(self.input.take_array("i64")?))
    }

    #[inline]
    fn read_double(&mut self) -> DecodeResult<f64> {
        Ok(f64::from_bits(u64::from_be_bytes(
            self.input.take_array("double")?,
        )))
    }

    #[inline]
    fn read_uuid(&mut self) -> DecodeResult<[u8; 16]> {
        self.input.take_array("uuid")
    }

    #[inline]
    fn read_binary(&mut self) -> DecodeResult<&'a [u8]> {
        let len = self.binary_len()?;
        self.input.take(len, "binary")
    }

    #[inline]
    fn big_endian_run(&mut self, width: usize, len: usize) -> DecodeResult<Option<&'a [u8]>> {
        let n = width.saturating_mul(len);
        self.input.take(n, "list elements").map(Some)
    }

    #[inline]
    fn read_bytes(&mut self) -> DecodeResult<Bytes> {
        let len = self.binary_len()?;
        self.input.take_bytes(len, "binary")
    }

    #[inline]
    fn offset(&self) -> usize {
        self.input.offset()
    }

    #[inline]
    fn remaining(&self) -> usize {
        self.input.remaining()
    }

    #[inline]
    fn limits(&self) -> &DecodeLimits {
        self.input.limits()
    }

    #[cfg(feature = "fuzzing")]
    fn depth_high_water(&self) -> usize {
        self.input.depth_high_water()
    }
}
