//! Durations as Go and Chaos Mesh write them: `"3.5ms"`, `"100us"`, `"1m30s"`, `"2h"`.
//!
//! The grammar is Go's `time.ParseDuration`: one or more `<decimal><unit>` terms (the
//! decimal may have a fraction), units `ns`, `us` (also `µs`, `μs`), `ms`, `s`, `m`, `h`;
//! a bare `0` is zero. faultline has no use for negative durations, so a sign is refused,
//! and so is anything longer than `u64::MAX` nanoseconds (Go's limit is half that). Digits
//! past nanosecond precision are dropped, as Go drops them.
//!
//! [`format`] writes the shortest form that parses back to the same value (`1m30s`,
//! `3.5ms`, `0s`), with `us` rather than `µs` so files stay ASCII. The `serde` helpers
//! ([`serde`](self) module functions `serialize` / `deserialize`, and [`option`]) let a
//! `std::time::Duration` field read and write this syntax; every config type and every CLI
//! flag of faultline uses them, so one duration syntax holds everywhere.

use std::fmt::Write as _;
use std::time::Duration;

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: {reason} (e.g. \"3.5ms\", \"100us\", \"1m30s\")")]
pub struct DurationError {
    pub text: String,
    pub reason: &'static str,
}

const UNITS: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a Go-style duration.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let fail = |reason| DurationError {
        text: text.to_owned(),
        reason,
    };
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(fail("empty"));
    }
    if text.starts_with(['-', '+']) {
        return Err(fail("a sign is not allowed"));
    }
    let mut rest = text;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int_digits, after) = rest.split_at(int_len);
        let (frac_digits, after) = match after.strip_prefix('.') {
            Some(frac) => {
                let len = frac
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(frac.len());
                frac.split_at(len)
            }
            None => ("", after),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(fail("expected a number"));
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(fail("missing unit (ns, us, ms, s, m or h)"));
        }
        let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(fail("unknown unit (ns, us, ms, s, m or h)"));
        };
        total = int_digits
            .bytes()
            .try_fold(0u128, |n, d| {
                n.checked_mul(10)?.checked_add(u128::from(d - b'0'))
            })
            .and_then(|n| n.checked_mul(scale))
            .and_then(|n| n.checked_add(fraction(frac_digits, scale)))
            .and_then(|n| n.checked_add(total))
            .filter(|n| *n <= u128::from(u64::MAX))
            .ok_or_else(|| fail("too long"))?;
        rest = next;
    }
    Ok(Duration::from_nanos(total as u64))
}

/// `0.digits * scale` in nanoseconds, digits past nanosecond precision dropped.
fn fraction(digits: &str, scale: u128) -> u128 {
    let mut value = 0u128;
    let mut denominator = 1u128;
    for d in digits.bytes().take(18) {
        value = value * 10 + u128::from(d - b'0');
        denominator *= 10;
    }
    value * scale / denominator
}

/// The shortest Go-style text for `d` that [`parse`] reads back as `d`.
pub fn format(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if nanos < 1_000_000_000 {
        let (scale, unit) = match nanos {
            n if n % 1_000_000 == 0 || n >= 1_000_000 => (1_000_000, "ms"),
            n if n % 1_000 == 0 || n >= 1_000 => (1_000, "us"),
            _ => (1, "ns"),
        };
        write_decimal(&mut out, nanos, scale);
        out.push_str(unit);
        return out;
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = nanos / 60_000_000_000 % 60;
    let seconds = nanos % 60_000_000_000;
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    if seconds > 0 {
        write_decimal(&mut out, seconds, 1_000_000_000);
        out.push('s');
    }
    out
}

/// `value / scale` as a decimal without trailing zeros.
fn write_decimal(out: &mut String, value: u128, scale: u128) {
    let _ = write!(out, "{}", value / scale);
    let mut frac = value % scale;
    if frac == 0 {
        return;
    }
    out.push('.');
    let mut digit = scale / 10;
    while frac > 0 && digit > 0 {
        let _ = write!(out, "{}", frac / digit);
        frac %= digit;
        digit /= 10;
    }
}

/// `#[serde(with = "faultline_core::config::duration")]` on a `Duration` field.
pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

/// See [`serialize`]. Only strings are durations: a bare number has no unit, and the
/// error says so ("expected a duration such as "3.5ms", found the integer 100").
pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_str(Visitor)
}

