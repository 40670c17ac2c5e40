//! `Router`: from a call to the picker that chooses its instance, combining the discovery
//! snapshot, the route table and the balancer.
//!
//! For each pair (snapshot, route table) the router builds once: a picker over all
//! instances, and for every route the subset each target selects with a picker over it
//! (plus a consistent-hash picker for sticky routes). That compiled form is cached in an
//! `ArcSwapOption` and keyed by the identity of the two `Arc`s it was built from, so a call
//! loads three pointers and compares two; a discovery update or route swap makes the next
//! call rebuild. Two calls racing past a change may both build; the last one stored wins,
//! and both are correct.
//!
//! A route whose targets select no instance in the current snapshot is left out, so its
//! calls go to every instance rather than fail (a canary without instances serves from the
//! base set).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwapOption;

use super::consistent::ConsistentHashPicker;
use super::{fmix64, smooth_wrr_sequence, stable_hash, Balancer, Discovery, Picker, Snapshot};
use crate::route::{Route, RouteConfig, RouteTable};
use crate::rpc::Call;

pub(crate) struct Router {
    discovery: Discovery,
    routes: Option<RouteTable>,
    balancer: Arc<dyn Balancer>,
    compiled: ArcSwapOption<Compiled>,
}

struct Compiled {
    snapshot: Arc<Snapshot>,
    config: Option<Arc<RouteConfig>>,
    all: Arc<dyn Picker>,
    routes: HashMap<String, CompiledRoute>,
}

struct CompiledRoute {
    targets: Vec<CompiledTarget>,
    /// Smooth-WRR cycle over the targets' weights, for calls not placed by hash.
    sequence: Vec<u32>,
    next: AtomicUsize,
    /// Running sums of the targets' weights, for placing a sticky call's key.
    ends: Vec<u64>,
    /// Mixed into a sticky key so that target choice and ring position are independent.
    salt: u64,
}

struct CompiledTarget {
    picker: Arc<dyn Picker>,
    sticky: Option<Arc<dyn Picker>>,
}

impl Router {
    pub(crate) fn new(
        discovery: Discovery,
        routes: Option<RouteTable>,
        balancer: Arc<dyn Balancer>,
    ) -> Self {
        Self {
            discovery,
            routes,
            balancer,
            compiled: ArcSwapOption::empty(),
        }
    }

    pub(crate) fn balancer(&self) -> &dyn Balancer {
        &*self.balancer
    }

    /// The picker for `call`: the one of its route's target, or the one over everything.
    pub(crate) fn picker(&self, call: &Call) -> Arc<dyn Picker> {
        let compiled = self.compiled();
        let route = compiled
            .config
            .as_ref()
            .and_then(|config| config.tag_of(call))
            .and_then(|tag| compiled.routes.get(tag));
        match route {
            Some(route) => route.picker(call),
            None => compiled.all.clone(),
        }
    }

    fn compiled(&self) -> Arc<Compiled> {
        let snapshot = self.discovery.load();
        let config = self.routes.as_ref().map(RouteTable::load);
        if let Some(compiled) = &*self.compiled.load() {
            let same_config = match (&compiled.config, &config) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            if same_config && Arc::ptr_eq(&compiled.snapshot, &snapshot) {
                return compiled.clone();
            }
        }
        let fresh = Arc::new(self.build(Arc::clone(&snapshot), config.map(|c| Arc::clone(&c))));
        self.compiled.store(Some(fresh.clone()));
        fresh
    }

    fn build(&self, snapshot: Arc<Snapshot>, config: Option<Arc<RouteConfig>>) -> Compiled {
        let all = self.balancer.build(snapshot.instances.clone());
        let routes = config
            .iter()
            .flat_map(|c| c.routes.iter())
            .filter_map(|route| {
                self.compile(route, &snapshot)
                    .map(|compiled| (route.tag.clone(), compiled))
            })
            .collect();
        Compiled {
            snapshot,
            config,
            all,
            routes,
        }
    }

    fn compile(&self, route: &Route, snapshot: &Snapshot) -> Option<CompiledRoute> {
        let mut targets = Vec::new();
        let mut weights = Vec::new();
        for target in route.targets.iter().filter(|t| t.weight > 0) {
            let subset: Vec<_> = snapshot
                .instances
                .iter()
                .filter(|i| target.matches(i))
                .cloned()
                .collect();
            if subset.is_empty() {
                continue;
            }
            let sticky = route.sticky.then(|| {
                Arc::new(ConsistentHashPicker::new(
                    subset.clone(),
                    super::ConsistentHash::DEFAULT_REPLICAS,
                )) as Arc<dyn Picker>
            });
            targets.push(CompiledTarget {
                picker: self.balancer.build(subset),
                sticky,
            });
            weights.push(target.weight);
        }
        if targets.is_empty() {
            return None;
        }
        let ends = weights
            .iter()
            .scan(0u64, |sum, &w| {
                *sum += u64::from(w);
                Some(*sum)
            })
            .collect();
        Some(CompiledRoute {
            targets,
            sequence: smooth_wrr_sequence(&weights),
            next: AtomicUsize::new(0),
            ends,
            salt: stable_hash(route.tag.as_bytes()),
        })
    }
}

impl CompiledRoute {
    fn picker(&self, call: &Call) -> Arc<dyn Picker> {
        if let (Some(key), true) = (call.options.hash_key, self.targets[0].sticky.is_some()) {
            let total = self.ends.last().copied().unwrap_or(1).max(1);
            let point = fmix64(key ^ self.salt) % total;
            let at = self.ends.partition_point(|&end| end <= point);
            let target = &self.targets[at.min(self.targets.len() - 1)];
            if let Some(sticky) = &target.sticky {
                return sticky.clone();
            }
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let at = self.sequence[n % self.sequence.len()] as usize;
        self.targets[at].picker.clone()
    }
}
