//! `ClientBuilder`: composes the client stack in the documented order, outermost first:
//!
//! ```text
//! finish -> deadline -> retry (incl. backup) -> fallback
//!   -> service breaker -> load balancer -> instance breaker -> attempt deadline -> transport
//! ```
//!
//! The breakers and the balancer are any `tower::Layer`s (`Identity` until set), so the
//! implementations from `breaker` and `lb` plug in without changes here; the transport at
//! the bottom is any `Service<Call>` (the connection pool, or a test double).
//!
//! Defaults: no call timeout (Kitex's RPC timeout is 0, unbounded, unless set), no
//! per-attempt timeout, failure retry with `RetryConfig::default()` (only idempotent
//! methods), no backup requests, no fallback, a fresh `EventBus`.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tower::layer::util::Identity;
use tower::util::BoxCloneService;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

use super::retry::{RetryConfig, RetryLayer};
use super::{
    AttemptDeadline, AttemptDeadlineLayer, CallFuture, CallService, DeadlineLayer, FallbackLayer,
    FallbackPolicy, FinishLayer,
};
use crate::event::EventBus;
use crate::rpc::{Call, Reply, RpcError};

/// Builds a `Client`; `SB`, `LB`, `IB` are the service-breaker, balancer and
/// instance-breaker layers.
#[derive(Debug, Clone)]
pub struct ClientBuilder<SB = Identity, LB = Identity, IB = Identity> {
    service: Arc<str>,
    events: EventBus,
    timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    retry: Option<RetryConfig>,
    fallback: Option<FallbackPolicy>,
    service_breaker: SB,
    balancer: LB,
    instance_breaker: IB,
}

impl ClientBuilder {
    /// A builder for calls to the callee `service`.
    pub fn new(service: impl Into<Arc<str>>) -> Self {
        Self {
            service: service.into(),
            events: EventBus::default(),
            timeout: None,
            attempt_timeout: None,
            retry: Some(RetryConfig::default()),
            fallback: None,
            service_breaker: Identity::new(),
            balancer: Identity::new(),
            instance_breaker: Identity::new(),
        }
    }
}

impl<SB, LB, IB> ClientBuilder<SB, LB, IB> {
    /// The bus every layer emits its events on.
    pub fn events(mut self, events: EventBus) -> Self {
        self.events = events;
        self
    }

    /// The timeout of calls that carry no `CallOptions::deadline`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Caps each attempt (Kitex's RPC timeout with retries on); the call's deadline still
    /// bounds the whole call.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Failure retry and backup requests.
    pub fn retry(mut self, config: RetryConfig) -> Self {
        self.retry = Some(config);
        self
    }

    /// No retries and no backup requests.
    pub fn no_retry(mut self) -> Self {
        self.retry = None;
        self
    }

    pub fn fallback(mut self, policy: FallbackPolicy) -> Self {
        self.fallback = Some(policy);
        self
    }

    /// The service breaker layer (one breaker per caller, callee, method).
    pub fn service_breaker<L>(self, layer: L) -> ClientBuilder<L, LB, IB> {
        ClientBuilder {
            service: self.service,
            events: self.events,
            timeout: self.timeout,
            attempt_timeout: self.attempt_timeout,
            retry: self.retry,
            fallback: self.fallback,
            service_breaker: layer,
            balancer: self.balancer,
            instance_breaker: self.instance_breaker,
        }
    }

    /// The load balancer layer (sets `Call::target`).
    pub fn balancer<L>(self, layer: L) -> ClientBuilder<SB, L, IB> {
        ClientBuilder {
            service: self.service,
            events: self.events,
            timeout: self.timeout,
            attempt_timeout: self.attempt_timeout,
            retry: self.retry,
            fallback: self.fallback,
            service_breaker: self.service_breaker,
            balancer: layer,
            instance_breaker: self.instance_breaker,
        }
    }

    /// The instance breaker layer (one breaker per target address).
    pub fn instance_breaker<L>(self, layer: L) -> ClientBuilder<SB, LB, L> {
        ClientBuilder {
            service: self.service,
            events: self.events,
            timeout: self.timeout,
            attempt_timeout: self.attempt_timeout,
            retry: self.retry,
            fallback: self.fallback,
            service_breaker: self.service_breaker,
            balancer: self.balancer,
            instance_breaker: layer,
        }
    }

    /// The stack over `transport`.
    pub fn build<T>(self, transport: T) -> Client
    where
        T: CallService,
        IB: Layer<AttemptDeadline<T>>,
        IB::Service: CallService,
        LB: Layer<IB::Service>,
        LB::Service: CallService,
        SB: Layer<LB::Service>,
        SB::Service: CallService,
    {
        let attempt = AttemptDeadlineLayer::new(self.attempt_timeout)
            .stamping(self.events.clone())
            .layer(transport);
        let routed = self
            .service_breaker
            .layer(self.balancer.layer(self.instance_breaker.layer(attempt)));
        let events = self.events;
        let stack = ServiceBuilder::new()
            .layer(
                FinishLayer::new(self.service, events.clone()).with_default_timeout(self.timeout),
            )
            .layer(DeadlineLayer::new(self.timeout, events.clone()))
            .option_layer(self.retry.map(|c| RetryLayer::new(c, events.clone())))
            .option_layer(self.fallback.map(|p| FallbackLayer::new(p, events.clone())))
            .service(routed);
        Client {
            inner: BoxCloneService::new(stack),
            events,
        }
    }
}

/// A built client stack: clone it freely (clones share budgets, breakers and events).
#[derive(Clone)]
pub struct Client {
    inner: BoxCloneService<Call, Reply, RpcError>,
    events: EventBus,
}

impl Client {
    /// Sends one call through the stack (on a clone of it, so `&self` is not held).
    pub fn call(&self, call: Call) -> impl Future<Output = Result<Reply, RpcError>> + Send {
        self.inner.clone().oneshot(call)
    }

    /// The bus the stack's events go on.
    pub fn events(&self) -> &EventBus {
        &self.events
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Service<Call> for Client {
    type Response = Reply;
    type Error = RpcError;
    type Future = CallFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RpcError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: Call) -> CallFuture {
        self.inner.call(call)
    }
}
