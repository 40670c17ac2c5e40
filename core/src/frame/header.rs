//! `Header`: the fields a Kitex TTHeader or Apache THeader header carries in front of the
//! payload (flags, sequence id, payload protocol, transforms, metadata).

use std::fmt;

use super::Metadata;
use crate::protocol::ProtocolId;

/// A TTHeader / THeader header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The 16 flag bits after the magic (see the `FLAG_*` constants).
    pub flags: u16,
    /// The header's sequence id (Kitex writes the message's seq id here).
    pub seq_id: i32,
    /// The payload protocol the header announces.
    pub protocol: ProtocolId,
    /// Transform ids applied to the payload. faultline implements no transform (no zlib,
    /// no snappy): decoding rejects any transform with `UnknownTransform` and encoding
    /// rejects a non-empty list, so a decoded header always has this empty.
    pub transforms: Vec<u32>,
    pub metadata: Metadata,
}

impl Header {
    /// Kitex `HeaderFlagSupportOutOfOrder`.
    pub const FLAG_SUPPORT_OUT_OF_ORDER: u16 = 0x01;
    /// Kitex `HeaderFlagDuplexReverse`.
    pub const FLAG_DUPLEX_REVERSE: u16 = 0x08;
    /// Kitex `HeaderFlagSASL`.
    pub const FLAG_SASL: u16 = 0x10;

    /// An empty header for `protocol` with sequence id `seq_id`.
    pub fn new(protocol: ProtocolId, seq_id: i32) -> Self {
        Self {
            flags: 0,
            seq_id,
            protocol,
            transforms: Vec::new(),
            metadata: Metadata::default(),
        }
    }
}

impl fmt::Display for Header {
    /// `flags`, `seq_id`, `protocol`, `transforms` lines, then the metadata lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "flags = {:#06x}", self.flags)?;
        writeln!(f, "seq_id = {}", self.seq_id)?;
        writeln!(f, "protocol = {}", self.protocol.name())?;
        writeln!(f, "transforms = {:?}", self.transforms)?;
        fmt::Display::fmt(&self.metadata, f)
    }
}
