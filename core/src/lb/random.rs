//! Weighted random: each pick is an independent draw with probability weight / total,
//! from a seeded [`SplitMix64`] shared by every picker the balancer builds (so one seed
//! fixes the whole sequence of picks across snapshot changes).
//!
//! A picker keeps the running sums of the weights and binary-searches a draw in
//! `0..total`: O(log n), lock-free.

use std::sync::Arc;

use super::{Balancer, Picker};
use crate::rng::SplitMix64;
use crate::rpc::{Call, Instance};

/// Weighted random choice.
#[derive(Debug, Clone)]
pub struct WeightedRandom {
    rng: Arc<SplitMix64>,
}

impl WeightedRandom {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Arc::new(SplitMix64::new(seed)),
        }
    }
}

impl Balancer for WeightedRandom {
    fn build(&self, instances: Vec<Arc<Instance>>) -> Arc<dyn Picker> {
        Arc::new(RandomPicker::new(instances, self.rng.clone()))
    }
}

/// Draws among a fixed set by weight.
#[derive(Debug)]
pub(crate) struct RandomPicker {
    instances: Vec<Arc<Instance>>,
    /// `ends[i]` is the sum of the weights of instances `0..=i`.
    ends: Vec<u64>,
    rng: Arc<SplitMix64>,
}

impl RandomPicker {
    pub(crate) fn new(instances: Vec<Arc<Instance>>, rng: Arc<SplitMix64>) -> Self {
        let ends = instances
            .iter()
            .scan(0u64, |sum, i| {
                *sum += u64::from(i.weight);
                Some(*sum)
            })
            .collect();
        Self {
            instances,
            ends,
            rng,
        }
    }
}

impl Picker for RandomPicker {
    fn pick(&self, _call: &Call) -> Option<usize> {
        let total = *self.ends.last()?;
        if total == 0 {
            return None;
        }
        let draw = self.rng.below(total);
        Some(self.ends.partition_point(|&end| end <= draw))
    }

    fn instances(&self) -> &[Arc<Instance>] {
        &self.instances
    }
}
