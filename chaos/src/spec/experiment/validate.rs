//! The checks across an experiment's sections: every value in range, every name unique and
//! usable as a Kubernetes name, every fault inside the workload and valid by Chaos Mesh's
//! own rules, every clause on a metric it can be judged by. `validate()` returns all of them
//! with field paths; the loader turns the paths into file, line and column.

use std::collections::BTreeSet;
use std::time::Duration;

use faultline_core::config::{duration, FieldErrors, FieldPath, Validate};

use super::hypothesis::ThresholdValue;
use super::{
    AbortCondition, Clause, ExperimentSpec, Fault, Hypothesis, Latency, MetricKind, Topology,
    Workload,
};

impl Validate for ExperimentSpec {
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors) {
        let target = path.field("target");
        errors.check(
            !self.target.service.is_empty(),
            || target.field("service"),
            || "must name the service under test".into(),
        );
        errors.in_range(|| target.field("port"), self.target.port, 1..=u16::MAX);
        let zones = zone_names(&self.topology);
        if let Some(zone) = &self.target.caller_zone {
            errors.check(
                zones.contains(zone.as_str()),
                || target.field("callerZone"),
                || format!("unknown zone {zone:?}: the topology has {}", list(&zones)),
            );
        }
        check_topology(&self.topology, &path.field("topology"), errors);
        if let (Some(client), Some(caller)) = (&self.client.zone, &self.target.caller_zone) {
            errors.check(client == caller, || path.field("client").field("zone"), || {
                format!("differs from target.callerZone ({caller:?}); set the caller's zone once, in target.callerZone")
            });
        }
        self.effective_client()
            .validate_at(&path.field("client"), errors);
        check_workload(&self.workload, &path.field("workload"), errors);
        check_faults(self, &path.field("faults"), errors);
        check_hypothesis(self, &zones, &path.field("hypothesis"), errors);
        for (i, condition) in self.abort.iter().enumerate() {
            check_abort(condition, &zones, &path.field("abort").index(i), errors);
        }
    }
}

/// A name Kubernetes accepts as a label value and as part of an object name: 1–63 lower-case
/// letters, digits and `-`, starting and ending with a letter or digit (RFC 1123 label).
pub fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(|b| *b != b'-')
        && bytes.last().is_some_and(|b| *b != b'-')
}

fn zone_names(topology: &Topology) -> BTreeSet<&str> {
    topology.zones.iter().map(|z| z.name.as_str()).collect()
}

fn list(names: &BTreeSet<&str>) -> String {
    names.iter().copied().collect::<Vec<_>>().join(", ")
}

fn check_topology(topology: &Topology, path: &FieldPath, errors: &mut FieldErrors) {
    let zones = path.field("zones");
    errors.check(
        !topology.zones.is_empty(),
        || zones.clone(),
        || "needs at least one zone".into(),
    );
    let mut seen = BTreeSet::new();
    for (i, zone) in topology.zones.iter().enumerate() {
        let at = zones.index(i);
        errors.check(
            is_dns_label(&zone.name),
            || at.field("name"),
            || {
                format!(
                    "{:?} is not a DNS label (lower-case letters, digits and '-', at most 63)",
                    zone.name
                )
            },
        );
        errors.check(
            seen.insert(zone.name.as_str()),
            || at.field("name"),
            || format!("zone {:?} is listed twice", zone.name),
        );
        errors.in_range(
            || at.field("instances"),
            zone.instances,
            1..=Topology::MAX_INSTANCES_PER_ZONE,
        );
    }
    let latency = path.field("latency");
    check_latency(
        &topology.latency.within_zone,
        &latency.field("withinZone"),
        errors,
    );
    check_latency(
        &topology.latency.across_zones,
        &latency.field("acrossZones"),
        errors,
    );
}

