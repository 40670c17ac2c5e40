//! The Kubernetes backend: an experiment run on a cluster through Chaos Mesh.
//!
//! [`connect`] reaches the cluster and reads which Chaos Mesh CRDs it serves; [`schema`]
//! checks each object against the CRD schema read from the cluster before anything is
//! created; [`guard`] refuses protected namespaces and selectors that would match a whole
//! namespace; [`objects`] creates an object and follows its `AllInjected` / `AllRecovered`
//! conditions; [`pod_kill`] kills pods without Chaos Mesh (deleting them, honouring
//! `mode`/`value`); [`cleanup`] deletes what a run created (and leftovers of dead runs,
//! which [`lease`] tells apart from live ones); [`discovery`] finds the target's pods for
//! the probe; [`metrics`] reads the target pods' own Prometheus series; [`hands`] is the run's [`crate::runner::Hands`]; [`run`] puts it together.

pub mod cleanup;
pub mod connect;
pub mod controller;
pub mod discovery;
pub mod guard;
pub mod hands;
pub mod lease;
pub mod metrics;
pub mod objects;
pub mod pod_kill;
pub mod run;
pub mod schema;

/// Why a run on a cluster could not happen (or stopped before its probe started).
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("cannot reach the cluster: {0}")]
    Connect(String),
    #[error("the Kubernetes API: {0}")]
    Api(String),
    #[error("refused:\n  {}", .0.join("\n  "))]
    Refused(Vec<String>),
    #[error("{0}")]
    Unsupported(String),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Plan(Vec<crate::spec::located::SpecError>),
    #[error("the client configuration {0}")]
    Client(faultline_core::config::FieldErrors),
}
