//! Leases (coordination.k8s.io/v1): who holds a name now. The controller's replicas elect
//! a leader with one, and every run holds one named after its run id while it lives, so
//! that a later run can tell leftovers of dead runs from objects of runs still going.
//!
//! The algorithm is client-go's: read the Lease; take it when it is free, expired or ours,
//! by an update that carries the resourceVersion read, so that of two replicas racing only
//! one update succeeds (the other gets 409 Conflict); renew it every third of its duration.
//! (kube-lease-manager does the same with server-side apply and field ownership; the
//! resourceVersion guard needs nothing from the server beyond optimistic concurrency.)

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};
use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::plan::MANAGED_BY;

/// One lease to hold.
#[derive(Debug, Clone)]
pub struct LeaseId {
    pub namespace: String,
    pub name: String,
    /// Who holds it (a pod name, or a run's host and process).
    pub identity: String,
    /// How long a holder that stops renewing keeps it.
    pub duration: Duration,
}

/// Takes or renews the lease; `true` when `id.identity` holds it afterwards.
pub async fn try_acquire(client: &Client, id: &LeaseId) -> Result<bool, kube::Error> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), &id.namespace);
    let now = Timestamp::now();
    let Some(mut lease) = leases.get_opt(&id.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(id.name.clone()),
                labels: Some([(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned())].into()),
                ..ObjectMeta::default()
            },
            spec: Some(held_by(id, now, now, 0)),
        };
        return match leases.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(err) => Err(err),
        };
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let ours = spec.holder_identity.as_deref() == Some(id.identity.as_str());
    if !ours && holder(&lease, now).is_some() {
        return Ok(false);
    }
    let acquired = match ours {
        true => spec.acquire_time.map_or(now, |t| t.0),
        false => now,
    };
    let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!ours);
    lease.spec = Some(held_by(id, acquired, now, transitions));
    match leases
        .replace(&id.name, &PostParams::default(), &lease)
        .await
    {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(err) => Err(err),
    }
}

fn held_by(id: &LeaseId, acquired: Timestamp, renewed: Timestamp, transitions: i32) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(id.identity.clone()),
        acquire_time: Some(MicroTime(acquired)),
        renew_time: Some(MicroTime(renewed)),
        lease_duration_seconds: Some(id.duration.as_secs().clamp(1, i32::MAX as u64) as i32),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    }
}

/// Who holds `lease` at `now`: its holder, unless it stopped renewing long enough ago.
pub fn holder(lease: &Lease, now: Timestamp) -> Option<String> {
    let spec = lease.spec.as_ref()?;
    let holder = spec.holder_identity.clone().filter(|h| !h.is_empty())?;
    let renewed = spec.renew_time.as_ref()?.0;
    let lasts = SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(0)));
    (renewed.checked_add(lasts).ok()? > now).then_some(holder)
}

/// Whether someone holds the lease `name` in `namespace` now.
pub async fn is_held(client: &Client, namespace: &str, name: &str) -> Result<bool, kube::Error> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    Ok(leases
        .get_opt(name)
        .await?
        .is_some_and(|lease| holder(&lease, Timestamp::now()).is_some()))
}

/// Gives the lease up (deletes it) if `id.identity` holds it.
pub async fn release(client: &Client, id: &LeaseId) -> Result<(), kube::Error> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), &id.namespace);
    let Some(lease) = leases.get_opt(&id.name).await? else {
        return Ok(());
    };
    let ours = lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.as_deref())
        == Some(id.identity.as_str());
    if ours {
        leases.delete(&id.name, &DeleteParams::default()).await?;
    }
    Ok(())
}

/// Whether a holder holds its lease, and what stopped it trying, if anything did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Holding {
    pub held: bool,
    /// An error no retry mends (the namespace does not exist, RBAC forbids leases): the
    /// holder has stopped trying.
    pub fatal: Option<String>,
}

/// Keeps trying to take the lease and renews it while held; the channel says whether
/// `id.identity` holds it. A holder that cannot renew within the lease's duration reports
/// losing it before anyone else can take it. Ends when every receiver is gone, or on an
/// error no retry mends (reported in [`Holding::fatal`]).
pub fn hold(client: Client, id: LeaseId) -> (watch::Receiver<Holding>, JoinHandle<()>) {
    let (tx, rx) = watch::channel(Holding::default());
    let task = tokio::spawn(async move {
        let every = (id.duration / 3).max(Duration::from_millis(100));
        let mut last_renewed: Option<tokio::time::Instant> = None;
        loop {
            let held = match try_acquire(&client, &id).await {
                Ok(true) => {
                    last_renewed = Some(tokio::time::Instant::now());
                    true
                }
                Ok(false) => false,
                Err(kube::Error::Api(status)) if matches!(status.code, 403 | 404) => {
                    let fatal = format!(
                        "lease {}/{}: {} ({})",
                        id.namespace, id.name, status.message, status.reason
                    );
                    let _ = tx.send(Holding {
                        held: false,
                        fatal: Some(fatal),
                    });
                    break;
                }
                // Still ours until the lease could have expired for the others.
                Err(_) => last_renewed.is_some_and(|at| at.elapsed() < id.duration * 2 / 3),
            };
            if !held {
                last_renewed = None;
            }
            if tx.borrow().held != held {
                let _ = tx.send(Holding { held, fatal: None });
            }
            tokio::select! {
                () = tx.closed() => break,
                () = tokio::time::sleep(every) => {}
            }
        }
    });
    (rx, task)
}