fn check_latency(latency: &Latency, path: &FieldPath, errors: &mut FieldErrors) {
    let max = Duration::from_secs(10);
    errors.duration_in(|| path.field("mean"), latency.mean, Duration::ZERO..=max);
    errors.duration_in(
        || path.field("p99"),
        latency.p99,
        latency.mean.min(max)..=max,
    );
}

fn check_workload(workload: &Workload, path: &FieldPath, errors: &mut FieldErrors) {
    errors.check(
        workload.method == faultline_core::echo::METHOD,
        || path.field("method"),
        || {
            format!(
                "the probe calls the example service's method {:?}, got {:?}",
                faultline_core::echo::METHOD,
                workload.method
            )
        },
    );
    errors.in_range(|| path.field("rate"), workload.rate, 1..=Workload::MAX_RATE);
    errors.in_range(
        || path.field("payloadBytes"),
        workload.payload_bytes,
        0..=Workload::MAX_PAYLOAD,
    );
    errors.duration_in(
        || path.field("duration"),
        workload.duration,
        Duration::from_secs(1)..=Workload::MAX_DURATION,
    );
    errors.duration_in(
        || path.field("warmup"),
        workload.warmup,
        Duration::ZERO..=Duration::from_secs(3600),
    );
    errors.in_range(
        || path.field("maxInFlight"),
        workload.max_in_flight,
        1..=1_000_000,
    );
}

fn check_faults(spec: &ExperimentSpec, path: &FieldPath, errors: &mut FieldErrors) {
    let mut names = BTreeSet::new();
    for (i, fault) in spec.faults.iter().enumerate() {
        let at = path.index(i);
        errors.check(is_dns_label(&fault.name), || at.field("name"), || {
            format!("{:?} is not a DNS label (lower-case letters, digits and '-', at most 63): it names the objects created for the fault", fault.name)
        });
        errors.check(
            names.insert(fault.name.as_str()),
            || at.field("name"),
            || format!("fault {:?} is listed twice", fault.name),
        );
        check_fault_timing(fault, &spec.workload, &at, errors);
        if let Err(found) = fault.chaos_object(&fault.name, &spec.target.namespace, &at) {
            errors.0.extend(found.0);
        }
    }
}

fn check_fault_timing(
    fault: &Fault,
    workload: &Workload,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let written = fault
        .spec_duration()
        .and_then(|text| duration::parse(text).ok());
    match (fault.duration, written) {
        (None, None) => errors.push(
            path.field("duration"),
            "a fault needs a duration (here or in spec.duration): faults are always bounded",
        ),
        (Some(ours), Some(theirs)) if ours != theirs => errors.push(
            path.field("duration"),
            format!(
                "{} differs from spec.duration ({}); give it once",
                duration::format(ours),
                duration::format(theirs)
            ),
        ),
        _ => {}
    }
    if let Some(lasts) = fault.effective_duration() {
        errors.check(
            !lasts.is_zero(),
            || path.field("duration"),
            || "must be longer than 0s".into(),
        );
    }
    if let Some(end) = fault.end() {
        errors.check(
            end <= workload.duration,
            || path.field("duration"),
            || {
                format!(
                "the fault ends at {} but the workload lasts {}: it would end after the workload",
                duration::format(end),
                duration::format(workload.duration)
            )
            },
        );
    }
}

