//! Adapter between faultline's `Value` tree and the Apache `thrift` crate (0.25) generic
//! protocol API, shared by the interop tests (`core/tests/interop_rust.rs`) and the
//! differential fuzz targets (`diff_binary`, `diff_compact`): `TBinaryInputProtocol`
//! (strict or not) / `TBinaryOutputProtocol` and
//! `TCompactInputProtocol` / `TCompactOutputProtocol`, over in-memory buffers (`&[u8]` and
//! `Vec<u8>` are transports through the crate's blanket `Read`/`Write` impls).
//!
//! Type mapping (the crate's `TType` has no numeric discriminants, so it is mapped by name):
//!
//! | faultline | thrift crate | note |
//! |---|---|---|
//! | `Byte` | `I08` | |
//! | `Binary` | `String` | the crate reads id 0x0B as `String`; binary data goes through `read_bytes`/`write_bytes`, no UTF-8 check |
//! | `Uuid` | `Uuid` | supported in 0.25 (binary id 0x10, compact id 0x0D, 16 raw bytes) |
//! | — | `Utf7` | never produced by the crate's readers (it writes it as 0x0B); mapped to an error |
//! | `Void` (empty compact map) | `None` key/value type | Compact carries no types for an empty map |
//!
//! The crate's `uuid::Uuid` is not re-exported and this test suite adds no `uuid`
//! dependency: a `Uuid` is made by reading 16 bytes through a `TBinaryInputProtocol`, and
//! read back through its inherent `as_bytes`.

use crate::protocol::{Field, Message, MessageHeader, MessageType, TType, Value};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TSetIdentifier, TStructIdentifier, TType as AType,
};
use thrift::{ProtocolError, ProtocolErrorKind, TConfiguration};

use super::Proto;

/// faultline's type id as the crate names it.
pub fn to_ttype(t: TType) -> AType {
    match t {
        TType::Stop => AType::Stop,
        TType::Void => AType::Void,
        TType::Bool => AType::Bool,
        TType::Byte => AType::I08,
        TType::Double => AType::Double,
        TType::I16 => AType::I16,
        TType::I32 => AType::I32,
        TType::I64 => AType::I64,
        TType::Binary => AType::String,
        TType::Struct => AType::Struct,
        TType::Map => AType::Map,
        TType::Set => AType::Set,
        TType::List => AType::List,
        TType::Uuid => AType::Uuid,
    }
}

/// The crate's type as faultline names it; `Utf7` has no counterpart.
pub fn from_ttype(t: AType) -> thrift::Result<TType> {
    Ok(match t {
        AType::Stop => TType::Stop,
        AType::Void => TType::Void,
        AType::Bool => TType::Bool,
        AType::I08 => TType::Byte,
        AType::Double => TType::Double,
        AType::I16 => TType::I16,
        AType::I32 => TType::I32,
        AType::I64 => TType::I64,
        AType::String => TType::Binary,
        AType::Struct => TType::Struct,
        AType::Map => TType::Map,
        AType::Set => TType::Set,
        AType::List => TType::List,
        AType::Uuid => TType::Uuid,
        AType::Utf7 => return Err(invalid("UTF7 has no faultline type")),
    })
}

fn invalid(message: &str) -> thrift::Error {
    thrift::Error::Protocol(ProtocolError::new(
        ProtocolErrorKind::InvalidData,
        message.to_owned(),
    ))
}

fn len_i32(len: usize) -> thrift::Result<i32> {
    i32::try_from(len).map_err(|_| invalid("container too long"))
}

pub fn to_message_type(k: MessageType) -> TMessageType {
    match k {
        MessageType::Call => TMessageType::Call,
        MessageType::Reply => TMessageType::Reply,
        MessageType::Exception => TMessageType::Exception,
        MessageType::Oneway => TMessageType::OneWay,
    }
}

pub fn from_message_type(k: TMessageType) -> MessageType {
    match k {
        TMessageType::Call => MessageType::Call,
        TMessageType::Reply => MessageType::Reply,
        TMessageType::Exception => MessageType::Exception,
        TMessageType::OneWay => MessageType::Oneway,
    }
}

