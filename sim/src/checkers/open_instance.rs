//! No attempt reaches an instance whose breaker is open, other than half-open probes.
//!
//! Per client host: the instance breakers' states from their transitions; an attempt
//! picked while its instance's breaker was OPEN must be refused by it (`breakerOpen`)
//! unless the breaker moved to HALF_OPEN before the attempt went on (a probe).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::breaker::{BreakerScope, BreakerState};
use faultline_core::event::{CallRef, Event, EventKind};
use faultline_core::rpc::RpcErrorKind;

use super::Checker;

type Key = (Arc<str>, Arc<str>);

#[derive(Default)]
pub struct OpenInstance {
    states: BTreeMap<Key, BreakerState>,
    /// Attempts picked while their instance was open: (host, call) -> (instance, probe).
    open_picks: BTreeMap<(Arc<str>, CallRef), (Arc<str>, bool)>,
}

impl Checker for OpenInstance {
    fn name(&self) -> &'static str {
        "no-calls-to-open-instances"
    }

    fn description(&self) -> &'static str {
        "no attempt reaches an instance whose breaker is open, other than half-open probes"
    }

    fn observe(&mut self, _at: Duration, event: &Event) -> Option<String> {
        let host = &event.origin.host;
        match (&event.kind, event.call) {
            (
                EventKind::BreakerTransition {
                    scope: BreakerScope::Instance { addr },
                    to,
                    ..
                },
                _,
            ) => {
                self.states.insert((host.clone(), addr.clone()), *to);
                if *to == BreakerState::HalfOpen {
                    for ((h, _), (instance, probe)) in &mut self.open_picks {
                        if h == host && instance == addr {
                            *probe = true;
                        }
                    }
                }
                None
            }
            (EventKind::BalancerPick { instance, .. }, Some(call)) => {
                let state = self.states.get(&(host.clone(), instance.clone()));
                if state == Some(&BreakerState::Open) {
                    self.open_picks
                        .insert((host.clone(), call), (instance.clone(), false));
                }
                None
            }
            (
                EventKind::AttemptFinished {
                    instance, error, ..
                },
                Some(call),
            ) => {
                let (_, probe) = self.open_picks.remove(&(host.clone(), call))?;
                let refused = *error == Some(RpcErrorKind::BreakerOpen);
                (!refused && !probe).then(|| {
                    format!("attempt {call:?} reached {instance} while its breaker was open")
                })
            }
            _ => None,
        }
    }
}