struct Visitor;

impl serde::de::Visitor<'_> for Visitor {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a duration such as \"3.5ms\", \"100us\" or \"1m30s\"")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
        parse(text).map_err(E::custom)
    }
}

/// `#[serde(with = "faultline_core::config::duration::option")]` on an
/// `Option<Duration>` field (`null` or absent is `None`).
pub mod option {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        struct Some;
        impl<'de> serde::de::Visitor<'de> for Some {
            type Value = Option<Duration>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration such as \"3.5ms\", or null")
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                super::deserialize(d).map(Option::Some)
            }
        }
        d.deserialize_option(Some)
    }
}

/// The JSON schema of a duration string (used with `#[schemars(with = ...)]`).
#[cfg(feature = "schema")]
pub struct Schema;

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Schema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A Go/Chaos Mesh duration: \"3.5ms\", \"100us\", \"1m30s\".",
            "pattern": "^(0|([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$"
        })
    }

    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_syntax() {
        let cases = [
            ("0", 0),
            ("0s", 0),
            ("3.5ms", 3_500_000),
            ("100us", 100_000),
            ("100µs", 100_000),
            ("100μs", 100_000),
            ("1m30s", 90_000_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("1.5h", 5_400_000_000_000),
            (".5s", 500_000_000),
            ("1.s", 1_000_000_000),
            ("0.0000000019s", 1),
            ("15ns", 15),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse(text), Ok(Duration::from_nanos(nanos)), "{text}");
        }
    }

    #[test]
    fn refuses_what_go_refuses_and_negatives() {
        for (text, reason) in [
            ("", "empty"),
            ("5", "missing unit"),
            ("3.5", "missing unit"),
            ("1x", "unknown unit"),
            ("1d", "unknown unit"),
            ("ms", "expected a number"),
            (".ms", "expected a number"),
            ("-1s", "sign"),
            ("+1s", "sign"),
            ("1s ", "unknown unit"),
            ("99999999999999999999h", "too long"),
            ("5124096h", "too long"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.reason.contains(reason), "{text}: {err}");
            assert!(err.to_string().contains("e.g. \"3.5ms\""), "{err}");
        }
    }

    #[test]
    fn formats_shortest_and_round_trips() {
        let cases = [
            (0, "0s"),
            (15, "15ns"),
            (1_500, "1.5us"),
            (100_000, "100us"),
            (3_500_000, "3.5ms"),
            (3_500_001, "3.500001ms"),
            (1_000_000_000, "1s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h"),
            (3_723_004_005_006, "1h2m3.004005006s"),
        ];
        for (nanos, text) in cases {
            let d = Duration::from_nanos(nanos);
            assert_eq!(format(d), text);
            assert_eq!(parse(text), Ok(d));
        }
        for nanos in [1, 999, 1_001, 999_999_999, 59_999_999_999, u64::MAX] {
            let d = Duration::from_nanos(nanos);
            assert_eq!(parse(&format(d)), Ok(d), "{nanos}");
        }
    }

    #[test]
    fn serde_helpers_read_and_write_strings() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct T {
            #[serde(with = "super")]
            a: Duration,
            #[serde(with = "super::option", default)]
            b: Option<Duration>,
        }
        let t: T = serde_json::from_str(r#"{"a": "1m30s", "b": "3.5ms"}"#).unwrap();
        assert_eq!(t.a, Duration::from_secs(90));
        assert_eq!(t.b, Some(Duration::from_micros(3500)));
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"a":"1m30s","b":"3.5ms"}"#
        );
        let t: T = serde_json::from_str(r#"{"a": "0"}"#).unwrap();
        assert_eq!(t.b, None);
        let err = serde_json::from_str::<T>(r#"{"a": "3.5"}"#).unwrap_err();
        assert!(err.to_string().contains("missing unit"), "{err}");
    }
}
