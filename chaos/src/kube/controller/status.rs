//! What the controller writes back: the Experiment's status (phase, run id, per-clause
//! verdict, summary figures), the report in a ConfigMap next to it (owned by it, so it
//! goes when the Experiment goes), and a Kubernetes Event for each transition.

use std::collections::BTreeMap;

use faultline_core::config::duration;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use crate::plan::MANAGED_BY;
use crate::report::{html, Report, Verdict};
use crate::spec::experiment::{ClauseStatus, Experiment, ExperimentStatus, Phase, StatusSummary};

/// The field manager the controller's writes carry.
pub const MANAGER: &str = "faultline-controller";
/// The largest `report.html` kept in the ConfigMap (ConfigMaps hold at most 1 MiB).
const MAX_HTML: usize = 700 << 10;

/// The ConfigMap holding `experiment`'s report.
pub fn report_name(experiment: &Experiment) -> String {
    format!("faultline-report-{}", experiment.name_any())
}

/// Replaces the status of `experiment` with `status`.
pub async fn write(
    client: &Client,
    experiment: &Experiment,
    status: &ExperimentStatus,
) -> Result<(), kube::Error> {
    let api: Api<Experiment> =
        Api::namespaced(client.clone(), &experiment.namespace().unwrap_or_default());
    api.patch_status(
        &experiment.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .map(|_| ())
}

/// The final status a report gives.
pub fn finished(
    report: &Report,
    run_id: &str,
    controller: &str,
    stored: Option<String>,
) -> ExperimentStatus {
    let phase = match report.verdict {
        Verdict::Passed => Phase::Passed,
        Verdict::Failed => Phase::Failed,
        Verdict::Aborted => Phase::Aborted,
    };
    let failed = report.clauses.iter().filter(|c| !c.passed).count();
    let message = match (&report.aborted, failed) {
        (Some(why), _) => format!("aborted: {why}"),
        (None, 0) => format!("all {} clauses held", report.clauses.len()),
        (None, n) => format!("{n} of {} clauses failed", report.clauses.len()),
    };
    let percent = |rate: f64| format!("{:.3}", rate * 100.0);
    ExperimentStatus {
        phase: Some(phase),
        run_id: Some(run_id.to_owned()),
        message: Some(message),
        controller: Some(controller.to_owned()),
        clauses: report
            .clauses
            .iter()
            .map(|c| ClauseStatus {
                phase: serde_json::to_value(c.phase)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                clause: c.clause.clone(),
                observed: c.observed.clone(),
                passed: c.passed,
            })
            .collect(),
        summary: Some(StatusSummary {
            calls: report.summary.calls,
            error_percent: percent(report.summary.error_rate),
            fallback_percent: percent(report.summary.fallback_rate),
            p50: duration::format(report.summary.p50),
            p99: duration::format(report.summary.p99),
            measured: duration::format(report.measured),
        }),
        report: stored,
    }
}

/// Stores `report` in the ConfigMap `faultline-report-<name>` owned by `experiment`
/// (created, or replaced when a run of the same Experiment wrote one before).
pub async fn store_report(
    client: &Client,
    experiment: &Experiment,
    report: &Report,
) -> Result<String, String> {
    let namespace = experiment.namespace().unwrap_or_default();
    let name = report_name(experiment);
    let json = serde_json::to_string_pretty(report).map_err(|err| err.to_string())?;
    let mut data = BTreeMap::from([("report.json".to_owned(), json)]);
    let page = html::render(report);
    if page.len() <= MAX_HTML {
        data.insert("report.html".to_owned(), page);
    }
    let map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(namespace.clone()),
            labels: Some([(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned())].into()),
            owner_references: experiment
                .controller_owner_ref(&())
                .map(|owner| vec![owner]),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..ConfigMap::default()
    };
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let stored = match api.create(&PostParams::default(), &map).await {
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let patch = json!({ "data": map.data });
            api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .map(|_| ())
        }
        other => other.map(|_| ()),
    };
    stored.map(|()| name).map_err(|err| {
        format!(
            "storing the report in ConfigMap {namespace}/{}: {err}",
            report_name(experiment)
        )
    })
}

/// Publishes an Event about `experiment` (best effort: a lost event loses no state).
pub async fn event(
    recorder: &Recorder,
    experiment: &Experiment,
    warning: bool,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_: match warning {
            true => EventType::Warning,
            false => EventType::Normal,
        },
        reason: reason.to_owned(),
        note: Some(note.chars().take(1000).collect()),
        action: reason.to_owned(),
        secondary: None,
    };
    let _ = recorder.publish(&event, &experiment.object_ref(&())).await;
}
