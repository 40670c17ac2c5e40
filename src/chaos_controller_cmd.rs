//! `faultline chaos controller`: the `Experiment` controller (`faultline_chaos::kube::controller`),
//! as the Deployment in `manifests/` runs it. Replicas elect a leader through a Lease in
//! `--lease-namespace`; SIGTERM (a pod stopping) interrupts the leader's runs, which roll
//! their faults back, and gives the lease up. Exits 1 when it lost the lease (the pod
//! restarts and waits its turn) or cannot reach the cluster.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use faultline_chaos::kube::controller::{self, ControllerOptions};
use faultline_chaos::kube::hands::Patience;
use faultline_core::config::duration;

#[derive(Args)]
pub struct ControllerArgs {
    /// Where the leader Lease lives; never injected into (default: $POD_NAMESPACE, else
    /// `default`).
    #[arg(long, value_name = "NS")]
    lease_namespace: Option<String>,
    /// This replica's name in the Lease (default: $POD_NAME, else host-pid).
    #[arg(long, value_name = "ID")]
    identity: Option<String>,
    /// Run only the Experiments of this namespace (default: every namespace).
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// How long a leader that stops renewing keeps the lease.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = duration::parse)]
    lease_duration: Duration,
}

pub fn run(args: &ControllerArgs) -> ExitCode {
    let options = ControllerOptions {
        lease_namespace: args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "default".to_owned()),
        identity: args
            .identity
            .clone()
            .or_else(|| std::env::var("POD_NAME").ok())
            .unwrap_or_else(default_identity),
        namespace: args.namespace.clone(),
        lease_duration: args.lease_duration,
        patience: Patience::default(),
        endpoints_within: Duration::from_secs(30),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("faultline chaos controller: cannot start the runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(async {
        let client = faultline_chaos::kube::connect::connect().await?;
        eprintln!(
            "faultline chaos controller {}: waiting for the lease {}/{}",
            options.identity,
            options.lease_namespace,
            controller::LEADER_LEASE
        );
        controller::run(client, options, stopped())
            .await
            .map_err(|err| faultline_chaos::kube::KubeError::Unsupported(err.to_string()))
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("faultline chaos controller: {err}");
            ExitCode::from(1)
        }
    }
}

/// `<host>-<pid>` when no pod name is given.
fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "faultline".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Resolves on SIGINT or SIGTERM (never, if they cannot be listened for).
async fn stopped() {
    match crate::chaos_run_cmd::interrupted().await {
        Ok(interrupted) => {
            interrupted.await;
        }
        Err(_) => std::future::pending().await,
    }
}
