//! The two shapes of object: [`Resource`] for the kinds faultline acts on (spec typed from
//! the CRD, unknown fields refused) and [`RawObject`] for the kinds it only passes on to a
//! cluster (everything past `metadata` kept as JSON).

use super::meta::ObjectMeta;
use super::{HttpChaosSpec, NetworkChaosSpec, PodChaosSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A Chaos Mesh object with a typed `spec`. `status` is kept as written: faultline never
/// acts on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource<S> {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "ObjectMeta::is_empty")]
    pub metadata: ObjectMeta,
    pub spec: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

pub type NetworkChaos = Resource<NetworkChaosSpec>;
pub type PodChaos = Resource<PodChaosSpec>;
pub type HttpChaos = Resource<HttpChaosSpec>;

/// A Chaos Mesh object faultline does not interpret (DNSChaos, StressChaos, TimeChaos,
/// IOChaos, Schedule, Workflow, StatusCheck): written back exactly as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawObject {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "ObjectMeta::is_empty")]
    pub metadata: ObjectMeta,
    /// `spec`, `status` and anything else, unchanged.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}
