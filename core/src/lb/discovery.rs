//! `Discovery`: the instance list a balancer chooses from, as snapshots that can change at
//! runtime.
//!
//! The current snapshot sits in an `ArcSwap`: a pick loads it without a lock, and a
//! publisher replaces it whole with [`Discovery::set`]; the next pick sees the new list.
//! Every replacement bumps a version on a `tokio::sync::watch` channel, so tasks can wait
//! for a change ([`Discovery::changed`]). A fixed list is a discovery nobody updates; a
//! registry client that publishes on its own `watch` channel is followed with
//! [`Discovery::follow`].

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::watch;

use crate::rpc::Instance;

/// One published instance list.
#[derive(Debug)]
pub struct Snapshot {
    /// Counts up from 0 with every `set`.
    pub version: u64,
    pub instances: Vec<Arc<Instance>>,
}

/// A shared, updatable source of instance snapshots. Clones share the source.
#[derive(Debug, Clone)]
pub struct Discovery {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    current: ArcSwap<Snapshot>,
    version: watch::Sender<u64>,
}

impl Discovery {
    /// A source whose first snapshot is `instances`.
    pub fn new(instances: impl IntoIterator<Item = Instance>) -> Self {
        let snapshot = Snapshot {
            version: 0,
            instances: instances.into_iter().map(Arc::new).collect(),
        };
        Self {
            shared: Arc::new(Shared {
                current: ArcSwap::from_pointee(snapshot),
                version: watch::Sender::new(0),
            }),
        }
    }

    /// The current snapshot (lock-free).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.current.load_full()
    }

    /// The version of the current snapshot (lock-free): it changes with every `set`.
    pub fn version(&self) -> u64 {
        self.shared.current.load().version
    }

    /// The current snapshot without touching its reference count, for the pick path.
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.shared.current.load()
    }

    /// Publishes a new list; picks from now on see it. Returns the new version.
    pub fn set(&self, instances: impl IntoIterator<Item = Instance>) -> u64 {
        let instances: Vec<Arc<Instance>> = instances.into_iter().map(Arc::new).collect();
        let mut version = 0;
        self.shared.current.rcu(|old| {
            version = old.version + 1;
            Snapshot {
                version,
                instances: instances.clone(),
            }
        });
        self.shared.version.send_replace(version);
        version
    }

    /// A receiver whose value is the version of the latest snapshot; `changed().await` on
    /// it wakes after the next `set`.
    pub fn changed(&self) -> watch::Receiver<u64> {
        self.shared.version.subscribe()
    }

    /// A discovery that mirrors `source`: its current list now, and every list published
    /// on it from then on, once the returned future runs (spawn it). The future ends when
    /// the sender side of `source` is dropped.
    pub fn follow(
        mut source: watch::Receiver<Vec<Instance>>,
    ) -> (Self, impl std::future::Future<Output = ()> + Send + 'static) {
        let discovery = Self::new(source.borrow_and_update().clone());
        let publisher = discovery.clone();
        let task = async move {
            while source.changed().await.is_ok() {
                let list = source.borrow_and_update().clone();
                publisher.set(list);
            }
        };
        (discovery, task)
    }
}
