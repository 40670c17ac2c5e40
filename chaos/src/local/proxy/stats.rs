//! What a proxy counted: connections, bytes each way, and what each fault did. Atomic
//! counters written by the connections, read as a [`ProxyStats`] snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a proxy's counters, totals since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Client connections accepted.
    pub connections: u64,
    /// Bytes delivered to the server (requests) and to the client (replies).
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    /// Chunks lost and delivered late, as TCP repairs them.
    pub segments_lost: u64,
    /// Bits flipped by `corrupt`.
    pub bits_corrupted: u64,
    /// Bytes that `duplicate` would have sent twice (TCP discards them: nothing changes).
    pub bytes_duplicated: u64,
    /// Bytes that arrived while their direction was partitioned (held until it healed).
    pub bytes_held_by_partitions: u64,
    /// Frames a method (HTTPChaos) fault acted on.
    pub method_faults_applied: u64,
    /// Client connections reset: the upstream refused or reset, or a lost segment's
    /// retransmissions were all lost too.
    pub connections_reset: u64,
}

/// The live counters.
#[derive(Debug, Default)]
pub(super) struct Counters {
    connections: AtomicU64,
    bytes_to_server: AtomicU64,
    bytes_to_client: AtomicU64,
    segments_lost: AtomicU64,
    bits_corrupted: AtomicU64,
    bytes_duplicated: AtomicU64,
    bytes_held_by_partitions: AtomicU64,
    method_faults_applied: AtomicU64,
    connections_reset: AtomicU64,
}

fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
}

impl Counters {
    pub fn snapshot(&self) -> ProxyStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ProxyStats {
            connections: get(&self.connections),
            bytes_to_server: get(&self.bytes_to_server),
            bytes_to_client: get(&self.bytes_to_client),
            segments_lost: get(&self.segments_lost),
            bits_corrupted: get(&self.bits_corrupted),
            bytes_duplicated: get(&self.bytes_duplicated),
            bytes_held_by_partitions: get(&self.bytes_held_by_partitions),
            method_faults_applied: get(&self.method_faults_applied),
            connections_reset: get(&self.connections_reset),
        }
    }

    pub fn connection(&self) {
        add(&self.connections, 1);
    }

    /// `n` bytes delivered, to the server when `to_server`.
    pub fn delivered(&self, to_server: bool, n: usize) {
        match to_server {
            true => add(&self.bytes_to_server, n),
            false => add(&self.bytes_to_client, n),
        }
    }

    pub fn lost(&self) {
        add(&self.segments_lost, 1);
    }

    pub fn corrupted(&self) {
        add(&self.bits_corrupted, 1);
    }

    pub fn duplicated(&self, n: usize) {
        add(&self.bytes_duplicated, n);
    }

    pub fn held(&self, n: usize) {
        add(&self.bytes_held_by_partitions, n);
    }

    pub fn method_fault(&self) {
        add(&self.method_faults_applied, 1);
    }

    pub fn reset(&self) {
        add(&self.connections_reset, 1);
    }
}
