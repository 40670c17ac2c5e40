//! PodChaos `pod-kill` without Chaos Mesh: the pods the selector matches now, `mode` and
//! `value` choosing among them as Chaos Mesh would (seeded, so a run's choice replays on
//! the same pods), deleted with the spec's `gracePeriod` (0 by default, as Chaos Mesh's
//! pod-kill). Their controllers (Deployment, StatefulSet) start new ones, as after a
//! Chaos Mesh pod-kill.

use faultline_core::rng::SplitMix64;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams};
use kube::Client;

use super::guard::pods_in;
use crate::spec::chaos_mesh::{select, PodChaos, PodChaosAction};

/// Whether `pod` (a PodChaos) can run without Chaos Mesh.
pub fn natively_supported(pod: &PodChaos) -> bool {
    pod.spec.action == PodChaosAction::PodKill
}

/// Kills the pods `pod` selects in `namespace` (or the selector's namespaces); their
/// `namespace/name`s.
pub async fn kill(
    client: &Client,
    pod: &PodChaos,
    namespace: &str,
    rng: &SplitMix64,
) -> Result<Vec<String>, String> {
    let spec = &pod.spec;
    let namespaces = match spec.selector.namespaces.as_deref() {
        Some(named) if !named.is_empty() => named.to_vec(),
        _ => vec![namespace.to_owned()],
    };
    let mut candidates = Vec::new();
    for namespace in &namespaces {
        candidates.extend(
            pods_in(client, namespace)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    let chosen = select(
        &spec.selector,
        spec.mode,
        spec.value.as_deref(),
        &candidates,
        rng,
    )
    .map_err(|err| err.to_string())?;
    let grace = spec.grace_period.unwrap_or(0).max(0);
    let params = DeleteParams::default().grace_period(grace.try_into().unwrap_or(0));
    let mut killed = Vec::new();
    for pod in chosen {
        let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
        match api.delete(&pod.name, &params).await {
            Ok(_) => killed.push(format!("{}/{}", pod.namespace, pod.name)),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(err) => {
                return Err(format!(
                    "deleting pod {}/{}: {err}",
                    pod.namespace, pod.name
                ))
            }
        }
    }
    Ok(killed)
}
