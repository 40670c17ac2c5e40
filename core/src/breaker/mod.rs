//! Circuit breakers: a sliding window of outcome buckets, a CLOSED / OPEN / HALF_OPEN state
//! machine with exponentially growing cooling time, and the tower layers that apply one
//! breaker per (caller, callee, method) and one per instance address.
//!
//! `config` holds the settings and defaults, `window` the lock-free bucket ring, `state` the
//! packed state word, `circuit` the `Breaker` itself (explicit clock, no I/O), and `layer`,
//! `service`, `instance` put breakers into the client's tower stack. With the `fuzzing`
//! feature, `model` is a plain reference implementation to check `Breaker` against. The
//! public `BreakerScope` and `BreakerState` live in the leaf module `crate::breaker_scope`
//! (`rpc` and `event` use them too) and are re-exported here.
//!
//! What each kind of fault does to the breakers. An outcome counts against the callee when
//! its error `counts_against_callee()`; the service breaker (above the balancer) sees the
//! call's outcome, the instance breaker (below it) each attempt's:
//!
//! | fault | the error | counted |
//! |---|---|---|
//! | connect refused | `Connect` | a failure of the instance and the method |
//! | connect black-holed | `ConnectTimeout` (after the pool's connect timeout) | a failure |
//! | reset, peer close mid-call | `Io` | a failure |
//! | black hole or slow reply past the deadline | `Timeout` (the attempt deadline, below the instance breaker, fires at the call's deadline) | a failure |
//! | stalled connection (no byte for the pool's stall timeout) | `Io` (`TimedOut`) | a failure |
//! | malformed reply, application exception | `Protocol`, `Application` | a failure |
//! | refused by a breaker, no instance, cancelled by the caller | `BreakerOpen`, `NoInstance`, `Cancelled` | not counted: the permit is released |
//!
//! An open instance breaker refuses with `BreakerOpen(Instance)` without touching the
//! network; the balancer counts that against the instance's health, and failure retry may
//! send the call to another instance, without spending the retry budget (nothing was
//! sent). An open service breaker refuses with `BreakerOpen(Service)`, which retry does
//! not resend (`RetryDenial::ServiceBreakerOpen`: the retry would meet the same breaker). When discovery drops an instance, an instance
//! breaker layer built with `InstanceBreakerLayer::with_discovery` drops its breaker on
//! the next call; re-added, the instance starts with a closed breaker.

mod circuit;
mod config;
mod instance;
mod layer;
#[cfg(any(test, feature = "fuzzing"))]
pub mod model;
mod service;
mod state;
mod window;

pub use crate::breaker_scope::{BreakerScope, BreakerState};
pub use circuit::{Admitted, Breaker, Outcome, Permit, Rejected, Transition};
pub use config::BreakerConfig;
pub use instance::{InstanceBreaker, InstanceBreakerLayer};
pub use layer::ResponseFuture;
pub use service::{ServiceBreaker, ServiceBreakerLayer};
pub use window::WindowStats;
