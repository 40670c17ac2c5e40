//! What the pool holds open, counted while it runs: connections (idle and in use, both
//! modes) and background tasks (two per multiplexed connection). Each connection and task
//! holds a [`Held`] guard, so the counts fall when they end, whatever ends them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The pool's counters.
#[derive(Debug, Default, Clone)]
pub(super) struct Gauges {
    connections: Arc<AtomicUsize>,
    tasks: Arc<AtomicUsize>,
}

impl Gauges {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    pub fn tasks(&self) -> usize {
        self.tasks.load(Ordering::Relaxed)
    }

    /// Counts one connection until the guard is dropped.
    pub fn connection(&self) -> Held {
        Held::new(&self.connections)
    }

    /// Counts one task until the guard is dropped.
    pub fn task(&self) -> Held {
        Held::new(&self.tasks)
    }
}

/// One unit of a counter, given back on drop.
#[derive(Debug)]
pub(super) struct Held(Arc<AtomicUsize>);

impl Held {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
