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

pub use duration::DurationError;
pub use error::{FieldError, FieldErrors, FieldPath, PathSegment, Validate};
