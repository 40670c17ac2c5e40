//! HTTPChaos in the simulation: the method faults in force per host, and the echo router
//! the simulated servers run, which applies them around the real handler
//! (`MethodFault` says how HTTPChaos fields read for Thrift).

use std::sync::{Arc, Mutex, PoisonError};

use faultline_chaos::faults::MethodRule;
use faultline_chaos::spec::chaos_mesh::{HttpChaosTarget, MethodFault};
use faultline_core::echo::{self, EchoArgs, EchoResult};
use faultline_core::protocol::ApplicationException;
use faultline_core::server::{CallContext, Router};

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

/// Applies the faults of `active` that act on `target` to one message, in order: each
/// holds it for its delay, then aborts the call or replaces the message.
async fn apply(
    active: &[MethodFault],
    target: HttpChaosTarget,
    message: &mut String,
) -> Result<(), ApplicationException> {
    for fault in active.iter().filter(|f| f.target == target) {
        if let Some(delay) = fault.delay {
            tokio::time::sleep(delay).await;
        }
        if fault.abort {
            return Err(aborted(fault));
        }
        if let Some(body) = &fault.replace {
            message.clone_from(body);
        }
    }
    Ok(())
}

/// The echo service of `host`, with the method faults of `faults` applied.
pub fn router(host: Arc<str>, faults: Arc<MethodFaults>) -> Router {
    Router::new().route(echo::METHOD, move |ctx: CallContext, mut args: EchoArgs| {
        let active = faults.on(&host, &ctx.method);
        async move {
            apply(&active, HttpChaosTarget::Request, &mut args.req.message).await?;
            let mut reply = echo::echo(ctx, args).await?;
            if let Some(response) = &mut reply.success {
                apply(&active, HttpChaosTarget::Response, &mut response.message).await?;
            }
            Ok::<EchoResult, ApplicationException>(reply)
        }
    })
}
