//! Typed messages: `Encode` and `ThriftType`, implemented for Rust's scalars, strings,
//! `Bytes`, `Vec`, sets, maps and `Box`, and by `#[derive(Thrift)]` for structs and enums.
//!
//! Type mapping: `bool` bool, `i8` byte, `i16`/`i32`/`i64`, `f64` double, `String` string,
//! `bytes::Bytes` binary, `[u8; 16]` uuid, `Vec<T>` list, `HashSet`/`BTreeSet` set,
//! `HashMap`/`BTreeMap` map, `Box<T>` as `T`.
//!
//! The readers already bound every length and container count by the limits and by the
//! bytes remaining, and count nesting depth; the impls here only check that container
//! element types match the declared ones, and reserve exactly the (already bounded) count.
//!
//! ```
//! use faultline_core::protocol::{decode_from_slice, encode_to_vec, Binary, DecodeLimits};
//! use faultline_core::Thrift;
//!
//! #[derive(Thrift, Debug, PartialEq)]
//! struct EchoRequest {
//!     #[thrift(id = 1)]
//!     message: String,
//!     #[thrift(id = 2)]
//!     trace: Option<i64>,
//! }
//!
//! let request = EchoRequest { message: "hi".into(), trace: None };
//! let bytes = encode_to_vec::<Binary, _>(&request)?;
//! assert_eq!(bytes, [0x0B, 0, 1, 0, 0, 0, 2, b'h', b'i', 0]);
//! let back: EchoRequest = decode_from_slice::<Binary, _>(&bytes, DecodeLimits::default())?;
//! assert_eq!(back, request);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every field needs an id, and ids are unique; both are checked at compile time:
//!
//! ```compile_fail
//! #[derive(faultline_core::Thrift)]
//! struct NoId {
//!     message: String,
//! }
//! ```
//!
//! ```compile_fail
//! #[derive(faultline_core::Thrift)]
//! struct SameId {
//!     #[thrift(id = 1)]
//!     a: String,
//!     #[thrift(id = 1)]
//!     b: String,
//! }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use bytes::Bytes;

use super::{
    DecodeError, DecodeResult, EncodeError, EncodeResult, ErrorKind, ListHeader, MapHeader,
    ProtocolReader, ProtocolWriter, TType,
};

/// Something that writes itself through a protocol writer.
pub trait Encode {
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult;
}

/// A Rust type with a fixed Thrift wire type that can decode itself.
pub trait ThriftType: Encode + Sized {
    const TTYPE: TType;
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self>;

    /// Decodes the `len` elements of a list whose header has been read, appending to `out`.
    /// Fixed-width numbers override it to take Binary's big-endian run in one piece.
    #[inline]
    fn decode_list_elements<'a, R: ProtocolReader<'a>>(
        reader: &mut R,
        len: usize,
        out: &mut Vec<Self>,
    ) -> DecodeResult<()> {
        for _ in 0..len {
            out.push(Self::decode(reader)?);
        }
        Ok(())
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        (**self).encode(writer)
    }
}

/// `Encode` and `ThriftType` for a scalar; with `big_endian`, lists of it take Binary's
/// contiguous run in one piece.
macro_rules! scalar {
    ($ty:ty, $ttype:ident, $write:ident, $read:ident $(, big_endian: $from_be:path)?) => {
        impl Encode for $ty {
            #[inline]
            fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
                writer.$write(*self)
            }
        }

        impl ThriftType for $ty {
            const TTYPE: TType = TType::$ttype;
            #[inline]
            fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
                reader.$read()
            }

            $(
            #[inline]
            fn decode_list_elements<'a, R: ProtocolReader<'a>>(
                reader: &mut R,
                len: usize,
                out: &mut Vec<Self>,
            ) -> DecodeResult<()> {
                const WIDTH: usize = std::mem::size_of::<$ty>();
                match reader.big_endian_run(WIDTH, len)? {
                    Some(run) => out.extend(run.chunks_exact(WIDTH).map(|chunk| {
                        let mut bytes = [0u8; WIDTH];
                        bytes.copy_from_slice(chunk);
                        $from_be(bytes)
                    })),
                    None => {
                        for _ in 0..len {
                            out.push(reader.$read()?);
                        }
                    }
                }
                Ok(())
            }
            )?
        }
    };
}

