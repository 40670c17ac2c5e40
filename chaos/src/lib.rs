//! faultline-chaos: chaos experiments against running faultline services.
//!
//! Owns the experiment language ([`spec`]): experiment files (Chaos Mesh objects plus a
//! faultline `Experiment`) read as multi-document YAML, with every error naming its file,
//! line and column; its Chaos Mesh objects ([`spec::chaos_mesh`]) are typed from Chaos
//! Mesh's CRDs and validated by its rules. The backends, the probe, hypothesis and report come
//! next (see DESIGN.md).

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod plan;
pub mod spec;
pub mod yaml;
