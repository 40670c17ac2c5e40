//! `ServerConfig`: a server's settings as data, and [`ServerBuilder::from_config`].
//!
//! ```yaml
//! service: Echo              # the name events and metrics carry
//! zone: az1                  # the zone the server runs in
//! maxConnections: 10000      # absent: no limit (Kitex's default)
//! maxInFlight: 1000          # absent: no limit
//! limits: { maxFrame: 16777216, maxDepth: 64 }
//! ```
//!
//! Every field may be left out; unknown fields are errors.

use super::ServerBuilder;
use crate::config::{FieldErrors, FieldPath, Validate};
use crate::protocol::DecodeLimits;

/// A server, as data. See the module doc.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerConfig {
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Bounds on every frame and message decoded.
    pub limits: DecodeLimits,
    /// Open connections at most; one more is closed right after accept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// Requests served at once at most; one more is answered with an "overloaded"
    /// `TApplicationException`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<usize>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            service: crate::echo::SERVICE.into(),
            zone: None,
            limits: DecodeLimits::default(),
            max_connections: None,
            max_in_flight: None,
        }
    }
}

impl ServerConfig {
    /// The largest `maxConnections` / `maxInFlight` a config may set.
    pub const MAX_LIMIT: usize = 10_000_000;
}

impl Validate for ServerConfig {
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors) {
        errors.check(
            !self.service.is_empty(),
            || path.field("service"),
            || "must name the service".into(),
        );
        self.limits.validate_at(&path.field("limits"), errors);
        if let Some(n) = self.max_connections {
            errors.in_range(|| path.field("maxConnections"), n, 1..=Self::MAX_LIMIT);
        }
        if let Some(n) = self.max_in_flight {
            errors.in_range(|| path.field("maxInFlight"), n, 1..=Self::MAX_LIMIT);
        }
    }
}

impl ServerBuilder {
    /// A builder with every setting `config` gives, or every error in it.
    pub fn from_config(config: &ServerConfig) -> Result<Self, FieldErrors> {
        config.validate()?;
        let mut builder = ServerBuilder::new(config.service.as_str()).limits(config.limits);
        if let Some(zone) = &config.zone {
            builder = builder.zone(zone.as_str());
        }
        if let Some(n) = config.max_connections {
            builder = builder.max_connections(n);
        }
        if let Some(n) = config.max_in_flight {
            builder = builder.max_in_flight(n);
        }
        Ok(builder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_default_and_limits_are_checked() {
        let config: ServerConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(config, ServerConfig::default());
        assert!(ServerBuilder::from_config(&config).is_ok());
        let config: ServerConfig =
            serde_json::from_str(r#"{"maxInFlight": 0, "maxConnections": 18446744073709551615}"#)
                .unwrap();
        let errors = ServerBuilder::from_config(&config).unwrap_err();
        let paths: Vec<String> = errors.0.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, ["maxConnections", "maxInFlight"]);
    }
}
