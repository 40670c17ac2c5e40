//! faultline-chaos: chaos experiments against running faultline services.
//!
//! [`spec`] reads and checks the experiment language; so far its Chaos Mesh objects
//! ([`spec::chaos_mesh`]). Planned (see DESIGN.md): the faultline `Experiment`, the local and
//! Kubernetes backends, the probe, hypothesis and report.

pub mod spec;
