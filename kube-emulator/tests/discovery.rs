//! Discovery as kube's `Discovery`, `pinned_kind` and aggregated discovery read it.

#[path = "support/chaos_mesh_crds.rs"]
mod chaos_mesh_crds;
#[path = "support/small_chaos_crds.rs"]
mod small_chaos_crds;

use faultline_kube_emulator::ApiServer;
use kube::api::{Api, DynamicObject, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{pinned_kind, Discovery, Scope};

use chaos_mesh_crds::chaos_mesh_crds;
use small_chaos_crds::small_chaos_crd;

#[tokio::test]
async fn built_in_resources_are_discovered_with_their_capabilities() {
    let server = ApiServer::new();
    let client = server.client();
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let groups: Vec<&str> = discovery.groups().map(|g| g.name()).collect();
    for group in [
        "",
        "events.k8s.io",
        "discovery.k8s.io",
        "coordination.k8s.io",
        "apiextensions.k8s.io",
    ] {
        assert!(groups.contains(&group), "{group:?} in {groups:?}");
    }
    assert!(!groups.contains(&"chaos-mesh.org"));
    let pods = GroupVersionKind::gvk("", "v1", "Pod");
    let (resource, capabilities) = discovery.resolve_gvk(&pods).unwrap();
    assert_eq!(resource.plural, "pods");
    assert_eq!(capabilities.scope, Scope::Namespaced);
    assert!(capabilities.supports_operation("watch"));
    assert!(capabilities
        .subresources
        .iter()
        .any(|(r, _)| r.plural == "status"));
    let lease = GroupVersionKind::gvk("coordination.k8s.io", "v1", "Lease");
    assert_eq!(
        pinned_kind(&client, &lease).await.unwrap().0.plural,
        "leases"
    );

    let aggregated = Discovery::new(client).run_aggregated().await.unwrap();
    assert!(aggregated.resolve_gvk(&pods).is_some());
}

#[tokio::test]
async fn chaos_mesh_is_discovered_only_once_its_crds_are_installed() {
    let server = ApiServer::new();
    let client = server.client();
    let network_chaos = GroupVersionKind::gvk("chaos-mesh.org", "v1alpha1", "NetworkChaos");
    let absent = pinned_kind(&client, &network_chaos).await.unwrap_err();
    assert!(
        matches!(absent, kube::Error::Api(ref s) if s.code == 404),
        "{absent:?}"
    );

    let crds =
        chaos_mesh_crds().unwrap_or_else(|| vec![small_chaos_crd("NetworkChaos", "networkchaos")]);
    let api: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &kube::discovery::ApiResource::erase::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>(&()),
    );
    for crd in crds {
        api.create(
            &PostParams::default(),
            &serde_json::from_value(crd).unwrap(),
        )
        .await
        .unwrap();
    }
    let (resource, capabilities) = pinned_kind(&client, &network_chaos).await.unwrap();
    assert_eq!(resource.plural, "networkchaos");
    assert_eq!(capabilities.scope, Scope::Namespaced);
    let discovery = Discovery::new(client).run().await.unwrap();
    assert!(discovery.has_group("chaos-mesh.org"));
    assert!(discovery.resolve_gvk(&network_chaos).is_some());
}
