//! A test-only, in-memory Kubernetes API server that sits behind [`kube::Client`].
//!
//! [`ApiServer`] keeps every object in one store under one lock and answers the REST calls
//! that kube-rs and kube-runtime make: discovery, get, list (selectors, pagination), watch
//! (from a resourceVersion, with bookmarks and `410 Gone`), create, update, the four patch
//! types, delete with finalizers, deletecollection and the `status` subresource. Custom
//! resources are served once their CRD is installed and are pruned and validated against
//! the CRD's `openAPIV3Schema`. Errors are `Status` objects, so kube returns
//! `kube::Error::Api` with the code and reason a real server gives.
//!
//! [`chaos_mesh::ChaosMesh`] plays Chaos Mesh's controller on the store, for tests of code
//! that drives Chaos Mesh experiments.
//!
//! What is approximated or missing is listed in the crate's README.
#![forbid(unsafe_code)]

mod access;
pub mod chaos_mesh;
mod clock;
mod crd;
mod delete;
mod discovery;
mod error;
mod patch;
mod path;
mod query;
mod read;
mod registry;
mod schema;
mod selector;
mod server;
mod service;
mod store;
mod watch;
mod write;

pub use access::{Access, Change, ChangeKind, Verb};
pub use server::ApiServer;
