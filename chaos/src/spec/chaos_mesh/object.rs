//! [`ChaosObject`]: one Chaos Mesh object of any accepted kind, read from and written to
//! JSON values (`from_value` / `to_value`), and its validation entry point.

use super::kind::Kind;
use super::meta::{ObjectMeta, API_VERSION};
use super::resource::{HttpChaos, NetworkChaos, PodChaos, RawObject};
use super::validate;
use super::{PodSelectorSpec, SelectorMode};
use crate::spec::de;
use faultline_core::config::{FieldErrors, FieldPath};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// The pods a typed object acts on: `selector`, then `mode` / `value` among the matches.
#[derive(Debug, Clone, Copy)]
pub struct PodSelection<'a> {
    pub selector: &'a PodSelectorSpec,
    pub mode: SelectorMode,
    pub value: Option<&'a str>,
}

/// A Chaos Mesh object: typed for the kinds faultline acts on, raw for the others.
#[derive(Debug, Clone, PartialEq)]
pub enum ChaosObject {
    NetworkChaos(NetworkChaos),
    PodChaos(PodChaos),
    HttpChaos(HttpChaos),
    /// DNSChaos, StressChaos, TimeChaos, IOChaos, Schedule, Workflow or StatusCheck.
    Raw(Kind, RawObject),
}

impl ChaosObject {
    /// Reads one object, dispatching on `kind`. An unknown `kind` or an `apiVersion` other
    /// than `chaos-mesh.org/v1alpha1` is an error; so is any field the kind's CRD does not
    /// define (for the typed kinds), with the path to it.
    pub fn from_value(value: &Value) -> Result<ChaosObject, FieldErrors> {
        let kind = kind_of(value)?;
        let object = match kind {
            Kind::NetworkChaos => de::from_value(value).map(ChaosObject::NetworkChaos),
            Kind::PodChaos => de::from_value(value).map(ChaosObject::PodChaos),
            Kind::HttpChaos => de::from_value(value).map(ChaosObject::HttpChaos),
            raw => de::from_value(value).map(|object| ChaosObject::Raw(raw, object)),
        };
        object.map_err(|error| FieldErrors(vec![error]))
    }

    /// The object as JSON: `ChaosObject::from_value(&object.to_value())` gives it back.
    pub fn to_value(&self) -> Value {
        let written = match self {
            ChaosObject::NetworkChaos(object) => serde_json::to_value(object),
            ChaosObject::PodChaos(object) => serde_json::to_value(object),
            ChaosObject::HttpChaos(object) => serde_json::to_value(object),
            ChaosObject::Raw(_, object) => serde_json::to_value(object),
        };
        // These types have string keys only and no fallible `Serialize`: writing cannot fail.
        written.unwrap_or(Value::Null)
    }

    pub fn kind(&self) -> Kind {
        match self {
            ChaosObject::NetworkChaos(_) => Kind::NetworkChaos,
            ChaosObject::PodChaos(_) => Kind::PodChaos,
            ChaosObject::HttpChaos(_) => Kind::HttpChaos,
            ChaosObject::Raw(kind, _) => *kind,
        }
    }

    /// Which pods the object acts on, for the typed kinds: its selector, mode and value.
    pub fn pod_selection(&self) -> Option<PodSelection<'_>> {
        let (selector, mode, value) = match self {
            ChaosObject::NetworkChaos(o) => (&o.spec.selector, o.spec.mode, &o.spec.value),
            ChaosObject::PodChaos(o) => (&o.spec.selector, o.spec.mode, &o.spec.value),
            ChaosObject::HttpChaos(o) => (&o.spec.selector, o.spec.mode, &o.spec.value),
            ChaosObject::Raw(..) => return None,
        };
        Some(PodSelection {
            selector,
            mode,
            value: value.as_deref(),
        })
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            ChaosObject::NetworkChaos(object) => &object.metadata,
            ChaosObject::PodChaos(object) => &object.metadata,
            ChaosObject::HttpChaos(object) => &object.metadata,
            ChaosObject::Raw(_, object) => &object.metadata,
        }
    }

    /// Chaos Mesh's admission rules for the typed kinds (module `validate`); the raw kinds
    /// are left to the cluster's webhook. Paths are relative to the object (`spec.mode`).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        let spec = FieldPath::root().field("spec");
        match self {
            ChaosObject::NetworkChaos(object) => {
                validate::network_chaos(&object.spec, &spec, &mut errors)
            }
            ChaosObject::PodChaos(object) => validate::pod_chaos(&object.spec, &spec, &mut errors),
            ChaosObject::HttpChaos(object) => {
                validate::http_chaos(&object.spec, &spec, &mut errors)
            }
            ChaosObject::Raw(..) => {}
        }
        errors.into_result()
    }
}

impl Serialize for ChaosObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ChaosObject::NetworkChaos(object) => object.serialize(serializer),
            ChaosObject::PodChaos(object) => object.serialize(serializer),
            ChaosObject::HttpChaos(object) => object.serialize(serializer),
            ChaosObject::Raw(_, object) => object.serialize(serializer),
        }
    }
}

/// The kind `value` declares, after checking it is a mapping with our `apiVersion`.
fn kind_of(value: &Value) -> Result<Kind, FieldErrors> {
    let mut errors = FieldErrors::default();
    let Some(fields) = value.as_object() else {
        errors.push(
            FieldPath::root(),
            "a Chaos Mesh object must be a mapping with apiVersion, kind, metadata and spec",
        );
        return Err(errors);
    };
    let api_version = fields.get("apiVersion").and_then(Value::as_str);
    errors.check(
        api_version == Some(API_VERSION),
        || FieldPath::root().field("apiVersion"),
        || {
            format!(
                "must be {API_VERSION:?} (for the kinds {}), got {}",
                Kind::known_names(),
                shown(fields.get("apiVersion"))
            )
        },
    );
    let kind = fields
        .get("kind")
        .and_then(Value::as_str)
        .and_then(Kind::from_name);
    errors.check(
        kind.is_some(),
        || FieldPath::root().field("kind"),
        || {
            format!(
                "unknown kind {}; known kinds: {}",
                shown(fields.get("kind")),
                Kind::known_names()
            )
        },
    );
    match kind {
        Some(kind) if errors.is_empty() => Ok(kind),
        _ => Err(errors),
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "nothing".to_owned(), Value::to_string)
}
