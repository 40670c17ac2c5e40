//! What a run on a cluster refuses before it touches anything: protected namespaces
//! (kube-system, kube-public, kube-node-lease and the controller's own), and a selector that
//! matches every pod of a namespace as the cluster stands now, unless the fault says
//! `allowWholeNamespace: true` (the plan refuses the selectors that say so in writing; this
//! catches the ones whose labels happen to cover every pod).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::Client;

use super::KubeError;
use crate::plan;
use crate::spec::chaos_mesh::{ChaosObject, PodInfo};
use crate::spec::experiment::ExperimentSpec;

/// Why `namespace` may not be touched, if it may not: a protected one, or `own` (the
/// controller's namespace, where its Lease and ConfigMaps live).
pub fn protected(namespace: &str, own: Option<&str>) -> Option<String> {
    plan::protected(namespace).or_else(|| {
        (own == Some(namespace)).then(|| {
            format!("namespace {namespace} is the controller's own: faultline never injects faults there")
        })
    })
}

/// Refuses faults whose selector matches every running pod of a namespace it names.
pub async fn whole_namespaces(
    client: &Client,
    spec: &ExperimentSpec,
    objects: &[(String, ChaosObject)],
) -> Result<(), KubeError> {
    let mut pods_by_namespace: BTreeMap<String, Vec<PodInfo>> = BTreeMap::new();
    let mut refused = Vec::new();
    for (fault, object) in objects {
        let allowed = spec
            .faults
            .iter()
            .any(|f| &f.name == fault && f.allow_whole_namespace);
        let Some(selection) = object.pod_selection().filter(|_| !allowed) else {
            continue;
        };
        let namespaces = match selection.selector.namespaces.as_deref() {
            Some(named) if !named.is_empty() => named.to_vec(),
            _ => vec![spec.target.namespace.clone()],
        };
        for namespace in namespaces {
            if let Some(reason) = protected(&namespace, None) {
                refused.push(format!("{fault}: {reason}"));
                continue;
            }
            if !pods_by_namespace.contains_key(&namespace) {
                let pods = pods_in(client, &namespace).await?;
                pods_by_namespace.insert(namespace.clone(), pods);
            }
            let pods = &pods_by_namespace[&namespace];
            if pods.len() > 1 && pods.iter().all(|pod| selection.selector.matches(pod)) {
                refused.push(format!(
                    "{fault}: its selector matches all {} pods of namespace {namespace}; narrow it or set allowWholeNamespace: true on the fault",
                    pods.len()
                ));
            }
        }
    }
    match refused.is_empty() {
        true => Ok(()),
        false => Err(KubeError::Refused(refused)),
    }
}

/// The pods of `namespace` as selectors see them.
pub async fn pods_in(client: &Client, namespace: &str) -> Result<Vec<PodInfo>, KubeError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = pods
        .list(&ListParams::default())
        .await
        .map_err(|err| KubeError::Api(format!("listing pods in {namespace}: {err}")))?;
    Ok(list.items.iter().map(pod_info).collect())
}

/// What a selector sees of `pod`.
pub fn pod_info(pod: &Pod) -> PodInfo {
    let meta = &pod.metadata;
    PodInfo {
        name: meta.name.clone().unwrap_or_default(),
        namespace: meta.namespace.clone().unwrap_or_default(),
        labels: meta.labels.clone().unwrap_or_default(),
        annotations: meta.annotations.clone().unwrap_or_default(),
        phase: pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default(),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        node_labels: BTreeMap::new(),
    }
}
