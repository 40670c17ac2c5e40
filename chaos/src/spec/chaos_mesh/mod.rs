//! Chaos Mesh objects (`chaos-mesh.org/v1alpha1`) as Chaos Mesh defines them: faults are
//! written in this form whether they run in simulation, behind the local fault proxy or on a
//! cluster.
//!
//! The kinds faultline acts on (NetworkChaos, PodChaos, HTTPChaos) are typed. Their `spec`
//! structs are generated from Chaos Mesh's CRDs by kopium (`--hide-kube`: plain serde
//! structs, no kube dependency), post-processed by `generate.sh` to refuse unknown fields
//! (as `kubectl apply`'s strict field validation does) and to share one selector type. They
//! are generated rather than written by hand so that they cannot drift from the CRDs, which
//! are the authority; the schema tests check every object against those CRDs. To
//! regenerate after the CRDs change: `cargo install kopium --locked`, then
//! `chaos/src/spec/chaos_mesh/generate.sh` (reads `<workspace>/../shared/chaos-mesh/crds`,
//! or `$CRDS`).
//!
//! The other kinds (DNSChaos, StressChaos, TimeChaos, IOChaos, Schedule, Workflow,
//! StatusCheck) are kept losslessly as [`RawObject`]: faultline passes them on to a cluster
//! or reports them as skipped in simulation.
//!
//! [`ChaosObject::from_value`] reads one object, [`ChaosObject::to_value`] writes it,
//! [`ChaosObject::validate`] applies Chaos Mesh's admission rules, and [`selector`] says
//! which pods a selector and mode pick.

mod kind;
mod meta;
mod method_fault;
mod object;
mod resource;
mod rules;
pub mod selector;
mod validate;
pub mod values;

mod generated {
    pub mod http_chaos;
    pub mod network_chaos;
    pub mod pod_chaos;
    pub mod selector;
}

pub use generated::http_chaos::*;
pub use generated::network_chaos::*;
pub use generated::pod_chaos::*;
pub use generated::selector::*;
pub use kind::Kind;
pub use meta::{ObjectMeta, API_VERSION};
pub use method_fault::MethodFault;
pub use object::{ChaosObject, PodSelection};
pub use resource::{HttpChaos, NetworkChaos, PodChaos, RawObject, Resource};
pub use selector::{select, PodInfo, SelectError};
