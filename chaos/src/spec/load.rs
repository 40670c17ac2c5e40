//! Reading experiment files: every YAML document is a faultline `Experiment` or a plain
//! Chaos Mesh object, told apart by `apiVersion` and `kind`. Everything wrong in a file comes
//! back at once, each error with file, line and column: YAML syntax, unknown or misspelt
//! fields, values of the wrong type, and every `validate()` rule of the experiment, of its
//! client config and of the Chaos Mesh objects in it.

use std::path::Path;

use faultline_core::client::ClientConfig;
use faultline_core::config::{FieldErrors, FieldPath, Validate};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::chaos_mesh::{self, ChaosObject, Kind};
use super::experiment::{self, Experiment, ExperimentSpec};
use super::located::{self, Document, SpecError};

/// One document of an experiment file, read and checked.
#[derive(Debug, Clone)]
pub enum SpecDocument {
    Experiment(Box<Experiment>),
    Chaos(Box<ChaosObject>),
}

/// A read document and the located source it came from (for later errors, e.g. a plan's).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub document: Document,
    pub spec: SpecDocument,
}

/// Every document of the file at `path`, or every error in it.
pub fn load_file(path: &Path) -> Result<Vec<Loaded>, Vec<SpecError>> {
    let bytes = std::fs::read(path).map_err(|err| {
        vec![SpecError {
            location: located::Location {
                file: path.into(),
                line: 1,
                column: 1,
            },
            message: format!("cannot read: {err}"),
        }]
    })?;
    load_bytes(&bytes, path)
}

/// Every document of `bytes` (named `path` in errors), or every error in them.
pub fn load_bytes(bytes: &[u8], path: &Path) -> Result<Vec<Loaded>, Vec<SpecError>> {
    let documents = located::parse_bytes(bytes, path).map_err(|err| vec![err])?;
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for document in documents {
        match read(&document) {
            Ok(spec) => loaded.push(Loaded { document, spec }),
            Err(mut found) => errors.append(&mut found),
        }
    }
    match errors.is_empty() {
        true => Ok(loaded),
        false => Err(errors),
    }
}

/// The fields the top level of an `Experiment` may have.
const EXPERIMENT_FIELDS: [&str; 5] = ["apiVersion", "kind", "metadata", "spec", "status"];

fn read(document: &Document) -> Result<SpecDocument, Vec<SpecError>> {
    let value = document.value();
    let api_version = value.get("apiVersion").and_then(Value::as_str);
    let kind = value.get("kind").and_then(Value::as_str);
    match (api_version, kind) {
        (Some(experiment::API_VERSION), Some(experiment::KIND)) => read_experiment(document),
        (Some(chaos_mesh::API_VERSION), _) | (None, Some(_)) if is_chaos_kind(kind) => {
            read_chaos(document)
        }
        _ => Err(vec![unknown_kind(document, api_version, kind)]),
    }
}

fn is_chaos_kind(kind: Option<&str>) -> bool {
    kind.is_some_and(|kind| Kind::from_name(kind).is_some())
}

fn unknown_kind(document: &Document, api_version: Option<&str>, kind: Option<&str>) -> SpecError {
    let (path, message) = match (api_version, kind) {
        (_, None) => (FieldPath::root(), "missing `kind`".to_owned()),
        (None, Some(_)) => (FieldPath::root(), "missing `apiVersion`".to_owned()),
        (Some(version), Some(kind)) if kind == experiment::KIND => (
            FieldPath::root().field("apiVersion"),
            format!("an Experiment's apiVersion is {}, got {version}", experiment::API_VERSION),
        ),
        (Some(_), Some(kind)) => (
            FieldPath::root().field("kind"),
            format!(
                "unknown kind {kind:?}: expected {} (apiVersion {}) or a Chaos Mesh kind (apiVersion {}: {})",
                experiment::KIND,
                experiment::API_VERSION,
                chaos_mesh::API_VERSION,
                Kind::known_names()
            ),
        ),
    };
    let mut errors = FieldErrors::default();
    errors.push(path, message);
    document.locate_errors(&errors).remove(0)
}

fn read_chaos(document: &Document) -> Result<SpecDocument, Vec<SpecError>> {
    let object = ChaosObject::from_value(document.value())
        .map_err(|errors| document.locate_errors(&errors))?;
    object
        .validate()
        .map_err(|errors| document.locate_errors(&errors))?;
    Ok(SpecDocument::Chaos(Box::new(object)))
}

