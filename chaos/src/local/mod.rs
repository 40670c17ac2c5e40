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
