//! `ProxyFaults`: the link and method rules in force, shared by every proxy of a run.
//!
//! The rules are one immutable [`Table`] behind a `watch` channel: a change publishes a new
//! table, and every connection direction notices it on its next chunk (an atomic version
//! check) or at once if it is waiting (a partition that heals), so a change acts on
//! connections that already exist, pooled ones included.

use std::sync::Arc;

use tokio::sync::watch;

use crate::faults::{MethodRule, Rule};

/// The rules in force at one moment.
#[derive(Debug, Default)]
pub struct Table {
    pub rules: Vec<Rule>,
    pub methods: Vec<MethodRule>,
}

/// The rules the proxies apply, changed while they run.
#[derive(Debug)]
pub struct ProxyFaults {
    table: watch::Sender<Arc<Table>>,
}

impl Default for ProxyFaults {
    fn default() -> Self {
        Self {
            table: watch::Sender::new(Arc::default()),
        }
    }
}

impl ProxyFaults {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Puts a link rule in force.
    pub fn add(&self, rule: Rule) {
        self.change(|table| table.rules.push(rule));
    }

    /// Puts a method rule in force.
    pub fn add_method(&self, rule: MethodRule) {
        self.change(|table| table.methods.push(rule));
    }

    /// Ends the link and method rules of `fault`.
    pub fn remove(&self, fault: &str) {
        self.change(|table| {
            table.rules.retain(|rule| rule.fault != fault);
            table.methods.retain(|rule| rule.fault != fault);
        });
    }

    /// Ends every rule (a rollback).
    pub fn clear(&self) {
        self.table.send_replace(Arc::default());
    }

    /// The rules in force now.
    pub fn table(&self) -> Arc<Table> {
        self.table.borrow().clone()
    }

    /// A receiver that sees every change.
    pub(super) fn watch(&self) -> watch::Receiver<Arc<Table>> {
        self.table.subscribe()
    }

    fn change(&self, edit: impl FnOnce(&mut Table)) {
        self.table.send_modify(|table| {
            let mut next = Table {
                rules: table.rules.clone(),
                methods: table.methods.clone(),
            };
            edit(&mut next);
            *table = Arc::new(next);
        });
    }
}
