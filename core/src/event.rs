//! Typed events: every breaker transition, retry, backup request, fallback, balancer choice,
//! attempt, deadline expiry and server connection close, with the time it happened, the
//! call and attempt it belongs to, and who saw it. Simulation checkers, chaos probes and
//! metrics all read the same `EventBus`; nothing parses logs.
//!
//! Two ways to read it:
//! - a **sink** ([`EventSink`], set with [`EventBus::with_sink`]) is called synchronously
//!   for every event, in emission order, and loses nothing: checkers, traces and reports
//!   read this (a [`Recorder`] keeps them in a `Vec`);
//! - **subscribers** ([`EventBus::subscribe`]) get a broadcast stream for live watching. A
//!   subscriber that falls more than the bus capacity behind loses the oldest events and
//!   is told how many (`broadcast::error::RecvError::Lagged`).
//!
//! With neither, emitting costs two loads. Times are `tokio::time` instants since the bus
//! was made ([`EventBus::epoch`]), so under turmoil they are virtual and on the clock of the
//! host the bus was made in: make a host's bus inside the host (turmoil gives every host
//! its own clock, and a restarted host a fresh one).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;
use tokio::time::Instant;

pub use crate::breaker_scope::{BreakerScope, BreakerState};
use crate::rpc::{Call, RpcErrorKind};

/// One event: when (since the bus was created), who saw it, which call, and what.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(with = "crate::config::duration")]
    pub at: Duration,
    pub origin: Arc<Origin>,
    /// The call (and attempt) the event belongs to; `None` for events of no one call
    /// (zone weights, connection closes, malformed frames).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<CallRef>,
    pub kind: EventKind,
}

/// Who emitted an event: the host (process, pod, simulated host) and its zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Origin {
    pub host: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<Arc<str>>,
}

impl Origin {
    pub fn new(host: impl Into<Arc<str>>, zone: Option<Arc<str>>) -> Self {
        Self {
            host: host.into(),
            zone,
        }
    }
}

/// The call an event belongs to: the client's call id (unique per client event bus,
/// from 1) and, for events of one attempt, the attempt (0 first, retries and backup
/// requests count up). A server's events carry the id its client sent in the
/// `faultline-call` header ([`CALL_HEADER`]) when the client's events were observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CallRef {
    pub id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
}

/// The TTHeader string key a client stamps `"<call id>.<attempt>"` into when its events
/// are observed (a sink or a subscriber), so the server's events name the same call.
pub const CALL_HEADER: &str = "faultline-call";

impl CallRef {
    /// The whole call (events above the retry layer).
    pub fn call(call: &Call) -> Self {
        Self {
            id: call.id,
            attempt: None,
        }
    }

    /// One attempt of the call (events at and below the retry layer).
    pub fn attempt(call: &Call) -> Self {
        Self {
            id: call.id,
            attempt: Some(call.attempt),
        }
    }

    /// The header value for this attempt.
    pub fn header_value(call: &Call) -> String {
        format!("{}.{}", call.id, call.attempt)
    }

    /// Parses a [`CALL_HEADER`] value; `None` when it is not `"<u64>.<u32>"`.
    pub fn parse_header(value: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(value).ok()?;
        let (id, attempt) = text.split_once('.')?;
        Some(Self {
            id: id.parse().ok()?,
            attempt: Some(attempt.parse().ok()?),
        })
    }
}

/// Which side of a call an event was seen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Side {
    Client,
    Server,
}

/// Why a retry or backup request was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RetryDenial {
    /// The method is not marked idempotent.
    NotIdempotent,
    /// The error is not retryable.
    NotRetryable,
    /// The call already used its attempts.
    MaxAttempts,
    /// The retry budget (extra load at most a fraction of requests) is spent.
    Budget,
    /// The retry breaker is open: the error rate is too high for retries to help.
    RetryBreaker,
    /// The call is itself a retry from upstream (chain-stop).
    ChainStop,
    /// The service breaker refused the call: a retry would meet the same open breaker
    /// and only spend budget. (An instance breaker's refusal is retried: another instance
    /// may take the call.)
    ServiceBreakerOpen,
    /// Not enough time is left before the deadline.
    Deadline,
}

