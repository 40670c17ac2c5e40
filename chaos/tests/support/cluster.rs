//! A cluster for the Kubernetes backend's tests, with no cluster: the in-memory API server
//! (`faultline-kube-emulator`) behind `kube::Client`, Chaos Mesh's real CRDs installed
//! from `../shared/chaos-mesh/crds` (tests skip with a notice when they are absent), the
//! `Experiment` CRD generated from the Rust types, and the target service as real echo
//! servers of faultline-core on loopback TCP: one Pod and one EndpointSlice per server (a
//! slice per pod, since each listens on its own port), zones `az1` and `az2`. Deleting a
//! Pod (a pod-kill) stops its server and removes its endpoints, as the kubelet and the
//! EndpointSlice controller would. Each pod serves its Prometheus metrics on its own port
//! (annotated `prometheus.io/scrape` and `prometheus.io/port`), which the run scrapes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use faultline_chaos::spec::experiment::Experiment;
use faultline_core::echo;
use faultline_core::event::EventBus;
use faultline_core::metrics::{serve_metrics, MetricsServer};
use faultline_core::net::Tcp;
use faultline_core::server::{Server, ServerBuilder};
use faultline_kube_emulator::{ApiServer, ChangeKind};
use kube::CustomResourceExt;
use serde_json::{json, Value};

/// The namespace the target runs in.
pub const NAMESPACE: &str = "shop";

/// The API server and the target service.
pub struct Cluster {
    pub api: ApiServer,
    servers: Arc<Mutex<BTreeMap<String, Pod>>>,
    kubelet: tokio::task::JoinHandle<()>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.kubelet.abort();
    }
}

/// One running pod: its server and its metrics endpoint.
struct Pod {
    server: Server,
    metrics: MetricsServer,
}

impl Cluster {
    /// The API server with the Experiment CRD, Chaos Mesh's CRDs when `chaos_mesh`, and
    /// `per_zone` echo servers in each of az1 and az2.
    pub async fn start(chaos_mesh: Option<&[Value]>, per_zone: usize) -> Cluster {
        let api = ApiServer::new();
        api.install_crd(serde_json::to_value(Experiment::crd()).unwrap())
            .unwrap();
        for crd in chaos_mesh.unwrap_or_default() {
            api.install_crd(crd.clone()).unwrap();
        }
        api.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))
            .unwrap();
        let servers = Arc::new(Mutex::new(BTreeMap::new()));
        for zone in ["az1", "az2"] {
            for index in 0..per_zone {
                let name = format!("echo-{zone}-{index}");
                let events = EventBus::default();
                let (metrics, _) = serve_metrics("127.0.0.1:0".parse().unwrap(), &events)
                    .await
                    .unwrap();
                let server = ServerBuilder::new(echo::SERVICE)
                    .zone(zone)
                    .events(events)
                    .bind(&Tcp, "127.0.0.1:0", echo::router())
                    .await
                    .unwrap();
                let ports = (server.local_addr().port(), metrics.local_addr().port());
                put_pod(&api, &name, zone, ports);
                servers
                    .lock()
                    .unwrap()
                    .insert(name, Pod { server, metrics });
            }
        }
        let kubelet = tokio::spawn(kubelet(api.clone(), servers.clone()));
        Cluster {
            api,
            servers,
            kubelet,
        }
    }

    /// The pods still running.
    pub fn running(&self) -> Vec<String> {
        self.servers.lock().unwrap().keys().cloned().collect()
    }

    /// Every Chaos Mesh object in the target namespace.
    pub fn chaos_objects(&self) -> Vec<Value> {
        ["NetworkChaos", "PodChaos", "HTTPChaos"]
            .iter()
            .flat_map(|kind| {
                self.api
                    .list("chaos-mesh.org/v1alpha1", kind, Some(NAMESPACE))
            })
            .collect()
    }
}

/// A running pod of the echo service and its EndpointSlice.
fn put_pod(api: &ApiServer, name: &str, zone: &str, (port, metrics): (u16, u16)) {
    api.put(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": { "app": "echo", "zone": zone },
            "annotations": { "prometheus.io/scrape": "true", "prometheus.io/port": metrics.to_string() },
        },
        "spec": { "containers": [{ "name": "echo", "image": "faultline" }], "nodeName": format!("node-{zone}") },
        "status": { "phase": "Running", "podIP": "127.0.0.1" },
    }))
    .unwrap();
    api.put(json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": format!("echo-{name}"),
            "namespace": NAMESPACE,
            "labels": { "kubernetes.io/service-name": "echo" },
        },
        "addressType": "IPv4",
        "ports": [{ "name": "thrift", "port": port, "protocol": "TCP" }],
        "endpoints": [{
            "addresses": ["127.0.0.1"],
            "conditions": { "ready": true },
            "zone": zone,
            "targetRef": { "kind": "Pod", "name": name, "namespace": NAMESPACE },
        }],
    }))
    .unwrap();
}

/// Stops the server of every deleted pod and removes its endpoints.
async fn kubelet(api: ApiServer, servers: Arc<Mutex<BTreeMap<String, Pod>>>) {
    let mut changes = api.changes();
    while let Ok(change) = changes.recv().await {
        if change.kind != ChangeKind::Deleted || change.resource != "pods" {
            continue;
        }
        let pod = servers.lock().unwrap().remove(&change.name);
        if let Some(Pod { server, metrics }) = pod {
            let _ = api.delete(
                "discovery.k8s.io/v1",
                "EndpointSlice",
                Some(NAMESPACE),
                &format!("echo-{}", change.name),
            );
            metrics.shutdown().await;
            server.shutdown().await;
        }
    }
}
