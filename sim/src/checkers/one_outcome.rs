//! Every call ends exactly once: one `CallFinished` per call id and client, never a
//! failure and a success for the same call.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::event::{Event, EventKind, Side};

use super::Checker;

#[derive(Default)]
pub struct OneOutcome {
    ended: BTreeSet<(Arc<str>, u64)>,
}

impl Checker for OneOutcome {
    fn name(&self) -> &'static str {
        "one-outcome-per-call"
    }

    fn description(&self) -> &'static str {
        "no call is counted twice (failed and succeeded)"
    }

    fn observe(&mut self, _at: Duration, event: &Event) -> Option<String> {
        let EventKind::CallFinished {
            side: Side::Client, ..
        } = &event.kind
        else {
            return None;
        };
        let Some(call) = event.call else {
            return Some("a client call ended without a call id".into());
        };
        let fresh = self.ended.insert((event.origin.host.clone(), call.id));
        (!fresh).then(|| format!("call {} ended a second time", call.id))
    }
}
