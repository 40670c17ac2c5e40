//! `CompactReader`: field-id deltas, bools packed into field headers and short collection
//! headers, every value bounded by the input's `DecodeLimits`.

use bytes::Bytes;

use super::{FieldIdStack, CT_BOOL_FALSE, CT_BOOL_TRUE, PROTOCOL_ID, TYPE_SHIFT, VERSION};
use crate::protocol::varint::{read_varint32, read_varint64, unzigzag32, unzigzag64};
use crate::protocol::{
    DecodeError, DecodeLimits, DecodeResult, ErrorKind, FieldHeader, Input, ListHeader, MapHeader,
    MessageHeader, MessageType, ProtocolReader, TType,
};

const VERSION_MASK: u8 = 0x1F;

/// The Thrift type of a Compact type id (1 and 2 are both bool); 0 (stop) is not a value.
fn value_type(id: u8) -> Option<TType> {
    Some(match id {
        CT_BOOL_TRUE | CT_BOOL_FALSE => TType::Bool,
        3 => TType::Byte,
        4 => TType::I16,
        5 => TType::I32,
        6 => TType::I64,
        7 => TType::Double,
        8 => TType::Binary,
        9 => TType::List,
        10 => TType::Set,
        11 => TType::Map,
        12 => TType::Struct,
        13 => TType::Uuid,
        _ => return None,
    })
}

/// The value type of Compact type id `id`, or `InvalidType` at offset `start`.
fn element_type(id: u8, start: usize, expected: &'static str) -> DecodeResult<TType> {
    value_type(id).ok_or_else(|| DecodeError::new(ErrorKind::InvalidType(id), start, expected))
}

/// The fewest bytes one value of `ttype` takes in Compact.
fn min_size(ttype: TType) -> usize {
    match ttype {
        TType::Stop | TType::Void => 0,
        TType::Double => 8,
        TType::Uuid => 16,
        _ => 1,
    }
}

/// A Compact reader over a bounded input.
#[derive(Debug, Clone)]
pub struct CompactReader<'a> {
    input: Input<'a>,
    last_field_id: i16,
    stack: FieldIdStack,
    pending_bool: Option<bool>,
}

impl<'a> CompactReader<'a> {
    pub fn new(input: Input<'a>) -> Self {
        Self {
            input,
            last_field_id: 0,
            stack: FieldIdStack::new(),
            pending_bool: None,
        }
    }

    /// A reader over `buf` with absolute offsets starting at 0.
    pub fn from_slice(buf: &'a [u8], limits: DecodeLimits) -> Self {
        Self::new(Input::new(buf, 0, limits))
    }

    fn list_like(&mut self, expected: &'static str) -> DecodeResult<ListHeader> {
        self.input.enter(expected)?;
        let start = self.input.offset();
        let header = self.input.u8(expected)?;
        let elem = element_type(header & 0x0F, start, expected)?;
        let short_len = header >> 4;
        let len = if short_len == 15 {
            i64::from(read_varint32(&mut self.input, expected)? as i32)
        } else {
            i64::from(short_len)
        };
        let len = self
            .input
            .check_container_len(len, min_size(elem), start, expected)?;
        Ok(ListHeader { elem, len })
    }

    #[inline]
    fn length(&mut self, expected: &'static str) -> DecodeResult<usize> {
        let start = self.input.offset();
        let len = read_varint32(&mut self.input, expected)? as i32;
        self.input.check_string_len(len.into(), start, expected)
    }
}