scalar!(bool, Bool, write_bool, read_bool);
scalar!(i8, Byte, write_byte, read_byte);
scalar!(i16, I16, write_i16, read_i16, big_endian: i16::from_be_bytes);
scalar!(i32, I32, write_i32, read_i32, big_endian: i32::from_be_bytes);
scalar!(i64, I64, write_i64, read_i64, big_endian: i64::from_be_bytes);
scalar!(f64, Double, write_double, read_double, big_endian: f64::from_be_bytes);

impl Encode for str {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        writer.write_string(self)
    }
}

impl Encode for String {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        writer.write_string(self)
    }
}

impl ThriftType for String {
    const TTYPE: TType = TType::Binary;
    #[inline]
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        reader.read_string().map(str::to_owned)
    }
}

impl Encode for Bytes {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        writer.write_binary(self)
    }
}

impl ThriftType for Bytes {
    const TTYPE: TType = TType::Binary;
    /// Zero-copy when the reader was built over `Bytes` (`decode_from_bytes`).
    #[inline]
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        reader.read_bytes()
    }
}

/// A Thrift `uuid`: 16 bytes in network order.
impl Encode for [u8; 16] {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        writer.write_uuid(self)
    }
}

impl ThriftType for [u8; 16] {
    const TTYPE: TType = TType::Uuid;
    #[inline]
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        reader.read_uuid()
    }
}

impl<T: Encode + ?Sized> Encode for Box<T> {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        (**self).encode(writer)
    }
}

impl<T: ThriftType> ThriftType for Box<T> {
    const TTYPE: TType = T::TTYPE;
    #[inline]
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        T::decode(reader).map(Box::new)
    }
}

/// A container length as the wire carries it: at most `i32::MAX`.
#[inline]
fn wire_len(len: usize, what: &'static str) -> EncodeResult<usize> {
    if len > i32::MAX as usize {
        return Err(EncodeError::TooLong { what, len });
    }
    Ok(len)
}

/// `TypeMismatch` at `offset` unless the header's type is the declared one.
#[inline]
fn check_type(
    found: TType,
    expected: TType,
    offset: usize,
    what: &'static str,
) -> DecodeResult<()> {
    if found == expected {
        Ok(())
    } else {
        Err(DecodeError::new(
            ErrorKind::TypeMismatch { expected, found },
            offset,
            what,
        ))
    }
}

/// Checks a map header's key and value types. An empty map may carry any types: Compact
/// does not write them at all (they come back as `Void`).
#[inline]
fn check_map_types<K: ThriftType, V: ThriftType>(
    header: &MapHeader,
    offset: usize,
) -> DecodeResult<()> {
    if header.len == 0 {
        return Ok(());
    }
    check_type(header.key, K::TTYPE, offset, "map key type")?;
    check_type(header.value, V::TTYPE, offset, "map value type")
}

/// Writes a list or set of `len` elements from `items`.
#[inline]
fn encode_seq<'t, T, W, I>(writer: &mut W, set: bool, len: usize, items: I) -> EncodeResult
where
    T: ThriftType + 't,
    W: ProtocolWriter,
    I: IntoIterator<Item = &'t T>,
{
    let what = if set { "set" } else { "list" };
    let header = ListHeader {
        elem: T::TTYPE,
        len: wire_len(len, what)?,
    };
    if set {
        writer.write_set_begin(header)?;
    } else {
        writer.write_list_begin(header)?;
    }
    for item in items {
        item.encode(writer)?;
    }
    if set {
        writer.write_set_end()
    } else {
        writer.write_list_end()
    }
}

/// Writes a map of `len` entries from `entries`.
#[inline]
fn encode_map<'t, K, V, W, I>(writer: &mut W, len: usize, entries: I) -> EncodeResult
where
    K: ThriftType + 't,
    V: ThriftType + 't,
    W: ProtocolWriter,
    I: IntoIterator<Item = (&'t K, &'t V)>,
{
    writer.write_map_begin(MapHeader {
        key: K::TTYPE,
        value: V::TTYPE,
        len: wire_len(len, "map")?,
    })?;
    for (key, value) in entries {
        key.encode(writer)?;
        value.encode(writer)?;
    }
    writer.write_map_end()
}

