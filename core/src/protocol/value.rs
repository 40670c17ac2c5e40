//! `Value`: a dynamic tree of any Thrift data, decoded without a schema and encoded back in
//! either protocol. This is what `faultline decode` prints and what round-trip fuzzing
//! compares.

use bytes::Bytes;

use super::{
    DecodeResult, Encode, EncodeError, EncodeResult, ErrorKind, FieldHeader, ListHeader, MapHeader,
    MessageBody, ProtocolReader, ProtocolWriter, TType,
};

/// Any Thrift value. Strings and binaries share `Binary`; doubles compare by bit pattern so
/// that NaN round-trips compare equal.
#[derive(Debug, Clone)]
pub enum Value {
    Bool(bool),
    Byte(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    Double(f64),
    Binary(Bytes),
    Uuid([u8; 16]),
    /// Fields in wire order.
    Struct(Vec<Field>),
    List {
        elem: TType,
        items: Vec<Value>,
    },
    Set {
        elem: TType,
        items: Vec<Value>,
    },
    Map {
        key: TType,
        value: TType,
        entries: Vec<(Value, Value)>,
    },
}

/// One struct field of a `Value::Struct`.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: i16,
    pub value: Value,
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a == b,
            (Byte(a), Byte(b)) => a == b,
            (I16(a), I16(b)) => a == b,
            (I32(a), I32(b)) => a == b,
            (I64(a), I64(b)) => a == b,
            (Double(a), Double(b)) => a.to_bits() == b.to_bits(),
            (Binary(a), Binary(b)) => a == b,
            (Uuid(a), Uuid(b)) => a == b,
            (Struct(a), Struct(b)) => a == b,
            (List { elem: e1, items: a }, List { elem: e2, items: b })
            | (Set { elem: e1, items: a }, Set { elem: e2, items: b }) => e1 == e2 && a == b,
            (
                Map {
                    key: k1,
                    value: v1,
                    entries: a,
                },
                Map {
                    key: k2,
                    value: v2,
                    entries: b,
                },
            ) => k1 == k2 && v1 == v2 && a == b,
            _ => false,
        }
    }
}

impl Value {
    /// The wire type of this value.
    pub fn ttype(&self) -> TType {
        match self {
            Value::Bool(_) => TType::Bool,
            Value::Byte(_) => TType::Byte,
            Value::I16(_) => TType::I16,
            Value::I32(_) => TType::I32,
            Value::I64(_) => TType::I64,
            Value::Double(_) => TType::Double,
            Value::Binary(_) => TType::Binary,
            Value::Uuid(_) => TType::Uuid,
            Value::Struct(_) => TType::Struct,
            Value::List { .. } => TType::List,
            Value::Set { .. } => TType::Set,
            Value::Map { .. } => TType::Map,
        }
    }

    /// A string value (a `Binary` holding the UTF-8 bytes).
    pub fn string(s: &str) -> Value {
        Value::Binary(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// The field with id `id`, if this is a struct that has it.
    pub fn field(&self, id: i16) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.iter().find(|f| f.id == id).map(|f| &f.value),
            _ => None,
        }
    }

    /// What a Compact reader gives back for this value: Compact writes an empty map as one
    /// `0x00` byte without key and value types, so empty maps read back as `Void -> Void`;
    /// everything else is unchanged.
    pub fn compact_view(&self) -> Value {
        match self {
            Value::Map { entries, .. } if entries.is_empty() => Value::Map {
                key: TType::Void,
                value: TType::Void,
                entries: Vec::new(),
            },
            Value::Map {
                key,
                value,
                entries,
            } => Value::Map {
                key: *key,
                value: *value,
                entries: entries
                    .iter()
                    .map(|(k, v)| (k.compact_view(), v.compact_view()))
                    .collect(),
            },
            Value::Struct(fields) => Value::Struct(
                fields
                    .iter()
                    .map(|f| Field {
                        id: f.id,
                        value: f.value.compact_view(),
                    })
                    .collect(),
            ),
            Value::List { elem, items } => Value::List {
                elem: *elem,
                items: items.iter().map(Value::compact_view).collect(),
            },
            Value::Set { elem, items } => Value::Set {
                elem: *elem,
                items: items.iter().map(Value::compact_view).collect(),
            },
            scalar => scalar.clone(),
        }
    }