/// Why a fallback reply was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FallbackReason {
    Timeout,
    BreakerOpen,
    Error(RpcErrorKind),
}

/// Why the server closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer closed its side (a half-close too) or the read failed; the requests
    /// already read were answered first.
    PeerClosed,
    /// A frame had started and was not whole within the read timeout; the requests
    /// already read were answered first.
    ReadTimeout,
    /// No request in flight and no bytes for the idle timeout.
    IdleTimeout,
    /// A reply was not taken by the peer within the write timeout (a peer that does not
    /// read); the connection's requests in flight were cancelled.
    WriteTimeout,
    /// A malformed frame; the connection's requests in flight were cancelled.
    Malformed,
    /// Writing a reply failed; the connection's requests in flight were cancelled.
    WriteFailed,
    /// Server shutdown; every request read was answered first.
    Shutdown,
    /// The drain deadline passed or the server was aborted: the requests still in flight
    /// were cancelled unanswered.
    Cancelled,
}

impl CloseReason {
    /// The reason in snake case, as metrics label it.
    pub fn name(self) -> &'static str {
        match self {
            Self::PeerClosed => "peer_closed",
            Self::ReadTimeout => "read_timeout",
            Self::IdleTimeout => "idle_timeout",
            Self::WriteTimeout => "write_timeout",
            Self::Malformed => "malformed",
            Self::WriteFailed => "write_failed",
            Self::Shutdown => "shutdown",
            Self::Cancelled => "cancelled",
        }
    }
}

/// What happened. Serialized with a `type` tag: `{"type": "retry", "method": ..}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum EventKind {
    /// A call finished (one per call on the client, per request on the server).
    CallFinished {
        side: Side,
        service: Arc<str>,
        method: Arc<str>,
        /// Client side: the instance that served it, when one did. Server side: the peer
        /// (the client's address).
        instance: Option<Arc<str>>,
        /// `None` on success.
        error: Option<RpcErrorKind>,
        fallback: bool,
        #[serde(with = "crate::config::duration")]
        duration: Duration,
        /// The time the call was given when it started: the client's deadline, or the
        /// RPCTimeout the server received; `None` without one.
        #[serde(with = "crate::config::duration::option")]
        budget: Option<Duration>,
    },
    /// One attempt of a call came back from an instance (client side, below the balancer:
    /// also for attempts an instance breaker refused).
    AttemptFinished {
        method: Arc<str>,
        instance: Arc<str>,
        zone: Option<Arc<str>>,
        #[serde(with = "crate::config::duration")]
        latency: Duration,
        /// `None` on success.
        error: Option<RpcErrorKind>,
    },
    BreakerTransition {
        scope: BreakerScope,
        from: BreakerState,
        to: BreakerState,
        /// Samples and error rate in the window when the transition happened.
        samples: u64,
        error_rate: f64,
    },
    /// A breaker refused a call.
    BreakerRejected { scope: BreakerScope },
    /// A failed attempt is being retried.
    Retry {
        method: Arc<str>,
        attempt: u32,
        error: RpcErrorKind,
    },
    RetryDenied {
        method: Arc<str>,
        reason: RetryDenial,
    },
    /// A backup (hedged) request was sent because the first had not answered in `after`.
    BackupRequest {
        method: Arc<str>,
        #[serde(with = "crate::config::duration")]
        after: Duration,
    },
    Fallback {
        method: Arc<str>,
        reason: FallbackReason,
    },
    /// The balancer chose an instance for an attempt.
    BalancerPick {
        method: Arc<str>,
        instance: Arc<str>,
        zone: Option<Arc<str>>,
        /// Whether the instance is in the caller's zone (zone-aware balancing).
        local: bool,
    },
    /// The zone-aware balancer changed the share of traffic it sends out of zone.
    ZoneWeights {
        local_zone: Arc<str>,
        /// Fraction of calls sent to other zones, 0.0 ..= 1.0.
        remote_share: f64,
        /// The cross-zone round-trip time that drove the change.
        #[serde(with = "crate::config::duration")]
        remote_rtt: Duration,
    },
    DeadlineExceeded {
        side: Side,
        method: Arc<str>,
        #[serde(with = "crate::config::duration")]
        budget: Duration,
    },
    /// The server closed a connection because of a malformed frame.
    MalformedFrame {
        peer: Arc<str>,
        error: &'static str,
        offset: usize,
    },
    /// The server closed a connection (emitted once its slot under `max_connections` is
    /// free again).
    ConnectionClosed { peer: Arc<str>, reason: CloseReason },
}

