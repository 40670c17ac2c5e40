//! Small CRDs in group `chaos-mesh.org` (PodChaos, NetworkChaos) with Chaos Mesh's names and
//! a schema that keeps every field, for tests that must run without `../shared`.

use serde_json::{json, Value};

pub fn small_chaos_crd(kind: &str, plural: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.chaos-mesh.org")},
        "spec": {
            "group": "chaos-mesh.org",
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(), "listKind": format!("{kind}List")},
            "versions": [{
                "name": "v1alpha1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                }},
            }],
        },
    })
}