/// Writes `v` through the crate's protocol, the way generated code would for the same data.
pub fn write_value(v: &Value, o: &mut dyn TOutputProtocol) -> thrift::Result<()> {
    match v {
        Value::Bool(b) => o.write_bool(*b),
        Value::Byte(b) => o.write_i8(*b),
        Value::I16(i) => o.write_i16(*i),
        Value::I32(i) => o.write_i32(*i),
        Value::I64(i) => o.write_i64(*i),
        Value::Double(d) => o.write_double(*d),
        Value::Binary(b) => o.write_bytes(b),
        Value::Uuid(u) => {
            let uuid = TBinaryInputProtocol::new(&u[..], true).read_uuid()?;
            o.write_uuid(&uuid)
        }
        Value::Struct(fields) => {
            o.write_struct_begin(&TStructIdentifier::new("Value"))?;
            for f in fields {
                o.write_field_begin(&TFieldIdentifier::new::<Option<String>, String, i16>(
                    None,
                    to_ttype(f.value.ttype()),
                    f.id,
                ))?;
                write_value(&f.value, o)?;
                o.write_field_end()?;
            }
            o.write_field_stop()?;
            o.write_struct_end()
        }
        Value::List { elem, items } => {
            o.write_list_begin(&TListIdentifier::new(
                to_ttype(*elem),
                len_i32(items.len())?,
            ))?;
            for item in items {
                write_value(item, o)?;
            }
            o.write_list_end()
        }
        Value::Set { elem, items } => {
            o.write_set_begin(&TSetIdentifier::new(to_ttype(*elem), len_i32(items.len())?))?;
            for item in items {
                write_value(item, o)?;
            }
            o.write_set_end()
        }
        Value::Map {
            key,
            value,
            entries,
        } => {
            o.write_map_begin(&TMapIdentifier::new(
                to_ttype(*key),
                to_ttype(*value),
                len_i32(entries.len())?,
            ))?;
            for (k, v) in entries {
                write_value(k, o)?;
                write_value(v, o)?;
            }
            o.write_map_end()
        }
    }
}

/// Deepest nesting of structs and containers the adapter reads. The crate bounds struct
/// nesting (`max_recursion_depth`) but not lists, sets or maps, and this reader recurses on
/// what the wire says: without a bound of its own a few KiB of nested set headers overflow
/// the stack (found by `diff_compact`). It is above faultline's own limit, so it never
/// refuses what faultline accepts.
pub const MAX_NESTING: usize = 64;

/// Reads one value of type `t` through the crate's protocol.
pub fn read_value(i: &mut dyn TInputProtocol, t: TType) -> thrift::Result<Value> {
    read_nested(i, t, 0)
}

/// [`read_value`] at `depth` structs and containers down.
fn read_nested(i: &mut dyn TInputProtocol, t: TType, depth: usize) -> thrift::Result<Value> {
    let nested = matches!(t, TType::Struct | TType::List | TType::Set | TType::Map);
    if nested && depth >= MAX_NESTING {
        return Err(invalid("nesting deeper than the adapter's MAX_NESTING"));
    }
    let depth = depth + 1;
    Ok(match t {
        TType::Bool => Value::Bool(i.read_bool()?),
        TType::Byte => Value::Byte(i.read_i8()?),
        TType::I16 => Value::I16(i.read_i16()?),
        TType::I32 => Value::I32(i.read_i32()?),
        TType::I64 => Value::I64(i.read_i64()?),
        TType::Double => Value::Double(i.read_double()?),
        TType::Binary => Value::Binary(i.read_bytes()?.into()),
        TType::Uuid => Value::Uuid(*i.read_uuid()?.as_bytes()),
        TType::Struct => {
            i.read_struct_begin()?;
            let mut fields = Vec::new();
            loop {
                let f = i.read_field_begin()?;
                if f.field_type == AType::Stop {
                    break;
                }
                let id = f.id.ok_or_else(|| invalid("field without id"))?;
                let value = read_nested(i, from_ttype(f.field_type)?, depth)?;
                i.read_field_end()?;
                fields.push(Field { id, value });
            }
            i.read_struct_end()?;
            Value::Struct(fields)
        }
        TType::List => {
            let h = i.read_list_begin()?;
            let elem = from_ttype(h.element_type)?;
            let items = read_items(i, elem, h.size, depth)?;
            i.read_list_end()?;
            Value::List { elem, items }
        }
        TType::Set => {
            let h = i.read_set_begin()?;
            let elem = from_ttype(h.element_type)?;
            let items = read_items(i, elem, h.size, depth)?;
            i.read_set_end()?;
            Value::Set { elem, items }
        }
        TType::Map => {
            let h = i.read_map_begin()?;
            // Compact: an empty map has no types on the wire and the crate says `None`.
            let key = h
                .key_type
                .map(from_ttype)
                .transpose()?
                .unwrap_or(TType::Void);
            let value = h
                .value_type
                .map(from_ttype)
                .transpose()?
                .unwrap_or(TType::Void);
            let mut entries = Vec::new();
            for _ in 0..h.size {
                let k = read_nested(i, key, depth)?;
                let v = read_nested(i, value, depth)?;
                entries.push((k, v));
            }
            i.read_map_end()?;
            Value::Map {
                key,
                value,
                entries,
            }
        }
        TType::Stop | TType::Void => return Err(invalid("not a value type")),
    })
}

