//! The parts every Chaos Mesh object shares: its `apiVersion` and the object metadata.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The only API version faultline reads and writes.
pub const API_VERSION: &str = "chaos-mesh.org/v1alpha1";

/// Kubernetes object metadata: the fields faultline reads are typed, every other field
/// (`uid`, `resourceVersion`, `ownerReferences`, ...) is kept as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The other metadata fields, unchanged.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl ObjectMeta {
    /// No field is set (such metadata is left out when the object is written).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}