    /// Decodes one value of wire type `ttype`.
    pub fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R, ttype: TType) -> DecodeResult<Value> {
        Ok(match ttype {
            TType::Bool => Value::Bool(reader.read_bool()?),
            TType::Byte => Value::Byte(reader.read_byte()?),
            TType::I16 => Value::I16(reader.read_i16()?),
            TType::I32 => Value::I32(reader.read_i32()?),
            TType::I64 => Value::I64(reader.read_i64()?),
            TType::Double => Value::Double(reader.read_double()?),
            TType::Binary => Value::Binary(reader.read_bytes()?),
            TType::Uuid => Value::Uuid(reader.read_uuid()?),
            TType::Struct => Value::Struct(decode_fields(reader)?),
            TType::List => {
                let header = reader.read_list_begin()?;
                let items = decode_items(reader, header)?;
                reader.read_list_end()?;
                Value::List {
                    elem: header.elem,
                    items,
                }
            }
            TType::Set => {
                let header = reader.read_set_begin()?;
                let items = decode_items(reader, header)?;
                reader.read_set_end()?;
                Value::Set {
                    elem: header.elem,
                    items,
                }
            }
            TType::Map => {
                let header = reader.read_map_begin()?;
                let reserve = header.key.reservable(header.value.reservable(header.len));
                let mut entries = Vec::with_capacity(reserve);
                for _ in 0..header.len {
                    let key = Value::decode(reader, header.key)?;
                    let value = Value::decode(reader, header.value)?;
                    entries.push((key, value));
                }
                reader.read_map_end()?;
                Value::Map {
                    key: header.key,
                    value: header.value,
                    entries,
                }
            }
            TType::Stop | TType::Void => {
                return Err(reader.error(ErrorKind::InvalidType(ttype as u8), "a value type"))
            }
        })
    }
}

impl MessageBody for Value {
    fn decode_body<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        Value::decode(reader, TType::Struct)
    }
}

fn decode_fields<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Vec<Field>> {
    reader.read_struct_begin()?;
    let mut fields = Vec::new();
    loop {
        let header = reader.read_field_begin()?;
        if header.ttype == TType::Stop {
            break;
        }
        let value = Value::decode(reader, header.ttype)?;
        reader.read_field_end()?;
        fields.push(Field {
            id: header.id,
            value,
        });
    }
    reader.read_struct_end()?;
    Ok(fields)
}

fn decode_items<'a, R: ProtocolReader<'a>>(
    reader: &mut R,
    header: ListHeader,
) -> DecodeResult<Vec<Value>> {
    let mut items = Vec::with_capacity(header.elem.reservable(header.len));
    for _ in 0..header.len {
        items.push(Value::decode(reader, header.elem)?);
    }
    Ok(items)
}

fn check_type(what: &'static str, expected: TType, value: &Value) -> EncodeResult {
    let found = value.ttype();
    if found == expected {
        Ok(())
    } else {
        Err(EncodeError::TypeMismatch {
            what,
            expected,
            found,
        })
    }
}

fn encode_items<W: ProtocolWriter>(
    writer: &mut W,
    what: &'static str,
    elem: TType,
    items: &[Value],
) -> EncodeResult {
    for item in items {
        check_type(what, elem, item)?;
        item.encode(writer)?;
    }
    Ok(())
}

impl Encode for Value {
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        match self {
            Value::Bool(v) => writer.write_bool(*v),
            Value::Byte(v) => writer.write_byte(*v),
            Value::I16(v) => writer.write_i16(*v),
            Value::I32(v) => writer.write_i32(*v),
            Value::I64(v) => writer.write_i64(*v),
            Value::Double(v) => writer.write_double(*v),
            Value::Binary(v) => writer.write_binary(v),
            Value::Uuid(v) => writer.write_uuid(v),
            Value::Struct(fields) => {
                writer.write_struct_begin()?;
                for field in fields {
                    writer.write_field_begin(FieldHeader {
                        ttype: field.value.ttype(),
                        id: field.id,
                    })?;
                    field.value.encode(writer)?;
                    writer.write_field_end()?;
                }
                writer.write_field_stop()?;
                writer.write_struct_end()
            }
            Value::List { elem, items } => {
                writer.write_list_begin(ListHeader {
                    elem: *elem,
                    len: items.len(),
                })?;
                encode_items(writer, "list element", *elem, items)?;
                writer.write_list_end()
            }
            Value::Set { elem, items } => {
                writer.write_set_begin(ListHeader {
                    elem: *elem,
                    len: items.len(),
                })?;
                encode_items(writer, "set element", *elem, items)?;
                writer.write_set_end()
            }
            Value::Map {
                key,
                value,
                entries,
            } => {
                writer.write_map_begin(MapHeader {
                    key: *key,
                    value: *value,
                    len: entries.len(),
                })?;
                for (k, v) in entries {
                    check_type("map key", *key, k)?;
                    check_type("map value", *value, v)?;
                    k.encode(writer)?;
                    v.encode(writer)?;
                }
                writer.write_map_end()
            }
        }
    }
}
