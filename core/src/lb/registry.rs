//! `Registry`: per-address (or per-zone) state that outlives snapshots.
//!
//! A balancer that learns from feedback (latency averages, health, zone RTT) must keep
//! what it learned when discovery publishes a new list that still holds the instance. The
//! registry hands every picker built for a key the same `Arc`; it keeps only `Weak`s, so
//! state for an instance no picker holds any more is dropped, and the map is pruned on the
//! next build. It is locked only while a picker is built, never on a pick.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

#[derive(Debug)]
pub(crate) struct Registry<T> {
    entries: Mutex<HashMap<Arc<str>, Weak<T>>>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Registry<T> {
    /// The shared state for each key, in order, creating what is missing with `make`.
    pub(crate) fn get_all<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a Arc<str>>,
        make: impl Fn() -> T,
    ) -> Vec<Arc<T>> {
        // A panic while building a picker leaves the map consistent; keep using it.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, weak| weak.strong_count() > 0);
        keys.into_iter()
            .map(|key| {
                if let Some(live) = entries.get(key).and_then(Weak::upgrade) {
                    return live;
                }
                let fresh = Arc::new(make());
                entries.insert(key.clone(), Arc::downgrade(&fresh));
                fresh
            })
            .collect()
    }
}
