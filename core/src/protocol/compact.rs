//! The Thrift Compact protocol: zigzag varints, field-id deltas (saved and restored around
//! nested structs), bools packed into field headers, little-endian doubles, short
//! collection headers and UUIDs.

use bytes::Bytes;

use super::varint::{
    read_varint32, read_varint64, unzigzag32, unzigzag64, write_varint32, write_varint64, zigzag32,
    zigzag64,
};
use super::writer::{wire_len, WriteDepth};
use super::{
    DecodeError, DecodeLimits, DecodeResult, EncodeResult, ErrorKind, FieldHeader, Input,
    ListHeader, MapHeader, MessageHeader, MessageType, ProtocolReader, ProtocolWriter, Sink, TType,
};

const PROTOCOL_ID: u8 = 0x82;
const VERSION: u8 = 1;
const VERSION_MASK: u8 = 0x1F;
const TYPE_SHIFT: u8 = 5;

const CT_BOOL_TRUE: u8 = 1;
const CT_BOOL_FALSE: u8 = 2;

/// Compact's type id for a Binary type id.
fn compact_type(ttype: TType) -> u8 {
    match ttype {
        TType::Stop | TType::Void => 0,
        TType::Bool => CT_BOOL_TRUE,
        TType::Byte => 3,
        TType::I16 => 4,
        TType::I32 => 5,
        TType::I64 => 6,
        TType::Double => 7,
        TType::Binary => 8,
        TType::List => 9,
        TType::Set => 10,
        TType::Map => 11,
        TType::Struct => 12,
        TType::Uuid => 13,
    }
}

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
pub(crate) fn min_size(ttype: TType) -> usize {
    match ttype {
        TType::Stop | TType::Void => 0,
        TType::Double => 8,
        TType::Uuid => 16,
        _ => 1,
    }
}

/// Nested structs tracked without a heap allocation: real messages rarely nest deeper,
/// and a small array keeps creating a reader or writer cheap.
const INLINE_FIELD_IDS: usize = 16;

/// The last field id of each open struct: a fixed stack for the usual depth, spilling to
/// the heap only for inputs whose limits allow deeper nesting.
#[derive(Debug, Clone)]
struct FieldIdStack {
    inline: [i16; INLINE_FIELD_IDS],
    spill: Vec<i16>,
    len: usize,
}

