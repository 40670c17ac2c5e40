//! The instance breaker: one breaker per instance address (`Call::target`), below the load
//! balancer. A call with no target (no balancer above) passes through unguarded. See `layer`
//! for why this is our own layer, what a call costs, and how breakers of instances that
//! discovery dropped are dropped too ([`InstanceBreakerLayer::with_discovery`]).

use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{Layer, Service};

use super::layer::{guarded, Breakers, ResponseFuture};
use super::{BreakerConfig, BreakerScope};
use crate::config::{FieldErrors, Validate};
use crate::event::EventBus;
use crate::lb::Discovery;
use crate::rpc::{Call, Reply, RpcError};

/// Builds `InstanceBreaker`s. Every service it builds shares its breakers.
#[derive(Clone)]
pub struct InstanceBreakerLayer {
    breakers: Arc<Breakers>,
}

impl InstanceBreakerLayer {
    /// Breakers per instance address, reporting on `events`.
    pub fn new(config: BreakerConfig, events: EventBus) -> Result<Self, FieldErrors> {
        config.validate()?;
        Ok(Self {
            breakers: Arc::new(Breakers::new(config, events)),
        })
    }

    /// Breakers per instance address, reporting on `events`; the breaker of an address
    /// `discovery` no longer lists is dropped on the next call.
    pub fn with_discovery(
        config: BreakerConfig,
        events: EventBus,
        discovery: Discovery,
    ) -> Result<Self, FieldErrors> {
        config.validate()?;
        Ok(Self {
            breakers: Arc::new(Breakers::following(config, events, discovery)),
        })
    }

    /// How many instance breakers are kept now.
    pub fn breakers(&self) -> usize {
        self.breakers.len()
    }
}

impl<S> Layer<S> for InstanceBreakerLayer {
    type Service = InstanceBreaker<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InstanceBreaker {
            inner,
            breakers: self.breakers.clone(),
        }
    }
}

/// Refuses calls to an instance whose breaker is open.
#[derive(Clone)]
pub struct InstanceBreaker<S> {
    inner: S,
    breakers: Arc<Breakers>,
}

impl<S> Service<Call> for InstanceBreaker<S>
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
        let Some(target) = &call.target else {
            return ResponseFuture::unguarded(self.inner.call(call));
        };
        let entry = self.breakers.get(&target.addr, || BreakerScope::Instance {
            addr: target.addr.clone(),
        });
        guarded(entry, &mut self.inner, call)
    }
}