/// Receives every event, synchronously and in emission order (see the module doc).
pub trait EventSink: Send + Sync + 'static {
    fn record(&self, event: &Event);
}

impl<F: Fn(&Event) + Send + Sync + 'static> EventSink for F {
    fn record(&self, event: &Event) {
        self(event)
    }
}

/// A sink that keeps every event in memory.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Every event recorded so far, leaving none behind.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl EventSink for Recorder {
    fn record(&self, event: &Event) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.clone());
    }
}

/// Where events go. Cloning shares the bus: its sink, subscribers, origin and call ids.
///
/// The broadcast buffer (`capacity` slots) is allocated when the first subscriber arrives,
/// so a server or client nobody watches pays nothing for it.
#[derive(Clone)]
pub struct EventBus {
    shared: Arc<Shared>,
    epoch: Instant,
}

struct Shared {
    tx: OnceLock<broadcast::Sender<Arc<Event>>>,
    capacity: usize,
    sink: Option<Arc<dyn EventSink>>,
    origin: Arc<Origin>,
    next_call: AtomicU64,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("origin", &self.shared.origin)
            .field("capacity", &self.shared.capacity)
            .field("sink", &self.shared.sink.is_some())
            .finish()
    }
}

impl EventBus {
    pub const DEFAULT_CAPACITY: usize = 64 * 1024;

    pub fn new(capacity: usize) -> Self {
        Self::build(capacity.max(1), None, Arc::default())
    }

    fn build(capacity: usize, sink: Option<Arc<dyn EventSink>>, origin: Arc<Origin>) -> Self {
        Self {
            shared: Arc::new(Shared {
                tx: OnceLock::new(),
                capacity,
                sink,
                origin,
                next_call: AtomicU64::new(1),
            }),
            epoch: Instant::now(),
        }
    }

    /// The same settings with `sink` receiving every event. A new bus: set it up before
    /// handing clones out.
    pub fn with_sink(self, sink: Arc<dyn EventSink>) -> Self {
        Self::build(self.shared.capacity, Some(sink), self.shared.origin.clone())
    }

    /// The same settings with every event stamped as seen by `origin`. A new bus: set it
    /// up before handing clones out.
    pub fn with_origin(self, origin: Origin) -> Self {
        Self::build(
            self.shared.capacity,
            self.shared.sink.clone(),
            Arc::new(origin),
        )
    }

    /// Whether anyone reads the events (a sink, or a subscriber still listening).
    pub fn is_observed(&self) -> bool {
        self.shared.sink.is_some() || self.live().is_some()
    }

    fn live(&self) -> Option<&broadcast::Sender<Arc<Event>>> {
        self.shared.tx.get().filter(|tx| tx.receiver_count() > 0)
    }

    /// A fresh call id (from 1; never 0, which marks a call that has none yet).
    pub fn next_call_id(&self) -> u64 {
        self.shared.next_call.fetch_add(1, Ordering::Relaxed)
    }

    /// Publishes an event of no one call; free when nobody listens.
    pub fn emit(&self, kind: EventKind) {
        self.emit_with(None, kind);
    }

    /// Publishes an event of `call`; free when nobody listens.
    pub fn emit_for(&self, call: CallRef, kind: EventKind) {
        self.emit_with(Some(call), kind);
    }

