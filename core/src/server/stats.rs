//! `ServerStats`: counters a running server keeps (connections, malformed frames, load
//! shedding), readable while it runs.

use std::sync::atomic::{AtomicU64, Ordering};

/// Server counters. All are totals since the server started.
#[derive(Debug, Default)]
pub struct ServerStats {
    accepted: AtomicU64,
    refused: AtomicU64,
    malformed: AtomicU64,
    requests: AtomicU64,
    shed: AtomicU64,
}

impl ServerStats {
    /// Connections accepted and served.
    pub fn connections_accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Connections closed right after accept because `max_connections` were open.
    pub fn connections_refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Connections closed because of a malformed frame.
    pub fn malformed_frames(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// Requests read (well-formed envelopes), including shed ones.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Requests refused because `max_in_flight` requests were being served.
    pub fn requests_shed(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    pub(super) fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn malformed(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }
}
