//! Load balancing: which instance each call goes to.
//!
//! A [`Discovery`] publishes snapshots of the instance list; a [`Balancer`] turns one
//! snapshot (or the subset a route narrows it to) into a [`Picker`], built once per
//! snapshot and then read without locks on every call; [`LoadBalanceLayer`] puts it in the
//! client's tower stack, sets `Call::target`, and feeds each call's latency and outcome
//! back to the picker that chose the instance.
//!
//! Balancers, one file each: [`WeightedRoundRobin`] (the default, smooth WRR as nginx and
//! Kitex do it), [`WeightedRandom`], [`ConsistentHash`] (stable across runs and processes),
//! [`P2c`] (power of two choices by EWMA latency) and [`ZoneAware`]. Everything random
//! draws from a [`SplitMix64`](crate::rng::SplitMix64) seeded by the caller, so a
//! simulation replays by seed.
//!
//! Why not tower's `balance::p2c`: it balances over a `Discover` of per-endpoint services
//! and chooses the endpoint in `poll_ready`, before it sees the request. Kitex semantics
//! need the request: consistent hashing keys on `CallOptions::hash_key`, the route table
//! narrows by tag, and the layers below us (instance breaker, connection pool) are one
//! service that reads `Call::target`. So the balancer here is our own, and p2c is one of
//! its pickers.

mod config;
mod consistent;
mod discovery;
mod health;
mod layer;
mod membership;
mod p2c;
mod random;
mod registry;
mod router;
mod rtt;
mod stable_hash;
mod wrr;
mod zone;
mod zone_rtt;

use std::sync::Arc;
use std::time::Duration;

use crate::rpc::{Instance, RpcError};

pub use config::BalancerConfig;
pub use consistent::{ConsistentHash, ConsistentHashPicker};
pub use discovery::{Discovery, Snapshot};
pub use layer::{LoadBalance, LoadBalanceLayer};
pub(crate) use membership::{addrs, Membership};
pub use p2c::{P2c, P2cConfig};
pub use random::WeightedRandom;
pub use rtt::Ewma;
pub use stable_hash::{fmix64, stable_hash};
pub use wrr::{smooth_wrr_sequence, WeightedRoundRobin};
pub use zone::{ZoneAware, ZoneConfig};

/// What a finished call tells the balancer.
#[derive(Debug, Clone, Copy)]
pub struct Feedback<'a> {
    /// From handing the call to the inner service to its reply or error.
    pub latency: Duration,
    /// `None` when the call succeeded.
    pub error: Option<&'a RpcError>,
}

/// Chooses among one fixed set of instances. Built by a [`Balancer`] per instance set and
/// shared by every call that sees that set; `pick` must not block.
pub trait Picker: Send + Sync + 'static {
    /// The index (into [`Picker::instances`]) of the instance for `call`, or `None` when
    /// no instance can take it (the set is empty or every weight is zero).
    fn pick(&self, call: &crate::rpc::Call) -> Option<usize>;

    /// The instances this picker chooses among.
    fn instances(&self) -> &[Arc<Instance>];

    /// The outcome of a call this picker sent to `instances()[index]`. Balancers that do
    /// not learn from outcomes ignore it.
    fn feedback(&self, index: usize, feedback: Feedback<'_>) {
        let _ = (index, feedback);
    }
}

/// A load-balancing policy: builds a [`Picker`] for each instance set it is given. State
/// that must outlive a snapshot (latency averages, zone RTTs, health) lives in the
/// balancer, keyed by address or zone, and is shared with the pickers it builds.
pub trait Balancer: Send + Sync + 'static {
    /// A picker over `instances` (a discovery snapshot or the subset a route selected).
    fn build(&self, instances: Vec<Arc<Instance>>) -> Arc<dyn Picker>;

    /// The caller's zone, when the policy knows it; `BalancerPick::local` compares with it.
    fn local_zone(&self) -> Option<&Arc<str>> {
        None
    }
}
