//! faultline-chaos: chaos experiments against running faultline services.
//!
//! Owns the experiment language ([`spec`]): experiment files (Chaos Mesh objects plus a
//! faultline `Experiment`) read as multi-document YAML, with every error naming its file,
//! line and column; its Chaos Mesh objects ([`spec::chaos_mesh`]) are typed from Chaos
//! Mesh's CRDs and validated by its rules. [`plan`] turns an experiment into a timeline per
//! backend and [`faults`] into timed actions on hosts. What every backend shares: the [`probe`] (open-loop load through the real
//! client stack, per-second timeline), the [`hypothesis`] (clauses judged on the timeline,
//! abort conditions) and the [`report`] (one type, JSON and HTML).

#![forbid(unsafe_code)]

pub mod faults;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod hypothesis;
#[cfg(feature = "kube")]
pub mod kube;
pub mod local;
pub mod plan;
pub mod probe;
pub mod report;
pub mod runner;
pub mod spec;
pub mod yaml;

/// A mutex's guard, whether or not a thread panicked while holding it (the state the
/// backends keep stays usable: counters, sets and the stop reason).
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
