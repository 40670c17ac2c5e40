//! Typed messages: `Encode` and `ThriftType`, implemented for Rust's scalars, strings,
//! `Bytes`, `Vec`, sets, maps and `Box`, and by `#[derive(Thrift)]` for structs and enums.

use super::{DecodeResult, EncodeResult, ProtocolReader, ProtocolWriter, TType};

/// Something that writes itself through a protocol writer.
pub trait Encode {
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult;
}

/// A Rust type with a fixed Thrift wire type that can decode itself.
pub trait ThriftType: Encode + Sized {
    const TTYPE: TType;
    fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self>;
}
