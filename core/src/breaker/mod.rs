//! Circuit breakers: a sliding window of outcome buckets, a CLOSED / OPEN / HALF_OPEN state
//! machine with exponentially growing cooling time, and the tower layers that apply one
//! breaker per (caller, callee, method) and one per instance address.

mod scope;

pub use scope::{BreakerScope, BreakerState};
