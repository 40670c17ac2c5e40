//! Shared helpers for the load-balancing and route tests (included with `#[path]`; compiled
//! alone it is an empty test crate).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use faultline_core::lb::{Feedback, Picker};
use faultline_core::rpc::{Call, Instance, RpcError};

/// An instance at `addr` in `zone` (region `r`) with `weight`.
pub fn inst(addr: &str, zone: &str, weight: u32) -> Instance {
    Instance::new(addr).with_zone("r", zone).with_weight(weight)
}

pub fn call() -> Call {
    Call::new("echo", Bytes::new())
}

pub fn keyed(key: u64) -> Call {
    let mut call = call();
    call.options.hash_key = Some(key);
    call
}

/// How many of `n` picks each address got.
pub fn counts(picker: &dyn Picker, n: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let call = call();
    for _ in 0..n {
        let i = picker.pick(&call).expect("an instance");
        *counts
            .entry(picker.instances()[i].addr.to_string())
            .or_default() += 1;
    }
    counts
}

/// The index of `addr` in the picker's instances.
pub fn index_of(picker: &dyn Picker, addr: &str) -> usize {
    picker
        .instances()
        .iter()
        .position(|i| &*i.addr == addr)
        .expect("instance present")
}

pub fn arcs(list: Vec<Instance>) -> Vec<Arc<Instance>> {
    list.into_iter().map(Arc::new).collect()
}

/// Reports a successful call to `addr` that took `latency`.
pub fn succeed(picker: &dyn Picker, addr: &str, latency: Duration) {
    let index = index_of(picker, addr);
    picker.feedback(
        index,
        Feedback {
            latency,
            error: None,
        },
    );
}

/// Reports a failed call (a timeout) to `addr`.
pub fn fail(picker: &dyn Picker, addr: &str) {
    let index = index_of(picker, addr);
    let error = RpcError::Timeout {
        budget: Duration::from_millis(100),
    };
    picker.feedback(
        index,
        Feedback {
            latency: Duration::from_millis(100),
            error: Some(&error),
        },
    );
}
