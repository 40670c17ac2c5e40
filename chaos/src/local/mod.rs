//! The local backend: the experiment's topology as real processes on this machine, each
//! reached through a fault [`proxy`] that makes the experiment's network faults real.

pub mod proxy;
