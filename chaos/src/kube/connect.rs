//! Reaching the cluster and learning what it serves: the client (kubeconfig or in-cluster
//! config, as kube's `Client::try_default` finds them) and whether Chaos Mesh is installed,
//! read from the CustomResourceDefinitions the experiment's kinds need.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use kube::Client;

use super::schema::CrdSchema;
use super::KubeError;
use crate::spec::chaos_mesh::Kind;

/// The API group of every Chaos Mesh kind.
pub const CHAOS_MESH_GROUP: &str = "chaos-mesh.org";
/// The version faultline creates.
pub const CHAOS_MESH_VERSION: &str = "v1alpha1";

/// A client for the cluster the user's kubeconfig (or the pod's service account) names.
pub async fn connect() -> Result<Client, KubeError> {
    Client::try_default()
        .await
        .map_err(|err| KubeError::Connect(err.to_string()))
}

/// What the cluster has of Chaos Mesh: the schema of each kind asked for that it serves.
#[derive(Debug, Default)]
pub struct ChaosMesh {
    pub schemas: BTreeMap<Kind, CrdSchema>,
    /// The kinds asked for whose CRD the cluster does not have.
    pub missing: Vec<Kind>,
}

impl ChaosMesh {
    /// Reads the CRD of each of `kinds` (`<plural>.chaos-mesh.org`).
    pub async fn discover(client: &Client, kinds: &[Kind]) -> Result<Self, KubeError> {
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        let mut found = ChaosMesh::default();
        for &kind in kinds {
            let name = format!("{}.{CHAOS_MESH_GROUP}", kind.plural());
            let crd = crds
                .get_opt(&name)
                .await
                .map_err(|err| KubeError::Api(format!("reading CRD {name}: {err}")))?;
            let Some(crd) = crd else {
                found.missing.push(kind);
                continue;
            };
            let value = serde_json::to_value(&crd)
                .map_err(|err| KubeError::Api(format!("CRD {name}: {err}")))?;
            let schema = CrdSchema::from_crd(&value, CHAOS_MESH_VERSION).map_err(KubeError::Api)?;
            found.schemas.insert(kind, schema);
        }
        Ok(found)
    }
}