fn read_items(
    i: &mut dyn TInputProtocol,
    elem: TType,
    size: i32,
    depth: usize,
) -> thrift::Result<Vec<Value>> {
    // The crate has already rejected negative sizes; reserve nothing on the wire's word.
    let mut items = Vec::new();
    for _ in 0..size {
        items.push(read_nested(i, elem, depth)?);
    }
    Ok(items)
}

pub fn write_message(m: &Message<Value>, o: &mut dyn TOutputProtocol) -> thrift::Result<()> {
    o.write_message_begin(&TMessageIdentifier::new(
        m.header.name.clone(),
        to_message_type(m.header.kind),
        m.header.seq_id,
    ))?;
    write_value(&m.body, o)?;
    o.write_message_end()?;
    o.flush()
}

pub fn read_message(i: &mut dyn TInputProtocol) -> thrift::Result<Message<Value>> {
    let h = i.read_message_begin()?;
    let body = read_value(i, TType::Struct)?;
    i.read_message_end()?;
    Ok(Message {
        header: MessageHeader {
            name: h.name,
            kind: from_message_type(h.message_type),
            seq_id: h.sequence_number,
        },
        body,
    })
}

/// How the crate's Binary protocol is set up: strict (version word) or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    Strict,
    NonStrict,
}

fn with_output(
    proto: Proto,
    strict: Strictness,
    f: impl FnOnce(&mut dyn TOutputProtocol) -> thrift::Result<()>,
) -> thrift::Result<Vec<u8>> {
    let mut out = Vec::new();
    match proto {
        Proto::Binary => f(&mut TBinaryOutputProtocol::new(
            &mut out,
            strict == Strictness::Strict,
        ))?,
        Proto::Compact => f(&mut TCompactOutputProtocol::new(&mut out))?,
    }
    Ok(out)
}

fn with_input<T>(
    bytes: &[u8],
    proto: Proto,
    strict: Strictness,
    config: TConfiguration,
    f: impl FnOnce(&mut dyn TInputProtocol) -> thrift::Result<T>,
) -> thrift::Result<T> {
    let mut rest = bytes;
    let t = match proto {
        Proto::Binary => f(&mut TBinaryInputProtocol::with_config(
            &mut rest,
            strict == Strictness::Strict,
            config,
        ))?,
        Proto::Compact => f(&mut TCompactInputProtocol::with_config(&mut rest, config))?,
    };
    if rest.is_empty() {
        Ok(t)
    } else {
        Err(invalid(&format!("{} trailing bytes", rest.len())))
    }
}

/// The crate's encoding of `v` (Binary strict).
pub fn encode(v: &Value, proto: Proto) -> thrift::Result<Vec<u8>> {
    with_output(proto, Strictness::Strict, |o| write_value(v, o))
}

/// The crate's decoding of one value of type `t` filling all of `bytes` (default config).
pub fn decode(bytes: &[u8], t: TType, proto: Proto) -> thrift::Result<Value> {
    decode_with(bytes, t, proto, TConfiguration::default())
}

/// As [`decode`], with an explicit configuration (limits), for differential fuzzing.
pub fn decode_with(
    bytes: &[u8],
    t: TType,
    proto: Proto,
    config: TConfiguration,
) -> thrift::Result<Value> {
    with_input(bytes, proto, Strictness::Strict, config, |i| {
        read_value(i, t)
    })
}

/// The crate's encoding of a message; `strict` only matters for Binary.
pub fn encode_message(
    m: &Message<Value>,
    proto: Proto,
    strict: Strictness,
) -> thrift::Result<Vec<u8>> {
    with_output(proto, strict, |o| write_message(m, o))
}

/// The crate's decoding of a message filling all of `bytes`; a non-strict Binary reader
/// accepts both header forms, a strict one only the version word.
pub fn decode_message(
    bytes: &[u8],
    proto: Proto,
    strict: Strictness,
) -> thrift::Result<Message<Value>> {
    decode_message_with(bytes, proto, strict, TConfiguration::default())
}

/// As [`decode_message`], with an explicit configuration (limits).
pub fn decode_message_with(
    bytes: &[u8],
    proto: Proto,
    strict: Strictness,
    config: TConfiguration,
) -> thrift::Result<Message<Value>> {
    with_input(bytes, proto, strict, config, read_message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100,000 nested Compact set headers (each "7 sets follow") end in an error, not in a
    /// stack overflow.
    #[test]
    fn nesting_past_the_bound_is_an_error() {
        let mut bytes = vec![0xf9, 0x19, 0x44, 0x00, 0x00, 0x00, 0x00];
        bytes.resize(bytes.len() + 100_000, 0x7a);
        let config = TConfiguration::default();
        let err = decode_with(&bytes, TType::Struct, Proto::Compact, config).unwrap_err();
        assert!(format!("{err:?}").contains("MAX_NESTING"), "{err:?}");
    }
}
