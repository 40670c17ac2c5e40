//! `Membership`: how the layers below the balancer (instance breakers, the connection
//! pool) learn that discovery dropped an instance, so that they drop what they keep for it
//! (its breaker, its connections).
//!
//! No watcher task and no lock on the call path: a holder keeps the version of the
//! snapshot it last pruned against, and on every call loads the current snapshot
//! (`ArcSwap`, lock-free, no allocation) and compares versions. Only when they differ does
//! one caller (the one that swaps the version) prune, against the set of addresses the
//! snapshot lists. What is pruned is therefore gone by the first call after the change;
//! with no call at all, the multiplexed connections' idle timeout still closes theirs.
//!
//! An attempt routed just before a removal can reach the holder just after it; when the
//! holder would create state for an address (a map miss, already the slow path) it first
//! asks [`Membership::contains`], and keeps nothing for an address the snapshot lacks.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{Discovery, Snapshot};

/// The discovery a holder follows (none: nothing is ever pruned) and the version it last
/// pruned against.
#[derive(Debug, Default)]
pub(crate) struct Membership {
    discovery: Option<Discovery>,
    pruned: AtomicU64,
}

impl Membership {
    /// Follows `discovery`, starting from its current snapshot.
    pub(crate) fn of(discovery: Discovery) -> Self {
        Self {
            pruned: AtomicU64::new(discovery.version()),
            discovery: Some(discovery),
        }
    }

    /// The current snapshot when it changed since the last prune; the caller that gets it
    /// prunes. Two loads and a compare when nothing changed.
    pub(crate) fn changed(&self) -> Option<Arc<Snapshot>> {
        let discovery = self.discovery.as_ref()?;
        let current = discovery.load();
        let seen = self.pruned.load(Ordering::Acquire);
        if current.version == seen {
            return None;
        }
        self.pruned
            .compare_exchange(seen, current.version, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        Some(Arc::clone(&current))
    }

    /// Whether `addr` is in the current snapshot (always, without a discovery). A scan:
    /// for the slow path only.
    pub(crate) fn contains(&self, addr: &str) -> bool {
        self.discovery
            .as_ref()
            .is_none_or(|d| d.load().instances.iter().any(|i| &*i.addr == addr))
    }
}

/// The addresses `snapshot` lists.
pub(crate) fn addrs(snapshot: &Snapshot) -> HashSet<&str> {
    snapshot.instances.iter().map(|i| &*i.addr).collect()
}
