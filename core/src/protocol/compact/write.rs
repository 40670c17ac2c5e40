//! `CompactWriter`: zigzag varints, field-id deltas and bools folded into field headers.

use super::{FieldIdStack, CT_BOOL_FALSE, CT_BOOL_TRUE, PROTOCOL_ID, TYPE_SHIFT, VERSION};
use crate::protocol::varint::{write_varint32, write_varint64, zigzag32, zigzag64};
use crate::protocol::writer::{wire_len, WriteDepth};
use crate::protocol::{
    EncodeResult, FieldHeader, ListHeader, MapHeader, MessageHeader, ProtocolWriter, Sink, TType,
};

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
