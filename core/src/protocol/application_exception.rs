//! `ApplicationException`: Thrift's `TApplicationException`, the struct a server sends in an
//! `Exception` message when a call fails outside the service's own declared exceptions
//! (unknown method, internal error, protocol error, ...).

use std::fmt;

use crate::Thrift;

/// `TApplicationException { 1: string message, 2: i32 type }`.
#[derive(Thrift, Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplicationException {
    #[thrift(id = 1)]
    pub message: String,
    #[thrift(id = 2)]
    pub kind: i32,
}

impl ApplicationException {
    pub const UNKNOWN: i32 = 0;
    pub const UNKNOWN_METHOD: i32 = 1;
    pub const INVALID_MESSAGE_TYPE: i32 = 2;
    pub const WRONG_METHOD_NAME: i32 = 3;
    pub const BAD_SEQUENCE_ID: i32 = 4;
    pub const MISSING_RESULT: i32 = 5;
    pub const INTERNAL_ERROR: i32 = 6;
    pub const PROTOCOL_ERROR: i32 = 7;
    pub const INVALID_TRANSFORM: i32 = 8;
    pub const INVALID_PROTOCOL: i32 = 9;
    pub const UNSUPPORTED_CLIENT_TYPE: i32 = 10;

    pub fn new(kind: i32, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            kind,
        }
    }

    /// The name Thrift gives `kind`, e.g. `UNKNOWN_METHOD`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Self::UNKNOWN_METHOD => "UNKNOWN_METHOD",
            Self::INVALID_MESSAGE_TYPE => "INVALID_MESSAGE_TYPE",
            Self::WRONG_METHOD_NAME => "WRONG_METHOD_NAME",
            Self::BAD_SEQUENCE_ID => "BAD_SEQUENCE_ID",
            Self::MISSING_RESULT => "MISSING_RESULT",
            Self::INTERNAL_ERROR => "INTERNAL_ERROR",
            Self::PROTOCOL_ERROR => "PROTOCOL_ERROR",
            Self::INVALID_TRANSFORM => "INVALID_TRANSFORM",
            Self::INVALID_PROTOCOL => "INVALID_PROTOCOL",
            Self::UNSUPPORTED_CLIENT_TYPE => "UNSUPPORTED_CLIENT_TYPE",
            _ => "UNKNOWN",
        }
    }
}

impl fmt::Display for ApplicationException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind_name(), self.message)
    }
}

impl std::error::Error for ApplicationException {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_from_slice, encode_to_vec, Binary, DecodeLimits};

    #[test]
    fn wire_form_is_message_then_type() {
        let e = ApplicationException::new(ApplicationException::UNKNOWN_METHOD, "no");
        let bytes = encode_to_vec::<Binary, _>(&e).unwrap();
        assert_eq!(
            bytes,
            [11, 0, 1, 0, 0, 0, 2, b'n', b'o', 8, 0, 2, 0, 0, 0, 1, 0]
        );
        let back: ApplicationException =
            decode_from_slice::<Binary, _>(&bytes, DecodeLimits::default()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.to_string(), "UNKNOWN_METHOD: no");
    }
}
