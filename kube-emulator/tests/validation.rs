//! Custom resources pruned and validated against their CRD's `openAPIV3Schema`: Chaos Mesh's
//! real CRDs (skipped with a notice when `../shared` is absent) and a small inline one.

#[path = "support/chaos_mesh_crds.rs"]
mod chaos_mesh_crds;

use faultline_kube_emulator::ApiServer;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use serde_json::{json, Value};

use chaos_mesh_crds::chaos_mesh_crds;

fn dynamic(
    server: &ApiServer,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    Api::namespaced_with(server.client(), "default", &resource)
}

fn object(value: Value) -> DynamicObject {
    serde_json::from_value(value).unwrap()
}

fn invalid_fields(error: kube::Error) -> Vec<String> {
    let kube::Error::Api(status) = error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(
        (status.code, status.reason.as_str()),
        (422, "Invalid"),
        "{}",
        status.message
    );
    status
        .details
        .unwrap()
        .causes
        .into_iter()
        .map(|c| c.field)
        .collect()
}

fn network_chaos(name: &str, action: &str) -> Value {
    json!({
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": "NetworkChaos",
        "metadata": {"name": name},
        "spec": {
            "action": action,
            "mode": "all",
            "selector": {"namespaces": ["default"], "labelSelectors": {"app": "web"}},
            "delay": {"latency": "90ms", "correlation": "25", "jitter": "10ms"},
            "direction": "to",
            "duration": "30s",
        },
    })
}

#[tokio::test]
async fn chaos_mesh_crds_accept_chaos_mesh_shapes_and_reject_a_bad_action() {
    let Some(crds) = chaos_mesh_crds() else {
        return;
    };
    let server = ApiServer::new();
    for crd in crds {
        server.install_crd(crd).unwrap();
    }
    let api = dynamic(
        &server,
        "chaos-mesh.org",
        "v1alpha1",
        "NetworkChaos",
        "networkchaos",
    );
    let accepted = api
        .create(
            &PostParams::default(),
            &object(network_chaos("delay", "delay")),
        )
        .await
        .unwrap();
    assert_eq!(accepted.data["spec"]["delay"]["latency"], "90ms");

    let rejected = api
        .create(
            &PostParams::default(),
            &object(network_chaos("bogus", "explode")),
        )
        .await;
    assert_eq!(invalid_fields(rejected.unwrap_err()), ["spec.action"]);

    let pods = dynamic(
        &server,
        "chaos-mesh.org",
        "v1alpha1",
        "PodChaos",
        "podchaos",
    );
    let pod_kill = json!({
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": "PodChaos",
        "metadata": {"name": "kill"},
        "spec": {"action": "pod-kill", "mode": "fixed-percent", "value": "50", "selector": {"labelSelectors": {"app": "web"}}},
    });
    pods.create(&PostParams::default(), &object(pod_kill))
        .await
        .unwrap();
    let wrong_type = json!({"spec": {"gracePeriod": "soon"}});
    let rejected = pods
        .patch("kill", &PatchParams::default(), &Patch::Merge(wrong_type))
        .await;
    assert_eq!(invalid_fields(rejected.unwrap_err()), ["spec.gracePeriod"]);

    let http = dynamic(
        &server,
        "chaos-mesh.org",
        "v1alpha1",
        "HTTPChaos",
        "httpchaos",
    );
    let http_chaos = |port: Value| {
        object(json!({
            "apiVersion": "chaos-mesh.org/v1alpha1",
            "kind": "HTTPChaos",
            "metadata": {"name": "h"},
            "spec": {"mode": "all", "selector": {}, "target": "Request", "port": port, "abort": true},
        }))
    };
    let rejected = http
        .create(&PostParams::default(), &http_chaos(json!("eighty")))
        .await;
    assert_eq!(invalid_fields(rejected.unwrap_err()), ["spec.port"]);
    http.create(&PostParams::default(), &http_chaos(json!(80)))
        .await
        .unwrap();
}

fn gadget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.test.faultline.dev"},
        "spec": {
            "group": "test.faultline.dev",
            "scope": "Namespaced",
            "names": {"kind": "Gadget", "plural": "gadgets", "shortNames": ["gd"]},
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["port"],
                            "properties": {
                                "port": {"x-kubernetes-int-or-string": true},
                                "name": {"type": "string", "pattern": "^[a-z]+$"},
                                "note": {"type": "string", "nullable": true},
                                "mode": {"type": "string", "default": "fast"},
                                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                            },
                        },
                    },
                }},
            }],
        },
    })
}

#[tokio::test]
async fn unknown_fields_are_pruned_by_default_and_rejected_when_strict() {
    let server = ApiServer::new();
    server.install_crd(gadget_crd()).unwrap();
    let api = dynamic(&server, "test.faultline.dev", "v1", "Gadget", "gadgets");
    let gadget = |name: &str, spec: Value| {
        object(
            json!({"apiVersion": "test.faultline.dev/v1", "kind": "Gadget", "metadata": {"name": name}, "spec": spec}),
        )
    };

    let created = api
        .create(&PostParams::default(), &gadget("a", json!({"port": "http", "note": null, "bogus": 1, "extra": {"any": {"thing": true}}})))
        .await
        .unwrap();
    assert_eq!(
        created.data["spec"],
        json!({"port": "http", "note": null, "mode": "fast", "extra": {"any": {"thing": true}}})
    );

    let strict_patch = api
        .patch(
            "a",
            &PatchParams::default().validation_strict(),
            &Patch::Merge(json!({"spec": {"bogus": 2}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(strict_patch, kube::Error::Api(ref s) if s.code == 400 && s.message.contains("unknown field \"spec.bogus\"")),
        "{strict_patch:?}"
    );

    let bad = api
        .create(
            &PostParams::default(),
            &gadget("c", json!({"port": 1.5, "name": "Upper"})),
        )
        .await;
    let mut fields = invalid_fields(bad.unwrap_err());
    fields.sort();
    assert_eq!(fields, ["spec.name", "spec.port"]);
    let missing = api
        .create(&PostParams::default(), &gadget("d", json!({})))
        .await;
    assert_eq!(invalid_fields(missing.unwrap_err()), ["spec.port"]);
}
