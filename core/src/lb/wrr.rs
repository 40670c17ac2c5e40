//! Weighted round robin, smooth (nginx's algorithm, which Kitex's WRR also produces), and
//! the default balancer.
//!
//! Each step adds every instance's weight to its current weight, picks the largest (the
//! lowest index on a tie) and subtracts the total from it. The result interleaves: weights
//! 5, 1, 1 give `a a b a c a a`, not `a a a a a b c`. The whole cycle (total weight divided
//! by the weights' gcd) is computed once per instance set; a pick is then one atomic
//! increment and an index, no lock. A cycle longer than [`MAX_CYCLE`] is cut there and
//! repeats: smooth WRR keeps every prefix within a few picks of the exact shares, so each
//! instance's share is off by a few parts in 65 536 at most. Zero-weight instances are out
//! of rotation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{Balancer, Picker};
use crate::rpc::{Call, Instance};

/// The longest precomputed sequence.
pub const MAX_CYCLE: usize = 1 << 16;

/// Smooth weighted round robin over each instance set.
#[derive(Debug, Default, Clone, Copy)]
pub struct WeightedRoundRobin;

impl Balancer for WeightedRoundRobin {
    fn build(&self, instances: Vec<Arc<Instance>>) -> Arc<dyn Picker> {
        Arc::new(WrrPicker::new(instances))
    }
}

/// A smooth-WRR cycle over a fixed instance set.
#[derive(Debug)]
pub(crate) struct WrrPicker {
    instances: Vec<Arc<Instance>>,
    sequence: Vec<u32>,
    next: AtomicUsize,
}

impl WrrPicker {
    pub(crate) fn new(instances: Vec<Arc<Instance>>) -> Self {
        let weights: Vec<u32> = instances.iter().map(|i| i.weight).collect();
        Self {
            sequence: smooth_wrr_sequence(&weights),
            instances,
            next: AtomicUsize::new(0),
        }
    }

    /// The next index in the cycle, or `None` when every weight is zero.
    pub(crate) fn next_index(&self) -> Option<usize> {
        if self.sequence.is_empty() {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Some(self.sequence[n % self.sequence.len()] as usize)
    }
}

impl Picker for WrrPicker {
    fn pick(&self, _call: &Call) -> Option<usize> {
        self.next_index()
    }

    fn instances(&self) -> &[Arc<Instance>] {
        &self.instances
    }
}

/// One smooth-WRR cycle over `weights` (indices into it), cut at [`MAX_CYCLE`]; empty when
/// every weight is zero.
pub fn smooth_wrr_sequence(weights: &[u32]) -> Vec<u32> {
    let divisor = weights.iter().fold(0, |g, &w| gcd(g, w));
    if divisor == 0 {
        return Vec::new();
    }
    let weights: Vec<i64> = weights.iter().map(|&w| i64::from(w / divisor)).collect();
    let total: i64 = weights.iter().sum();
    let len = usize::try_from(total).map_or(MAX_CYCLE, |t| t.min(MAX_CYCLE));
    let mut current = vec![0i64; weights.len()];
    let mut sequence = Vec::with_capacity(len);
    for _ in 0..len {
        let mut best = 0;
        for (i, w) in weights.iter().enumerate() {
            current[i] += w;
            if current[i] > current[best] {
                best = i;
            }
        }
        current[best] -= total;
        sequence.push(best as u32);
    }
    sequence
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaves_like_nginx() {
        assert_eq!(smooth_wrr_sequence(&[5, 1, 1]), [0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(smooth_wrr_sequence(&[200, 100]), [0, 1, 0]);
        assert_eq!(smooth_wrr_sequence(&[0, 3]), [1]);
        assert!(smooth_wrr_sequence(&[0, 0]).is_empty());
        assert!(smooth_wrr_sequence(&[]).is_empty());
    }

    #[test]
    fn a_long_cycle_is_cut_and_keeps_the_shares() {
        let weights = [65_521, 65_519, 3];
        let seq = smooth_wrr_sequence(&weights);
        assert_eq!(seq.len(), MAX_CYCLE);
        let total: f64 = weights.iter().map(|&w| f64::from(w)).sum();
        for (i, &w) in weights.iter().enumerate() {
            let count = seq.iter().filter(|&&s| s as usize == i).count() as f64;
            let expected = MAX_CYCLE as f64 * f64::from(w) / total;
            assert!(
                (count - expected).abs() <= 2.0,
                "{i}: {count} vs {expected}"
            );
        }
    }
}
