//! Deserializing a JSON value into a typed object with the path to the value that failed.
//!
//! Private on purpose: a shared `spec::de::from_value` (same signature) is meant to replace
//! this file.

use faultline_core::config::{FieldError, FieldPath};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `value` as a `T`, or the first value that does not fit, with its path from `value`.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let mut path = FieldPath::root();
        for segment in error.path().iter() {
            path = match segment {
                serde_path_to_error::Segment::Seq { index } => path.index(*index),
                serde_path_to_error::Segment::Map { key } => path.field(key),
                serde_path_to_error::Segment::Enum { variant } => path.field(variant),
                serde_path_to_error::Segment::Unknown => path,
            };
        }
        FieldError {
            path,
            message: error.into_inner().to_string(),
        }
    })
}