/// serde stops at the first error of the spec; reading each section (and each fault, each
/// clause) on its own finds the errors in the others too, so a file is fixed in one pass.
fn section_errors(document: &Document) -> Vec<SpecError> {
    let spec = FieldPath::root().field("spec");
    let Some(Value::Object(sections)) = document.value().get("spec") else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    let mut check = |result: Result<(), SpecError>| errors.extend(result.err());
    for (name, value) in sections {
        let at = spec.field(name);
        match name.as_str() {
            "target" => check(document.deserialize_at::<experiment::Target>(&at).map(drop)),
            "topology" => check(
                document
                    .deserialize_at::<experiment::Topology>(&at)
                    .map(drop),
            ),
            "client" => check(document.deserialize_at::<ClientConfig>(&at).map(drop)),
            "workload" => check(
                document
                    .deserialize_at::<experiment::Workload>(&at)
                    .map(drop),
            ),
            "report" => check(
                document
                    .deserialize_at::<experiment::ReportSettings>(&at)
                    .map(drop),
            ),
            "faults" => each(value, &at, |item| {
                check(document.deserialize_at::<experiment::Fault>(item).map(drop))
            }),
            "abort" => each(value, &at, |item| {
                check(
                    document
                        .deserialize_at::<experiment::AbortCondition>(item)
                        .map(drop),
                )
            }),
            "hypothesis" => {
                for phase in ["before", "during", "after"] {
                    if let Some(clauses) = value.get(phase) {
                        each(clauses, &at.field(phase), |item| {
                            check(
                                document
                                    .deserialize_at::<experiment::Clause>(item)
                                    .map(drop),
                            )
                        });
                    }
                }
            }
            _ => {}
        }
    }
    errors
}

/// Calls `f` with the path of every item of `value`, if it is a list.
fn each(value: &Value, at: &FieldPath, mut f: impl FnMut(&FieldPath)) {
    if let Value::Array(items) = value {
        for index in 0..items.len() {
            f(&at.index(index));
        }
    }
}

fn read_experiment(document: &Document) -> Result<SpecDocument, Vec<SpecError>> {
    let mut errors = Vec::new();
    if let Some(fields) = document.value().as_object() {
        for key in fields.keys() {
            if !EXPERIMENT_FIELDS.contains(&key.as_str()) {
                let mut unknown = FieldErrors::default();
                unknown.push(
                    FieldPath::root().field(key),
                    format!(
                        "unknown field {key:?}: an Experiment has {}",
                        EXPERIMENT_FIELDS.join(", ")
                    ),
                );
                errors.extend(document.locate_errors(&unknown));
            }
        }
    }
    let root = FieldPath::root();
    let metadata: Result<ObjectMeta, SpecError> = document.deserialize_at(&root.field("metadata"));
    let spec: Result<ExperimentSpec, SpecError> = match document.value().get("spec") {
        Some(_) => document.deserialize_at(&root.field("spec")),
        None => Ok(ExperimentSpec::default()),
    };
    let (metadata, spec) = match (metadata, spec) {
        (Ok(metadata), Ok(spec)) => (metadata, spec),
        (metadata, spec) => {
            errors.extend(metadata.err());
            if let Err(first) = spec {
                errors.push(first);
                errors.extend(section_errors(document));
                errors.dedup_by(|a, b| a.location == b.location);
            }
            return Err(errors);
        }
    };
    let mut invalid = FieldErrors::default();
    match metadata.name.as_deref() {
        Some(name) if experiment::is_dns_label(name) => {}
        Some(name) => invalid.push(
            root.field("metadata").field("name"),
            format!("{name:?} is not a DNS label (lower-case letters, digits and '-', at most 63): it names the objects a run creates"),
        ),
        None => invalid.push(root.field("metadata"), "missing field `name`"),
    }
    spec.validate_at(&root.field("spec"), &mut invalid);
    errors.extend(document.locate_errors(&invalid));
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut experiment = Experiment::new(metadata.name.as_deref().unwrap_or_default(), spec);
    experiment.metadata = metadata;
    Ok(SpecDocument::Experiment(Box::new(experiment)))
}
