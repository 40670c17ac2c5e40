//! The one structured error type of every decoder and encoder: what went wrong, at which
//! byte offset, and what the decoder expected to find there.

use std::fmt;

use super::TType;

/// What kind of malformation a decoder met.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended before the value was complete.
    UnexpectedEof { needed: usize, remaining: usize },
    /// A length prefix was negative.
    NegativeLength(i64),
    /// A string or binary is longer than `DecodeLimits::max_string`.
    StringTooLong { len: usize, limit: usize },
    /// A container claims more elements than `DecodeLimits::max_container`.
    ContainerTooLarge { len: usize, limit: usize },
    /// A container claims more elements than the remaining bytes could hold.
    ContainerExceedsInput {
        len: usize,
        min_bytes: usize,
        remaining: usize,
    },
    /// A frame is larger than `DecodeLimits::max_frame`.
    FrameTooLarge { len: usize, limit: usize },
    /// Structs and containers are nested deeper than `DecodeLimits::max_depth`.
    DepthExceeded { limit: usize },
    /// A type id that Thrift does not define (or that is not allowed here).
    InvalidType(u8),
    /// A value of one Thrift type where another was required.
    TypeMismatch { expected: TType, found: TType },
    /// A varint longer than 5 (32-bit) or 10 (64-bit) bytes, or one that overflows.
    VarintTooLong,
    /// A compact field-id delta pushed the field id past i16.
    FieldIdOverflow,
    /// A strict binary message header with a wrong version, or an unknown compact version.
    BadVersion(u32),
    /// A message type other than call, reply, exception, oneway.
    InvalidMessageType(u8),
    /// A string field that is not valid UTF-8.
    InvalidUtf8,
    /// A compact bool encoded as something other than 1 or 2.
    InvalidBool(u8),
    /// A frame's magic number is not the one the framing requires.
    BadMagic(u32),
    /// A header's size field is impossible (zero, too small, or past the frame).
    BadHeaderSize(usize),
    /// A TTHeader/THeader info block id that the format does not define.
    UnknownInfoId(u8),
    /// A THeader/TTHeader transform that faultline does not implement.
    UnknownTransform(u32),
    /// A header names a payload protocol faultline does not speak.
    UnknownProtocol(u32),
    /// The first bytes match no transport faultline can detect.
    UnknownTransport,
    /// A required struct field was absent.
    MissingField { id: i16, name: &'static str },
    /// An enum's wire value names no variant.
    UnknownEnumValue(i32),
    /// Bytes were left over after a complete value.
    TrailingBytes(usize),
}

/// A decoding failure: kind, absolute byte offset, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: ErrorKind,
    /// Offset of the first byte that could not be accepted, from the start of the input.
    pub offset: usize,
    /// What the decoder was reading, e.g. "list header" or "field 1 of Request".
    pub expected: &'static str,
}

impl DecodeError {
    pub fn new(kind: ErrorKind, offset: usize, expected: &'static str) -> Self {
        Self {
            kind,
            offset,
            expected,
        }
    }

    /// The same error with its offset moved by `base` (an enclosing frame's payload start).
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset = self.offset.saturating_add(base);
        self
    }

    /// A short machine-readable name of the kind, e.g. `unexpected_eof`.
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }

    /// True when more input could complete the value (a stream reader should wait).
    pub fn is_eof(&self) -> bool {
        matches!(self.kind, ErrorKind::UnexpectedEof { .. })
    }
}

