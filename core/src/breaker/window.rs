//! The sliding window: a ring of buckets, each with a success and a failure tally.
//!
//! Each tally is one `AtomicU64` holding `[epoch: 32 bits | count: 32 bits]`, where the epoch
//! is the bucket's index since the breaker's origin (`time / bucket width`). Recording is one
//! compare-and-swap on that word: if the word's epoch is the current one the count goes up,
//! if it is older the word is replaced by `(current epoch, 1)`. So a bucket left over from an
//! earlier lap of the ring is reset lazily, by the first call that lands in it, and a reader
//! tells a stale bucket from a live one by its epoch; no thread ever sweeps the ring and no
//! lock is taken. Epoch and count change together, so a count never leaks into another epoch.
//!
//! Limits, by construction: a count saturates at 2^32 - 1 calls per bucket; epochs are
//! compared modulo 2^32, so a bucket untouched for exactly a multiple of 2^32 bucket widths
//! (13.6 years at 100 ms) would be read as live.
//!
//! `reset` empties the window in O(1): it raises a floor epoch below which buckets are not
//! read, and clears the current bucket.
//!
//! Ordering: every access to the tallies and the floor is `Relaxed`. The tallies are
//! statistics that publish no other data, and each word is updated atomically as a whole.
//! The floor is written before the state transition that closes the breaker, whose
//! `Release` publishes it to every thread that then sees the breaker closed (`Acquire`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Calls and failures in the window at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowStats {
    pub samples: u64,
    pub failures: u64,
}

impl WindowStats {
    /// `failures / samples`, 0 for an empty window.
    pub fn error_rate(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.failures as f64 / self.samples as f64
        }
    }
}

pub(crate) struct Window {
    width_us: u64,
    slots: Box<[Slot]>,
    floor: AtomicU64,
}

#[derive(Default)]
struct Slot {
    success: Tally,
    failure: Tally,
}

#[derive(Default)]
struct Tally(AtomicU64);

impl Tally {
    fn add(&self, epoch: u64) {
        let tag = epoch as u32;
        let mut word = self.0.load(Relaxed);
        loop {
            let (word_tag, count) = ((word >> 32) as u32, word as u32);
            let next = match tag.wrapping_sub(word_tag) as i32 {
                0 => pack(tag, count.saturating_add(1)),
                1.. => pack(tag, 1),
                // The bucket already holds a later lap: this call is older than the window.
                _ => return,
            };
            match self.0.compare_exchange_weak(word, next, Relaxed, Relaxed) {
                Ok(_) => return,
                Err(seen) => word = seen,
            }
        }
    }

    fn read(&self, epoch: u64) -> u64 {
        let word = self.0.load(Relaxed);
        if (word >> 32) as u32 == epoch as u32 {
            u64::from(word as u32)
        } else {
            0
        }
    }

    fn clear(&self, epoch: u64) {
        self.0.store(pack(epoch as u32, 0), Relaxed);
    }
}

fn pack(tag: u32, count: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(count)
}

impl Window {
    pub(crate) fn new(width_us: u64, buckets: u32) -> Self {
        Self {
            width_us,
            slots: (0..buckets).map(|_| Slot::default()).collect(),
            floor: AtomicU64::new(0),
        }
    }

    fn epoch(&self, now_us: u64) -> u64 {
        now_us / self.width_us
    }

    fn slot(&self, epoch: u64) -> &Slot {
        &self.slots[(epoch % self.slots.len() as u64) as usize]
    }

    pub(crate) fn record(&self, now_us: u64, failed: bool) {
        let epoch = self.epoch(now_us);
        let slot = self.slot(epoch);
        if failed {
            slot.failure.add(epoch);
        } else {
            slot.success.add(epoch);
        }
    }

    /// Sums the buckets of the window ending at `now_us`, newest first, stopping at the floor.
    pub(crate) fn stats(&self, now_us: u64) -> WindowStats {
        let current = self.epoch(now_us);
        let oldest = (current + 1)
            .saturating_sub(self.slots.len() as u64)
            .max(self.floor.load(Relaxed));
        let mut stats = WindowStats::default();
        for epoch in oldest..=current {
            let slot = self.slot(epoch);
            let failures = slot.failure.read(epoch);
            stats.failures += failures;
            stats.samples += failures + slot.success.read(epoch);
        }
        stats
    }

    /// Forgets every call recorded before `now_us`.
    pub(crate) fn reset(&self, now_us: u64) {
        let epoch = self.epoch(now_us);
        let slot = self.slot(epoch);
        slot.success.clear(epoch);
        slot.failure.clear(epoch);
        self.floor.store(epoch, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1000;

    /// 10 buckets of 100 ms.
    fn window() -> Window {
        Window::new(100 * MS, 10)
    }

    fn stats(samples: u64, failures: u64) -> WindowStats {
        WindowStats { samples, failures }
    }

    #[test]
    fn counts_successes_and_failures_across_buckets() {
        let w = window();
        w.record(0, false);
        w.record(50 * MS, true);
        w.record(150 * MS, true);
        w.record(999 * MS, false);
        assert_eq!(w.stats(999 * MS), stats(4, 2));
        assert_eq!(w.stats(999 * MS).error_rate(), 0.5);
    }

    #[test]
    fn buckets_roll_out_of_the_window() {
        let w = window();
        w.record(0, true);
        w.record(150 * MS, false);
        // At 1.0 s the window is epochs 1..=10: bucket 0 is out.
        assert_eq!(w.stats(999 * MS), stats(2, 1));
        assert_eq!(w.stats(1000 * MS), stats(1, 0));
        assert_eq!(w.stats(1100 * MS), stats(0, 0));
    }

    #[test]
    fn a_stale_bucket_is_reset_by_the_next_call_into_it() {
        let w = window();
        for _ in 0..5 {
            w.record(20 * MS, true);
        }
        // Epoch 10 shares slot 0 with epoch 0: the five failures must not survive.
        w.record(1020 * MS, false);
        assert_eq!(w.stats(1020 * MS), stats(1, 0));
        // And a much later lap, many rings on.
        w.record(123_400 * MS, true);
        assert_eq!(w.stats(123_400 * MS), stats(1, 1));
    }

    #[test]
    fn a_call_older_than_the_bucket_it_maps_to_is_dropped() {
        let w = window();
        w.record(1020 * MS, false);
        w.record(20 * MS, true);
        assert_eq!(w.stats(1020 * MS), stats(1, 0));
    }

    #[test]
    fn reset_forgets_everything_before_now() {
        let w = window();
        w.record(100 * MS, true);
        w.record(250 * MS, true);
        w.reset(260 * MS);
        assert_eq!(w.stats(260 * MS), stats(0, 0));
        w.record(270 * MS, false);
        assert_eq!(w.stats(900 * MS), stats(1, 0));
    }

    #[test]
    fn concurrent_records_are_all_counted() {
        let w = window();
        std::thread::scope(|s| {
            for t in 0..2 {
                let w = &w;
                s.spawn(move || {
                    for _ in 0..10_000 {
                        w.record(10 * MS, t == 1);
                    }
                });
            }
        });
        assert_eq!(w.stats(10 * MS), stats(20_000, 10_000));
    }
}
