//! `RouteConfig`: the route table as data, read from JSON or YAML.
//!
//! ```yaml
//! metadata_key: x-color        # where to find the tag when CallOptions::tag is unset
//! routes:
//!   - tag: canary
//!     sticky: true             # hash_key picks the target and the instance
//!     targets:
//!       - { weight: 90, zone: zone-a }
//!       - { weight: 10, tags: { version: v2 } }
//! ```
//!
//! Unknown fields are errors (a typo must not silently route traffic elsewhere), and so are
//! a route without targets, targets whose weights add up to 0, and a tag routed twice.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use super::error::{Position, RouteError};
use crate::rpc::{Call, Instance};

/// The whole table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The metadata string key that carries the tag when the call has no `options.tag`.
    #[serde(default)]
    pub metadata_key: Option<String>,
    #[serde(default)]
    pub routes: Vec<Route>,
}

/// The policy for one tag.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub tag: String,
    /// Choose target and instance by consistent hashing on the call's `hash_key`.
    #[serde(default)]
    pub sticky: bool,
    pub targets: Vec<Target>,
}

/// A weighted share of a route's traffic, and the instances that may take it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// Only instances in this zone, when set.
    #[serde(default)]
    pub zone: Option<String>,
    /// Only instances carrying all of these tags with these values.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_weight() -> u32 {
    1
}

/// The syntax of a route source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// JSON for a `.json` file, YAML otherwise.
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}

impl Target {
    /// Whether `instance` is one this target may send to.
    pub fn matches(&self, instance: &Instance) -> bool {
        let zone_ok = match &self.zone {
            Some(zone) => instance.zone.as_deref() == Some(zone.as_str()),
            None => true,
        };
        zone_ok
            && self
                .tags
                .iter()
                .all(|(k, v)| instance.tags.get(k) == Some(v))
    }
}

impl RouteConfig {
    /// Parses and validates `text`; `file` only names the source in errors.
    pub fn parse(text: &str, format: Format, file: Option<&Path>) -> Result<Self, RouteError> {
        let at = |line: Option<usize>, column: Option<usize>| Position {
            file: file.map(Path::to_path_buf),
            line,
            column,
        };
        let config: RouteConfig = match format {
            Format::Json => serde_json::from_str(text).map_err(|e| RouteError::Parse {
                at: at(Some(e.line()), Some(e.column())),
                message: e.to_string(),
            })?,
            Format::Yaml => serde_yaml::from_str(text).map_err(|e| {
                let location = e.location();
                RouteError::Parse {
                    at: at(
                        location.as_ref().map(|l| l.line()),
                        location.as_ref().map(|l| l.column()),
                    ),
                    message: e.to_string(),
                }
            })?,
        };
        config.validate().map_err(|message| RouteError::Invalid {
            at: at(None, None),
            message,
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let mut seen = HashSet::new();
        for route in &self.routes {
            if !seen.insert(route.tag.as_str()) {
                return Err(format!("tag {:?} is routed twice", route.tag));
            }
            if route.targets.iter().all(|t| t.weight == 0) {
                return Err(format!(
                    "route {:?} has no target with a weight above 0",
                    route.tag
                ));
            }
        }
        Ok(())
    }

    /// The call's tag: `options.tag`, else the metadata value under `metadata_key`.
    pub fn tag_of<'a>(&self, call: &'a Call) -> Option<&'a str> {
        if let Some(tag) = &call.options.tag {
            return Some(tag);
        }
        let key = self.metadata_key.as_deref()?;
        std::str::from_utf8(call.metadata.string_value(key)?).ok()
    }
}
