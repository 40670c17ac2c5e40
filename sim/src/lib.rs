//! faultline-sim: deterministic turmoil simulations of faultline's client and server.
//!
//! Planned (see DESIGN.md): topologies as data, fault schedules read from the same
//! experiment files as `faultline-chaos`, seed sweeps, replay and shrinking. This crate has
//! no code yet; it exists so that the workspace has its final shape from the start.
