//! Thrift protocols: Binary and Compact readers and writers, the dynamic `Value` tree,
//! `skip`, typed messages, and the limits and errors every decoder shares.

mod application_exception;
mod binary;
mod compact;
mod error;
pub(crate) mod input;
mod limits;
mod message;
mod reader;
mod skip;
mod ttype;
mod typed;
mod value;
mod varint;
mod writer;

pub use application_exception::ApplicationException;
pub use binary::{BinaryReader, BinaryWriter};
pub use compact::{CompactReader, CompactWriter};
pub use error::{DecodeError, DecodeResult, EncodeError, EncodeResult, ErrorKind};
pub use input::Input;
pub use limits::DecodeLimits;
pub use message::{Message, MessageBody};
pub use reader::ProtocolReader;
pub use skip::{skip, skip_message};
pub use ttype::{FieldHeader, ListHeader, MapHeader, MessageHeader, MessageType, TType};
pub use typed::{Encode, ThriftType};
pub use value::{Field, Value};
pub use varint::{read_varint32, varint32_len, write_varint32};
pub use writer::{ProtocolWriter, Sink, SizeCounter};

use bytes::Bytes;

/// Deepest nesting a writer will produce: the decoders' default limit, so that faultline
/// never writes what its own readers would refuse.
pub const MAX_WRITE_DEPTH: usize = DecodeLimits::DEFAULT_MAX_DEPTH;

/// A payload protocol, with the id Kitex TTHeader and Apache THeader give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProtocolId {
    Binary = 0,
    Compact = 2,
}

impl ProtocolId {
    pub fn from_id(id: u32) -> Option<ProtocolId> {
        match id {
            0 => Some(ProtocolId::Binary),
            2 => Some(ProtocolId::Compact),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ProtocolId::Binary => "binary",
            ProtocolId::Compact => "compact",
        }
    }
}

/// A Thrift protocol at the type level, so generic code picks Binary or Compact statically.
pub trait Protocol {
    const ID: ProtocolId;
    type Reader<'a>: ProtocolReader<'a>;
    type Writer<S: Sink>: ProtocolWriter;

    /// A reader over `input` (which carries the limits and the absolute base offset).
    fn reader(input: Input<'_>) -> Self::Reader<'_>;
    /// A writer into `sink`.
    fn writer<S: Sink>(sink: S) -> Self::Writer<S>;
}

/// The Thrift Binary protocol (strict write; strict and old non-strict read).
#[derive(Debug, Clone, Copy, Default)]
pub struct Binary;

/// The Thrift Compact protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct Compact;

impl Protocol for Binary {
    const ID: ProtocolId = ProtocolId::Binary;
    type Reader<'a> = BinaryReader<'a>;
    type Writer<S: Sink> = BinaryWriter<S>;

    fn reader(input: Input<'_>) -> BinaryReader<'_> {
        BinaryReader::new(input)
    }
    fn writer<S: Sink>(sink: S) -> BinaryWriter<S> {
        BinaryWriter::new(sink)
    }
}

impl Protocol for Compact {
    const ID: ProtocolId = ProtocolId::Compact;
    type Reader<'a> = CompactReader<'a>;
    type Writer<S: Sink> = CompactWriter<S>;

    fn reader(input: Input<'_>) -> CompactReader<'_> {
        CompactReader::new(input)
    }
    fn writer<S: Sink>(sink: S) -> CompactWriter<S> {
        CompactWriter::new(sink)
    }
}

/// The exact number of bytes `value` encodes to in protocol `P`.
pub fn encoded_len<P: Protocol, T: Encode + ?Sized>(value: &T) -> EncodeResult<usize> {
    let mut counter = SizeCounter(0);
    value.encode(&mut P::writer(&mut counter))?;
    Ok(counter.0)
}

/// Encodes `value` in protocol `P`: sizes it first, then writes once into an exact buffer.
pub fn encode_to_vec<P: Protocol, T: Encode + ?Sized>(value: &T) -> EncodeResult<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded_len::<P, T>(value)?);
    value.encode(&mut P::writer(&mut out))?;
    Ok(out)
}

/// Decodes one `T` from the whole of `buf`; bytes left over are an error.
pub fn decode_from_slice<P: Protocol, T: ThriftType>(
    buf: &[u8],
    limits: DecodeLimits,
) -> DecodeResult<T> {
    let mut reader = P::reader(Input::new(buf, 0, limits));
    let value = T::decode(&mut reader)?;
    expect_end(&reader)?;
    Ok(value)
}

/// Decodes one `T` from the whole of `buf`, with binaries as zero-copy slices of it.
pub fn decode_from_bytes<P: Protocol, T: ThriftType>(
    buf: &Bytes,
    limits: DecodeLimits,
) -> DecodeResult<T> {
    let mut reader = P::reader(Input::from_bytes(buf, 0, limits));
    let value = T::decode(&mut reader)?;
    expect_end(&reader)?;
    Ok(value)
}

/// Fails with `TrailingBytes` unless the reader consumed all of its input.
pub fn expect_end<'a, R: ProtocolReader<'a>>(reader: &R) -> DecodeResult<()> {
    match reader.remaining() {
        0 => Ok(()),
        n => Err(reader.error(ErrorKind::TrailingBytes(n), "end of input")),
    }
}
