//! What the local backend's actions act on, and how: link and method rules go to the fault
//! proxies (or, for loss with `--loss kernel`, to nftables on the instance's port), kills,
//! pauses and resumes to the supervisor. Keeps which faults were injected and which are in
//! force, and rolls them all back at once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use super::kernel_loss::{KernelLoss, Side};
use super::proxy::ProxyFaults;
use super::supervisor::Supervisor;
use crate::faults::{Action, Effect, Rule};
use crate::lock;
use crate::plan::PROBE_NAME;
use crate::runner::Hands;

/// The run's means of making faults.
pub struct LocalHands {
    pub faults: Arc<ProxyFaults>,
    pub supervisor: Arc<Supervisor>,
    /// With `--loss kernel`: where loss is made instead of the proxies.
    pub kernel: Option<KernelLoss>,
    /// Each instance's port (for kernel loss).
    pub ports: BTreeMap<String, u16>,
    injected: Mutex<BTreeSet<String>>,
    active: Mutex<BTreeSet<String>>,
    errors: Mutex<Vec<String>>,
}

impl LocalHands {
    pub fn new(
        faults: Arc<ProxyFaults>,
        supervisor: Arc<Supervisor>,
        kernel: Option<KernelLoss>,
        ports: BTreeMap<String, u16>,
    ) -> Self {
        Self {
            faults,
            supervisor,
            kernel,
            ports,
            injected: Mutex::default(),
            active: Mutex::default(),
            errors: Mutex::default(),
        }
    }

    /// Loss on every instance port `rule` covers, made by the kernel.
    fn kernel_loss(&self, kernel: &KernelLoss, rule: &Rule, probability: f64) {
        let per_mille = (probability * 1000.0).round() as u32;
        for (host, port) in &self.ports {
            let sides = [
                (rule.covers(PROBE_NAME, host), Side::Requests),
                (rule.covers(host, PROBE_NAME), Side::Replies),
            ];
            for (_, side) in sides.iter().filter(|(covered, _)| *covered) {
                if let Err(err) = kernel.add(&rule.fault, *port, *side, per_mille) {
                    lock(&self.errors).push(format!("{}: {err}", rule.fault));
                }
            }
        }
    }

    /// Ends `fault`'s rules (in the proxies and the kernel).
    fn end(&self, fault: &str) {
        self.faults.remove(fault);
        if let Some(kernel) = &self.kernel {
            if let Err(err) = kernel.remove(fault) {
                lock(&self.errors).push(format!("{fault}: {err}"));
            }
        }
        lock(&self.active).remove(fault);
    }

    fn mark(&self, fault: &str) {
        lock(&self.injected).insert(fault.to_owned());
        lock(&self.active).insert(fault.to_owned());
    }
}

impl Hands for LocalHands {
    type Step = Action;

    /// Makes `action` happen now.
    fn apply(&self, action: &Action) {
        match action {
            Action::AddRule(rule) => {
                self.mark(&rule.fault);
                match (&rule.effect, &self.kernel) {
                    (Effect::Loss { probability }, Some(kernel)) => {
                        self.kernel_loss(kernel, rule, *probability);
                    }
                    _ => self.faults.add(rule.clone()),
                }
            }
            Action::AddMethodRule(rule) => {
                self.mark(&rule.fault);
                self.faults.add_method(rule.clone());
            }
            Action::RemoveRules { fault } => self.end(fault),
            Action::Kill { fault, host } => {
                self.mark(fault);
                self.supervisor.kill(host);
            }
            Action::Pause { fault, host } => {
                self.mark(fault);
                self.supervisor.pause(host);
            }
            Action::Resume { fault, host } => {
                self.supervisor.resume(host);
                lock(&self.active).remove(fault);
            }
            // The supervisor starts every exited instance again after RESTART_DELAY.
            Action::Restart { fault, .. } => {
                lock(&self.active).remove(fault);
            }
        }
    }

    /// Undoes every fault in force: rules removed, paused instances continued.
    fn rollback(&self) {
        let active = lock(&self.active).clone();
        for fault in &active {
            self.end(fault);
        }
        self.supervisor.resume_all();
    }

    /// Everything here happens at once.
    async fn settled(&self) {}

    /// The faults injected so far.
    fn injected(&self) -> BTreeSet<String> {
        lock(&self.injected).clone()
    }

    /// The faults in force now.
    fn active(&self) -> Vec<String> {
        lock(&self.active).iter().cloned().collect()
    }

    /// What failed while applying faults (kernel loss rules).
    fn errors(&self) -> Vec<String> {
        lock(&self.errors).clone()
    }
}
