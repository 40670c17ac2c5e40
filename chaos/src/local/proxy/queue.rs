//! The bytes of one direction between arrival and delivery, in order: a TCP reader never
//! sees reordering, so a chunk leaves at the later of its own time and the previous
//! chunk's delivery (head-of-line blocking behind a delayed or lost chunk).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use super::link::Stamp;

/// A chunk waiting for its time.
pub(super) struct Chunk {
    pub bytes: Bytes,
    pub stamp: Stamp,
}

/// The chunks of one direction not yet delivered, and how many bytes they hold.
#[derive(Default)]
pub(super) struct Queue {
    chunks: VecDeque<Chunk>,
    bytes: usize,
}

impl Queue {
    /// Queues a chunk that arrived at `now`. Its arrival reveals the first earlier loss,
    /// which TCP then repairs a round trip from now (`fast_repair`).
    pub fn push(&mut self, bytes: Bytes, stamp: Stamp, now: Instant) {
        if let Some(lost) = self
            .chunks
            .iter_mut()
            .find(|c| c.stamp.fast_repair.is_some())
        {
            if let Some(fast) = lost.stamp.fast_repair.take() {
                lost.stamp.ready = lost.stamp.ready.min(now + fast);
            }
        }
        self.bytes += bytes.len();
        self.chunks.push_back(Chunk { bytes, stamp });
    }

    /// When the first chunk is due.
    pub fn next_ready(&self) -> Option<Instant> {
        self.chunks.front().map(|c| c.stamp.ready)
    }

    /// The first chunk, if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Chunk> {
        if self.chunks.front()?.stamp.ready > now {
            return None;
        }
        let chunk = self.chunks.pop_front()?;
        self.bytes -= chunk.bytes.len();
        Some(chunk)
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn stamp(ready: Instant, fast_repair: Option<Duration>) -> Stamp {
        Stamp {
            ready,
            fast_repair,
            doomed: false,
        }
    }

    #[test]
    fn a_later_chunk_cuts_a_loss_short_and_waits_behind_it() {
        let now = Instant::now();
        let mut queue = Queue::default();
        let tail = now + Duration::from_millis(200);
        let fast = Duration::from_millis(1);
        queue.push(Bytes::from_static(b"lost"), stamp(tail, Some(fast)), now);
        assert_eq!(queue.next_ready(), Some(tail));
        let later = now + Duration::from_micros(10);
        queue.push(Bytes::from_static(b"next"), stamp(later, None), later);
        assert_eq!(queue.next_ready(), Some(later + fast));
        // The second chunk is due first but waits for the repaired one.
        assert!(queue.pop_due(later + Duration::from_micros(500)).is_none());
        let first = queue.pop_due(later + fast).unwrap();
        assert_eq!(&first.bytes[..], b"lost");
        assert_eq!(queue.bytes(), 4);
    }
}