impl<'a> ProtocolReader<'a> for CompactReader<'a> {
    fn read_message_begin(&mut self) -> DecodeResult<MessageHeader<&'a str>> {
        const WHAT: &str = "compact message header";
        let start = self.input.offset();
        let protocol = self.input.u8(WHAT)?;
        if protocol != PROTOCOL_ID {
            return Err(DecodeError::new(
                ErrorKind::BadVersion(protocol.into()),
                start,
                WHAT,
            ));
        }
        let version_and_type = self.input.u8(WHAT)?;
        if version_and_type & VERSION_MASK != VERSION {
            return Err(DecodeError::new(
                ErrorKind::BadVersion(version_and_type.into()),
                start,
                WHAT,
            ));
        }
        let kind_id = version_and_type >> TYPE_SHIFT;
        let kind = MessageType::from_id(kind_id)
            .ok_or_else(|| DecodeError::new(ErrorKind::InvalidMessageType(kind_id), start, WHAT))?;
        let seq_id = read_varint32(&mut self.input, WHAT)? as i32;
        let name = self.read_string()?;
        Ok(MessageHeader { name, kind, seq_id })
    }

    fn read_message_end(&mut self) -> DecodeResult<()> {
        Ok(())
    }

    #[inline]
    fn read_struct_begin(&mut self) -> DecodeResult<()> {
        self.input.enter("struct")?;
        self.stack.push(self.last_field_id);
        self.last_field_id = 0;
        Ok(())
    }

    #[inline]
    fn read_struct_end(&mut self) -> DecodeResult<()> {
        self.input.leave();
        self.last_field_id = self.stack.pop();
        Ok(())
    }

    #[inline]
    fn read_field_begin(&mut self) -> DecodeResult<FieldHeader> {
        const WHAT: &str = "field header";
        let start = self.input.offset();
        let header = self.input.u8(WHAT)?;
        let type_id = header & 0x0F;
        if type_id == 0 {
            return Ok(FieldHeader {
                ttype: TType::Stop,
                id: 0,
            });
        }
        let ttype = element_type(type_id, start, WHAT)?;
        let delta = header >> 4;
        let id = if delta == 0 {
            let raw = unzigzag32(read_varint32(&mut self.input, WHAT)?);
            i16::try_from(raw)
                .map_err(|_| DecodeError::new(ErrorKind::FieldIdOverflow, start, WHAT))?
        } else {
            self.last_field_id
                .checked_add(i16::from(delta))
                .ok_or_else(|| DecodeError::new(ErrorKind::FieldIdOverflow, start, WHAT))?
        };
        self.last_field_id = id;
        if ttype == TType::Bool {
            self.pending_bool = Some(type_id == CT_BOOL_TRUE);
        }
        Ok(FieldHeader { ttype, id })
    }

    #[inline]
    fn read_field_end(&mut self) -> DecodeResult<()> {
        self.pending_bool = None;
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
        let len = i64::from(read_varint32(&mut self.input, WHAT)? as i32);
        if len == 0 {
            return Ok(MapHeader {
                key: TType::Void,
                value: TType::Void,
                len: 0,
            });
        }
        let types_at = self.input.offset();
        let types = self.input.u8(WHAT)?;
        let key = element_type(types >> 4, types_at, WHAT)?;
        let value = element_type(types & 0x0F, types_at, WHAT)?;
        let len =
            self.input
                .check_container_len(len, min_size(key) + min_size(value), start, WHAT)?;
        Ok(MapHeader { key, value, len })
    }

    fn read_map_end(&mut self) -> DecodeResult<()> {
        self.input.leave();
        Ok(())
    }

    #[inline]
    fn read_bool(&mut self) -> DecodeResult<bool> {
        if let Some(value) = self.pending_bool.take() {
            return Ok(value);
        }
        let start = self.input.offset();
        // 0x00 is the old specification's false; the spec asks readers to accept it.
        match self.input.u8("bool")? {
            CT_BOOL_TRUE => Ok(true),
            CT_BOOL_FALSE | 0 => Ok(false),
            other => Err(DecodeError::new(
                ErrorKind::InvalidBool(other),
                start,
                "bool",
            )),
        }
    }

    #[inline]
    fn read_byte(&mut self) -> DecodeResult<i8> {
        Ok(self.input.u8("byte")? as i8)
    }

    #[inline]
    fn read_i16(&mut self) -> DecodeResult<i16> {
        let start = self.input.offset();
        let raw = unzigzag32(read_varint32(&mut self.input, "i16")?);
        i16::try_from(raw).map_err(|_| DecodeError::new(ErrorKind::VarintTooLong, start, "i16"))
    }

    #[inline]
    fn read_i32(&mut self) -> DecodeResult<i32> {
        Ok(unzigzag32(read_varint32(&mut self.input, "i32")?))
    }

    #[inline]
    fn read_i64(&mut self) -> DecodeResult<i64> {
        Ok(unzigzag64(read_varint64(&mut self.input, "i64")?))
    }

    #[inline]
    fn read_double(&mut self) -> DecodeResult<f64> {
        Ok(f64::from_bits(u64::from_le_bytes(
            self.input.take_array("double")?,
        )))
    }

    #[inline]
    fn read_uuid(&mut self) -> DecodeResult<[u8; 16]> {
        self.input.take_array("uuid")
    }

    #[inline]
    fn read_binary(&mut self) -> DecodeResult<&'a [u8]> {
        let len = self.length("binary")?;
        self.input.take(len, "binary")
    }

    #[inline]
    fn read_bytes(&mut self) -> DecodeResult<Bytes> {
        let len = self.length("binary")?;
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
