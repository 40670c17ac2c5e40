//! Sub-millisecond wake-ups for held bytes. tokio's timer wheel resolves 1 ms and rounds
//! every sleep up to its next tick, which would add 0-1 ms to each injected delay and
//! make a 0.8 ms same-zone latency impossible. One process-wide thread keeps the deadlines
//! in a heap and sleeps on a condition variable until shortly before the earliest (a futex
//! wait with a timeout, which wakes up to the timer slack, 50 µs, late), then spins the
//! last [`SPIN`] with the lock released.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// How long before a deadline the thread stops sleeping and spins (yielding the core):
/// the kernel's timer slack for a sleeping thread is 50 µs, and a wake-up on a busy
/// virtual machine takes tens more.
const SPIN: Duration = Duration::from_micros(80);

/// A deadline and whom to wake (ordered by deadline, then by registration).
struct Entry {
    at: Instant,
    order: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

#[derive(Default)]
struct Deadlines {
    heap: BinaryHeap<Reverse<Entry>>,
    registered: u64,
}

struct Timer {
    deadlines: Mutex<Deadlines>,
    changed: Condvar,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            deadlines: Mutex::default(),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("faultline-proxy-timer".into())
            .spawn(move || timer.run())
            .expect("the proxy's timer thread starts");
        timer
    })
}

impl Timer {
    fn run(&self) {
        let mut deadlines = self
            .deadlines
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            while deadlines.heap.peek().is_some_and(|e| e.0.at <= now) {
                if let Some(Reverse(entry)) = deadlines.heap.pop() {
                    // A dropped receiver no longer waits: nothing to wake.
                    let _ = entry.wake.send(());
                }
            }
            deadlines = match deadlines.heap.peek().map(|e| e.0.at - now) {
                Some(wait) if wait <= SPIN => {
                    drop(deadlines);
                    std::thread::yield_now();
                    self.deadlines
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                }
                Some(wait) => match self.changed.wait_timeout(deadlines, wait - SPIN) {
                    Ok((deadlines, _)) => deadlines,
                    Err(poisoned) => poisoned.into_inner().0,
                },
                None => self
                    .changed
                    .wait(deadlines)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    fn register(&self, at: Instant) -> oneshot::Receiver<()> {
        let (wake, woken) = oneshot::channel();
        let mut deadlines = self
            .deadlines
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let earliest = deadlines.heap.peek().is_none_or(|e| at < e.0.at);
        deadlines.registered += 1;
        let order = deadlines.registered;
        deadlines.heap.push(Reverse(Entry { at, order, wake }));
        drop(deadlines);
        if earliest {
            self.changed.notify_one();
        }
        woken
    }
}

/// One pending wake-up, kept across `select!` rounds so that waiting again for the same
/// deadline registers nothing new.
#[derive(Default)]
pub(super) struct Alarm {
    pending: Option<(Instant, oneshot::Receiver<()>)>,
}

impl Alarm {
    /// Completes at `at` (at once if it has passed). Cancel-safe.
    pub async fn until(&mut self, at: Instant) {
        if at <= Instant::now() {
            return;
        }
        let rx = match &mut self.pending {
            Some((pending, rx)) if *pending == at => rx,
            slot => &mut slot.insert((at, timer().register(at))).1,
        };
        // An error means the timer dropped the sender, which it does only after waking.
        let _ = rx.await;
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_alarm_wakes_just_after_its_deadline() {
        let mut alarm = Alarm::default();
        let mut late = Vec::new();
        for i in 0..50 {
            let at = Instant::now() + Duration::from_micros(300 + 40 * i);
            alarm.until(at).await;
            late.push(Instant::now() - at);
        }
        late.sort();
        let median = late[late.len() / 2];
        eprintln!("median lateness {median:?}, max {:?}", late[late.len() - 1]);
        assert!(median < Duration::from_millis(1), "{median:?}");
    }
}
