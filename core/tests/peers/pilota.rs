//! Adapter between faultline's `Value` tree and CloudWeGo's `pilota` (0.13) Thrift
//! protocols: `TBinaryProtocol<&mut BytesMut>` (write) / `TBinaryProtocol<&mut Bytes>`
//! (read), `TCompactOutputProtocol<&mut BytesMut>` / `TCompactInputProtocol<&mut Bytes>`.
//!
//! pilota's `TType` has the Binary protocol's numeric ids (with `I8` for byte), so the
//! mapping is one to one. Two things the adapter does on purpose:
//!
//! - an empty Compact map reads back as `Stop -> Stop` in pilota; the adapter reports it as
//!   `Void -> Void` like faultline and the Apache adapter (Compact carries no types there);
//! - pilota 0.13's `TCompactInputProtocol::read_struct_end` does not pop the field-id stack
//!   that `read_struct_begin` pushed (cloudwego/pilota#371, open), so a field read after a
//!   nested struct gets its delta applied to the inner struct's last id. With
//!   [`Fix371::Restore`] the adapter calls the protocol's own `struct_end_len()` after
//!   `read_struct_end()`, which does pop and restore — the interop tests use that to
//!   compare everything else; [`Fix371::AsShipped`] shows the bug.
//!
//! pilota does no bounds checks on lengths (`Bytes::split_to` panics on a short buffer) and
//! has no depth limit, so only well-formed input should be fed to these readers.

use ::pilota::thrift::binary::TBinaryProtocol;
use ::pilota::thrift::compact::{TCompactInputProtocol, TCompactOutputProtocol};
use ::pilota::thrift::{
    new_protocol_exception, ProtocolExceptionKind, TInputProtocol, TListIdentifier, TMapIdentifier,
    TMessageIdentifier, TMessageType, TOutputProtocol, TSetIdentifier, TStructIdentifier,
    TType as PType, ThriftException,
};
use ::pilota::{Bytes, BytesMut, FastStr};
use faultline_core::protocol::{Field, Message, MessageHeader, MessageType, TType, Value};

use super::Proto;

/// Whether the reader works around cloudwego/pilota#371 (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix371 {
    Restore,
    AsShipped,
}

pub fn to_ttype(t: TType) -> PType {
    match t {
        TType::Stop => PType::Stop,
        TType::Void => PType::Void,
        TType::Bool => PType::Bool,
        TType::Byte => PType::I8,
        TType::Double => PType::Double,
        TType::I16 => PType::I16,
        TType::I32 => PType::I32,
        TType::I64 => PType::I64,
        TType::Binary => PType::Binary,
        TType::Struct => PType::Struct,
        TType::Map => PType::Map,
        TType::Set => PType::Set,
        TType::List => PType::List,
        TType::Uuid => PType::Uuid,
    }
}

