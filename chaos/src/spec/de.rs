//! Deserializing a JSON value into a typed kind, with errors that say which value failed
//! (a [`FieldPath`], tracked by `serde_path_to_error`) and what was expected there: the
//! closest valid field or variant for a misspelt one, `expected a string, found a sequence`
//! for a wrong type. The value is read through our own deserializer (module `value`) so that the
//! kind of each error survives to the message and to its location.

mod value;

use std::fmt;

use faultline_core::config::{FieldError, FieldPath, PathSegment};
use serde::de::{self, DeserializeOwned, Expected, Unexpected};
use serde_json::Value;
use serde_path_to_error::Segment;

/// Which part of the node at an error's path the error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Where the node is named: a misspelt key, or the mapping that lacks a field.
    Key,
    /// The value itself: a wrong type, a bad variant, a value its parser refused.
    Value,
}

/// A deserialization error: the failing value's path and what is wrong, and whether it is
/// about that node's key or its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    /// The path from the deserialized value's root, and the message.
    pub error: FieldError,
    /// Whether the error is about the key or the value at that path.
    pub target: Target,
}

/// `value` as a `T`; the error's path points at the failing value (or, for an unknown
/// field, at the unknown key itself).
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, FieldError> {
    deserialize(value).map_err(|error| error.error)
}

/// [`from_value`], also saying whether the error is about a key or a value.
pub fn deserialize<T: DeserializeOwned>(value: &Value) -> Result<T, DeError> {
    serde_path_to_error::deserialize(value::ValueDeserializer(value)).map_err(|error| {
        let path = field_path(error.path());
        let Error { message, target } = error.into_inner();
        DeError {
            error: FieldError { path, message },
            target,
        }
    })
}

fn field_path(path: &serde_path_to_error::Path) -> FieldPath {
    FieldPath(
        path.iter()
            .filter_map(|segment| match segment {
                Segment::Seq { index } => Some(PathSegment::Index(*index)),
                Segment::Map { key } => Some(PathSegment::Field(key.clone())),
                Segment::Enum { variant } => Some(PathSegment::Field(variant.clone())),
                Segment::Unknown => None,
            })
            .collect(),
    )
}

/// The error of [`value::ValueDeserializer`]: a message in this module's words, and its
/// [`Target`].
#[derive(Debug)]
struct Error {
    message: String,
    target: Target,
}

impl Error {
    fn at(target: Target, message: String) -> Self {
        Error { message, target }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error::at(Target::Value, message.to_string())
    }

    fn invalid_type(found: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Error::at(
            Target::Value,
            format!("expected {expected}, found {}", describe(found)),
        )
    }

    fn invalid_value(found: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Error::at(
            Target::Value,
            format!("expected {expected}, found {}", describe(found)),
        )
    }

    fn invalid_length(len: usize, expected: &dyn Expected) -> Self {
        Error::at(
            Target::Value,
            format!("expected {expected}, found {len} elements"),
        )
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Error::at(Target::Value, unknown("variant", variant, expected))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Error::at(Target::Key, unknown("field", field, expected))
    }

    fn missing_field(field: &'static str) -> Self {
        Error::at(Target::Key, format!("missing field {field:?}"))
    }
}

/// `unknown field "laterncy", did you mean "latency"?`, or the valid names when none is
/// close.
fn unknown(what: &str, name: &str, expected: &[&str]) -> String {
    let closest = expected
        .iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(similarity, _)| *similarity >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match (closest, expected) {
        (Some((_, candidate)), _) => {
            format!("unknown {what} {name:?}, did you mean {candidate:?}?")
        }
        (None, []) => format!("unknown {what} {name:?}, there are none here"),
        (None, _) => {
            let names: Vec<String> = expected.iter().map(|name| format!("{name:?}")).collect();
            format!(
                "unknown {what} {name:?}, expected one of {}",
                names.join(", ")
            )
        }
    }
}

/// What was found, with an article: `a sequence`, `the string "x"`.
fn describe(found: Unexpected<'_>) -> String {
    match found {
        Unexpected::Bool(value) => format!("the boolean {value}"),
        Unexpected::Unsigned(value) => format!("the integer {value}"),
        Unexpected::Signed(value) => format!("the integer {value}"),
        Unexpected::Float(value) => format!("the number {value}"),
        Unexpected::Char(value) => format!("the character {value:?}"),
        Unexpected::Str(value) => format!("the string {value:?}"),
        Unexpected::Unit => "null".to_owned(),
        Unexpected::Seq => "a sequence".to_owned(),
        Unexpected::Map => "a mapping".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_the_closest_name_or_list_all() {
        let fields = &["latency", "jitter", "correlation"];
        assert_eq!(
            unknown("field", "laterncy", fields),
            r#"unknown field "laterncy", did you mean "latency"?"#
        );
        assert_eq!(
            unknown("field", "zzz", fields),
            r#"unknown field "zzz", expected one of "latency", "jitter", "correlation""#
        );
        assert_eq!(
            unknown("field", "x", &[]),
            r#"unknown field "x", there are none here"#
        );
    }
}
