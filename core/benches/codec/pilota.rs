//! The benchmark messages for `pilota`, written as pilota-build 0.13 emits them for
//! all-`required` fields: `FastStr` strings, `Bytes` binary, `AHashMap` maps, and
//! `pilota::thrift::Message` impls whose `encode`, `decode` and `size` follow the
//! generated code line by line (the `field_begin_len` bookkeeping and the error-context
//! closure included), with two additions that pilota 0.13.1's own Compact input protocol
//! needs to decode these messages at all:
//! * `bool_len` after each `read_bool`: without it, any struct with a bool field panics
//!   ("pending bool field ... not read"): `field_begin_len` leaves the bool's header
//!   pending until `bool_len` consumes it, and the generated code never calls `bool_len`;
//! * `struct_end_len` after `read_struct_end`: Compact's `read_struct_begin` pushes the
//!   last field id but `read_struct_end` never pops it (only `struct_end_len` does), so
//!   the field after a nested struct decodes with a wrong id.
//!
//! Both are constant no-ops in `TBinaryProtocol`. `decode_async` is not measured; it is
//! written in the same shape but without the error-context wrapper.

use pilota::thrift::{
    Message, TAsyncInputProtocol, TInputProtocol, TLengthProtocol, TOutputProtocol,
    TStructIdentifier, TType, ThriftException,
};
use pilota::{AHashMap, Bytes, FastStr};

use super::data;