pub fn from_ttype(t: PType) -> TType {
    match t {
        PType::Stop => TType::Stop,
        PType::Void => TType::Void,
        PType::Bool => TType::Bool,
        PType::I8 => TType::Byte,
        PType::Double => TType::Double,
        PType::I16 => TType::I16,
        PType::I32 => TType::I32,
        PType::I64 => TType::I64,
        PType::Binary => TType::Binary,
        PType::Struct => TType::Struct,
        PType::Map => TType::Map,
        PType::Set => TType::Set,
        PType::List => TType::List,
        PType::Uuid => TType::Uuid,
    }
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

fn invalid(message: &str) -> ThriftException {
    new_protocol_exception(ProtocolExceptionKind::InvalidData, message.to_owned())
}

static VALUE_IDENT: TStructIdentifier = TStructIdentifier { name: "Value" };

/// Writes `v` through pilota's protocol, with the calls pilota-generated `encode` makes.
pub fn write_value<P: TOutputProtocol>(v: &Value, o: &mut P) -> Result<(), ThriftException> {
    match v {
        Value::Bool(b) => o.write_bool(*b),
        Value::Byte(b) => o.write_i8(*b),
        Value::I16(i) => o.write_i16(*i),
        Value::I32(i) => o.write_i32(*i),
        Value::I64(i) => o.write_i64(*i),
        Value::Double(d) => o.write_double(*d),
        Value::Binary(b) => o.write_bytes(b.clone()),
        Value::Uuid(u) => o.write_uuid(*u),
        Value::Struct(fields) => {
            o.write_struct_begin(&VALUE_IDENT)?;
            for f in fields {
                o.write_field_begin(to_ttype(f.value.ttype()), f.id)?;
                write_value(&f.value, o)?;
                o.write_field_end()?;
            }
            o.write_field_stop()?;
            o.write_struct_end()
        }
        Value::List { elem, items } => {
            o.write_list_begin(TListIdentifier::new(to_ttype(*elem), items.len()))?;
            for item in items {
                write_value(item, o)?;
            }
            o.write_list_end()
        }
        Value::Set { elem, items } => {
            o.write_set_begin(TSetIdentifier::new(to_ttype(*elem), items.len()))?;
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
            o.write_map_begin(TMapIdentifier::new(
                to_ttype(*key),
                to_ttype(*value),
                entries.len(),
            ))?;
            for (k, v) in entries {
                write_value(k, o)?;
                write_value(v, o)?;
            }
            o.write_map_end()
        }
    }
}

/// Reads one value of type `t` through pilota's protocol.
pub fn read_value<P: TInputProtocol>(
    i: &mut P,
    t: TType,
    fix: Fix371,
) -> Result<Value, ThriftException> {
    Ok(match t {
        TType::Bool => Value::Bool(i.read_bool()?),
        TType::Byte => Value::Byte(i.read_i8()?),
        TType::I16 => Value::I16(i.read_i16()?),
        TType::I32 => Value::I32(i.read_i32()?),
        TType::I64 => Value::I64(i.read_i64()?),
        TType::Double => Value::Double(i.read_double()?),
        TType::Binary => Value::Binary(i.read_bytes()?),
        TType::Uuid => Value::Uuid(i.read_uuid()?),
        TType::Struct => {
            i.read_struct_begin()?;
            let mut fields = Vec::new();
            loop {
                let f = i.read_field_begin()?;
                if f.field_type == PType::Stop {
                    break;
                }
                let id = f.id.ok_or_else(|| invalid("field without id"))?;
                let value = read_value(i, from_ttype(f.field_type), fix)?;
                i.read_field_end()?;
                fields.push(Field { id, value });
            }
            i.read_struct_end()?;
            if fix == Fix371::Restore {
                i.struct_end_len();
            }
            Value::Struct(fields)
        }
        TType::List => {
            let h = i.read_list_begin()?;
            let elem = from_ttype(h.element_type);
            let items = read_items(i, elem, h.size, fix)?;
            i.read_list_end()?;
            Value::List { elem, items }
        }
        TType::Set => {
            let h = i.read_set_begin()?;
            let elem = from_ttype(h.element_type);
            let items = read_items(i, elem, h.size, fix)?;
            i.read_set_end()?;
            Value::Set { elem, items }
        }
        TType::Map => {
            let h = i.read_map_begin()?;
            let (key, value) = if h.size == 0 && h.key_type == PType::Stop {
                // pilota's Compact reader: an empty map has no types on the wire.
                (TType::Void, TType::Void)
            } else {
                (from_ttype(h.key_type), from_ttype(h.value_type))
            };
            let mut entries = Vec::new();
            for _ in 0..h.size {
                let k = read_value(i, key, fix)?;
                let v = read_value(i, value, fix)?;
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

fn read_items<P: TInputProtocol>(
    i: &mut P,
    elem: TType,
    size: usize,
    fix: Fix371,
) -> Result<Vec<Value>, ThriftException> {
    let mut items = Vec::new();
    for _ in 0..size {
        items.push(read_value(i, elem, fix)?);
    }
    Ok(items)
}

pub fn write_message<P: TOutputProtocol>(
    m: &Message<Value>,
    o: &mut P,
) -> Result<(), ThriftException> {
    o.write_message_begin(&TMessageIdentifier::new(
        FastStr::new(&m.header.name),
        to_message_type(m.header.kind),
        m.header.seq_id,
    ))?;
    write_value(&m.body, o)?;
    o.write_message_end()?;
    o.flush()
}

pub fn read_message<P: TInputProtocol>(
    i: &mut P,
    fix: Fix371,
) -> Result<Message<Value>, ThriftException> {
    let h = i.read_message_begin()?;
    let body = read_value(i, TType::Struct, fix)?;
    i.read_message_end()?;
    Ok(Message {
        header: MessageHeader {
            name: h.name.as_str().to_owned(),
            kind: from_message_type(h.message_type),
            seq_id: h.sequence_number,
        },
        body,
    })
}

fn with_output(
    proto: Proto,
    f: impl FnOnce(Proto, &mut BytesMut) -> Result<(), ThriftException>,
) -> Result<Vec<u8>, ThriftException> {
    let mut out = BytesMut::new();
    f(proto, &mut out)?;
    Ok(out.to_vec())
}

fn check_consumed<T>(rest: &Bytes, t: T) -> Result<T, ThriftException> {
    if rest.is_empty() {
        Ok(t)
    } else {
        Err(invalid(&format!("{} trailing bytes", rest.len())))
    }
}

/// pilota's encoding of `v`.
pub fn encode(v: &Value, proto: Proto) -> Result<Vec<u8>, ThriftException> {
    with_output(proto, |proto, out| match proto {
        Proto::Binary => write_value(v, &mut TBinaryProtocol::new(out, false)),
        Proto::Compact => write_value(v, &mut TCompactOutputProtocol::new(out, false)),
    })
}

/// pilota's decoding of one value of type `t` filling all of `bytes`.
pub fn decode(bytes: &[u8], t: TType, proto: Proto, fix: Fix371) -> Result<Value, ThriftException> {
    let mut rest = Bytes::copy_from_slice(bytes);
    let v = match proto {
        Proto::Binary => read_value(&mut TBinaryProtocol::new(&mut rest, false), t, fix)?,
        Proto::Compact => read_value(&mut TCompactInputProtocol::new(&mut rest), t, fix)?,
    };
    check_consumed(&rest, v)
}

/// pilota's encoding of a message.
pub fn encode_message(m: &Message<Value>, proto: Proto) -> Result<Vec<u8>, ThriftException> {
    with_output(proto, |proto, out| match proto {
        Proto::Binary => write_message(m, &mut TBinaryProtocol::new(out, false)),
        Proto::Compact => write_message(m, &mut TCompactOutputProtocol::new(out, false)),
    })
}

/// pilota's decoding of a message filling all of `bytes` (Binary: strict header only).
pub fn decode_message(
    bytes: &[u8],
    proto: Proto,
    fix: Fix371,
) -> Result<Message<Value>, ThriftException> {
    let mut rest = Bytes::copy_from_slice(bytes);
    let m = match proto {
        Proto::Binary => read_message(&mut TBinaryProtocol::new(&mut rest, false), fix)?,
        Proto::Compact => read_message(&mut TCompactInputProtocol::new(&mut rest), fix)?,
    };
    check_consumed(&rest, m)
}
