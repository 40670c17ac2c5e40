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
