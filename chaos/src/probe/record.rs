//! One call as the probe saw it: when it was due, how late it started, how long it took,
//! how it ended, and which instance (and zone) answered.

use std::sync::Arc;
use std::time::Duration;

use faultline_core::rpc::RpcErrorKind;
use serde::{Deserialize, Serialize};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// The service answered.
    Ok,
    /// A fallback policy answered in its place.
    Fallback,
    /// The call failed.
    Error(RpcErrorKind),
    /// The call was due while `maxInFlight` calls were out, and was not made.
    Dropped,
}

impl Outcome {
    /// Whether the caller got an answer it can use (the service's or a fallback).
    pub fn answered(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Fallback)
    }
}

/// One call.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// When the call was due, from the start of measurement (negative: warm-up, not kept).
    pub due: Duration,
    /// From when it was due to when it ended.
    pub latency: Duration,
    /// From when it was due to when it started: the generator's own scheduling lag (part
    /// of `latency`; zero for dropped calls).
    pub lag: Duration,
    pub outcome: Outcome,
    /// The instance that answered (address) and its zone, when one did.
    pub instance: Option<Arc<str>>,
    pub zone: Option<Arc<str>>,
}
