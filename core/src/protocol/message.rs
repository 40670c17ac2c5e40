//! `Message`: a Thrift message envelope around a body (an args or result struct), and
//! `MessageBody`, what a body can be: a typed struct or a schema-less `Value`.

use super::{
    DecodeResult, Encode, EncodeResult, MessageHeader, ProtocolReader, ProtocolWriter, ThriftType,
};

/// A message: envelope plus body. Encoding writes the envelope, the body, and the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<B, N = String> {
    pub header: MessageHeader<N>,
    pub body: B,
}

impl<B: Encode, N: AsRef<str>> Encode for Message<B, N> {
    fn encode<W: ProtocolWriter>(&self, writer: &mut W) -> EncodeResult {
        writer.write_message_begin(&MessageHeader {
            name: self.header.name.as_ref(),
            kind: self.header.kind,
            seq_id: self.header.seq_id,
        })?;
        self.body.encode(writer)?;
        writer.write_message_end()
    }
}

/// A message body that can decode itself: any `ThriftType`, or a `Value` (read as a struct).
pub trait MessageBody: Sized {
    fn decode_body<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self>;
}

impl<T: ThriftType> MessageBody for T {
    fn decode_body<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        T::decode(reader)
    }
}

impl<B: MessageBody> Message<B> {
    /// Reads an envelope and its body.
    pub fn decode<'a, R: ProtocolReader<'a>>(reader: &mut R) -> DecodeResult<Self> {
        let header = reader.read_message_begin()?.to_owned();
        let body = B::decode_body(reader)?;
        reader.read_message_end()?;
        Ok(Message { header, body })
    }
}
