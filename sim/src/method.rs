//! HTTPChaos in the simulation: the method faults in force per host, and the echo router
//! the simulated servers run, which applies them around the real handler
//! (`MethodFault` says how HTTPChaos fields read for Thrift).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use faultline_chaos::spec::chaos_mesh::{HttpChaosTarget, MethodFault};
use faultline_core::echo::{self, EchoArgs, EchoResult, Response};
use faultline_core::protocol::ApplicationException;
use faultline_core::server::{CallContext, Router};

/// A method fault on some hosts, for as long as its fault lasts.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodRule {
    pub fault: String,
    pub hosts: BTreeSet<String>,
    pub effect: MethodFault,
}

/// The method faults in force, shared by the run and every server.
#[derive(Debug, Default)]
pub struct MethodFaults {
    rules: Mutex<Vec<MethodRule>>,
}

impl MethodFaults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<MethodRule>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn add(&self, rule: MethodRule) {
        self.lock().push(rule);
    }

    pub fn remove(&self, fault: &str) {
        self.lock().retain(|rule| rule.fault != fault);
    }

    /// The faults acting on `method` at `host` now.
    fn on(&self, host: &str, method: &str) -> Vec<MethodFault> {
        self.lock()
            .iter()
            .filter(|rule| rule.hosts.contains(host) && rule.effect.applies_to(method))
            .map(|rule| rule.effect.clone())
            .collect()
    }
}

fn aborted(fault: &MethodFault) -> ApplicationException {
    let side = match fault.target {
        HttpChaosTarget::Request => "request",
        HttpChaosTarget::Response => "response",
    };
    ApplicationException::new(
        ApplicationException::INTERNAL_ERROR,
        format!("aborted by an HTTPChaos fault on the {side}"),
    )
}

/// The echo service of `host`, with the method faults of `faults` applied.
pub fn router(host: Arc<str>, faults: Arc<MethodFaults>) -> Router {
    Router::new().route(echo::METHOD, move |ctx: CallContext, mut args: EchoArgs| {
        let active = faults.on(&host, &ctx.method);
        async move {
            for fault in active
                .iter()
                .filter(|f| f.target == HttpChaosTarget::Request)
            {
                if let Some(delay) = fault.delay {
                    tokio::time::sleep(delay).await;
                }
                if fault.abort {
                    return Err(aborted(fault));
                }
                if let Some(body) = &fault.replace {
                    args.req.message = body.clone();
                }
            }
            let mut message = echo::echo(ctx, args).await?.success.map(|r| r.message);
            for fault in active
                .iter()
                .filter(|f| f.target == HttpChaosTarget::Response)
            {
                if let Some(delay) = fault.delay {
                    tokio::time::sleep(delay).await;
                }
                if fault.abort {
                    return Err(aborted(fault));
                }
                if let Some(body) = &fault.replace {
                    message = Some(body.clone());
                }
            }
            Ok(EchoResult {
                success: message.map(|message| Response { message }),
            })
        }
    })
}