impl FieldIdStack {
    fn new() -> Self {
        Self {
            inline: [0; INLINE_FIELD_IDS],
            spill: Vec::new(),
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, id: i16) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = id,
            None => self.spill.push(id),
        }
        self.len += 1;
    }

    #[inline]
    fn pop(&mut self) -> i16 {
        if self.len == 0 {
            return 0;
        }
        self.len -= 1;
        match self.inline.get(self.len) {
            Some(&id) => id,
            None => self.spill.pop().unwrap_or(0),
        }
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

/// A Compact writer into any `Sink`.
#[derive(Debug)]
pub struct CompactWriter<S> {
    sink: S,
    last_field_id: i16,
    stack: FieldIdStack,
    depth: WriteDepth,
    pending_bool_field: Option<i16>,
}

impl<S: Sink> CompactWriter<S> {
    pub fn new(sink: S) -> Self {
        Self {
            sink,
            last_field_id: 0,
            stack: FieldIdStack::new(),
            depth: WriteDepth::default(),
            pending_bool_field: None,
        }
    }

    pub fn into_inner(self) -> S {
        self.sink
    }

    #[inline]
    fn field_header(&mut self, type_id: u8, id: i16) {
        match id.checked_sub(self.last_field_id) {
            Some(delta @ 1..=15) => {
                self.sink.put_u8(((delta as u8) << 4) | type_id);
            }
            _ => {
                self.sink.put_u8(type_id);
                write_varint32(&mut self.sink, zigzag32(i32::from(id)));
            }
        }
        self.last_field_id = id;
    }

    fn collection_begin(&mut self, what: &'static str, elem: TType, len: usize) -> EncodeResult {
        self.depth.enter()?;
        let len32 = wire_len(what, len)?;
        let elem = compact_type(elem);
        if len32 < 15 {
            self.sink.put_u8(((len32 as u8) << 4) | elem);
        } else {
            self.sink.put_u8(0xF0 | elem);
            write_varint32(&mut self.sink, len32 as u32);
        }
        Ok(())
    }

    #[inline]
    fn length(&mut self, what: &'static str, len: usize) -> EncodeResult {
        let len32 = wire_len(what, len)?;
        write_varint32(&mut self.sink, len32 as u32);
        Ok(())
    }
}

impl<S: Sink> ProtocolWriter for CompactWriter<S> {
    fn write_encoded_struct(&mut self, bytes: &[u8]) -> EncodeResult {
        self.sink.put_slice(bytes);
        Ok(())
    }

    fn write_message_begin(&mut self, header: &MessageHeader<&str>) -> EncodeResult {
        self.sink.put_u8(PROTOCOL_ID);
        self.sink
            .put_u8(VERSION | ((header.kind as u8) << TYPE_SHIFT));
        write_varint32(&mut self.sink, header.seq_id as u32);
        self.write_string(header.name)
    }

    fn write_message_end(&mut self) -> EncodeResult {
        Ok(())
    }

    #[inline]
    fn write_struct_begin(&mut self) -> EncodeResult {
        self.depth.enter()?;
        self.stack.push(self.last_field_id);
        self.last_field_id = 0;
        Ok(())
    }

    #[inline]
    fn write_struct_end(&mut self) -> EncodeResult {
        self.last_field_id = self.stack.pop();
        self.depth.leave()
    }

    #[inline]
    fn write_field_begin(&mut self, header: FieldHeader) -> EncodeResult {
        if header.ttype == TType::Bool {
            self.pending_bool_field = Some(header.id);
        } else {
            self.field_header(compact_type(header.ttype), header.id);
        }
        Ok(())
    }

    #[inline]
    fn write_field_end(&mut self) -> EncodeResult {
        Ok(())
    }

    #[inline]
    fn write_field_stop(&mut self) -> EncodeResult {
        self.sink.put_u8(0);
        Ok(())
    }

    fn write_list_begin(&mut self, header: ListHeader) -> EncodeResult {
        self.collection_begin("list", header.elem, header.len)
    }

    fn write_list_end(&mut self) -> EncodeResult {
        self.depth.leave()
    }

    fn write_set_begin(&mut self, header: ListHeader) -> EncodeResult {
        self.collection_begin("set", header.elem, header.len)
    }

    fn write_set_end(&mut self) -> EncodeResult {
        self.depth.leave()
    }

    fn write_map_begin(&mut self, header: MapHeader) -> EncodeResult {
        self.depth.enter()?;
        self.length("map", header.len)?;
        if header.len > 0 {
            self.sink
                .put_u8((compact_type(header.key) << 4) | compact_type(header.value));
        }
        Ok(())
    }

    fn write_map_end(&mut self) -> EncodeResult {
        self.depth.leave()
    }

    #[inline]
    fn write_bool(&mut self, value: bool) -> EncodeResult {
        let type_id = if value { CT_BOOL_TRUE } else { CT_BOOL_FALSE };
        match self.pending_bool_field.take() {
            Some(id) => self.field_header(type_id, id),
            None => self.sink.put_u8(type_id),
        }
        Ok(())
    }

    #[inline]
    fn write_byte(&mut self, value: i8) -> EncodeResult {
        self.sink.put_u8(value as u8);
        Ok(())
    }

    #[inline]
    fn write_i16(&mut self, value: i16) -> EncodeResult {
        write_varint32(&mut self.sink, zigzag32(value.into()));
        Ok(())
    }

    #[inline]
    fn write_i32(&mut self, value: i32) -> EncodeResult {
        write_varint32(&mut self.sink, zigzag32(value));
        Ok(())
    }

    #[inline]
    fn write_i64(&mut self, value: i64) -> EncodeResult {
        write_varint64(&mut self.sink, zigzag64(value));
        Ok(())
    }

    #[inline]
    fn write_double(&mut self, value: f64) -> EncodeResult {
        self.sink.put_slice(&value.to_bits().to_le_bytes());
        Ok(())
    }

    #[inline]
    fn write_uuid(&mut self, value: &[u8; 16]) -> EncodeResult {
        self.sink.put_slice(value);
        Ok(())
    }

    #[inline]
    fn write_binary(&mut self, value: &[u8]) -> EncodeResult {
        self.length("binary", value.len())?;
        self.sink.put_slice(value);
        Ok(())
    }
}
