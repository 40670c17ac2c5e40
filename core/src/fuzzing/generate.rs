//! Structure-aware generators over `arbitrary::Unstructured`: well-formed `Value` trees,
//! messages, and TTHeader / THeader headers with metadata.
//!
//! "Well-formed" means what faultline's own decoder must give back unchanged:
//! - containers are homogeneous and their declared element types are value types (an
//!   empty `list<void>` encodes but no reader accepts it);
//! - nesting stays within [`LIMITS`](super::LIMITS)`.max_depth`, counting the message body,
//!   and reaches it when the input asks for deep values, so the depth boundary is
//!   exercised;
//! - the tree has at most [`MAX_NODES`] values and strings at most [`MAX_BYTES`] bytes, so
//!   an encoding fits `max_frame` and one run stays cheap.
//!
//! Compact writes an empty map without key and value types; [`Value::compact_view`] is what a
//! Compact reader gives back for a value.
//!
//! When the input runs out, `Unstructured` yields zeros, so generation always ends.

use arbitrary::{Result, Unstructured};
use bytes::Bytes;

use super::LIMITS;
use crate::frame::{Header, IntKey, Metadata};
use crate::protocol::{Field, Message, MessageHeader, MessageType, ProtocolId, TType, Value};

/// Most values in one generated tree.
pub const MAX_NODES: usize = 512;
/// Longest generated string or binary.
pub const MAX_BYTES: usize = 256;

/// Every type a field, element, key or value may have.
pub const VALUE_TYPES: [TType; 12] = [
    TType::Bool,
    TType::Byte,
    TType::I16,
    TType::I32,
    TType::I64,
    TType::Double,
    TType::Binary,
    TType::Uuid,
    TType::Struct,
    TType::List,
    TType::Set,
    TType::Map,
];

/// Up to [`MAX_BYTES`] bytes.
pub fn bytes(u: &mut Unstructured<'_>) -> Result<Bytes> {
    let len = u.int_in_range(0..=MAX_BYTES)?;
    Ok(Bytes::copy_from_slice(u.bytes(len.min(u.len()))?))
}

/// A UTF-8 string of up to [`MAX_BYTES`] bytes (invalid UTF-8 is cut at the first error).
pub fn string(u: &mut Unstructured<'_>) -> Result<String> {
    let raw = bytes(u)?;
    Ok(match std::str::from_utf8(&raw) {
        Ok(s) => s.to_owned(),
        Err(e) => String::from_utf8_lossy(&raw[..e.valid_up_to()]).into_owned(),
    })
}

/// Any double bit pattern, with the interesting ones (NaNs, infinities, -0) likely.
pub fn double(u: &mut Unstructured<'_>) -> Result<f64> {
    Ok(match u.int_in_range(0u8..=7)? {
        0 => f64::NAN,
        1 => f64::from_bits(0x7ff0_0000_0000_0001),
        2 => f64::NEG_INFINITY,
        3 => -0.0,
        _ => f64::from_bits(u.arbitrary()?),
    })
}

/// A field id: mostly small and ascending-ish (Compact short-form deltas around 15), some
/// negative, some anywhere in `i16`.
fn field_id(u: &mut Unstructured<'_>, last: i16) -> Result<i16> {
    Ok(match u.int_in_range(0u8..=7)? {
        0..=3 => last.wrapping_add(u.int_in_range(1i16..=16)?),
        4 => u.int_in_range(-20i16..=20)?,
        _ => u.arbitrary()?,
    })
}

/// A value generator with a node budget.
struct Gen<'u, 'a> {
    u: &'u mut Unstructured<'a>,
    nodes: usize,
}

impl Gen<'_, '_> {
    /// A type for a value that may open `depth` more levels: scalars only at 0, since an
    /// empty struct or container still takes a level.
    fn ttype(&mut self, depth: usize) -> Result<TType> {
        let types = if depth == 0 {
            &VALUE_TYPES[..8]
        } else {
            &VALUE_TYPES[..]
        };
        Ok(*self.u.choose(types)?)
    }

    /// How many children the next container or struct gets.
    fn count(&mut self, max: usize) -> Result<usize> {
        if self.nodes == 0 {
            return Ok(0);
        }
        let n = self.u.int_in_range(0..=max)?.min(self.nodes);
        self.nodes -= n;
        Ok(n)
    }

