//! A kube-runtime `Controller` with the `finalizer` helper reconciling a CRD derived with
//! `kube::CustomResource`, and the status subresource of that CRD.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use faultline_kube_emulator::ApiServer;
use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{finalizer, Event};
use kube::runtime::watcher;
use kube::{CustomResource, CustomResourceExt, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

const FINALIZER: &str = "widgets.test.faultline.dev/cleanup";

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "test.faultline.dev",
    version = "v1",
    kind = "Widget",
    namespaced,
    status = "WidgetStatus"
)]
pub struct WidgetSpec {
    size: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
pub struct WidgetStatus {
    observed_size: u32,
}

struct Context {
    api: Api<Widget>,
    cleanups: AtomicUsize,
}

#[derive(Debug)]
struct Failure(String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

async fn reconcile(widget: Arc<Widget>, context: Arc<Context>) -> Result<Action, Failure> {
    let api = context.api.clone();
    finalizer(&api, FINALIZER, widget, |event| async {
        match event {
            Event::Apply(widget) => {
                let status = json!({"status": {"observed_size": widget.spec.size}});
                api.patch_status(
                    &widget.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(status),
                )
                .await
                .map_err(|e| Failure(e.to_string()))?;
                Ok(Action::await_change())
            }
            Event::Cleanup(_) => {
                context.cleanups.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Failure>(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| Failure(e.to_string()))
}

fn retry(_: Arc<Widget>, _: &Failure, _: Arc<Context>) -> Action {
    Action::requeue(Duration::from_millis(100))
}

async fn eventually<T>(mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..600 {
        if let Some(found) = probe().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition not reached within 60 s of tokio time");
}

#[tokio::test(start_paused = true)]
async fn a_controller_with_a_finalizer_reconciles_create_update_and_delete() {
    let server = ApiServer::new();
    let client = server.client();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = crds
        .create(&PostParams::default(), &Widget::crd())
        .await
        .unwrap();
    let established = crd.status.unwrap().conditions.unwrap();
    assert!(established
        .iter()
        .any(|c| c.type_ == "Established" && c.status == "True"));

    let api: Api<Widget> = Api::default_namespaced(client);
    let context = Arc::new(Context {
        api: api.clone(),
        cleanups: AtomicUsize::new(0),
    });
    let controller = Controller::new(api.clone(), watcher::Config::default())
        .run(reconcile, retry, Arc::clone(&context))
        .for_each(|_| async {});
    let controller = tokio::spawn(controller);

    api.create(
        &PostParams::default(),
        &Widget::new("w", WidgetSpec { size: 3 }),
    )
    .await
    .unwrap();
    let reconciled = eventually(async || {
        let widget = api.get("w").await.unwrap();
        widget
            .status
            .as_ref()
            .is_some_and(|s| s.observed_size == 3)
            .then_some(widget)
    })
    .await;
    assert_eq!(reconciled.finalizers(), [FINALIZER]);
    assert_eq!(reconciled.metadata.generation, Some(1));

    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"size": 5}})),
    )
    .await
    .unwrap();
    let resized = eventually(async || {
        let widget = api.get("w").await.unwrap();
        widget
            .status
            .as_ref()
            .is_some_and(|s| s.observed_size == 5)
            .then_some(widget)
    })
    .await;
    assert_eq!(resized.metadata.generation, Some(2));

    api.delete("w", &DeleteParams::default()).await.unwrap();
    eventually(async || api.get_opt("w").await.unwrap().is_none().then_some(())).await;
    assert_eq!(context.cleanups.load(Ordering::SeqCst), 1);
    controller.abort();
}

#[tokio::test]
async fn a_crd_status_subresource_isolates_spec_and_status() {
    let server = ApiServer::new();
    server
        .install_crd(serde_json::to_value(Widget::crd()).unwrap())
        .unwrap();
    let api: Api<Widget> = Api::default_namespaced(server.client());
    let mut widget = Widget::new("w", WidgetSpec { size: 1 });
    widget.status = Some(WidgetStatus { observed_size: 9 });
    let created = api.create(&PostParams::default(), &widget).await.unwrap();
    assert!(
        created.status.is_none(),
        "create drops the status of a resource with a status subresource"
    );

    let main = json!({"spec": {"size": 2}, "status": {"observed_size": 7}});
    let patched = api
        .patch("w", &PatchParams::default(), &Patch::Merge(main))
        .await
        .unwrap();
    assert_eq!(patched.spec.size, 2);
    assert!(patched.status.is_none());

    let status = json!({"spec": {"size": 4}, "status": {"observed_size": 7}});
    let patched = api
        .patch_status("w", &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap();
    assert_eq!(patched.spec.size, 2);
    assert_eq!(patched.status.unwrap().observed_size, 7);
    assert_eq!(
        patched.metadata.generation,
        Some(2),
        "a status write leaves the generation alone"
    );

    let mut stale = created;
    stale.spec.size = 3;
    let conflict = api
        .replace("w", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert!(
        matches!(conflict, kube::Error::Api(ref s) if s.code == 409),
        "{conflict:?}"
    );
}
