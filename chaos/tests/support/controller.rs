//! What the controller's tests share: its options (quick leases, short patience) and the
//! smoke experiment as an `Experiment` object.

use std::time::Duration;

use faultline_chaos::kube::controller::ControllerOptions;
use faultline_chaos::kube::hands::Patience;
use serde_json::Value;

use crate::cluster::NAMESPACE;

/// How the controller runs in the tests: quick leases, short patience.
pub fn controller_options(identity: &str) -> ControllerOptions {
    ControllerOptions {
        lease_namespace: "faultline-system".into(),
        identity: identity.into(),
        namespace: None,
        lease_duration: Duration::from_secs(2),
        patience: Patience {
            inject: Duration::from_secs(10),
            cleanup: Duration::from_secs(10),
        },
        endpoints_within: Duration::from_secs(10),
    }
}

/// The smoke experiment (fixtures/kube/smoke.yaml) as an `Experiment` object in the
/// target namespace.
pub fn experiment_object() -> Value {
    let text = include_str!("../fixtures/kube/smoke.yaml");
    let documents =
        faultline_chaos::spec::located::parse_documents(text, std::path::Path::new("smoke.yaml"))
            .unwrap();
    let mut object = documents[0].value().clone();
    object["metadata"]["namespace"] = NAMESPACE.into();
    object
}
