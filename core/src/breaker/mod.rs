//! Circuit breakers: a sliding window of outcome buckets, a CLOSED / OPEN / HALF_OPEN state
//! machine with exponentially growing cooling time, and the tower layers that apply one
//! breaker per (caller, callee, method) and one per instance address.
//!
//! `config` holds the settings and defaults, `window` the lock-free bucket ring, `state` the
//! packed state word, `circuit` the `Breaker` itself (explicit clock, no I/O), and `layer`,
//! `service`, `instance` put breakers into the client's tower stack. With the `fuzzing`
//! feature, `model` is a plain reference implementation to check `Breaker` against.

mod circuit;
mod config;
mod instance;
mod layer;
#[cfg(any(test, feature = "fuzzing"))]
pub mod model;
mod scope;
mod service;
mod state;
mod window;

pub use circuit::{Admitted, Breaker, Outcome, Permit, Rejected, Transition};
pub use config::BreakerConfig;
pub use instance::{InstanceBreaker, InstanceBreakerLayer};
pub use layer::ResponseFuture;
pub use scope::{BreakerScope, BreakerState};
pub use service::{ServiceBreaker, ServiceBreakerLayer};
pub use window::WindowStats;
