//! The probe: open-loop load through the real client stack, and what it measured.
//!
//! One piece of code for `faultline call --qps`, `chaos run` (local and kube) and `sim run`:
//! [`generator`] starts calls on a fixed schedule (slow replies do not lower the offered
//! load, and a call's latency counts from when it was due), [`pacing`] releases each call
//! when it is due (tokio's timer, or a precise pacing thread), [`record`] is one call's
//! outcome, [`timeline`] the per-second aggregates (HDR histograms of latency and of the
//! generator's scheduling lag, outcomes, zones, and the client's events) that the
//! hypothesis and the report read.

pub mod generator;
pub mod pacing;
pub mod record;
pub mod timeline;

pub use generator::{run, Load, ProbeHandle};
pub use pacing::Pacing;
pub use record::{Outcome, Sample};
pub use timeline::{BreakerChange, Second, Timeline, Window};