    /// Publishes an event of `call`, when it is known to belong to one; free when nobody
    /// listens.
    pub fn emit_with(&self, call: Option<CallRef>, kind: EventKind) {
        let live = self.live();
        if live.is_none() && self.shared.sink.is_none() {
            return;
        }
        let event = Event {
            at: self.epoch.elapsed(),
            origin: self.shared.origin.clone(),
            call,
            kind,
        };
        if let Some(sink) = &self.shared.sink {
            sink.record(&event);
        }
        // A send fails only when every receiver is gone; nobody is left to tell.
        if let Some(tx) = live {
            let _ = tx.send(Arc::new(event));
        }
    }

    /// A new subscriber: it sees every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.shared
            .tx
            .get_or_init(|| broadcast::channel(self.shared.capacity).0)
            .subscribe()
    }

    /// When the bus was created; `Event::at` counts from here.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn subscribers_see_events_with_virtual_time() {
        let bus = EventBus::new(8);
        bus.emit(EventKind::RetryDenied {
            method: "lost".into(),
            reason: RetryDenial::Budget,
        });
        let mut rx = bus.subscribe();
        tokio::time::advance(Duration::from_millis(250)).await;
        bus.emit(EventKind::BackupRequest {
            method: "echo".into(),
            after: Duration::from_millis(5),
        });
        let event = rx.recv().await.unwrap();
        assert_eq!(event.at, Duration::from_millis(250));
        assert!(matches!(event.kind, EventKind::BackupRequest { .. }));
        assert!(
            rx.try_recv().is_err(),
            "the event before subscribing is not replayed"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_sink_loses_nothing_and_events_carry_origin_and_call() {
        let recorder = Recorder::new();
        let bus = EventBus::new(2)
            .with_sink(recorder.clone())
            .with_origin(Origin::new("probe", Some("az1".into())));
        let mut lagging = bus.subscribe();
        let call = CallRef {
            id: bus.next_call_id(),
            attempt: Some(1),
        };
        for _ in 0..10 {
            bus.emit_for(
                call,
                EventKind::Retry {
                    method: "echo".into(),
                    attempt: 1,
                    error: RpcErrorKind::Timeout,
                },
            );
        }
        let events = recorder.take();
        assert_eq!(events.len(), 10, "the sink keeps what the broadcast drops");
        assert!(events.iter().all(|e| e.call == Some(call)));
        assert_eq!(&*events[0].origin.host, "probe");
        assert!(matches!(
            lagging.recv().await,
            Err(broadcast::error::RecvError::Lagged(8))
        ));
        assert!(recorder.take().is_empty(), "take leaves nothing behind");
    }

    #[test]
    fn events_serialize_with_a_type_tag_and_duration_strings() {
        let event = Event {
            at: Duration::from_micros(1500),
            origin: Arc::new(Origin::new("echo-az1-0", Some("az1".into()))),
            call: Some(CallRef {
                id: 7,
                attempt: Some(0),
            }),
            kind: EventKind::AttemptFinished {
                method: "echo".into(),
                instance: "echo-az1-0:9090".into(),
                zone: Some("az1".into()),
                latency: Duration::from_micros(800),
                error: Some(RpcErrorKind::ConnectTimeout),
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "at": "1.5ms",
                "origin": {"host": "echo-az1-0", "zone": "az1"},
                "call": {"id": 7, "attempt": 0},
                "kind": {"type": "attemptFinished", "method": "echo",
                         "instance": "echo-az1-0:9090", "zone": "az1",
                         "latency": "800us", "error": "connectTimeout"}
            })
        );
    }

    #[test]
    fn the_call_header_round_trips_and_refuses_garbage() {
        let mut call = Call::new("echo", bytes::Bytes::new());
        call.id = 42;
        call.attempt = 3;
        let value = CallRef::header_value(&call);
        assert_eq!(
            CallRef::parse_header(value.as_bytes()),
            Some(CallRef::attempt(&call))
        );
        for bad in [&b"42"[..], b"x.1", b"1.x", b"1.99999999999", b"\xff.1", b""] {
            assert_eq!(CallRef::parse_header(bad), None, "{bad:?}");
        }
    }
}
