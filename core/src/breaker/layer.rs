//! What the service and instance breaker layers share: a map from key to breaker, the
//! admit / record / report steps around a call, and the response future.
//!
//! Why our own layer: tower has no circuit breaker. Its nearest pieces do other things:
//! `filter` refuses by a predicate on the request, `load_shed` refuses when the inner
//! service is not ready, `retry::budget` limits retries; none keeps a window of outcomes or
//! a CLOSED / OPEN / HALF_OPEN state per key. Kitex's semantics (per-key breakers, error
//! rate over a sliding window, probes, cooling growth) are written here instead.
//!
//! Per call: a read lock on the map (`std::sync::RwLock`; it is written only the first time a
//! key is seen, so readers do not wait on each other in practice), one `Arc` clone, then the
//! breaker's lock-free admit and record. Time is `tokio::time::Instant` since the event bus's
//! epoch, so paused tokio time and turmoil drive the breakers, and breaker times line up
//! with event times. When a breaker opens, a timer on the caller's runtime moves it to
//! HALF_OPEN and reports it when the cooling ends. An admitted call's permit is held by a
//! guard: a call that finishes records its outcome, a call dropped unfinished (cancelled)
//! releases its permit.
//!
//! Instance breakers follow discovery (`lb::Membership`): when the instance list changes,
//! the first call after it drops the breakers of the addresses no longer listed (one
//! version compare per call otherwise), and a call still routed to a removed address gets
//! a fresh breaker that is not kept. A re-added instance starts with a closed breaker.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::runtime::Handle;
use tokio::time::Instant;
use tower::Service;

use super::{Breaker, BreakerConfig, BreakerScope, BreakerState, Outcome, Permit, Transition};
use crate::event::{CallRef, EventBus, EventKind};
use crate::lb::{addrs, Discovery, Membership};
use crate::rpc::{Call, Reply, RpcError};

/// Breakers by key (method, or instance address), created on first use.
pub(crate) struct Breakers {
    config: BreakerConfig,
    events: EventBus,
    map: RwLock<HashMap<Arc<str>, Arc<Entry>>>,
    /// Which keys may be kept: every key, unless the breakers follow a discovery.
    membership: Membership,
}

/// One breaker with what its reports need.
pub(crate) struct Entry {
    pub(crate) breaker: Breaker,
    scope: BreakerScope,
    events: EventBus,
}

impl Breakers {
    /// `config` must already be valid (the layers' constructors check it).
    pub(crate) fn new(config: BreakerConfig, events: EventBus) -> Self {
        Self {
            config,
            events,
            map: RwLock::new(HashMap::new()),
            membership: Membership::default(),
        }
    }

    /// Breakers keyed by instance address that are dropped when `discovery` drops the
    /// address (see the module doc).
    pub(crate) fn following(config: BreakerConfig, events: EventBus, discovery: Discovery) -> Self {
        Self {
            membership: Membership::of(discovery),
            ..Self::new(config, events)
        }
    }

    /// The breaker for `key`, made with `scope` if it does not exist yet.
    pub(crate) fn get(&self, key: &Arc<str>, scope: impl FnOnce() -> BreakerScope) -> Arc<Entry> {
        if let Some(snapshot) = self.membership.changed() {
            let live = addrs(&snapshot);
            self.map
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|key, _| live.contains(&**key));
        }
        // A panic while holding the lock cannot leave the map half-updated (insertion is
        // one call), so a poisoned lock is still good to use.
        if let Some(entry) = self
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
        {
            return entry.clone();
        }
        let fresh = || {
            Arc::new(Entry {
                breaker: Breaker::new(self.config.clone()).expect("the layer validated the config"),
                scope: scope(),
                events: self.events.clone(),
            })
        };
        if !self.membership.contains(key) {
            return fresh();
        }
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        map.entry(key.clone()).or_insert_with(fresh).clone()
    }

    /// How many breakers are kept.
    pub(crate) fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Entry {
    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.events.epoch())
    }

    /// Emits `t` for the call it happened in (`None`: at the end of a cooling time); after
    /// a move to OPEN, arms the timer that ends the cooling.
    fn report(self: &Arc<Self>, call: Option<CallRef>, t: Transition) {
        let kind = EventKind::BreakerTransition {
            scope: self.scope.clone(),
            from: t.from,
            to: t.to,
            samples: t.samples,
            error_rate: t.error_rate,
        };
        self.events.emit_with(call, kind);
        if t.to == BreakerState::Open {
            self.end_cooling_on_time();
        }
    }

    /// Reports OPEN -> HALF_OPEN when the cooling time ends, not only at the next call. The
    /// timer runs on the caller's tokio runtime (none: the next call moves it instead).
    fn end_cooling_on_time(self: &Arc<Self>) {
        let (Ok(runtime), Some(ends)) = (Handle::try_current(), self.breaker.cooling_ends()) else {
            return;
        };
        let entry = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep_until(entry.events.epoch() + ends).await;
            if let Some(t) = entry.breaker.end_cooling(entry.now()) {
                entry.report(None, t);
            }
        });
    }
}

/// Admits `call` through `entry` and calls `inner`, or refuses it.
pub(crate) fn guarded<S>(entry: Arc<Entry>, inner: &mut S, call: Call) -> ResponseFuture<S::Future>
where
    S: Service<Call, Response = Reply, Error = RpcError>,
{
    let call_ref = CallRef::attempt(&call);
    match entry.breaker.admit(entry.now()) {
        Ok(admitted) => {
            if let Some(t) = admitted.transition {
                entry.report(Some(call_ref), t);
            }
            let guard = Guard {
                entry,
                call: call_ref,
                permit: Some(admitted.permit),
            };
            ResponseFuture::called(inner.call(call), Some(guard))
        }
        Err(_) => {
            entry.events.emit_for(
                call_ref,
                EventKind::BreakerRejected {
                    scope: entry.scope.clone(),
                },
            );
            ResponseFuture {
                state: State::Refused {
                    error: Some(RpcError::BreakerOpen(entry.scope.clone())),
                },
            }
        }
    }
}

/// Holds an admitted call's permit until the call ends.
struct Guard {
    entry: Arc<Entry>,
    call: CallRef,
    permit: Option<Permit>,
}

impl Guard {
    fn finish(&mut self, result: &Result<Reply, RpcError>) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let outcome = match result {
            Ok(_) => Some(Outcome::Success),
            Err(error) => Outcome::of_error(error),
        };
        let breaker = &self.entry.breaker;
        match outcome {
            Some(outcome) => {
                if let Some(t) = breaker.record(permit, outcome, self.entry.now()) {
                    self.entry.report(Some(self.call), t);
                }
            }
            None => breaker.release(permit),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.entry.breaker.release(permit);
        }
    }
}

pin_project! {
    /// The future of a call through a breaker layer.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Refused { error: Option<RpcError> },
        Called { #[pin] inner: F, guard: Option<Guard> },
    }
}

impl<F> ResponseFuture<F> {
    /// A call that went to the inner service with no breaker to answer to.
    pub(crate) fn unguarded(inner: F) -> Self {
        Self::called(inner, None)
    }

    fn called(inner: F, guard: Option<Guard>) -> Self {
        Self {
            state: State::Called { inner, guard },
        }
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Reply, RpcError>>,
{
    type Output = Result<Reply, RpcError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Refused { error } => {
                Poll::Ready(Err(error.take().expect("polled after completion")))
            }
            StateProj::Called { inner, guard } => {
                let result = ready!(inner.poll(cx));
                if let Some(guard) = guard {
                    guard.finish(&result);
                }
                Poll::Ready(result)
            }
        }
    }
}
