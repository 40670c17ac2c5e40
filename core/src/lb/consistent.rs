//! Consistent hashing on `CallOptions::hash_key`: the same key goes to the same instance
//! in every run and process, and when an instance leaves only the keys it owned move.
//!
//! The ring: each instance with weight `w` gets `replicas * w / Instance::DEFAULT_WEIGHT`
//! virtual nodes (at least one when `w > 0`, none when it is 0), virtual node `i` at point
//! [`stable_hash`]`("{addr}#{i}")`. A key is placed at [`fmix64`]`(hash_key)` and served by
//! the first virtual node at or after it, wrapping around. An instance gets at most
//! [`MAX_NODES_PER_INSTANCE`] virtual nodes, so a huge weight cannot blow up the ring. Points depend only on the
//! addresses and weights, never on list order or process state. A call without a
//! `hash_key` is not sticky: it goes round robin by weight.

use std::sync::Arc;

use super::wrr::WrrPicker;
use super::{fmix64, stable_hash, Balancer, Picker};
use crate::rpc::{Call, Instance};

/// The most virtual nodes one instance gets, whatever its weight.
pub const MAX_NODES_PER_INSTANCE: u64 = 10_000;

/// Consistent hashing with weighted virtual nodes.
#[derive(Debug, Clone, Copy)]
pub struct ConsistentHash {
    replicas: u32,
}

impl ConsistentHash {
    /// Virtual nodes for an instance of default weight (Kitex's virtual factor).
    pub const DEFAULT_REPLICAS: u32 = 100;

    pub fn new(replicas: u32) -> Self {
        Self {
            replicas: replicas.max(1),
        }
    }
}

impl Default for ConsistentHash {
    fn default() -> Self {
        Self::new(Self::DEFAULT_REPLICAS)
    }
}

impl Balancer for ConsistentHash {
    fn build(&self, instances: Vec<Arc<Instance>>) -> Arc<dyn Picker> {
        Arc::new(ConsistentHashPicker::new(instances, self.replicas))
    }
}

/// A hash ring over a fixed instance set.
#[derive(Debug)]
pub struct ConsistentHashPicker {
    /// `(point, instance index)`, sorted by point.
    ring: Vec<(u64, u32)>,
    keyless: WrrPicker,
}

impl ConsistentHashPicker {
    pub fn new(instances: Vec<Arc<Instance>>, replicas: u32) -> Self {
        let mut ring = Vec::new();
        let mut label = Vec::new();
        for (index, instance) in instances.iter().enumerate() {
            let nodes = virtual_nodes(instance.weight, replicas);
            for i in 0..nodes {
                label.clear();
                label.extend_from_slice(instance.addr.as_bytes());
                label.push(b'#');
                label.extend_from_slice(i.to_string().as_bytes());
                ring.push((stable_hash(&label), index as u32));
            }
        }
        // Ties (two virtual nodes on one point) go to the lower address, whatever the order
        // of the list.
        ring.sort_unstable_by(|a, b| {
            (a.0, &instances[a.1 as usize].addr).cmp(&(b.0, &instances[b.1 as usize].addr))
        });
        Self {
            ring,
            keyless: WrrPicker::new(instances),
        }
    }

    /// The instance index that owns `key`, or `None` for an empty ring.
    pub fn owner(&self, key: u64) -> Option<usize> {
        let first = self.ring.first()?;
        let point = fmix64(key);
        let at = self.ring.partition_point(|&(p, _)| p < point);
        let (_, index) = self.ring.get(at).unwrap_or(first);
        Some(*index as usize)
    }
}

fn virtual_nodes(weight: u32, replicas: u32) -> u64 {
    if weight == 0 {
        return 0;
    }
    let scaled = u64::from(replicas) * u64::from(weight) / u64::from(Instance::DEFAULT_WEIGHT);
    scaled.clamp(1, MAX_NODES_PER_INSTANCE)
}

impl Picker for ConsistentHashPicker {
    fn pick(&self, call: &Call) -> Option<usize> {
        match call.options.hash_key {
            Some(key) => self.owner(key),
            None => self.keyless.next_index(),
        }
    }

    fn instances(&self) -> &[Arc<Instance>] {
        self.keyless.instances()
    }
}
