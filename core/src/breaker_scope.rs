//! What a breaker guards (`BreakerScope`) and the states it moves through (`BreakerState`).
//!
//! A leaf: `rpc` (a breaker's refusal names its scope), `event` (transitions) and `breaker`
//! all use these types, so they live apart from all three. Users reach them as
//! `breaker::{BreakerScope, BreakerState}` (or through `event`).

use std::fmt;
use std::sync::Arc;

/// The key a breaker is kept under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum BreakerScope {
    /// A service breaker: one per (caller, callee, method), as Kitex keys them.
    Service {
        caller: Arc<str>,
        callee: Arc<str>,
        method: Arc<str>,
    },
    /// An instance breaker: one per callee address.
    Instance { addr: Arc<str> },
}

/// A breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BreakerState {
    /// Calls pass; outcomes are counted.
    Closed,
    /// Calls are refused until the cooling time has passed.
    Open,
    /// A limited number of probe calls pass; enough successes close the breaker.
    HalfOpen,
}

impl BreakerState {
    pub fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for BreakerScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakerScope::Service {
                caller,
                callee,
                method,
            } => write!(f, "service {caller} -> {callee}.{method}"),
            BreakerScope::Instance { addr } => write!(f, "instance {addr}"),
        }
    }
}
