//! `Transport`: the five ways faultline puts a Thrift message on a byte stream.

use std::fmt;
use std::str::FromStr;

/// How a Thrift message is carried on the wire.
///
/// Every transport but `Buffered` starts with a 4-byte big-endian length that counts the
/// bytes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// The bare message with no length ("unframed"; Kitex calls it `PurePayload`).
    Buffered,
    /// A 4-byte length, then the message.
    Framed,
    /// Kitex TTHeader (magic `0x1000`), then the bare message.
    TTHeader,
    /// Kitex TTHeader whose payload is itself framed: the header, a second 4-byte length
    /// covering only the message, then the message. This is what Kitex's
    /// `transport.TTHeaderFramed` writes (its encoder emits the TTHeader header, then the
    /// framed length, then the payload).
    #[serde(rename = "ttheader_framed", alias = "ttheader-framed")]
    TTHeaderFramed,
    /// Apache THeader (magic `0x0FFF`, varint fields), then the bare message.
    THeader,
}

impl Transport {
    /// Every transport, in a stable order.
    pub const ALL: [Transport; 5] = [
        Transport::Buffered,
        Transport::Framed,
        Transport::TTHeader,
        Transport::TTHeaderFramed,
        Transport::THeader,
    ];

    /// Lower-case name used by the command line and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Buffered => "buffered",
            Transport::Framed => "framed",
            Transport::TTHeader => "ttheader",
            Transport::TTHeaderFramed => "ttheader_framed",
            Transport::THeader => "theader",
        }
    }

    /// The transport named `name` (as `name()` spells it; `unframed` is `buffered`).
    pub fn from_name(name: &str) -> Option<Transport> {
        Some(match name {
            "buffered" | "unframed" => Transport::Buffered,
            "framed" => Transport::Framed,
            "ttheader" => Transport::TTHeader,
            "ttheader_framed" | "ttheader-framed" => Transport::TTHeaderFramed,
            "theader" => Transport::THeader,
            _ => return None,
        })
    }

    /// True when the frame starts with a 4-byte length (all but `Buffered`).
    pub fn is_length_prefixed(self) -> bool {
        !matches!(self, Transport::Buffered)
    }

    /// True when the frame carries a `Header` (TTHeader, TTHeaderFramed, THeader).
    pub fn has_header(self) -> bool {
        matches!(
            self,
            Transport::TTHeader | Transport::TTHeaderFramed | Transport::THeader
        )
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown transport name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown transport {0:?} (expected buffered, framed, ttheader, ttheader_framed or theader)"
)]
pub struct UnknownTransportName(pub String);

impl FromStr for Transport {
    type Err = UnknownTransportName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Transport::from_name(s).ok_or_else(|| UnknownTransportName(s.to_owned()))
    }
}
