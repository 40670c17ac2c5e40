//! One scheduled fault: a Chaos Mesh spec (any Chaos Mesh kind, written as Chaos Mesh writes
//! it) with the offset it starts at and how long it lasts.
//!
//! ```yaml
//! - name: slow-az2
//!   at: 20s                # from the start of the measured workload
//!   duration: 20s          # or spec.duration; both must agree when both are given
//!   kind: NetworkChaos
//!   spec: { action: delay, mode: all, selector: { labelSelectors: { zone: az2 } }, delay: { latency: 5ms } }
//! ```
//!
//! [`Fault::object`] is the Chaos Mesh object the fault stands for; `spec.*` of that object
//! is `faults[i].spec.*` of the experiment file, so errors in it point into the file.

use std::time::Duration;

use faultline_core::config::{duration, FieldErrors, FieldPath, PathSegment};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::spec::chaos_mesh::ChaosObject;

/// The Chaos Mesh API version of every fault.
pub const CHAOS_MESH_API_VERSION: &str = "chaos-mesh.org/v1alpha1";

/// A fault in the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fault {
    /// Names the fault in plans, reports and the objects created for it.
    pub name: String,
    /// When it starts, from the start of the measured workload.
    #[serde(default, with = "duration")]
    #[schemars(with = "duration::Schema")]
    pub at: Duration,
    /// How long it lasts (else `spec.duration`).
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<duration::Schema>")]
    pub duration: Option<Duration>,
    /// The Chaos Mesh kind: NetworkChaos, PodChaos, HTTPChaos, DNSChaos, StressChaos, ...
    pub kind: String,
    /// Let a selector that matches every pod of the namespace through (refused otherwise:
    /// a fault meant for a few pods must not take down a whole namespace by a typo).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_whole_namespace: bool,
    /// The Chaos Mesh spec, exactly as in a Chaos Mesh object of `kind`.
    #[schemars(schema_with = "any_object")]
    pub spec: Value,
}

/// A JSON object whose fields the API server keeps as they are (the Chaos Mesh spec is
/// checked by faultline against Chaos Mesh's own rules, and by Chaos Mesh when created).
fn any_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

impl Fault {
    /// The Chaos Mesh object this fault stands for, named `name` in `namespace`.
    pub fn object(&self, name: &str, namespace: &str) -> Value {
        json!({
            "apiVersion": CHAOS_MESH_API_VERSION,
            "kind": self.kind,
            "metadata": { "name": name, "namespace": namespace },
            "spec": self.spec,
        })
    }

    /// The Chaos Mesh object, read and checked by Chaos Mesh's rules; errors carry paths
    /// under `path` (the fault's place in the experiment: `faults[2]`).
    pub fn chaos_object(
        &self,
        name: &str,
        namespace: &str,
        path: &FieldPath,
    ) -> Result<ChaosObject, FieldErrors> {
        let under_fault = |errors: FieldErrors| {
            FieldErrors(
                errors
                    .0
                    .into_iter()
                    .map(|mut error| {
                        error.path = self.path_in_fault(path, &error.path);
                        error
                    })
                    .collect(),
            )
        };
        let object = ChaosObject::from_value(&self.object(name, namespace)).map_err(under_fault)?;
        object.validate().map_err(under_fault)?;
        match object.pod_selection() {
            Some(selection)
                if selection.selector.matches_everything() && !self.allow_whole_namespace =>
            {
                let mut errors = FieldErrors::default();
                errors.push(
                    path.field("spec").field("selector"),
                    "selects every pod of the namespace: narrow it (labelSelectors, pods, ...) or set allowWholeNamespace: true on the fault",
                );
                Err(errors)
            }
            _ => Ok(object),
        }
    }

    /// Where a value of the object stands in the fault: `spec.*` is the fault's `spec.*`,
    /// `kind` and `apiVersion` its `kind`, the metadata its `name`.
    fn path_in_fault(&self, fault: &FieldPath, in_object: &FieldPath) -> FieldPath {
        match in_object.segments().first() {
            Some(PathSegment::Field(top)) if top == "spec" => fault.join(in_object),
            Some(PathSegment::Field(top)) if top == "metadata" => fault.field("name"),
            _ => fault.field("kind"),
        }
    }

    /// `spec.duration` as written, if any.
    pub fn spec_duration(&self) -> Option<&str> {
        self.spec.get("duration").and_then(Value::as_str)
    }

    /// How long the fault lasts: `duration`, else a parseable `spec.duration`.
    pub fn effective_duration(&self) -> Option<Duration> {
        self.duration.or_else(|| {
            self.spec_duration()
                .and_then(|text| duration::parse(text).ok())
        })
    }

    /// When it ends (`at` + its duration), if it has one.
    pub fn end(&self) -> Option<Duration> {
        self.effective_duration()
            .and_then(|lasts| self.at.checked_add(lasts))
    }
}
