//! Nothing a run creates outlives it: every object carries the run's label and is deleted
//! at the end, on abort and on Ctrl-C (Chaos Mesh recovers a fault when its object is
//! deleted, and by its `duration` if faultline dies first). At start, objects of earlier
//! runs are deleted when their run no longer runs: a run holds the Lease
//! `faultline-run-<id>` while it lives, so objects whose run's lease is gone or expired
//! are leftovers, and those of a run still going (another user, another replica) are not.

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::Client;

use super::connect::ChaosMesh;
use super::lease;
use super::objects;
use crate::plan::{MANAGED_BY, RUN_LABEL};

/// The name of the Lease a run holds while it lives.
pub fn run_lease_name(run_id: &str) -> String {
    format!("faultline-run-{run_id}")
}

/// Every object faultline created in `namespace`, by run id: (kind, name).
async fn managed(
    client: &Client,
    mesh: &ChaosMesh,
    namespace: &str,
    selector: &str,
) -> Result<BTreeMap<String, Vec<(String, String)>>, String> {
    let mut runs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for schema in mesh.schemas.values() {
        let api = objects::api(client, schema, namespace);
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|err| format!("listing {} in {namespace}: {err}", schema.plural))?;
        for object in list.items {
            let run = object
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(RUN_LABEL).cloned())
                .unwrap_or_default();
            let name = object.metadata.name.clone().unwrap_or_default();
            runs.entry(run)
                .or_default()
                .push((schema.kind.clone(), name));
        }
    }
    Ok(runs)
}

/// Deletes the objects of runs that no longer run; what it deleted (`Kind/name`).
pub async fn leftovers(
    client: &Client,
    mesh: &ChaosMesh,
    namespace: &str,
) -> Result<Vec<String>, String> {
    let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
    let mut deleted = Vec::new();
    for (run, objects) in managed(client, mesh, namespace, &selector).await? {
        let alive = !run.is_empty()
            && lease::is_held(client, namespace, &run_lease_name(&run))
                .await
                .map_err(|err| format!("reading the lease of run {run}: {err}"))?;
        if alive {
            continue;
        }
        for (kind, name) in objects {
            delete(client, mesh, namespace, &kind, &name).await?;
            deleted.push(format!("{kind}/{name}"));
        }
    }
    Ok(deleted)
}

/// Deletes every object of run `run_id`; how many there were.
pub async fn delete_run(
    client: &Client,
    mesh: &ChaosMesh,
    namespace: &str,
    run_id: &str,
) -> Result<usize, String> {
    let selector = format!("{RUN_LABEL}={run_id}");
    let mut count = 0;
    for objects in managed(client, mesh, namespace, &selector)
        .await?
        .into_values()
    {
        for (kind, name) in objects {
            delete(client, mesh, namespace, &kind, &name).await?;
            count += 1;
        }
    }
    Ok(count)
}

/// Waits until no object of run `run_id` is left (Chaos Mesh removes its finalizer once
/// it has recovered the fault); the names still there after `within`.
pub async fn gone(
    client: &Client,
    mesh: &ChaosMesh,
    namespace: &str,
    run_id: &str,
    within: Duration,
) -> Result<(), Vec<String>> {
    let selector = format!("{RUN_LABEL}={run_id}");
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left: Vec<String> = match managed(client, mesh, namespace, &selector).await {
            Ok(runs) => runs
                .into_values()
                .flatten()
                .map(|(kind, name)| format!("{kind}/{name}"))
                .collect(),
            Err(err) => vec![err],
        };
        if left.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(left);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn delete(
    client: &Client,
    mesh: &ChaosMesh,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Result<(), String> {
    let Some(schema) = mesh.schemas.values().find(|s| s.kind == kind) else {
        return Ok(());
    };
    let api: Api<DynamicObject> = objects::api(client, schema, namespace);
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(err) => Err(format!("deleting {kind}/{name}: {err}")),
    }
}
