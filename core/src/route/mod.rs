//! The route table: traffic-coloring policies that narrow the instance set before the
//! balancer picks.
//!
//! A call's tag is `CallOptions::tag`, or else the value of the configured metadata string
//! key. A route for that tag lists weighted targets, each selecting instances by zone
//! and/or instance tags. The target is chosen by smooth weighted round robin, or, for a
//! `sticky` route and a call with a `hash_key`, by a stable hash of the key (the same key
//! always lands on the same target, and then, by consistent hashing, on the same
//! instance). A call with no tag or no route goes to every instance.
//!
//! [`RouteTable`] holds the current [`RouteConfig`] in an `ArcSwap`: read lock-free per
//! call, replaced whole when its source (a watched file, for now) changes.

mod config;
mod error;
mod table;

pub use config::{Format, Route, RouteConfig, Target};
pub use error::RouteError;
pub use table::RouteTable;
