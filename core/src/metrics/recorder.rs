//! The task that feeds an `EventBus` into `Metrics`, and the handle that tells how far it
//! has got.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::Metrics;
use crate::event::Event;

/// A running subscription of `Metrics` to an `EventBus` (from `Metrics::subscribe`).
///
/// The task ends when every clone of the bus is gone. Dropping the handle leaves the task
/// running.
#[derive(Debug)]
pub struct Recorder {
    handled: watch::Receiver<u64>,
}

impl Recorder {
    pub(super) fn spawn(metrics: Metrics, events: broadcast::Receiver<Arc<Event>>) -> Self {
        let (tx, handled) = watch::channel(0);
        tokio::spawn(run(metrics, events, tx));
        Self { handled }
    }

    /// Events handled so far: recorded, or counted in `faultline_events_dropped_total`
    /// because the recorder fell behind the bus.
    pub fn handled(&self) -> u64 {
        *self.handled.borrow()
    }

    /// Waits until `n` events emitted since the subscription have been handled, so that
    /// an exposition taken afterwards reflects them. Returns false if the bus closed first.
    pub async fn wait_for(&mut self, n: u64) -> bool {
        self.handled.wait_for(|&handled| handled >= n).await.is_ok()
    }
}

async fn run(
    metrics: Metrics,
    mut events: broadcast::Receiver<Arc<Event>>,
    handled: watch::Sender<u64>,
) {
    let mut count = 0u64;
    loop {
        match events.recv().await {
            Ok(event) => {
                metrics.record(&event);
                count += 1;
            }
            Err(RecvError::Lagged(missed)) => {
                metrics.inner.families.events_dropped.inc_by(missed);
                count += missed;
            }
            Err(RecvError::Closed) => return,
        }
        handled.send_replace(count);
    }
}
