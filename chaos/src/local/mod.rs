//! The local backend: an experiment run on this machine, with real processes and real TCP.
//! [`supervisor`] keeps one `faultline serve` process per instance of the topology,
//! [`proxy`] puts a fault proxy in front of each (adding the topology's latency less what
//! [`calibrate`] measured a call to cost here), [`run`] drives the probe, the faults, the
//! hypothesis and the report, through [`actions`] (what each fault acts on; loss can be
//! made by the kernel instead, [`kernel_loss`]).

pub mod actions;
pub mod calibrate;
pub mod cluster;
mod findings;
pub mod kernel_loss;
pub mod proxy;
pub mod run;
pub mod supervisor;

/// A mutex's guard, whether or not a thread panicked while holding it (the state the
/// local backend keeps stays usable: counters, sets and the stop reason).
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