    /// One value of `ttype`; `depth` is how many more levels of struct/container may open
    /// here (this one included): at least 1 for a struct or container.
    fn value(&mut self, ttype: TType, depth: usize) -> Result<Value> {
        let u = &mut *self.u;
        Ok(match ttype {
            TType::Bool => Value::Bool(u.arbitrary()?),
            TType::Byte => Value::Byte(u.arbitrary()?),
            TType::I16 => Value::I16(u.arbitrary()?),
            TType::I32 => Value::I32(u.arbitrary()?),
            TType::I64 => Value::I64(u.arbitrary()?),
            TType::Double => Value::Double(double(u)?),
            TType::Binary => Value::Binary(bytes(u)?),
            TType::Uuid => Value::Uuid(u.arbitrary()?),
            TType::Struct => self.structure(depth)?,
            TType::List | TType::Set => {
                let elem = self.ttype(depth - 1)?;
                let n = self.count(16)?;
                let items = (0..n)
                    .map(|_| self.value(elem, depth - 1))
                    .collect::<Result<_>>()?;
                if ttype == TType::List {
                    Value::List { elem, items }
                } else {
                    Value::Set { elem, items }
                }
            }
            TType::Map => {
                let (key, value) = (self.ttype(depth - 1)?, self.ttype(depth - 1)?);
                let n = self.count(8)?;
                let entries = (0..n)
                    .map(|_| Ok((self.value(key, depth - 1)?, self.value(value, depth - 1)?)))
                    .collect::<Result<_>>()?;
                Value::Map {
                    key,
                    value,
                    entries,
                }
            }
            TType::Stop | TType::Void => unreachable!("VALUE_TYPES holds value types only"),
        })
    }

    fn structure(&mut self, depth: usize) -> Result<Value> {
        let n = self.count(8)?;
        let mut fields = Vec::with_capacity(n);
        let mut last = 0;
        for _ in 0..n {
            let id = field_id(self.u, last)?;
            last = id;
            let ttype = self.ttype(depth - 1)?;
            fields.push(Field {
                id,
                value: self.value(ttype, depth - 1)?,
            });
        }
        Ok(Value::Struct(fields))
    }
}

/// A value of any type, nested at most `depth` levels.
pub fn value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let mut g = Gen {
        u,
        nodes: MAX_NODES,
    };
    let ttype = g.ttype(depth)?;
    g.value(ttype, depth)
}

/// A struct value, nested at most `depth` (at least 1) levels, the struct itself being one.
pub fn struct_value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    Gen {
        u,
        nodes: MAX_NODES,
    }
    .structure(depth.max(1))
}

/// A message whose body nests up to the decoders' depth limit.
pub fn message(u: &mut Unstructured<'_>) -> Result<Message<Value>> {
    let name = string(u)?;
    let kind = *u.choose(&[
        MessageType::Call,
        MessageType::Reply,
        MessageType::Exception,
        MessageType::Oneway,
    ])?;
    let seq_id = u.arbitrary()?;
    let body = struct_value(u, LIMITS.max_depth)?;
    Ok(Message {
        header: MessageHeader { name, kind, seq_id },
        body,
    })
}

/// Metadata: Kitex int keys (mostly known ones) and the ACL token only when `kitex` (a
/// TTHeader), string keys always.
pub fn metadata(u: &mut Unstructured<'_>, kitex: bool) -> Result<Metadata> {
    let mut md = Metadata::new();
    if kitex {
        for _ in 0..u.int_in_range(0..=8)? {
            let key = if u.arbitrary()? {
                u.choose(IntKey::ALL)?.number()
            } else {
                u.arbitrary()?
            };
            md.int.insert(key, bytes(u)?);
        }
        if u.arbitrary()? {
            md.acl_token = Some(bytes(u)?);
        }
    }
    for _ in 0..u.int_in_range(0..=8)? {
        md.strings.insert(string(u)?, bytes(u)?);
    }
    Ok(md)
}

/// A header for `protocol`; `kitex` as for [`metadata`].
pub fn header(u: &mut Unstructured<'_>, protocol: ProtocolId, kitex: bool) -> Result<Header> {
    let mut header = Header::new(protocol, u.arbitrary()?);
    header.flags = u.arbitrary()?;
    header.metadata = metadata(u, kitex)?;
    Ok(header)
}

/// What a reader of `protocol` gives back for `v`.
pub fn view(v: &Value, protocol: ProtocolId) -> Value {
    match protocol {
        ProtocolId::Binary => v.clone(),
        ProtocolId::Compact => v.compact_view(),
    }
}
