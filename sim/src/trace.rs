//! The run's event record: every event of every host, in the order they happen, stamped
//! with simulated time. It feeds the checkers, hashes the trace (the determinism check
//! compares hashes), and writes it as JSON lines when asked.
//!
//! The hash is FNV-1a over each event's JSON line: stable across builds and platforms
//! (unlike `std`'s hasher), so a hash printed today can be compared next year.

use std::io::{BufWriter, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use faultline_core::event::{Event, EventSink};

use crate::checkers::Checkers;
use crate::scale::TimeScale;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME))
}

/// A trace line: simulated time since the run began (unscaled) and the event.
#[derive(serde::Serialize)]
struct Line<'a> {
    #[serde(with = "faultline_core::config::duration")]
    t: Duration,
    #[serde(flatten)]
    event: &'a Event,
}

struct State {
    /// Taken by `finish`; events after it are not checked.
    checkers: Option<Checkers>,
    hash: u64,
    events: u64,
    writer: Option<BufWriter<Box<dyn Write + Send>>>,
    write_error: Option<std::io::Error>,
    /// The line being hashed and written, reused from event to event.
    line: Vec<u8>,
}

/// The sink every host's event bus writes into.
#[derive(Clone)]
pub struct Trace {
    state: Arc<Mutex<State>>,
    scale: TimeScale,
}

/// What the trace found, once the run is over.
pub struct TraceSummary {
    pub checks: Vec<faultline_chaos::report::Check>,
    pub hash: u64,
    pub events: u64,
    pub write_error: Option<std::io::Error>,
}

impl Trace {
    pub fn new(
        checkers: Checkers,
        scale: TimeScale,
        writer: Option<Box<dyn Write + Send>>,
    ) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                checkers: Some(checkers),
                hash: FNV_OFFSET,
                events: 0,
                writer: writer.map(BufWriter::new),
                write_error: None,
                line: Vec::with_capacity(512),
            })),
            scale,
        }
    }

    /// The checks, the hash and the count; flushes the writer. Call once the run is over.
    pub fn finish(&self) -> TraceSummary {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut write_error = state.write_error.take();
        if let Some(mut writer) = state.writer.take() {
            if let Err(err) = writer.flush() {
                write_error.get_or_insert(err);
            }
        }
        TraceSummary {
            checks: state
                .checkers
                .take()
                .map(Checkers::finish)
                .unwrap_or_default(),
            hash: state.hash,
            events: state.events,
            write_error,
        }
    }
}

impl EventSink for Trace {
    fn record(&self, event: &Event) {
        let t = turmoil::sim_elapsed().unwrap_or_default() / self.scale.factor();
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *guard;
        state.line.clear();
        // Serializing an event into a Vec cannot fail (no map has non-string keys).
        let _ = serde_json::to_writer(&mut state.line, &Line { t, event });
        state.line.push(b'\n');
        state.hash = fnv1a(state.hash, &state.line);
        state.events += 1;
        if let Some(checkers) = &mut state.checkers {
            checkers.observe(t, event);
        }
        if state.write_error.is_none() {
            if let Some(writer) = &mut state.writer {
                if let Err(err) = writer.write_all(&state.line) {
                    state.write_error = Some(err);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }
}
