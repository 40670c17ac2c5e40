//! `BinaryWriter`: always the strict message header; lengths checked against `i32`.

use super::VERSION_1;
use crate::protocol::writer::{wire_len, WriteDepth};
use crate::protocol::{
    EncodeResult, FieldHeader, ListHeader, MapHeader, MessageHeader, ProtocolWriter, Sink, TType,
};

/// A Binary writer into any `Sink`.
#[derive(Debug)]
pub struct BinaryWriter<S> {
    sink: S,
    depth: WriteDepth,
}

impl<S: Sink> BinaryWriter<S> {
    pub fn new(sink: S) -> Self {
        Self {
            sink,
            depth: WriteDepth::default(),
        }
    }

    pub fn into_inner(self) -> S {
        self.sink
    }

    #[inline]
    fn length(&mut self, what: &'static str, len: usize) -> EncodeResult {
        let len = wire_len(what, len)?;
        self.write_i32(len)
    }
}

impl<S: Sink> ProtocolWriter for BinaryWriter<S> {
    fn write_encoded_struct(&mut self, bytes: &[u8]) -> EncodeResult {
        self.sink.put_slice(bytes);
        Ok(())
    }

    fn write_message_begin(&mut self, header: &MessageHeader<&str>) -> EncodeResult {
        self.write_i32((VERSION_1 | header.kind as u32) as i32)?;
        self.write_string(header.name)?;
        self.write_i32(header.seq_id)
    }

    fn write_message_end(&mut self) -> EncodeResult {
        Ok(())
    }

    #[inline]
    fn write_struct_begin(&mut self) -> EncodeResult {
        self.depth.enter()
    }

    #[inline]
    fn write_struct_end(&mut self) -> EncodeResult {
        self.depth.leave()
    }

    #[inline]
    fn write_field_begin(&mut self, header: FieldHeader) -> EncodeResult {
        self.sink.put_u8(header.ttype as u8);
        self.write_i16(header.id)
    }

    #[inline]
    fn write_field_end(&mut self) -> EncodeResult {
        Ok(())
    }

    #[inline]
    fn write_field_stop(&mut self) -> EncodeResult {
        self.sink.put_u8(TType::Stop as u8);
        Ok(())
    }

    fn write_list_begin(&mut self, header: ListHeader) -> EncodeResult {
        self.depth.enter()?;
        self.sink.put_u8(header.elem as u8);
        self.length("list", header.len)
    }

    fn write_list_end(&mut self) -> EncodeResult {
        self.depth.leave()
    }

    fn write_set_begin(&mut self, header: ListHeader) -> EncodeResult {
        self.depth.enter()?;
        self.sink.put_u8(header.elem as u8);
        self.length("set", header.len)
    }

    fn write_set_end(&mut self) -> EncodeResult {
        self.depth.leave()
    }

    fn write_map_begin(&mut self, header: MapHeader) -> EncodeResult {
        self.depth.enter()?;
        self.sink.put_u8(header.key as u8);
        self.sink.put_u8(header.value as u8);
        self.length("map", header.len)
    }

    fn write_map_end(&mut self) -> EncodeResult {
        self.depth.leave()
    }

    #[inline]
    fn write_bool(&mut self, value: bool) -> EncodeResult {
        self.sink.put_u8(u8::from(value));
        Ok(())
    }

    #[inline]
    fn write_byte(&mut self, value: i8) -> EncodeResult {
        self.sink.put_u8(value as u8);
        Ok(())
    }

    #[inline]
    fn write_i16(&mut self, value: i16) -> EncodeResult {
        self.sink.put_slice(&value.to_be_bytes());
        Ok(())
    }

    #[inline]
    fn write_i32(&mut self, value: i32) -> EncodeResult {
        self.sink.put_slice(&value.to_be_bytes());
        Ok(())
    }

    #[inline]
    fn write_i64(&mut self, value: i64) -> EncodeResult {
        self.sink.put_slice(&value.to_be_bytes());
        Ok(())
    }

    #[inline]
    fn write_double(&mut self, value: f64) -> EncodeResult {
        self.sink.put_slice(&value.to_bits().to_be_bytes());
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
