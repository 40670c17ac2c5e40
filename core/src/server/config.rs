//! `ServerConfig`: a server's settings as data, and [`ServerBuilder::from_config`].
//!
//! ```yaml
//! service: Echo              # the name events and metrics carry
//! zone: az1                  # the zone the server runs in
//! maxConnections: 10000      # absent: no limit (Kitex's default)
//! maxInFlight: 1000          # absent: no limit
//! limits: { maxFrame: 16777216, maxDepth: 64 }
//! readTimeout: 5s            # a started frame must be whole within it
//! writeTimeout: 5s           # each reply must be taken by the peer within it
//! idleTimeout: 10m           # no request in flight and no bytes: closed
//! drainTimeout: 5s           # shutdown cancels what is still in flight then
//! ```
//!
//! Every field may be left out (the defaults are `ServerBuilder`'s, see
//! [`DEFAULT_READ_TIMEOUT`] and the others for the timeouts and why); unknown fields are
//! errors. Read, write and idle timeouts must be positive; a drain timeout may be `0` (cancel at
//! once). Every timeout is at most a year (`config::MAX_DURATION`).

use std::time::Duration;

use super::{
    ServerBuilder, DEFAULT_DRAIN_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
};
use crate::config::{FieldErrors, FieldPath, Validate, ANY, POSITIVE};
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
    /// A frame that has started arriving must be whole within this long; otherwise the
    /// connection stops being read, its requests already read are answered, and it closes.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub read_timeout: Duration,
    /// Each reply must be taken by the peer's socket within this long; otherwise the
    /// connection closes at once, cancelling its requests.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub write_timeout: Duration,
    /// A connection with no request in flight and no bytes for this long is closed.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub idle_timeout: Duration,
    /// How long a shutdown waits for requests in flight before cancelling them.
    #[serde(with = "crate::config::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::config::duration::Schema"))]
    pub drain_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            service: crate::echo::SERVICE.into(),
            zone: None,
            limits: DecodeLimits::default(),
            max_connections: None,
            max_in_flight: None,
            read_timeout: DEFAULT_READ_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
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
        errors.duration_in(|| path.field("readTimeout"), self.read_timeout, POSITIVE);
        errors.duration_in(|| path.field("writeTimeout"), self.write_timeout, POSITIVE);
        errors.duration_in(|| path.field("idleTimeout"), self.idle_timeout, POSITIVE);
        errors.duration_in(|| path.field("drainTimeout"), self.drain_timeout, ANY);
    }
}

impl ServerBuilder {
    /// A builder with every setting `config` gives, or every error in it.
    pub fn from_config(config: &ServerConfig) -> Result<Self, FieldErrors> {
        config.validate()?;
        let mut builder = ServerBuilder::new(config.service.as_str())
            .limits(config.limits)
            .read_timeout(config.read_timeout)
            .write_timeout(config.write_timeout)
            .idle_timeout(config.idle_timeout)
            .drain_timeout(config.drain_timeout);
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
        let paths = errors.paths();
        assert_eq!(paths, ["maxConnections", "maxInFlight"]);
    }

    #[test]
    fn timeouts_read_go_durations_and_are_bounded() {
        let config: ServerConfig =
            serde_yaml::from_str("readTimeout: 3.5ms\nidleTimeout: 1m30s\ndrainTimeout: \"0\"\n")
                .unwrap();
        assert_eq!(config.read_timeout, Duration::from_micros(3500));
        assert_eq!(config.idle_timeout, Duration::from_secs(90));
        assert_eq!(config.drain_timeout, Duration::ZERO);
        assert!(ServerBuilder::from_config(&config).is_ok());
        let config: ServerConfig = serde_yaml::from_str(
            "readTimeout: 0s\nwriteTimeout: 0s\nidleTimeout: 0s\ndrainTimeout: 9000h\n",
        )
        .unwrap();
        let errors = ServerBuilder::from_config(&config).unwrap_err();
        let paths = errors.paths();
        assert_eq!(
            paths,
            ["readTimeout", "writeTimeout", "idleTimeout", "drainTimeout"]
        );
        let err = serde_yaml::from_str::<ServerConfig>("readTimeout: 5").unwrap_err();
        assert!(err.to_string().contains("duration"), "{err}");
    }
}
