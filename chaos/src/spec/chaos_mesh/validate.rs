//! Chaos Mesh's admission rules for the kinds faultline acts on, per kind. Each check names
//! the chaos-mesh function it mirrors; the value rules themselves live in [`rules`](super::rules).

use super::rules::{
    at_least, go_duration, percentage, pod_selector, rate, required_duration, selector_mode,
};
use super::{
    HttpChaosSpec, HttpChaosTarget, NetworkChaosAction, NetworkChaosDirection, NetworkChaosSpec,
    PodChaosAction, PodChaosSpec,
};
use faultline_core::config::{FieldErrors, FieldPath};

/// NetworkChaos `spec` at `path`.
pub(crate) fn network_chaos(spec: &NetworkChaosSpec, path: &FieldPath, errors: &mut FieldErrors) {
    selector_mode(spec.mode, spec.value.as_deref(), path, errors);
    pod_selector(&spec.selector, &path.field("selector"), errors);
    go_duration(spec.duration.as_deref(), &path.field("duration"), errors);
    if let Some(target) = &spec.target {
        let target_path = path.field("target");
        selector_mode(target.mode, target.value.as_deref(), &target_path, errors);
        pod_selector(&target.selector, &target_path.field("selector"), errors);
    }
    action_parameters(spec, path, errors);
    netem_parameters(spec, path, errors);
    direction(spec, path, errors);
}

/// The action's own parameters must be there. Mirrors `mergeNetem`
/// (controllers/podnetworkchaos/controller.go), which refuses a netem action with no
/// parameters when it injects; faultline refuses it when it reads the file.
fn action_parameters(spec: &NetworkChaosSpec, path: &FieldPath, errors: &mut FieldErrors) {
    let (field, present) = match spec.action {
        NetworkChaosAction::Delay => ("delay", spec.delay.is_some()),
        NetworkChaosAction::Loss => ("loss", spec.loss.is_some()),
        NetworkChaosAction::Duplicate => ("duplicate", spec.duplicate.is_some()),
        NetworkChaosAction::Corrupt => ("corrupt", spec.corrupt.is_some()),
        NetworkChaosAction::Bandwidth => ("bandwidth", spec.bandwidth.is_some()),
        NetworkChaosAction::Netem => {
            let any = spec.delay.is_some()
                || spec.loss.is_some()
                || spec.duplicate.is_some()
                || spec.corrupt.is_some()
                || spec.rate.is_some();
            errors.check(
                any,
                || path.field("action"),
                || {
                    "action netem needs at least one of delay, loss, duplicate, corrupt, rate"
                        .into()
                },
            );
            return;
        }
        NetworkChaosAction::Partition => return,
    };
    errors.check(
        present,
        || path.field(field),
        || format!("action {field} needs spec.{field}"),
    );
}

/// The tc parameters. Mirrors the `webhook:"Duration"`, `webhook:"FloatStr"` and
/// `webhook:"Rate"` tags of `TcParameter` (networkchaos_types.go) and the CRD minimums of
/// `BandwidthSpec`.
fn netem_parameters(spec: &NetworkChaosSpec, path: &FieldPath, errors: &mut FieldErrors) {
    if let Some(delay) = &spec.delay {
        let p = path.field("delay");
        required_duration(&delay.latency, &p.field("latency"), errors);
        go_duration(delay.jitter.as_deref(), &p.field("jitter"), errors);
        percentage(
            delay.correlation.as_deref(),
            false,
            &p.field("correlation"),
            errors,
        );
        if let Some(reorder) = &delay.reorder {
            let p = p.field("reorder");
            percentage(Some(&reorder.reorder), true, &p.field("reorder"), errors);
            percentage(
                reorder.correlation.as_deref(),
                false,
                &p.field("correlation"),
                errors,
            );
        }
    }
    let shares = [
        (
            "loss",
            spec.loss.as_ref().map(|l| (&l.loss, &l.correlation)),
        ),
        (
            "duplicate",
            spec.duplicate
                .as_ref()
                .map(|d| (&d.duplicate, &d.correlation)),
        ),
        (
            "corrupt",
            spec.corrupt.as_ref().map(|c| (&c.corrupt, &c.correlation)),
        ),
    ];
    for (field, share) in shares {
        if let Some((value, correlation)) = share {
            let p = path.field(field);
            percentage(Some(value), true, &p.field(field), errors);
            percentage(
                correlation.as_deref(),
                false,
                &p.field("correlation"),
                errors,
            );
        }
    }
    if let Some(bandwidth) = &spec.bandwidth {
        let p = path.field("bandwidth");
        rate(&bandwidth.rate, &p.field("rate"), errors);
        at_least(Some(bandwidth.limit.into()), 1, &p.field("limit"), errors);
        at_least(Some(bandwidth.buffer.into()), 1, &p.field("buffer"), errors);
        at_least(bandwidth.peakrate, 0, &p.field("peakrate"), errors);
        at_least(
            bandwidth.minburst.map(i64::from),
            0,
            &p.field("minburst"),
            errors,
        );
    }
    if let Some(r) = &spec.rate {
        rate(&r.rate, &path.field("rate").field("rate"), errors);
    }
}