impl ErrorKind {
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::UnexpectedEof { .. } => "unexpected_eof",
            ErrorKind::NegativeLength(_) => "negative_length",
            ErrorKind::StringTooLong { .. } => "string_too_long",
            ErrorKind::ContainerTooLarge { .. } => "container_too_large",
            ErrorKind::ContainerExceedsInput { .. } => "container_exceeds_input",
            ErrorKind::FrameTooLarge { .. } => "frame_too_large",
            ErrorKind::DepthExceeded { .. } => "depth_exceeded",
            ErrorKind::InvalidType(_) => "invalid_type",
            ErrorKind::TypeMismatch { .. } => "type_mismatch",
            ErrorKind::VarintTooLong => "varint_too_long",
            ErrorKind::FieldIdOverflow => "field_id_overflow",
            ErrorKind::BadVersion(_) => "bad_version",
            ErrorKind::InvalidMessageType(_) => "invalid_message_type",
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::InvalidBool(_) => "invalid_bool",
            ErrorKind::BadMagic(_) => "bad_magic",
            ErrorKind::BadHeaderSize(_) => "bad_header_size",
            ErrorKind::UnknownInfoId(_) => "unknown_info_id",
            ErrorKind::UnknownTransform(_) => "unknown_transform",
            ErrorKind::UnknownProtocol(_) => "unknown_protocol",
            ErrorKind::UnknownTransport => "unknown_transport",
            ErrorKind::MissingField { .. } => "missing_field",
            ErrorKind::UnknownEnumValue(_) => "unknown_enum_value",
            ErrorKind::TrailingBytes(_) => "trailing_bytes",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnexpectedEof { needed, remaining } => {
                write!(
                    f,
                    "unexpected end of input: needed {needed} bytes, {remaining} remain"
                )
            }
            ErrorKind::NegativeLength(n) => write!(f, "negative length {n}"),
            ErrorKind::StringTooLong { len, limit } => {
                write!(f, "string of {len} bytes exceeds limit {limit}")
            }
            ErrorKind::ContainerTooLarge { len, limit } => {
                write!(f, "container of {len} elements exceeds limit {limit}")
            }
            ErrorKind::ContainerExceedsInput {
                len,
                min_bytes,
                remaining,
            } => write!(
                f,
                "container of {len} elements needs at least {min_bytes} bytes, {remaining} remain"
            ),
            ErrorKind::FrameTooLarge { len, limit } => {
                write!(f, "frame of {len} bytes exceeds limit {limit}")
            }
            ErrorKind::DepthExceeded { limit } => write!(f, "nesting deeper than {limit}"),
            ErrorKind::InvalidType(t) => write!(f, "invalid type id {t}"),
            ErrorKind::TypeMismatch { expected, found } => {
                write!(f, "type mismatch: expected {expected:?}, found {found:?}")
            }
            ErrorKind::VarintTooLong => write!(f, "varint too long or overflowing"),
            ErrorKind::FieldIdOverflow => write!(f, "field id overflows i16"),
            ErrorKind::BadVersion(v) => write!(f, "bad protocol version {v:#010x}"),
            ErrorKind::InvalidMessageType(t) => write!(f, "invalid message type {t}"),
            ErrorKind::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
            ErrorKind::InvalidBool(b) => write!(f, "invalid bool encoding {b:#04x}"),
            ErrorKind::BadMagic(m) => write!(f, "bad magic {m:#06x}"),
            ErrorKind::BadHeaderSize(n) => write!(f, "bad header size {n}"),
            ErrorKind::UnknownInfoId(id) => write!(f, "unknown info id {id:#04x}"),
            ErrorKind::UnknownTransform(id) => write!(f, "unknown transform {id}"),
            ErrorKind::UnknownProtocol(id) => write!(f, "unknown payload protocol {id}"),
            ErrorKind::UnknownTransport => write!(f, "bytes match no known transport"),
            ErrorKind::MissingField { id, name } => {
                write!(f, "required field {name} (id {id}) is missing")
            }
            ErrorKind::UnknownEnumValue(v) => write!(f, "unknown enum value {v}"),
            ErrorKind::TrailingBytes(n) => write!(f, "{n} bytes left after the value"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at byte {} (reading {})",
            self.kind, self.offset, self.expected
        )
    }
}

impl std::error::Error for DecodeError {}

/// An encoding failure: a value that cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    #[error("{what} of {len} bytes/elements does not fit the wire's i32 length")]
    TooLong { what: &'static str, len: usize },
    #[error("{what}: value of type {found:?} where {expected:?} was declared")]
    TypeMismatch {
        what: &'static str,
        expected: TType,
        found: TType,
    },
    #[error("nesting deeper than {limit}")]
    DepthExceeded { limit: usize },
    #[error("{0}")]
    Invalid(&'static str),
}

pub type DecodeResult<T> = Result<T, DecodeError>;
pub type EncodeResult<T = ()> = Result<T, EncodeError>;
