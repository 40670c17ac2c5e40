//! What a YAML scalar means under the YAML 1.2 core schema, as a JSON value: `null`/`~`/empty
//! is null, `true`/`false` (three spellings each) are booleans, decimal, `0o` and `0x`
//! integers are numbers, as are decimal floats; everything else, and anything quoted, is a
//! string. Integers beyond `u64` become floats; values JSON cannot hold (`.inf`, `.nan`, an
//! overflowing float or a `0x`/`0o` integer beyond `u64`) are errors.

use saphyr_parser::{ScalarStyle, Tag};
use serde_json::{Number, Value};

/// The value of a scalar written as `text` with `style` and an optional `tag`. Tags other
/// than the core schema's `!!str`, `!!int`, `!!float`, `!!bool` and `!!null` are refused.
pub(super) fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let Some(tag) = tag else {
        return match style {
            ScalarStyle::Plain => plain(text),
            _ => Ok(Value::String(text.to_owned())),
        };
    };
    let not_a = |what: &str| format!("{text:?} is not a valid {what} ({tag})");
    match core_suffix(tag) {
        Some("str") => Ok(Value::String(text.to_owned())),
        Some("null") if is_null(text) => Ok(Value::Null),
        Some("null") => Err(not_a("null")),
        Some("bool") => boolean(text)
            .map(Value::Bool)
            .ok_or_else(|| not_a("boolean")),
        Some("int") => integer(text).unwrap_or_else(|| Err(not_a("integer"))),
        Some("float") => match integer(text).or_else(|| float(text)) {
            Some(Ok(value)) => value
                .as_f64()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| not_a("float")),
            Some(Err(error)) => Err(error),
            None => Err(not_a("float")),
        },
        _ => Err(format!(
            "tag {tag} is not supported on a scalar (only !!str, !!int, !!float, !!bool, !!null)"
        )),
    }
}

/// The suffix of a core schema tag (`str` for `!!str`), `None` for any other tag.
pub(super) fn core_suffix(tag: &Tag) -> Option<&str> {
    tag.is_yaml_core_schema().then_some(tag.suffix.as_str())
}

fn plain(text: &str) -> Result<Value, String> {
    if is_null(text) {
        return Ok(Value::Null);
    }
    if let Some(value) = boolean(text) {
        return Ok(Value::Bool(value));
    }
    integer(text)
        .or_else(|| float(text))
        .unwrap_or_else(|| Ok(Value::String(text.to_owned())))
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `None` when `text` is not an integer; an error when it is one JSON cannot hold.
fn integer(text: &str) -> Option<Result<Value, String>> {
    let radix = |digits: &str, radix: u32| {
        let valid = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
        valid.then(|| {
            u64::from_str_radix(digits, radix)
                .map(Value::from)
                .map_err(|_| format!("{text} does not fit in 64 bits"))
        })
    };
    if let Some(hex) = text.strip_prefix("0x") {
        return radix(hex, 16);
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return radix(octal, 8);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Ok(value) = text.parse::<i64>() {
        return Some(Ok(Value::from(value)));
    }
    if let (false, Ok(value)) = (text.starts_with('-'), digits.parse::<u64>()) {
        return Some(Ok(Value::from(value)));
    }
    float(text)
}

/// `None` when `text` is not a float of the core schema (`[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)
/// ([eE][-+]?[0-9]+)?` or an infinity or NaN); an error when it is not finite.
fn float(text: &str) -> Option<Result<Value, String>> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let special =
        matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN");
    if special {
        return Some(Err(format!(
            "{text} is not a finite number, which JSON cannot hold (quote it for a string)"
        )));
    }
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    Some(
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{text} is out of range of a 64-bit float")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain_value(text: &str) -> Result<Value, String> {
        resolve(text, ScalarStyle::Plain, None)
    }

    #[test]
    fn core_schema_resolution() {
        assert_eq!(plain_value("~"), Ok(Value::Null));
        assert_eq!(plain_value(""), Ok(Value::Null));
        assert_eq!(plain_value("True"), Ok(json!(true)));
        assert_eq!(
            plain_value("yes"),
            Ok(json!("yes")),
            "YAML 1.1 booleans are strings"
        );
        assert_eq!(plain_value("-12"), Ok(json!(-12)));
        assert_eq!(plain_value("+12"), Ok(json!(12)));
        assert_eq!(plain_value("0x1F"), Ok(json!(31)));
        assert_eq!(plain_value("0o17"), Ok(json!(15)));
        assert_eq!(plain_value("0x"), Ok(json!("0x")));
        assert_eq!(plain_value("1.5e3"), Ok(json!(1500.0)));
        assert_eq!(plain_value(".5"), Ok(json!(0.5)));
        assert_eq!(plain_value("1e"), Ok(json!("1e")));
        assert_eq!(plain_value("inf"), Ok(json!("inf")));
        assert_eq!(plain_value("18446744073709551615"), Ok(json!(u64::MAX)));
        assert_eq!(
            plain_value("-18446744073709551616"),
            Ok(json!(-1.8446744073709552e19))
        );
        assert_eq!(plain_value("1.2.3"), Ok(json!("1.2.3")));
        assert_eq!(
            resolve("12", ScalarStyle::DoubleQuoted, None),
            Ok(json!("12"))
        );
    }

    #[test]
    fn values_json_cannot_hold_are_errors() {
        for text in [".inf", "-.Inf", ".nan", "1e999", "0xFFFFFFFFFFFFFFFFFF"] {
            assert!(plain_value(text).is_err(), "{text}");
        }
        let big = "9".repeat(400);
        assert!(plain_value(&big).unwrap_err().contains("out of range"));
    }

    #[test]
    fn core_tags_force_a_type_and_others_are_refused() {
        let tag = |suffix: &str| Tag {
            handle: "tag:yaml.org,2002:".into(),
            suffix: suffix.into(),
        };
        let tagged =
            |text: &str, suffix: &str| resolve(text, ScalarStyle::Plain, Some(&tag(suffix)));
        assert_eq!(tagged("12", "str"), Ok(json!("12")));
        assert_eq!(tagged("12", "float"), Ok(json!(12.0)));
        assert_eq!(tagged("~", "null"), Ok(Value::Null));
        assert!(tagged("yes", "bool")
            .unwrap_err()
            .contains("not a valid boolean"));
        assert!(tagged("1.5", "int").is_err());
        assert!(tagged("x", "timestamp")
            .unwrap_err()
            .contains("not supported"));
        let local = Tag {
            handle: "!".into(),
            suffix: "secret".into(),
        };
        assert!(resolve("x", ScalarStyle::Plain, Some(&local)).is_err());
    }
}
