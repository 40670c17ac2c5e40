//! The breaker layers in the real client stack (`ClientBuilder`): they satisfy its bounds,
//! and a client whose callee keeps failing gets `RpcError::BreakerOpen` from the service
//! breaker once the window is full of failures.

use std::sync::Arc;

use bytes::Bytes;
use faultline_core::breaker::{
    BreakerConfig, BreakerScope, InstanceBreakerLayer, ServiceBreakerLayer,
};
use faultline_core::client::ClientBuilder;
use faultline_core::event::EventBus;
use faultline_core::rpc::{Call, Instance, Reply, RpcError, RpcErrorKind};
use tower::service_fn;
use tower::util::MapRequestLayer;

#[tokio::test(start_paused = true)]
async fn a_failing_callee_opens_the_service_breaker_of_a_client() {
    let bus = EventBus::default();
    let config = BreakerConfig::default();
    let pick = MapRequestLayer::new(|mut call: Call| {
        call.target = Some(Arc::new(Instance::new("10.0.0.7:8888")));
        call
    });
    let client = ClientBuilder::new("echo.svc")
        .events(bus.clone())
        .no_retry()
        .service_breaker(
            ServiceBreakerLayer::new("frontend", "echo.svc", config.clone(), bus.clone()).unwrap(),
        )
        .balancer(pick)
        .instance_breaker(InstanceBreakerLayer::new(config, bus).unwrap())
        .build(service_fn(|call: Call| async move {
            Err::<Reply, _>(RpcError::Io {
                addr: call.target.unwrap().addr.clone(),
                kind: std::io::ErrorKind::ConnectionRefused,
                detail: "refused".into(),
            })
        }));
    for _ in 0..200 {
        let err = client
            .call(Call::new("echo", Bytes::new()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), RpcErrorKind::Io);
    }
    let err = client
        .call(Call::new("echo", Bytes::new()))
        .await
        .unwrap_err();
    // Both breakers tripped on the 200th failure; the outer one, the service breaker, refuses.
    assert!(
        matches!(&err, RpcError::BreakerOpen(BreakerScope::Service { method, .. }) if &**method == "echo"),
        "{err:?}"
    );
}
