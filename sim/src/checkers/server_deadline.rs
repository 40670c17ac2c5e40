//! No server works on a call past the deadline it was sent (RPCTimeout): a server's
//! `CallFinished` comes at most one tick after its budget.

use std::time::Duration;

use faultline_core::event::{Event, EventKind, Side};

use super::Checker;

/// The simulation's time resolution.
const TICK: Duration = Duration::from_millis(1);

#[derive(Default)]
pub struct ServerDeadline;

impl Checker for ServerDeadline {
    fn name(&self) -> &'static str {
        "no-server-work-past-deadline"
    }

    fn description(&self) -> &'static str {
        "a server stops working on a call when the deadline it was sent passes"
    }

    fn observe(&mut self, _at: Duration, event: &Event) -> Option<String> {
        let EventKind::CallFinished {
            side: Side::Server,
            duration,
            budget: Some(budget),
            ..
        } = &event.kind
        else {
            return None;
        };
        (*duration > *budget + TICK).then(|| {
            format!(
                "{} served a call for {duration:?}, past its {budget:?} deadline",
                event.origin.host
            )
        })
    }
}
