//! The service breaker: one breaker per (caller, callee, method), above the load balancer.
//! Caller and callee are fixed when the layer is built; the method comes from `Call::method`.
//! See `layer` for why this is our own layer and what a call costs.

use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{Layer, Service};

use super::layer::{guarded, Breakers, ResponseFuture};
use super::{BreakerConfig, BreakerScope};
use crate::config::{FieldErrors, Validate};
use crate::event::EventBus;
use crate::rpc::{Call, Reply, RpcError};

/// Builds `ServiceBreaker`s. Every service it builds shares its breakers.
#[derive(Clone)]
pub struct ServiceBreakerLayer {
    caller: Arc<str>,
    callee: Arc<str>,
    breakers: Arc<Breakers>,
}

impl ServiceBreakerLayer {
    /// Breakers for calls from `caller` to `callee`, reporting on `events`.
    pub fn new(
        caller: impl Into<Arc<str>>,
        callee: impl Into<Arc<str>>,
        config: BreakerConfig,
        events: EventBus,
    ) -> Result<Self, FieldErrors> {
        config.validate()?;
        Ok(Self {
            caller: caller.into(),
            callee: callee.into(),
            breakers: Arc::new(Breakers::new(config, events)),
        })
    }
}

impl<S> Layer<S> for ServiceBreakerLayer {
    type Service = ServiceBreaker<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServiceBreaker {
            inner,
            layer: self.clone(),
        }
    }
}

/// Refuses calls to a (caller, callee, method) whose breaker is open.
#[derive(Clone)]
pub struct ServiceBreaker<S> {
    inner: S,
    layer: ServiceBreakerLayer,
}

impl<S> Service<Call> for ServiceBreaker<S>
where
    S: Service<Call, Response = Reply, Error = RpcError>,
{
    type Response = Reply;
    type Error = RpcError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RpcError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: Call) -> Self::Future {
        let layer = &self.layer;
        let entry = layer.breakers.get(&call.method, || BreakerScope::Service {
            caller: layer.caller.clone(),
            callee: layer.callee.clone(),
            method: call.method.clone(),
        });
        guarded(entry, &mut self.inner, call)
    }
}
