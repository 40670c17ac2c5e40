//! faultline-chaos: chaos experiments against running faultline services.
//!
//! Owns the experiment language ([`spec`]): experiment files (Chaos Mesh objects plus a
//! faultline `Experiment`) read as multi-document YAML, with every error naming its file,
//! line and column. The backends, the probe, hypothesis and report come next (see DESIGN.md).

pub mod spec;
