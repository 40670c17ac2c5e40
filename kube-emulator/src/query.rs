//! A request's query string: percent-decoded parameters and the typed options read from them.

use std::collections::BTreeMap;

use crate::error::ApiError;

/// Decoded `name=value` pairs; a repeated name keeps its last value.
pub(crate) struct Query(BTreeMap<String, String>);

impl Query {
    pub(crate) fn parse(query: &str) -> Self {
        let pairs = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) => (decode(name, true), decode(value, true)),
                None => (decode(pair, true), String::new()),
            })
            .collect();
        Query(pairs)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A parameter that is set and not empty.
    pub(crate) fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }

    /// `true`/`1` (as Go's `strconv.ParseBool` reads them) is true; absent is false.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(false),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            Some(other) => Err(ApiError::bad_request(format!(
                "invalid value {other:?} for boolean parameter {name}"
            ))),
        }
    }

    pub(crate) fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.non_empty(name)
            .map(|value| {
                value.parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid value {value:?} for parameter {name}"))
                })
            })
            .transpose()
    }

    pub(crate) fn dry_run(&self) -> Result<bool, ApiError> {
        match self.get("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "dryRun: Unsupported value: {other:?}: supported values: \"All\""
            ))),
        }
    }

    /// `fieldValidation`: whether unknown fields fail the request (`Strict`).
    pub(crate) fn strict(&self) -> Result<bool, ApiError> {
        match self.get("fieldValidation") {
            None | Some("" | "Ignore" | "Warn") => Ok(false),
            Some("Strict") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }
}

/// Percent-decoding; `plus_is_space` for form encoding, which kube's query builder uses.
pub(crate) fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}