fn check_hypothesis(
    spec: &ExperimentSpec,
    zones: &BTreeSet<&str>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let hypothesis: &Hypothesis = &spec.hypothesis;
    for (phase, clauses) in [
        ("before", &hypothesis.before),
        ("during", &hypothesis.during),
        ("after", &hypothesis.after),
    ] {
        let at = path.field(phase);
        if phase != "before" && !clauses.is_empty() && spec.faults.is_empty() {
            errors.push(
                at.clone(),
                format!("{phase} clauses need at least one fault"),
            );
        }
        for (i, clause) in clauses.iter().enumerate() {
            check_clause(clause, zones, &at.index(i), errors);
            if let Some(fault) = &clause.fault {
                let known = spec.faults.iter().any(|f| &f.name == fault);
                errors.check(
                    phase == "during" && known,
                    || at.index(i).field("fault"),
                    || match phase == "during" {
                        true => format!("unknown fault {fault:?}"),
                        false => "only during clauses are about one fault".into(),
                    },
                );
            }
        }
    }
    errors.duration_in(
        || path.field("recoverWithin"),
        hypothesis.recover_within,
        Duration::ZERO..=spec.workload.duration,
    );
    let last_end = spec.faults.iter().filter_map(Fault::end).max();
    if let (false, Some(end)) = (hypothesis.after.is_empty(), last_end) {
        let from = end.saturating_add(hypothesis.recover_within);
        errors.check(from < spec.workload.duration, || path.field("after"), || {
            format!(
                "the recovery check would start at {} (last fault ends at {}, plus recoverWithin) but the workload ends at {}: lengthen the workload",
                duration::format(from),
                duration::format(end),
                duration::format(spec.workload.duration)
            )
        });
    }
}

fn check_clause(
    clause: &Clause,
    zones: &BTreeSet<&str>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let kind = clause.metric.kind();
    check_zone(clause.metric, clause.zone.as_deref(), zones, path, errors);
    match kind {
        MetricKind::Breaker => {
            errors.check(
                clause.within.is_some(),
                || path.field("within"),
                || {
                    format!(
                        "{} needs `within`: how soon the breaker must react",
                        clause.metric.name()
                    )
                },
            );
            for (field, set) in [
                ("below", clause.below.is_some()),
                ("above", clause.above.is_some()),
            ] {
                errors.check(
                    !set,
                    || path.field(field),
                    || format!("{} takes `within`, not {field}", clause.metric.name()),
                );
            }
        }
        _ => {
            check_bounds(
                clause.metric.name(),
                kind,
                &clause.below,
                &clause.above,
                path,
                errors,
            );
            for (field, set) in [
                ("within", clause.within.is_some()),
                ("scope", clause.scope.is_some()),
            ] {
                errors.check(
                    !set,
                    || path.field(field),
                    || format!("{field} is only for breakerOpens and breakerCloses"),
                );
            }
        }
    }
}

fn check_abort(
    condition: &AbortCondition,
    zones: &BTreeSet<&str>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let kind = condition.metric.kind();
    check_zone(
        condition.metric,
        condition.zone.as_deref(),
        zones,
        path,
        errors,
    );
    match kind {
        MetricKind::Breaker => errors.push(
            path.field("metric"),
            format!(
                "{} cannot abort a run: abort on a rate, a latency or retryAmplification",
                condition.metric.name()
            ),
        ),
        _ => check_bounds(
            condition.metric.name(),
            kind,
            &condition.below,
            &condition.above,
            path,
            errors,
        ),
    }
    errors.duration_in(
        || path.field("for"),
        condition.for_,
        faultline_core::config::ANY,
    );
}

fn check_zone(
    metric: super::Metric,
    zone: Option<&str>,
    zones: &BTreeSet<&str>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    match zone {
        None => errors.check(
            metric != super::Metric::TrafficShare,
            || path.field("zone"),
            || "trafficShare needs the zone whose share it measures".into(),
        ),
        Some(zone) => errors.check(
            zones.contains(zone),
            || path.field("zone"),
            || format!("unknown zone {zone:?}: the topology has {}", list(zones)),
        ),
    }
}

fn check_bounds(
    metric: &str,
    kind: MetricKind,
    below: &Option<super::Threshold>,
    above: &Option<super::Threshold>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    if below.is_none() && above.is_none() {
        errors.push(
            path.field("below"),
            format!("{metric} needs a bound: below or above"),
        );
    }
    for (field, threshold) in [("below", below), ("above", above)] {
        if let Some(threshold) = threshold {
            if let Err(message) = threshold.value(kind).map(|_: ThresholdValue| ()) {
                errors.push(path.field(field), message);
            }
        }
    }
}
