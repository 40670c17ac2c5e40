//! Where the probe finds the target on a cluster: `target.address` when the experiment
//! gives one (a Service address, a port-forward), else the target Service's EndpointSlices
//! (`kubernetes.io/service-name`), watched, so that pods killed and recreated come and go
//! from the client's instance list as they do for any in-cluster caller. Each ready
//! endpoint is an instance at `<address>:<port>` with the zone the EndpointSlice gives it
//! (from its node's `topology.kubernetes.io/zone`), which the zone-aware balancer uses.

use std::collections::BTreeMap;

use faultline_core::lb::Discovery;
use faultline_core::rpc::Instance;
use futures::StreamExt;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::Client;
use tokio::task::JoinHandle;

use crate::spec::experiment::Target;

/// The label an EndpointSlice names its Service with.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The region instances are given (zones are what the balancer compares).
const REGION: &str = "cluster";

/// The probe's instance list and the task that keeps it current (none for a fixed address).
pub struct Endpoints {
    pub discovery: Discovery,
    pub task: Option<JoinHandle<()>>,
}

impl Drop for Endpoints {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Follows the target's endpoints; waits until the first list arrived.
pub async fn follow(client: &Client, target: &Target) -> Result<Endpoints, String> {
    if let Some(address) = &target.address {
        return Ok(Endpoints {
            discovery: Discovery::new([instance(address, target.caller_zone.as_deref())]),
            task: None,
        });
    }
    let service = target.service.to_lowercase();
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), &target.namespace);
    let (reader, writer) = reflector::store();
    let config = watcher::Config::default().labels(&format!("{SERVICE_NAME_LABEL}={service}"));
    let discovery = Discovery::new([]);
    let published = discovery.clone();
    let port = target.port;
    // Every event, not only those carrying objects: the store commits the initial list at
    // its end (`InitDone`).
    let stream = reflector(writer, watcher(slices, config)).default_backoff();
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        let mut current: Vec<String> = Vec::new();
        while stream.next().await.is_some() {
            let state = reader.state();
            let found = instances(state.iter().map(|s| s.as_ref()), port);
            let addresses: Vec<String> = found.iter().map(|i| i.addr.to_string()).collect();
            if addresses != current {
                current = addresses;
                published.set(found);
            }
        }
    });
    Ok(Endpoints {
        discovery,
        task: Some(task),
    })
}

/// The ready endpoints of `slices` as instances, ordered by address (one list for one
/// cluster state, whatever order the slices came in).
pub fn instances<'a>(slices: impl Iterator<Item = &'a EndpointSlice>, port: u16) -> Vec<Instance> {
    let mut found: BTreeMap<String, Instance> = BTreeMap::new();
    for slice in slices {
        let ports = slice.ports.as_deref().unwrap_or_default();
        let port = ports
            .iter()
            .filter_map(|p| p.port)
            .find(|&p| p == i32::from(port))
            .or_else(|| ports.iter().find_map(|p| p.port))
            .unwrap_or(i32::from(port));
        for endpoint in slice.endpoints.iter().flatten() {
            let ready = endpoint
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .unwrap_or(true);
            if !ready {
                continue;
            }
            for address in &endpoint.addresses {
                let addr = match address.contains(':') {
                    true => format!("[{address}]:{port}"),
                    false => format!("{address}:{port}"),
                };
                let mut instance = instance(&addr, endpoint.zone.as_deref());
                if let Some(pod) = endpoint.target_ref.as_ref().and_then(|r| r.name.clone()) {
                    instance.tags.insert("pod".into(), pod);
                }
                found.insert(addr, instance);
            }
        }
    }
    found.into_values().collect()
}

/// An instance at `addr`, in `zone` when one is known.
fn instance(addr: &str, zone: Option<&str>) -> Instance {
    match zone {
        Some(zone) => Instance::new(addr).with_zone(REGION, zone),
        None => Instance::new(addr),
    }
}
