//! faultline-chaos: chaos experiments against running faultline services.
//!
//! Planned (see DESIGN.md): the experiment language (Chaos Mesh objects plus a faultline
//! `Experiment`), the local and Kubernetes backends, the probe, hypothesis and report. This
//! crate has no code yet; it exists so that the workspace has its final shape from the start.

pub mod spec;