fn missing(name: &str) -> ThriftException {
    pilota::thrift::new_protocol_exception(
        pilota::thrift::ProtocolExceptionKind::InvalidData,
        format!("field {name} is required"),
    )
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Small {
    pub id: i32,
    pub timestamp: i64,
    pub flag: bool,
    pub score: f64,
    pub name: FastStr,
}

impl Message for Small {
    fn encode<T: TOutputProtocol>(&self, __protocol: &mut T) -> Result<(), ThriftException> {
        #[allow(unused_imports)]
        use pilota::thrift::TOutputProtocolExt;
        let struct_ident = TStructIdentifier { name: "Small" };
        __protocol.write_struct_begin(&struct_ident)?;
        __protocol.write_i32_field(1, *&self.id)?;
        __protocol.write_i64_field(2, *&self.timestamp)?;
        __protocol.write_bool_field(3, *&self.flag)?;
        __protocol.write_double_field(4, *&self.score)?;
        __protocol.write_faststr_field(5, (&self.name).clone())?;
        __protocol.write_field_stop()?;
        __protocol.write_struct_end()?;
        Ok(())
    }

    fn decode<T: TInputProtocol>(__protocol: &mut T) -> Result<Self, ThriftException> {
        #[allow(unused_imports)]
        use pilota::{thrift::TLengthProtocolExt, Buf};
        let mut var_1 = None;
        let mut var_2 = None;
        let mut var_3 = None;
        let mut var_4 = None;
        let mut var_5 = None;
        let mut __pilota_decoding_field_id = None;
        __protocol.read_struct_begin()?;
        if let Err(mut err) = (|| {
            loop {
                let field_ident = __protocol.read_field_begin()?;
                if field_ident.field_type == TType::Stop {
                    __protocol.field_stop_len();
                    break;
                } else {
                    __protocol.field_begin_len(field_ident.field_type, field_ident.id);
                }
                __pilota_decoding_field_id = field_ident.id;
                match field_ident.id {
                    Some(1) if field_ident.field_type == TType::I32 => {
                        var_1 = Some(__protocol.read_i32()?);
                    }
                    Some(2) if field_ident.field_type == TType::I64 => {
                        var_2 = Some(__protocol.read_i64()?);
                    }
                    Some(3) if field_ident.field_type == TType::Bool => {
                        // Not in pilota-build's output: pilota 0.13's Compact input protocol
                        // panics ("pending bool field ... not read") unless `bool_len`
                        // follows `read_bool`. A constant no-op for Binary.
                        let v = __protocol.read_bool()?;
                        __protocol.bool_len(v);
                        var_3 = Some(v);
                    }
                    Some(4) if field_ident.field_type == TType::Double => {
                        var_4 = Some(__protocol.read_double()?);
                    }
                    Some(5) if field_ident.field_type == TType::Binary => {
                        var_5 = Some(__protocol.read_faststr()?);
                    }
                    _ => {
                        __protocol.skip(field_ident.field_type)?;
                    }
                }
                __protocol.read_field_end()?;
                __protocol.field_end_len();
            }
            Ok::<_, ThriftException>(())
        })() {
            if let Some(field_id) = __pilota_decoding_field_id {
                err.prepend_msg(&format!(
                    "decode struct `Small` field(#{}) failed, caused by: ",
                    field_id
                ));
            }
            return Err(err);
        };
        __protocol.read_struct_end()?;
        // Not in pilota-build's output: pilota 0.13's Compact `read_struct_end` does not
        // restore the outer struct's last field id (only `struct_end_len` pops it), so a
        // field after a nested struct gets a wrong id. A constant no-op for Binary.
        __protocol.struct_end_len();
        let Some(var_1) = var_1 else {
            return Err(missing("id"));
        };
        let Some(var_2) = var_2 else {
            return Err(missing("timestamp"));
        };
        let Some(var_3) = var_3 else {
            return Err(missing("flag"));
        };
        let Some(var_4) = var_4 else {
            return Err(missing("score"));
        };
        let Some(var_5) = var_5 else {
            return Err(missing("name"));
        };
        let data = Self {
            id: var_1,
            timestamp: var_2,
            flag: var_3,
            score: var_4,
            name: var_5,
        };
        Ok(data)
    }

    async fn decode_async<T: TAsyncInputProtocol>(
        __protocol: &mut T,
    ) -> Result<Self, ThriftException> {
        let (mut var_1, mut var_2, mut var_3, mut var_4, mut var_5) =
            (None, None, None, None, None);
        __protocol.read_struct_begin().await?;
        loop {
            let field_ident = __protocol.read_field_begin().await?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            match field_ident.id {
                Some(1) if field_ident.field_type == TType::I32 => {
                    var_1 = Some(__protocol.read_i32().await?)
                }
                Some(2) if field_ident.field_type == TType::I64 => {
                    var_2 = Some(__protocol.read_i64().await?)
                }
                Some(3) if field_ident.field_type == TType::Bool => {
                    var_3 = Some(__protocol.read_bool().await?)
                }
                Some(4) if field_ident.field_type == TType::Double => {
                    var_4 = Some(__protocol.read_double().await?)
                }
                Some(5) if field_ident.field_type == TType::Binary => {
                    var_5 = Some(__protocol.read_faststr().await?)
                }
                _ => __protocol.skip(field_ident.field_type).await?,
            }
            __protocol.read_field_end().await?;
        }
        __protocol.read_struct_end().await?;
        Ok(Self {
            id: var_1.ok_or_else(|| missing("id"))?,
            timestamp: var_2.ok_or_else(|| missing("timestamp"))?,
            flag: var_3.ok_or_else(|| missing("flag"))?,
            score: var_4.ok_or_else(|| missing("score"))?,
            name: var_5.ok_or_else(|| missing("name"))?,
        })
    }

    fn size<T: TLengthProtocol>(&self, __protocol: &mut T) -> usize {
        #[allow(unused_imports)]
        use pilota::thrift::TLengthProtocolExt;
        __protocol.struct_begin_len(&TStructIdentifier { name: "Small" })
            + __protocol.i32_field_len(Some(1), *&self.id)
            + __protocol.i64_field_len(Some(2), *&self.timestamp)
            + __protocol.bool_field_len(Some(3), *&self.flag)
            + __protocol.double_field_len(Some(4), *&self.score)
            + __protocol.faststr_field_len(Some(5), &self.name)
            + __protocol.field_stop_len()
            + __protocol.struct_end_len()
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Header {
    pub trace_id: i64,
    pub service: FastStr,
    pub shard: i32,
}

impl Message for Header {
    fn encode<T: TOutputProtocol>(&self, __protocol: &mut T) -> Result<(), ThriftException> {
        #[allow(unused_imports)]
        use pilota::thrift::TOutputProtocolExt;
        let struct_ident = TStructIdentifier { name: "Header" };
        __protocol.write_struct_begin(&struct_ident)?;
        __protocol.write_i64_field(1, *&self.trace_id)?;
        __protocol.write_faststr_field(2, (&self.service).clone())?;
        __protocol.write_i32_field(3, *&self.shard)?;
        __protocol.write_field_stop()?;
        __protocol.write_struct_end()?;
        Ok(())
    }

    fn decode<T: TInputProtocol>(__protocol: &mut T) -> Result<Self, ThriftException> {
        #[allow(unused_imports)]
        use pilota::{thrift::TLengthProtocolExt, Buf};
        let mut var_1 = None;
        let mut var_2 = None;
        let mut var_3 = None;
        let mut __pilota_decoding_field_id = None;
        __protocol.read_struct_begin()?;
        if let Err(mut err) = (|| {
            loop {
                let field_ident = __protocol.read_field_begin()?;
                if field_ident.field_type == TType::Stop {
                    __protocol.field_stop_len();
                    break;
                } else {
                    __protocol.field_begin_len(field_ident.field_type, field_ident.id);
                }
                __pilota_decoding_field_id = field_ident.id;
                match field_ident.id {
                    Some(1) if field_ident.field_type == TType::I64 => {
                        var_1 = Some(__protocol.read_i64()?);
                    }
                    Some(2) if field_ident.field_type == TType::Binary => {
                        var_2 = Some(__protocol.read_faststr()?);
                    }
                    Some(3) if field_ident.field_type == TType::I32 => {
                        var_3 = Some(__protocol.read_i32()?);
                    }
                    _ => {
                        __protocol.skip(field_ident.field_type)?;
                    }
                }
                __protocol.read_field_end()?;
                __protocol.field_end_len();
            }
            Ok::<_, ThriftException>(())
        })() {
            if let Some(field_id) = __pilota_decoding_field_id {
                err.prepend_msg(&format!(
                    "decode struct `Header` field(#{}) failed, caused by: ",
                    field_id
                ));
            }
            return Err(err);
        };
        __protocol.read_struct_end()?;
        // Not in pilota-build's output: pilota 0.13's Compact `read_struct_end` does not
        // restore the outer struct's last field id (only `struct_end_len` pops it), so a
        // field after a nested struct gets a wrong id. A constant no-op for Binary.
        __protocol.struct_end_len();
        let Some(var_1) = var_1 else {
            return Err(missing("trace_id"));
        };
        let Some(var_2) = var_2 else {
            return Err(missing("service"));
        };
        let Some(var_3) = var_3 else {
            return Err(missing("shard"));
        };
        let data = Self {
            trace_id: var_1,
            service: var_2,
            shard: var_3,
        };
        Ok(data)
    }

    async fn decode_async<T: TAsyncInputProtocol>(
        __protocol: &mut T,
    ) -> Result<Self, ThriftException> {
        let (mut var_1, mut var_2, mut var_3) = (None, None, None);
        __protocol.read_struct_begin().await?;
        loop {
            let field_ident = __protocol.read_field_begin().await?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            match field_ident.id {
                Some(1) if field_ident.field_type == TType::I64 => {
                    var_1 = Some(__protocol.read_i64().await?)
                }
                Some(2) if field_ident.field_type == TType::Binary => {
                    var_2 = Some(__protocol.read_faststr().await?)
                }
                Some(3) if field_ident.field_type == TType::I32 => {
                    var_3 = Some(__protocol.read_i32().await?)
                }
                _ => __protocol.skip(field_ident.field_type).await?,
            }
            __protocol.read_field_end().await?;
        }
        __protocol.read_struct_end().await?;
        Ok(Self {
            trace_id: var_1.ok_or_else(|| missing("trace_id"))?,
            service: var_2.ok_or_else(|| missing("service"))?,
            shard: var_3.ok_or_else(|| missing("shard"))?,
        })
    }

    fn size<T: TLengthProtocol>(&self, __protocol: &mut T) -> usize {
        #[allow(unused_imports)]
        use pilota::thrift::TLengthProtocolExt;
        __protocol.struct_begin_len(&TStructIdentifier { name: "Header" })
            + __protocol.i64_field_len(Some(1), *&self.trace_id)
            + __protocol.faststr_field_len(Some(2), &self.service)
            + __protocol.i32_field_len(Some(3), *&self.shard)
            + __protocol.field_stop_len()
            + __protocol.struct_end_len()
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Item {
    pub id: i32,
    pub value: i64,
    pub active: bool,
    pub label: FastStr,
}

impl Message for Item {
    fn encode<T: TOutputProtocol>(&self, __protocol: &mut T) -> Result<(), ThriftException> {
        #[allow(unused_imports)]
        use pilota::thrift::TOutputProtocolExt;
        let struct_ident = TStructIdentifier { name: "Item" };
        __protocol.write_struct_begin(&struct_ident)?;
        __protocol.write_i32_field(1, *&self.id)?;
        __protocol.write_i64_field(2, *&self.value)?;
        __protocol.write_bool_field(3, *&self.active)?;
        __protocol.write_faststr_field(4, (&self.label).clone())?;
        __protocol.write_field_stop()?;
        __protocol.write_struct_end()?;
        Ok(())
    }

    fn decode<T: TInputProtocol>(__protocol: &mut T) -> Result<Self, ThriftException> {
        #[allow(unused_imports)]
        use pilota::{thrift::TLengthProtocolExt, Buf};
        let mut var_1 = None;
        let mut var_2 = None;
        let mut var_3 = None;
        let mut var_4 = None;
        let mut __pilota_decoding_field_id = None;
        __protocol.read_struct_begin()?;
        if let Err(mut err) = (|| {
            loop {
                let field_ident = __protocol.read_field_begin()?;
                if field_ident.field_type == TType::Stop {
                    __protocol.field_stop_len();
                    break;
                } else {
                    __protocol.field_begin_len(field_ident.field_type, field_ident.id);
                }
                __pilota_decoding_field_id = field_ident.id;
                match field_ident.id {
                    Some(1) if field_ident.field_type == TType::I32 => {
                        var_1 = Some(__protocol.read_i32()?);
                    }
                    Some(2) if field_ident.field_type == TType::I64 => {
                        var_2 = Some(__protocol.read_i64()?);
                    }
                    Some(3) if field_ident.field_type == TType::Bool => {
                        // Not in pilota-build's output: pilota 0.13's Compact input protocol
                        // panics ("pending bool field ... not read") unless `bool_len`
                        // follows `read_bool`. A constant no-op for Binary.
                        let v = __protocol.read_bool()?;
                        __protocol.bool_len(v);
                        var_3 = Some(v);
                    }
                    Some(4) if field_ident.field_type == TType::Binary => {
                        var_4 = Some(__protocol.read_faststr()?);
                    }
                    _ => {
                        __protocol.skip(field_ident.field_type)?;
                    }
                }
                __protocol.read_field_end()?;
                __protocol.field_end_len();
            }
            Ok::<_, ThriftException>(())
        })() {
            if let Some(field_id) = __pilota_decoding_field_id {
                err.prepend_msg(&format!(
                    "decode struct `Item` field(#{}) failed, caused by: ",
                    field_id
                ));
            }
            return Err(err);
        };
        __protocol.read_struct_end()?;
        // Not in pilota-build's output: pilota 0.13's Compact `read_struct_end` does not
        // restore the outer struct's last field id (only `struct_end_len` pops it), so a
        // field after a nested struct gets a wrong id. A constant no-op for Binary.
        __protocol.struct_end_len();
        let Some(var_1) = var_1 else {
            return Err(missing("id"));
        };
        let Some(var_2) = var_2 else {
            return Err(missing("value"));
        };
        let Some(var_3) = var_3 else {
            return Err(missing("active"));
        };
        let Some(var_4) = var_4 else {
            return Err(missing("label"));
        };
        let data = Self {
            id: var_1,
            value: var_2,
            active: var_3,
            label: var_4,
        };
        Ok(data)
    }

    async fn decode_async<T: TAsyncInputProtocol>(
        __protocol: &mut T,
    ) -> Result<Self, ThriftException> {
        let (mut var_1, mut var_2, mut var_3, mut var_4) = (None, None, None, None);
        __protocol.read_struct_begin().await?;
        loop {
            let field_ident = __protocol.read_field_begin().await?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            match field_ident.id {
                Some(1) if field_ident.field_type == TType::I32 => {
                    var_1 = Some(__protocol.read_i32().await?)
                }
                Some(2) if field_ident.field_type == TType::I64 => {
                    var_2 = Some(__protocol.read_i64().await?)
                }
                Some(3) if field_ident.field_type == TType::Bool => {
                    var_3 = Some(__protocol.read_bool().await?)
                }
                Some(4) if field_ident.field_type == TType::Binary => {
                    var_4 = Some(__protocol.read_faststr().await?)
                }
                _ => __protocol.skip(field_ident.field_type).await?,
            }
            __protocol.read_field_end().await?;
        }
        __protocol.read_struct_end().await?;
        Ok(Self {
            id: var_1.ok_or_else(|| missing("id"))?,
            value: var_2.ok_or_else(|| missing("value"))?,
            active: var_3.ok_or_else(|| missing("active"))?,
            label: var_4.ok_or_else(|| missing("label"))?,
        })
    }

    fn size<T: TLengthProtocol>(&self, __protocol: &mut T) -> usize {
        #[allow(unused_imports)]
        use pilota::thrift::TLengthProtocolExt;
        __protocol.struct_begin_len(&TStructIdentifier { name: "Item" })
            + __protocol.i32_field_len(Some(1), *&self.id)
            + __protocol.i64_field_len(Some(2), *&self.value)
            + __protocol.bool_field_len(Some(3), *&self.active)
            + __protocol.faststr_field_len(Some(4), &self.label)
            + __protocol.field_stop_len()
            + __protocol.struct_end_len()
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Medium {
    pub header: Header,
    pub items: Vec<Item>,
    pub counters: AHashMap<FastStr, i64>,
}

impl Message for Medium {
    fn encode<T: TOutputProtocol>(&self, __protocol: &mut T) -> Result<(), ThriftException> {
        #[allow(unused_imports)]
        use pilota::thrift::TOutputProtocolExt;
        let struct_ident = TStructIdentifier { name: "Medium" };
        __protocol.write_struct_begin(&struct_ident)?;
        __protocol.write_struct_field(1, &self.header, TType::Struct)?;
        __protocol.write_list_field(2, TType::Struct, &&self.items, |__protocol, val| {
            __protocol.write_struct(val)?;
            Ok(())
        })?;
        __protocol.write_map_field(
            3,
            TType::Binary,
            TType::I64,
            &&self.counters,
            |__protocol, key| {
                __protocol.write_faststr((key).clone())?;
                Ok(())
            },
            |__protocol, val| {
                __protocol.write_i64(*val)?;
                Ok(())
            },
        )?;
        __protocol.write_field_stop()?;
        __protocol.write_struct_end()?;
        Ok(())
    }

    fn decode<T: TInputProtocol>(__protocol: &mut T) -> Result<Self, ThriftException> {
        #[allow(unused_imports)]
        use pilota::{thrift::TLengthProtocolExt, Buf};
        let mut var_1 = None;
        let mut var_2 = None;
        let mut var_3 = None;
        let mut __pilota_decoding_field_id = None;
        __protocol.read_struct_begin()?;
        if let Err(mut err) = (|| {
            loop {
                let field_ident = __protocol.read_field_begin()?;
                if field_ident.field_type == TType::Stop {
                    __protocol.field_stop_len();
                    break;
                } else {
                    __protocol.field_begin_len(field_ident.field_type, field_ident.id);
                }
                __pilota_decoding_field_id = field_ident.id;
                match field_ident.id {
                    Some(1) if field_ident.field_type == TType::Struct => {
                        var_1 = Some(Message::decode(__protocol)?);
                    }
                    Some(2) if field_ident.field_type == TType::List => {
                        var_2 = Some(unsafe {
                            let list_ident = __protocol.read_list_begin()?;
                            let mut val: Vec<Item> = Vec::with_capacity(list_ident.size);
                            for i in 0..list_ident.size {
                                val.as_mut_ptr()
                                    .offset(i as isize)
                                    .write(Message::decode(__protocol)?);
                            }
                            val.set_len(list_ident.size);
                            __protocol.read_list_end()?;
                            val
                        });
                    }
                    Some(3) if field_ident.field_type == TType::Map => {
                        var_3 = Some({
                            let map_ident = __protocol.read_map_begin()?;
                            let mut val = AHashMap::with_capacity(map_ident.size);
                            for _ in 0..map_ident.size {
                                val.insert(__protocol.read_faststr()?, __protocol.read_i64()?);
                            }
                            __protocol.read_map_end()?;
                            val
                        });
                    }
                    _ => {
                        __protocol.skip(field_ident.field_type)?;
                    }
                }
                __protocol.read_field_end()?;
                __protocol.field_end_len();
            }
            Ok::<_, ThriftException>(())
        })() {
            if let Some(field_id) = __pilota_decoding_field_id {
                err.prepend_msg(&format!(
                    "decode struct `Medium` field(#{}) failed, caused by: ",
                    field_id
                ));
            }
            return Err(err);
        };
        __protocol.read_struct_end()?;
        // Not in pilota-build's output: pilota 0.13's Compact `read_struct_end` does not
        // restore the outer struct's last field id (only `struct_end_len` pops it), so a
        // field after a nested struct gets a wrong id. A constant no-op for Binary.
        __protocol.struct_end_len();
        let Some(var_1) = var_1 else {
            return Err(missing("header"));
        };
        let Some(var_2) = var_2 else {
            return Err(missing("items"));
        };
        let Some(var_3) = var_3 else {
            return Err(missing("counters"));
        };
        let data = Self {
            header: var_1,
            items: var_2,
            counters: var_3,
        };
        Ok(data)
    }

    async fn decode_async<T: TAsyncInputProtocol>(
        __protocol: &mut T,
    ) -> Result<Self, ThriftException> {
        let (mut var_1, mut var_2, mut var_3) = (None, None, None);
        __protocol.read_struct_begin().await?;
        loop {
            let field_ident = __protocol.read_field_begin().await?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            match field_ident.id {
                Some(1) if field_ident.field_type == TType::Struct => {
                    var_1 = Some(<Header as Message>::decode_async(__protocol).await?)
                }
                Some(2) if field_ident.field_type == TType::List => {
                    let list_ident = __protocol.read_list_begin().await?;
                    let mut val = Vec::with_capacity(list_ident.size);
                    for _ in 0..list_ident.size {
                        val.push(<Item as Message>::decode_async(__protocol).await?);
                    }
                    __protocol.read_list_end().await?;
                    var_2 = Some(val);
                }
                Some(3) if field_ident.field_type == TType::Map => {
                    let map_ident = __protocol.read_map_begin().await?;
                    let mut val = AHashMap::with_capacity(map_ident.size);
                    for _ in 0..map_ident.size {
                        val.insert(
                            __protocol.read_faststr().await?,
                            __protocol.read_i64().await?,
                        );
                    }
                    __protocol.read_map_end().await?;
                    var_3 = Some(val);
                }
                _ => __protocol.skip(field_ident.field_type).await?,
            }
            __protocol.read_field_end().await?;
        }
        __protocol.read_struct_end().await?;
        Ok(Self {
            header: var_1.ok_or_else(|| missing("header"))?,
            items: var_2.ok_or_else(|| missing("items"))?,
            counters: var_3.ok_or_else(|| missing("counters"))?,
        })
    }

    fn size<T: TLengthProtocol>(&self, __protocol: &mut T) -> usize {
        #[allow(unused_imports)]
        use pilota::thrift::TLengthProtocolExt;
        __protocol.struct_begin_len(&TStructIdentifier { name: "Medium" })
            + __protocol.struct_field_len(Some(1), &self.header)
            + __protocol.list_field_len(Some(2), TType::Struct, &self.items, |__protocol, el| {
                __protocol.struct_len(el)
            })
            + __protocol.map_field_len(
                Some(3),
                TType::Binary,
                TType::I64,
                &self.counters,
                |__protocol, key| __protocol.faststr_len(key),
                |__protocol, val| __protocol.i64_len(*val),
            )
            + __protocol.field_stop_len()
            + __protocol.struct_end_len()
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Large {
    pub payload: Bytes,
    pub values: Vec<i64>,
}

impl Message for Large {
    fn encode<T: TOutputProtocol>(&self, __protocol: &mut T) -> Result<(), ThriftException> {
        #[allow(unused_imports)]
        use pilota::thrift::TOutputProtocolExt;
        let struct_ident = TStructIdentifier { name: "Large" };
        __protocol.write_struct_begin(&struct_ident)?;
        __protocol.write_bytes_field(1, (&self.payload).clone())?;
        __protocol.write_list_field(2, TType::I64, &&self.values, |__protocol, val| {
            __protocol.write_i64(*val)?;
            Ok(())
        })?;
        __protocol.write_field_stop()?;
        __protocol.write_struct_end()?;
        Ok(())
    }

    fn decode<T: TInputProtocol>(__protocol: &mut T) -> Result<Self, ThriftException> {
        #[allow(unused_imports)]
        use pilota::{thrift::TLengthProtocolExt, Buf};
        let mut var_1 = None;
        let mut var_2 = None;
        let mut __pilota_decoding_field_id = None;
        __protocol.read_struct_begin()?;
        if let Err(mut err) = (|| {
            loop {
                let field_ident = __protocol.read_field_begin()?;
                if field_ident.field_type == TType::Stop {
                    __protocol.field_stop_len();
                    break;
                } else {
                    __protocol.field_begin_len(field_ident.field_type, field_ident.id);
                }
                __pilota_decoding_field_id = field_ident.id;
                match field_ident.id {
                    Some(1) if field_ident.field_type == TType::Binary => {
                        var_1 = Some(__protocol.read_bytes()?);
                    }
                    Some(2) if field_ident.field_type == TType::List => {
                        var_2 = Some(unsafe {
                            let list_ident = __protocol.read_list_begin()?;
                            let mut val: Vec<i64> = Vec::with_capacity(list_ident.size);
                            for i in 0..list_ident.size {
                                val.as_mut_ptr()
                                    .offset(i as isize)
                                    .write(__protocol.read_i64()?);
                            }
                            val.set_len(list_ident.size);
                            __protocol.read_list_end()?;
                            val
                        });
                    }
                    _ => {
                        __protocol.skip(field_ident.field_type)?;
                    }
                }
                __protocol.read_field_end()?;
                __protocol.field_end_len();
            }
            Ok::<_, ThriftException>(())
        })() {
            if let Some(field_id) = __pilota_decoding_field_id {
                err.prepend_msg(&format!(
                    "decode struct `Large` field(#{}) failed, caused by: ",
                    field_id
                ));
            }
            return Err(err);
        };
        __protocol.read_struct_end()?;
        // Not in pilota-build's output: pilota 0.13's Compact `read_struct_end` does not
        // restore the outer struct's last field id (only `struct_end_len` pops it), so a
        // field after a nested struct gets a wrong id. A constant no-op for Binary.
        __protocol.struct_end_len();
        let Some(var_1) = var_1 else {
            return Err(missing("payload"));
        };
        let Some(var_2) = var_2 else {
            return Err(missing("values"));
        };
        let data = Self {
            payload: var_1,
            values: var_2,
        };
        Ok(data)
    }

    async fn decode_async<T: TAsyncInputProtocol>(
        __protocol: &mut T,
    ) -> Result<Self, ThriftException> {
        let (mut var_1, mut var_2) = (None, None);
        __protocol.read_struct_begin().await?;
        loop {
            let field_ident = __protocol.read_field_begin().await?;
            if field_ident.field_type == TType::Stop {
                break;
            }
            match field_ident.id {
                Some(1) if field_ident.field_type == TType::Binary => {
                    var_1 = Some(__protocol.read_bytes().await?)
                }
                Some(2) if field_ident.field_type == TType::List => {
                    let list_ident = __protocol.read_list_begin().await?;
                    let mut val = Vec::with_capacity(list_ident.size);
                    for _ in 0..list_ident.size {
                        val.push(__protocol.read_i64().await?);
                    }
                    __protocol.read_list_end().await?;
                    var_2 = Some(val);
                }
                _ => __protocol.skip(field_ident.field_type).await?,
            }
            __protocol.read_field_end().await?;
        }
        __protocol.read_struct_end().await?;
        Ok(Self {
            payload: var_1.ok_or_else(|| missing("payload"))?,
            values: var_2.ok_or_else(|| missing("values"))?,
        })
    }

    fn size<T: TLengthProtocol>(&self, __protocol: &mut T) -> usize {
        #[allow(unused_imports)]
        use pilota::thrift::TLengthProtocolExt;
        __protocol.struct_begin_len(&TStructIdentifier { name: "Large" })
            + __protocol.bytes_field_len(Some(1), &self.payload)
            + __protocol.list_field_len(Some(2), TType::I64, &self.values, |__protocol, el| {
                __protocol.i64_len(*el)
            })
            + __protocol.field_stop_len()
            + __protocol.struct_end_len()
    }
}

// Conversions from the shared data set (setup only, never measured).

impl From<&data::Small> for Small {
    fn from(s: &data::Small) -> Self {
        Small {
            id: s.id,
            timestamp: s.timestamp,
            flag: s.flag,
            score: s.score,
            name: FastStr::new(&s.name),
        }
    }
}

impl From<&data::Medium> for Medium {
    fn from(m: &data::Medium) -> Self {
        Medium {
            header: Header {
                trace_id: m.header.trace_id,
                service: FastStr::new(&m.header.service),
                shard: m.header.shard,
            },
            items: m
                .items
                .iter()
                .map(|i| Item {
                    id: i.id,
                    value: i.value,
                    active: i.active,
                    label: FastStr::new(&i.label),
                })
                .collect(),
            counters: m
                .counters
                .iter()
                .map(|(k, v)| (FastStr::new(k), *v))
                .collect(),
        }
    }
}

impl From<&data::Large> for Large {
    fn from(l: &data::Large) -> Self {
        Large {
            payload: l.payload.clone(),
            values: l.values.clone(),
        }
    }
}

// And back, to check what each decoder produced against the source data.

impl Small {
    pub fn to_data(&self) -> data::Small {
        data::Small {
            id: self.id,
            timestamp: self.timestamp,
            flag: self.flag,
            score: self.score,
            name: self.name.to_string(),
        }
    }
}

impl Medium {
    pub fn to_data(&self) -> data::Medium {
        data::Medium {
            header: data::Header {
                trace_id: self.header.trace_id,
                service: self.header.service.to_string(),
                shard: self.header.shard,
            },
            items: self
                .items
                .iter()
                .map(|i| data::Item {
                    id: i.id,
                    value: i.value,
                    active: i.active,
                    label: i.label.to_string(),
                })
                .collect(),
            counters: self
                .counters
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
        }
    }
}

impl Large {
    pub fn to_data(&self) -> data::Large {
        data::Large {
            payload: self.payload.clone(),
            values: self.values.clone(),
        }
    }
}
