//! The runtime's configuration as data: one duration syntax ([`duration`]), paths to the
//! value a validation error is about ([`FieldPath`], [`FieldError`]) and the [`Validate`]
//! trait every config type implements.
//!
//! The config types themselves live beside what they configure (`client::ClientConfig`,
//! `server::ServerConfig`, `breaker::BreakerConfig`, ...): each derives `serde` with
//! `deny_unknown_fields`, defaults that equal the runtime's defaults (so an empty mapping is
//! a valid config), and, with the `schema` feature, `schemars::JsonSchema` so the
//! `Experiment` CRD can embed them.

pub mod duration;
mod error;
#[cfg(feature = "schema")]
pub mod schema;

use std::time::Duration;

pub use duration::DurationError;
pub use error::{FieldError, FieldErrors, FieldPath, PathSegment, Validate};

/// The longest timeout or period a config may hold: a year. Longer ones mean "never" in
/// practice, and near `u64::MAX` seconds adding them to a clock reading would overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// A 1ns ..= [`MAX_DURATION`] range, for timeouts that must be positive.
pub const POSITIVE: std::ops::RangeInclusive<Duration> = Duration::from_nanos(1)..=MAX_DURATION;

/// A 0 ..= [`MAX_DURATION`] range.
pub const ANY: std::ops::RangeInclusive<Duration> = Duration::ZERO..=MAX_DURATION;
