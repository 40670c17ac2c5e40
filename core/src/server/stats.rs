//! `ServerStats`: counters a running server keeps (connections, why they closed, malformed
//! frames, load shedding, calls cancelled by shutdown), readable while it runs.

use std::sync::atomic::{AtomicU64, Ordering};

/// Server counters. All are totals since the server started.
#[derive(Debug, Default)]
pub struct ServerStats {
    accepted: AtomicU64,
    refused: AtomicU64,
    closed: AtomicU64,
    read_timeouts: AtomicU64,
    write_timeouts: AtomicU64,
    idle_timeouts: AtomicU64,
    cancelled: AtomicU64,
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

    /// Connections accepted and not yet closed.
    pub fn connections_open(&self) -> u64 {
        let closed = self.closed.load(Ordering::Relaxed);
        self.connections_accepted().saturating_sub(closed)
    }

    /// Connections closed because a frame had started and was not whole within the read
    /// timeout.
    pub fn read_timeouts(&self) -> u64 {
        self.read_timeouts.load(Ordering::Relaxed)
    }

    /// Connections closed because a reply was not taken by the peer within the write
    /// timeout (a peer that does not read).
    pub fn write_timeouts(&self) -> u64 {
        self.write_timeouts.load(Ordering::Relaxed)
    }

    /// Connections closed because they were idle (no request in flight, no bytes) for the
    /// idle timeout.
    pub fn idle_timeouts(&self) -> u64 {
        self.idle_timeouts.load(Ordering::Relaxed)
    }

    /// Requests cancelled unanswered by shutdown: in flight when the drain deadline passed
    /// or `abort` was called.
    pub fn calls_cancelled(&self) -> u64 {
        self.cancelled.load(Ordering::Relaxed)
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

    pub(super) fn closed(&self) {
        self.closed.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn read_timeout(&self) {
        self.read_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn write_timeout(&self) {
        self.write_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn idle_timeout(&self) {
        self.idle_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn cancelled(&self, calls: usize) {
        let calls = u64::try_from(calls).unwrap_or(u64::MAX);
        self.cancelled.fetch_add(calls, Ordering::Relaxed);
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
