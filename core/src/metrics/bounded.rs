//! A bound on the distinct values a label takes. Service and method names reach the
//! server from the wire: a client (or a fuzzer) sending random method names would
//! otherwise add a series per name until the process runs out of memory. Past the bound,
//! new values are recorded as `OVERFLOW`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// The label value recorded for names seen after the bound was reached.
pub const OVERFLOW: &str = "_other";

#[derive(Debug)]
pub struct Bounded {
    seen: Mutex<HashSet<Arc<str>>>,
    limit: usize,
    overflow: Arc<str>,
}

impl Bounded {
    pub fn new(limit: usize) -> Self {
        Self {
            seen: Mutex::new(HashSet::new()),
            limit,
            overflow: OVERFLOW.into(),
        }
    }

    /// `value` if it was seen before or there is room for it, else `OVERFLOW`.
    pub fn admit(&self, value: &Arc<str>) -> Arc<str> {
        // The set stays consistent whatever a panicking holder did: it only ever grows.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.contains(value) {
            return value.clone();
        }
        if seen.len() < self.limit {
            seen.insert(value.clone());
            return value.clone();
        }
        self.overflow.clone()
    }
}
