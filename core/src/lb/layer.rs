//! `LoadBalanceLayer`: the balancer in the client's tower stack.
//!
//! For each call: the router narrows the instances by the route table and hands back a
//! picker; the picker chooses; the layer sets `Call::target`, emits
//! `EventKind::BalancerPick`, calls the inner service (instance breaker, then connection
//! pool), reports the latency (on `tokio::time`, so virtual under turmoil and paused
//! tests) and outcome back to the same picker, and emits `EventKind::AttemptFinished`. No
//! instance to choose (an empty list, every weight zero) is `RpcError::NoInstance`,
//! without calling the inner service.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::time::Instant;
use tower::{Layer, Service};

use super::router::Router;
use super::{Balancer, Discovery, Feedback};
use crate::event::{CallRef, EventBus, EventKind};
use crate::route::RouteTable;
use crate::rpc::{Call, Reply, RpcError};

/// Builds [`LoadBalance`] services that share one router (and so one balancer state).
#[derive(Clone)]
pub struct LoadBalanceLayer {
    service: Arc<str>,
    discovery: Discovery,
    balancer: Arc<dyn Balancer>,
    routes: Option<RouteTable>,
    events: Option<EventBus>,
    router: Arc<Router>,
}

impl LoadBalanceLayer {
    /// Balances calls to `service` (named in `NoInstance` errors) over `discovery`.
    pub fn new(
        service: impl Into<Arc<str>>,
        discovery: Discovery,
        balancer: impl Balancer,
    ) -> Self {
        let balancer: Arc<dyn Balancer> = Arc::new(balancer);
        Self {
            service: service.into(),
            router: Arc::new(Router::new(discovery.clone(), None, balancer.clone())),
            discovery,
            balancer,
            routes: None,
            events: None,
        }
    }

    /// Narrows each call's instances by `routes` before the balancer picks.
    pub fn with_routes(mut self, routes: RouteTable) -> Self {
        self.router = Arc::new(Router::new(
            self.discovery.clone(),
            Some(routes.clone()),
            self.balancer.clone(),
        ));
        self.routes = Some(routes);
        self
    }

    /// Emits `BalancerPick` and `AttemptFinished` for every pick on `events`.
    pub fn with_events(mut self, events: EventBus) -> Self {
        self.events = Some(events);
        self
    }
}

impl<S> Layer<S> for LoadBalanceLayer {
    type Service = LoadBalance<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LoadBalance {
            inner,
            service: self.service.clone(),
            router: self.router.clone(),
            events: self.events.clone(),
        }
    }
}

/// The load-balancing service: picks an instance per call and learns from the outcome.
#[derive(Clone)]
pub struct LoadBalance<S> {
    inner: S,
    service: Arc<str>,
    router: Arc<Router>,
    events: Option<EventBus>,
}

impl<S> Service<Call> for LoadBalance<S>
where
    S: Service<Call, Response = Reply, Error = RpcError>,
    S::Future: Send + 'static,
{
    type Response = Reply;
    type Error = RpcError;
    type Future = Pin<Box<dyn Future<Output = Result<Reply, RpcError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RpcError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut call: Call) -> Self::Future {
        let picker = self.router.picker(&call);
        let Some(index) = picker.pick(&call) else {
            let service = self.service.clone();
            return Box::pin(async move { Err(RpcError::NoInstance { service }) });
        };
        let instance = picker.instances()[index].clone();
        let attempt = CallRef::attempt(&call);
        if let Some(events) = &self.events {
            let local_zone = self.router.balancer().local_zone();
            events.emit_for(
                attempt,
                EventKind::BalancerPick {
                    method: call.method.clone(),
                    instance: instance.addr.clone(),
                    zone: instance.zone.clone(),
                    local: local_zone.is_some() && instance.zone.as_ref() == local_zone,
                },
            );
        }
        // What `AttemptFinished` needs, taken only when someone listens.
        let observed = self
            .events
            .clone()
            .map(|events| (events, call.method.clone(), instance.clone()));
        call.target = Some(instance);
        let start = Instant::now();
        let reply = self.inner.call(call);
        Box::pin(async move {
            let result = reply.await;
            let latency = start.elapsed();
            let error = result.as_ref().err();
            picker.feedback(index, Feedback { latency, error });
            if let Some((events, method, instance)) = observed {
                let kind = EventKind::AttemptFinished {
                    method,
                    instance: instance.addr.clone(),
                    zone: instance.zone.clone(),
                    latency,
                    error: error.map(RpcError::kind),
                };
                events.emit_for(attempt, kind);
            }
            result
        })
    }
}
