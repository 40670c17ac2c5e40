//! One run's local "cluster": the topology's instances as processes ([`Supervisor`]), what
//! a call costs here before any modelled latency ([`super::calibrate`]), and a fault
//! [`Proxy`] in front of each instance adding its link's latency. Started together,
//! stopped together; what it saw is handed to the report.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use faultline_core::client::ClientConfig;
use faultline_core::lb::Discovery;
use faultline_core::rpc::Instance;

use super::calibrate::{round_trip, PathCost};
use super::proxy::{Proxy, ProxyConfig, ProxyFaults, ProxyStats};
use super::supervisor::{ServerCommand, StartError, Supervisor, UnexpectedExit};
use crate::faults::latency::Fitted;
use crate::plan::PROBE_NAME;
use crate::spec::experiment::{ExperimentSpec, InstanceSpec, Latency};

/// Why the cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot start the fault proxy of {instance}: {source}")]
    Proxy {
        instance: String,
        source: std::io::Error,
    },
}

/// One instance as started: where it listens, and where its fault proxy does (the
/// address the probe calls).
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub instance: String,
    pub zone: String,
    pub addr: SocketAddr,
    pub proxy: SocketAddr,
    pub pid: Option<u32>,
}

/// The instances and their proxies, running.
pub struct Cluster {
    instances: Vec<InstanceSpec>,
    pub supervisor: Arc<Supervisor>,
    proxies: Vec<Proxy>,
    pub faults: Arc<ProxyFaults>,
    /// What the proxies take off each round trip they add; the run corrects it under load.
    pub path_cost: Arc<PathCost>,
    /// What a call cost at the start, idle (`None`: the calls failed).
    pub idle_cost: Option<Duration>,
}

/// What a stopped cluster leaves for the report.
pub struct Stopped {
    /// Each instance's proxy counters.
    pub proxies: Vec<(String, ProxyStats)>,
    /// Instance names by their proxies' addresses (how the client knew them).
    pub names: BTreeMap<String, String>,
    /// Where each instance listened.
    pub addrs: BTreeMap<String, SocketAddr>,
    pub exits: Vec<UnexpectedExit>,
    pub starts: BTreeMap<String, u32>,
}

impl Cluster {
    /// Starts `spec`'s instances with `command`, measures what a call costs with
    /// `client`'s pool, and puts a proxy in front of each instance; the probe calls from
    /// `caller_zone`.
    pub async fn start(
        spec: &ExperimentSpec,
        command: &ServerCommand,
        caller_zone: &str,
        client: &ClientConfig,
        seed: u64,
    ) -> Result<Self, ClusterError> {
        let instances = spec.topology.instances(&spec.target.service);
        let supervisor = Arc::new(Supervisor::start(command, &instances).await?);
        let idle_cost = match instances.first() {
            Some(first) => round_trip(supervisor.addrs()[&first.name], client).await,
            None => None,
        };
        let path_cost = Arc::new(PathCost::default());
        path_cost.set(idle_cost.unwrap_or_default());
        let mut cluster = Cluster {
            instances,
            supervisor,
            proxies: Vec::new(),
            faults: ProxyFaults::new(),
            path_cost,
            idle_cost,
        };
        if let Err(error) = cluster.start_proxies(spec, caller_zone, seed).await {
            cluster.stop().await;
            return Err(error);
        }
        Ok(cluster)
    }

    async fn start_proxies(
        &mut self,
        spec: &ExperimentSpec,
        caller_zone: &str,
        seed: u64,
    ) -> Result<(), ClusterError> {
        let latency = &spec.topology.latency;
        for (index, instance) in self.instances.iter().enumerate() {
            let link = match instance.zone == caller_zone {
                true => &latency.within_zone,
                false => &latency.across_zones,
            };
            let config = ProxyConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                upstream: self.supervisor.addrs()[&instance.name],
                server: instance.name.clone(),
                client: PROBE_NAME.to_owned(),
                base_latency: base_latency(link),
                path_cost: self.path_cost.clone(),
                rtt: link.mean,
                seed: seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            };
            let proxy = Proxy::start(config, self.faults.clone())
                .await
                .map_err(|source| ClusterError::Proxy {
                    instance: instance.name.clone(),
                    source,
                })?;
            self.proxies.push(proxy);
        }
        Ok(())
    }

    /// The instances as the probe's client finds them: their proxies, with their zones.
    pub fn discovery(&self) -> Discovery {
        Discovery::new(self.instances.iter().zip(&self.proxies).map(|(i, proxy)| {
            Instance::new(proxy.local_addr().to_string()).with_zone("local", i.zone.as_str())
        }))
    }

    /// Where everything listens.
    pub fn started(&self) -> Vec<Started> {
        let pids = self.supervisor.pids();
        self.instances
            .iter()
            .zip(&self.proxies)
            .map(|(instance, proxy)| Started {
                instance: instance.name.clone(),
                zone: instance.zone.clone(),
                addr: self.supervisor.addrs()[&instance.name],
                proxy: proxy.local_addr(),
                pid: pids.get(&instance.name).copied().flatten(),
            })
            .collect()
    }

    /// Each instance's port.
    pub fn ports(&self) -> BTreeMap<String, u16> {
        self.supervisor
            .addrs()
            .iter()
            .map(|(name, addr)| (name.clone(), addr.port()))
            .collect()
    }

    /// Closes the proxies and kills the instances.
    pub async fn stop(self) -> Stopped {
        let proxies = self
            .proxies
            .iter()
            .map(|proxy| (proxy.server().to_owned(), proxy.stats()))
            .collect();
        let names = self
            .proxies
            .iter()
            .map(|proxy| (proxy.local_addr().to_string(), proxy.server().to_owned()))
            .collect();
        drop(self.proxies);
        let stopped = Stopped {
            proxies,
            names,
            addrs: self.supervisor.addrs().clone(),
            exits: self.supervisor.unexpected_exits(),
            starts: self.supervisor.starts(),
        };
        self.supervisor.shutdown().await;
        stopped
    }
}

/// A link's round-trip latency in microseconds; `None` when it has none.
fn base_latency(link: &Latency) -> Option<Fitted> {
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let (mean, p99) = (micros(link.mean), micros(link.p99.max(link.mean)));
    (mean > 0.0).then(|| Fitted::fit(mean, p99, 0.0))
}
