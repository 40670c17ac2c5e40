//! faultline-sim: experiments in deterministic virtual time on turmoil.
//!
//! The same experiment files as `faultline chaos run`, run with the real server and the
//! real client stack on turmoil's simulated network: [`run`] maps the topology to hosts,
//! the faults' actions ([`faults`]) to the servers' methods ([`method`]), the link model
//! ([`link`]) and turmoil, scales time below a tick when the experiment needs it
//! ([`scale`]), holds every event to the [`checkers`], and returns the same report type
//! as the chaos backends. One seed gives one trace ([`trace`] hashes it); [`sweep`] runs
//! many seeds (in shards that merge), [`shrink`] cuts a failing run down to what still
//! fails.
//!
//! What determinism needs from the build: nothing special. No `--cfg tokio_unstable` (which
//! would seed tokio's per-runtime RNG): the only randomness tokio's current-thread
//! scheduler has is the branch order of an unbiased `select!`, and every `select!` on the
//! simulated path is `biased`. Tests check one trace per seed within a process
//! (`tests/sim_scenarios.rs`) and across processes (`tests/sim_cli.rs`).

#![forbid(unsafe_code)]

pub mod checkers;
pub mod faults;
pub mod link;
pub mod method;
pub mod net;
pub mod run;
pub mod scale;
pub mod shrink;
pub mod sweep;
pub mod trace;

pub use run::{run, RunError, RunOptions, RunOutcome};
pub use scale::TimeScale;
