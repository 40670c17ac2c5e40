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
pub mod local;
pub mod plan;
pub mod probe;
pub mod report;
pub mod spec;
pub mod yaml;
