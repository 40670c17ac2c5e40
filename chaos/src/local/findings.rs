//! What a local run adds to the report besides the probe's timeline: the check that no
//! instance exited unless a fault killed it, notes on how the run was made (links,
//! calibration, loss, proxies' counters), and instance names on the breaker timeline.

use std::time::Duration;

use faultline_core::config::duration;
use tokio::time::Instant;

use super::cluster::Stopped;
use super::proxy::ProxyStats;
use crate::faults::RESTART_DELAY;
use crate::report::{Check, Report, Violation};
use crate::spec::experiment::ExperimentSpec;

/// How the run calibrated its links: the idle cost at the start, and the mean measured
/// under load with the cost it led to.
pub struct Calibration {
    pub idle: Option<Duration>,
    pub under_load: Option<(Duration, Duration)>,
}

/// The check that no instance exited unless a fault killed it.
pub fn instances_stay_up(stopped: &Stopped, measured_from: Instant) -> Check {
    Check {
        name: "instances-stay-up".to_owned(),
        description: "No instance process exited unless a fault killed it (a crash on hostile bytes, a panic, an OOM kill).".to_owned(),
        checked: stopped.starts.values().map(|n| u64::from(*n)).sum(),
        violations: stopped
            .exits
            .iter()
            .map(|exit| Violation {
                at: exit.at.saturating_duration_since(measured_from),
                event: format!("{{\"instance\":\"{}\"}}", exit.instance),
                message: format!("{} exited: {}", exit.instance, exit.status),
            })
            .collect(),
    }
}

/// How the local backend made the run.
pub fn notes(
    spec: &ExperimentSpec,
    stopped: &Stopped,
    calibration: &Calibration,
    kernel_loss: bool,
) -> Vec<String> {
    let mut notes = vec![
        format!(
            "Each instance is a `faultline serve` process behind a fault proxy on loopback; the proxy adds the topology's round trip to requests ({}).",
            spec.topology.latency.describe()
        ),
        match calibration.idle {
            Some(cost) => format!(
                "A call took {} here without any modelled latency (median of sequential calls to one instance at the start); the proxies added the topology's round trips less that.",
                duration::format(cost)
            ),
            None => "Calls to an instance failed at the start, so the cost of a call here was not measured: the proxies added the topology's round trips in full.".to_owned(),
        },
    ];
    if let Some((measured, cost)) = calibration.under_load {
        notes.push(format!(
            "Under the run's load, calls within the caller's zone took {} on average in the second half of the warm-up; from then on the proxies took {} off each round trip they added.",
            duration::format(measured),
            duration::format(cost)
        ));
    }
    notes.push("Network faults are made by the proxies in user space: corrupted segments have a bit flipped past TCP's checksum (the servers' decoders see them), duplicated ones change nothing a TCP reader sees, a partition holds the bytes until it heals.".to_owned());
    notes.push(match kernel_loss {
        true => "Loss ran in the kernel: nftables dropped packets on the instances' loopback ports and the real TCP stack repaired them.".to_owned(),
        false => "Loss ran in the proxies: a lost chunk was delivered late, as TCP repairs a lost segment (the TCP repair model), not dropped.".to_owned(),
    });
    notes.push(format!(
        "pod-kill and container-kill send SIGKILL; the instance is started again {} later. pod-failure sends SIGSTOP for the fault's duration, then SIGCONT.",
        duration::format(RESTART_DELAY)
    ));
    let instances = stopped.proxies.iter().map(|(name, stats)| {
        let addr = stopped
            .addrs
            .get(name)
            .map_or_else(String::new, ToString::to_string);
        format!("{name} on {addr}: {}", describe(stats))
    });
    notes.push(format!(
        "Instances and their proxies: {}.",
        instances.collect::<Vec<_>>().join("; ")
    ));
    notes
}

/// A proxy's counters in one phrase.
fn describe(stats: &ProxyStats) -> String {
    let mut parts = vec![format!(
        "{} connections, {} B to the server, {} B back",
        stats.connections, stats.bytes_to_server, stats.bytes_to_client
    )];
    let counted = [
        (stats.segments_lost, "segments lost and repaired"),
        (stats.bits_corrupted, "bits corrupted"),
        (stats.bytes_duplicated, "bytes duplicated"),
        (stats.bytes_held_by_partitions, "bytes held by partitions"),
        (stats.method_faults_applied, "method faults applied"),
        (stats.connections_reset, "connections reset"),
    ];
    parts.extend(
        counted
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}")),
    );
    parts.join(", ")
}

/// The breaker timeline with instance names: the client knew the instances by their
/// proxies' addresses.
pub fn name_breakers(report: &mut Report, stopped: &Stopped) {
    for change in &mut report.breaker {
        if let Some(name) = stopped.names.get(&change.key) {
            change.key = format!("{name} ({})", change.key);
        }
    }
}