/// `from` and `both` need a target. Mirrors `NetworkChaosSpec.Validate`
/// (networkchaos_webhook.go), including its early return for `partition`, which may use
/// any direction with `target` or `externalTargets`.
fn direction(spec: &NetworkChaosSpec, path: &FieldPath, errors: &mut FieldErrors) {
    if spec.action == NetworkChaosAction::Partition {
        return;
    }
    let from_or_both = matches!(
        spec.direction,
        Some(NetworkChaosDirection::From | NetworkChaosDirection::Both)
    );
    if !from_or_both {
        return;
    }
    errors.check(
        spec.external_targets.is_none(),
        || path.field("direction"),
        || {
            "externalTargets cannot be used with direction from or both (only to) outside partition"
                .into()
        },
    );
    errors.check(
        spec.target.is_some(),
        || path.field("direction"),
        || "direction from or both needs spec.target outside partition; use direction to".into(),
    );
}

/// PodChaos `spec` at `path`. Mirrors `PodChaosSpec.Validate` (podchaos_webhook.go):
/// container-kill needs `containerNames`; plus the `Duration` tag and the CRD minimum of
/// `gracePeriod`.
pub(crate) fn pod_chaos(spec: &PodChaosSpec, path: &FieldPath, errors: &mut FieldErrors) {
    selector_mode(spec.mode, spec.value.as_deref(), path, errors);
    pod_selector(&spec.selector, &path.field("selector"), errors);
    go_duration(spec.duration.as_deref(), &path.field("duration"), errors);
    at_least(spec.grace_period, 0, &path.field("gracePeriod"), errors);
    if spec.action == PodChaosAction::ContainerKill {
        let named = spec.container_names.as_ref().is_some_and(|n| !n.is_empty());
        errors.check(
            named,
            || path.field("containerNames"),
            || "action container-kill needs at least one container name".into(),
        );
    }
}

/// HTTP methods `HTTPMethod.Validate` (httpchaos_webhook.go) accepts.
const HTTP_METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

/// HTTPChaos `spec` at `path`. Mirrors `Port.Validate` (port > 0: it has no default;
/// faultline also refuses ports above 65535, which Chaos Mesh would pass to the proxy),
/// `HTTPMethod.Validate` (a standard method, checked for target Request only),
/// `Delay.Validate` and the `Duration` tag (httpchaos_webhook.go, podhttpchaos_types.go).
/// `PodHttpChaosTarget.Validate` is the `target` enum itself.
pub(crate) fn http_chaos(spec: &HttpChaosSpec, path: &FieldPath, errors: &mut FieldErrors) {
    selector_mode(spec.mode, spec.value.as_deref(), path, errors);
    pod_selector(&spec.selector, &path.field("selector"), errors);
    go_duration(spec.duration.as_deref(), &path.field("duration"), errors);
    let port = spec.port.unwrap_or(0);
    errors.check(
        (1..=65535).contains(&port),
        || path.field("port"),
        || format!("must be the target's port, 1..=65535, got {port}"),
    );
    if let (Some(method), HttpChaosTarget::Request) = (&spec.method, spec.target) {
        errors.check(
            HTTP_METHODS.contains(&method.as_str()),
            || path.field("method"),
            || format!("must be one of {}, got {method:?}", HTTP_METHODS.join(", ")),
        );
    }
    if let Some(delay) = &spec.delay {
        match delay.is_empty() {
            true => errors.push(
                path.field("delay"),
                "must be a duration, e.g. \"1s\", got \"\"",
            ),
            false => go_duration(Some(delay), &path.field("delay"), errors),
        }
    }
}