/// A Thrift list.
impl<T: ThriftType> Encode for [T] {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        encode_seq(writer, false, self.len(), self)
    }
}

impl<T: ThriftType> Encode for Vec<T> {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        encode_seq(writer, false, self.len(), self)
    }
}

impl<T: ThriftType> ThriftType for Vec<T> {
    const TTYPE: TType = TType::List;
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        let start = reader.offset();
        let header = reader.read_list_begin()?;
        check_type(header.elem, T::TTYPE, start, "list element type")?;
        let mut out = Vec::with_capacity(T::TTYPE.reservable(header.len));
        T::decode_list_elements(reader, header.len, &mut out)?;
        reader.read_list_end()?;
        Ok(out)
    }
}

impl<T: ThriftType, S> Encode for HashSet<T, S> {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        encode_seq(writer, true, self.len(), self)
    }
}

impl<T, S> ThriftType for HashSet<T, S>
where
    T: ThriftType + Eq + Hash,
    S: BuildHasher + Default,
{
    const TTYPE: TType = TType::Set;
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        let start = reader.offset();
        let header = reader.read_set_begin()?;
        check_type(header.elem, T::TTYPE, start, "set element type")?;
        let reserve = T::TTYPE.reservable(header.len);
        let mut out = HashSet::with_capacity_and_hasher(reserve, S::default());
        for _ in 0..header.len {
            out.insert(T::decode(reader)?);
        }
        reader.read_set_end()?;
        Ok(out)
    }
}

impl<T: ThriftType> Encode for BTreeSet<T> {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        encode_seq(writer, true, self.len(), self)
    }
}

impl<T: ThriftType + Ord> ThriftType for BTreeSet<T> {
    const TTYPE: TType = TType::Set;
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        let start = reader.offset();
        let header = reader.read_set_begin()?;
        check_type(header.elem, T::TTYPE, start, "set element type")?;
        let mut out = BTreeSet::new();
        for _ in 0..header.len {
            out.insert(T::decode(reader)?);
        }
        reader.read_set_end()?;
        Ok(out)
    }
}

impl<K: ThriftType, V: ThriftType, S> Encode for HashMap<K, V, S> {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        encode_map(writer, self.len(), self)
    }
}

impl<K, V, S> ThriftType for HashMap<K, V, S>
where
    K: ThriftType + Eq + Hash,
    V: ThriftType,
    S: BuildHasher + Default,
{
    const TTYPE: TType = TType::Map;
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        let start = reader.offset();
        let header = reader.read_map_begin()?;
        check_map_types::<K, V>(&header, start)?;
        let reserve = K::TTYPE.reservable(V::TTYPE.reservable(header.len));
        let mut out = HashMap::with_capacity_and_hasher(reserve, S::default());
        for _ in 0..header.len {
            let key = K::decode(reader)?;
            let value = V::decode(reader)?;
            out.insert(key, value);
        }
        reader.read_map_end()?;
        Ok(out)
    }
}

impl<K: ThriftType, V: ThriftType> Encode for BTreeMap<K, V> {
    #[inline]
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        encode_map(writer, self.len(), self)
    }
}

impl<K: ThriftType + Ord, V: ThriftType> ThriftType for BTreeMap<K, V> {
    const TTYPE: TType = TType::Map;
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        let start = reader.offset();
        let header = reader.read_map_begin()?;
        check_map_types::<K, V>(&header, start)?;
        let mut out = BTreeMap::new();
        for _ in 0..header.len {
            let key = K::decode(reader)?;
            let value = V::decode(reader)?;
            out.insert(key, value);
        }
        reader.read_map_end()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A list of 2^31 elements cannot be built cheaply in a test, so the length check is
    // tested where it lives.
    #[test]
    fn lengths_past_i32_max_are_too_long() {
        assert_eq!(wire_len(i32::MAX as usize, "list"), Ok(i32::MAX as usize));
        assert_eq!(
            wire_len(i32::MAX as usize + 1, "list"),
            Err(EncodeError::TooLong {
                what: "list",
                len: i32::MAX as usize + 1
            })
        );
    }
}
