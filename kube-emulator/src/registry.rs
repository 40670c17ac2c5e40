//! The served resource types: the built-in ones and those of installed CRDs, with their
//! names, scope, versions, subresources and (for custom resources) schemas.

use std::sync::Arc;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::schema::Schema;

/// Checks a built-in object's shape by decoding it into its k8s-openapi type and returns it
/// encoded again, which drops fields the type does not know.
pub(crate) type Typed = fn(&Value) -> Result<Value, String>;

pub(crate) struct VersionInfo {
    pub name: String,
    pub status: bool,
    pub schema: Option<Arc<Schema>>,
}

pub(crate) struct ResourceType {
    pub group: String,
    /// Served versions; the first is the preferred (storage) version.
    pub versions: Vec<VersionInfo>,
    pub kind: String,
    pub list_kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// A custom resource (served from a CRD).
    pub custom: bool,
    /// PUT of an absent object creates it (leases, events).
    pub create_on_update: bool,
    /// Field labels beyond `metadata.name` and `metadata.namespace`.
    pub field_labels: &'static [&'static str],
    pub typed: Option<Typed>,
}

impl ResourceType {
    pub(crate) fn version(&self, version: &str) -> Option<&VersionInfo> {
        self.versions.iter().find(|v| v.name == version)
    }

    pub(crate) fn preferred(&self) -> &str {
        self.versions.first().map_or("", |v| v.name.as_str())
    }

    pub(crate) fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_owned()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    pub(crate) fn group_resource(&self) -> crate::error::GroupResource<'_> {
        crate::error::GroupResource {
            group: &self.group,
            resource: &self.plural,
        }
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    types: Vec<Arc<ResourceType>>,
}

impl Registry {
    pub(crate) fn builtin() -> Self {
        use k8s_openapi::api::{coordination, core, discovery, events};
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
        let mut registry = Registry::default();
        let all: [Builtin; 9] = [
            Builtin::new(
                "",
                "Namespace",
                "namespaces",
                false,
                &["ns"],
                typed::<core::v1::Namespace>,
            )
            .status()
            .fields(&["status.phase"]),
            Builtin::new("", "Pod", "pods", true, &["po"], typed::<core::v1::Pod>)
                .status()
                .categories(&["all"])
                .fields(&[
                    "spec.nodeName",
                    "spec.restartPolicy",
                    "spec.schedulerName",
                    "spec.serviceAccountName",
                    "spec.hostNetwork",
                    "status.phase",
                    "status.podIP",
                    "status.nominatedNodeName",
                ]),
            Builtin::new(
                "",
                "Service",
                "services",
                true,
                &["svc"],
                typed::<core::v1::Service>,
            )
            .status()
            .categories(&["all"]),
            Builtin::new(
                "",
                "ConfigMap",
                "configmaps",
                true,
                &["cm"],
                typed::<core::v1::ConfigMap>,
            ),
            Builtin::new(
                "",
                "Event",
                "events",
                true,
                &["ev"],
                typed::<core::v1::Event>,
            )
            .create_on_update()
            .fields(&[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            ]),
            Builtin::new(
                "events.k8s.io",
                "Event",
                "events",
                true,
                &["ev"],
                typed::<events::v1::Event>,
            )
            .create_on_update(),
            Builtin::new(
                "discovery.k8s.io",
                "EndpointSlice",
                "endpointslices",
                true,
                &[],
                typed::<discovery::v1::EndpointSlice>,
            ),
            Builtin::new(
                "coordination.k8s.io",
                "Lease",
                "leases",
                true,
                &[],
                typed::<coordination::v1::Lease>,
            )
            .create_on_update(),
            Builtin::new(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                "customresourcedefinitions",
                false,
                &["crd", "crds"],
                typed::<apiextensions::CustomResourceDefinition>,
            )
            .status()
            .categories(&["api-extensions"]),
        ];
        registry.types = all.into_iter().map(|b| Arc::new(b.0)).collect();
        registry
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<ResourceType>> {
        self.types.iter()
    }

    /// The type served at `group/version/plural`.
    pub(crate) fn by_resource(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == group && t.plural == plural && t.version(version).is_some())
            .cloned()
    }

    /// The type of `kind` in `group` (any version).
    pub(crate) fn by_kind(&self, group: &str, kind: &str) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == group && t.kind == kind)
            .cloned()
    }

    pub(crate) fn by_group_plural(&self, group: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == group && t.plural == plural)
            .cloned()
    }

    /// Adds or replaces the type of a custom resource.
    pub(crate) fn install(&mut self, resource: ResourceType) {
        self.remove(&resource.group, &resource.plural);
        self.types.push(Arc::new(resource));
    }

    pub(crate) fn remove(&mut self, group: &str, plural: &str) {
        self.types
            .retain(|t| !(t.group == group && t.plural == plural));
    }

    /// Served groups, core first, then in the order they were registered.
    pub(crate) fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for t in &self.types {
            if !groups.contains(&t.group) {
                groups.push(t.group.clone());
            }
        }
        groups
    }

    /// Served versions of `group`, preferred first.
    pub(crate) fn versions(&self, group: &str) -> Vec<String> {
        let mut versions: Vec<String> = Vec::new();
        for t in self.types.iter().filter(|t| t.group == group) {
            for v in &t.versions {
                if !versions.contains(&v.name) {
                    versions.push(v.name.clone());
                }
            }
        }
        versions
    }
}

fn typed<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Value, String> {
    let object: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(object).map_err(|e| e.to_string())
}

struct Builtin(ResourceType);

impl Builtin {
    fn new(
        group: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
        short_names: &[&str],
        typed: Typed,
    ) -> Self {
        Builtin(ResourceType {
            group: group.to_owned(),
            versions: vec![VersionInfo {
                name: "v1".into(),
                status: false,
                schema: None,
            }],
            kind: kind.to_owned(),
            list_kind: format!("{kind}List"),
            plural: plural.to_owned(),
            singular: kind.to_lowercase(),
            namespaced,
            short_names: short_names.iter().map(|s| (*s).to_owned()).collect(),
            categories: Vec::new(),
            custom: false,
            create_on_update: false,
            field_labels: &[],
            typed: Some(typed),
        })
    }

    fn status(mut self) -> Self {
        self.0.versions.iter_mut().for_each(|v| v.status = true);
        self
    }

    fn categories(mut self, categories: &[&str]) -> Self {
        self.0.categories = categories.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    fn create_on_update(mut self) -> Self {
        self.0.create_on_update = true;
        self
    }

    fn fields(mut self, fields: &'static [&'static str]) -> Self {
        self.0.field_labels = fields;
        self
    }
}
