//! Every call that failed in a way the fallback policy covers got the fallback: with
//! `on: anyError` no call fails, with `timeoutOrBreakerOpen` none fails by a timeout or an
//! open breaker.

use std::time::Duration;

use faultline_core::client::{ClientConfig, FallbackOn};
use faultline_core::event::{Event, EventKind, Side};
use faultline_core::rpc::RpcErrorKind;

use super::Checker;

pub struct Fallback {
    on: Option<FallbackOn>,
}

impl Fallback {
    pub fn new(client: &ClientConfig) -> Self {
        Self {
            on: client.fallback.as_ref().map(|f| f.on),
        }
    }
}

impl Checker for Fallback {
    fn name(&self) -> &'static str {
        "fallback-when-due"
    }

    fn description(&self) -> &'static str {
        "every call that failed under a fallback policy covering its error got the fallback"
    }

    fn observe(&mut self, _at: Duration, event: &Event) -> Option<String> {
        let on = self.on?;
        let EventKind::CallFinished {
            side: Side::Client,
            error: Some(error),
            ..
        } = &event.kind
        else {
            return None;
        };
        let covered = match on {
            FallbackOn::AnyError => *error != RpcErrorKind::Cancelled,
            FallbackOn::TimeoutOrBreakerOpen => {
                matches!(error, RpcErrorKind::Timeout | RpcErrorKind::BreakerOpen)
            }
        };
        covered.then(|| {
            format!(
                "call failed with {} although the fallback covers it",
                error.name()
            )
        })
    }
}
