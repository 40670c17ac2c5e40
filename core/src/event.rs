//! Typed events: every breaker transition, retry, backup request, fallback, balancer choice,
//! deadline expiry and server connection close, with the time it happened, on one broadcast stream. Simulation
//! checkers, chaos probes and metrics all subscribe to the same `EventBus`; nothing parses
//! logs.
//!
//! Times are `tokio::time` instants, so under turmoil they are virtual. A subscriber that
//! falls more than the bus capacity behind loses the oldest events and is told how many
//! (`broadcast::error::RecvError::Lagged`); size the capacity for the consumer.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;

pub use crate::breaker::{BreakerScope, BreakerState};
use crate::rpc::RpcErrorKind;

/// One event: when (since the bus was created) and what.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: Duration,
    pub kind: EventKind,
}

/// Which side of a call an event was seen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}

/// Why a retry or backup request was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FallbackReason {
    Timeout,
    BreakerOpen,
    Error(RpcErrorKind),
}

/// Why the server closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// What happened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EventKind {
    /// A call finished (one per call on the client, per request on the server).
    CallFinished {
        side: Side,
        service: Arc<str>,
        method: Arc<str>,
        /// The instance that served it (client side), when one did.
        instance: Option<Arc<str>>,
        /// `None` on success.
        error: Option<RpcErrorKind>,
        fallback: bool,
        duration: Duration,
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
    BackupRequest { method: Arc<str>, after: Duration },
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
        remote_rtt: Duration,
    },
    DeadlineExceeded {
        side: Side,
        method: Arc<str>,
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

/// The broadcast stream events go on. Cloning shares the stream.
///
/// The stream's buffer (`capacity` slots) is allocated when the first subscriber arrives, so
/// a server or client nobody watches pays nothing for it.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: Arc<OnceLock<broadcast::Sender<Arc<Event>>>>,
    capacity: usize,
    epoch: Instant,
}

impl EventBus {
    pub const DEFAULT_CAPACITY: usize = 64 * 1024;

    pub fn new(capacity: usize) -> Self {
        Self {
            tx: Arc::new(OnceLock::new()),
            capacity: capacity.max(1),
            epoch: Instant::now(),
        }
    }

    /// Publishes an event; free when nobody listens.
    pub fn emit(&self, kind: EventKind) {
        let Some(tx) = self.tx.get().filter(|tx| tx.receiver_count() > 0) else {
            return;
        };
        let event = Event {
            at: self.epoch.elapsed(),
            kind,
        };
        // A send fails only when every receiver is gone; nobody is left to tell.
        let _ = tx.send(Arc::new(event));
    }

    /// A new subscriber: it sees every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx
            .get_or_init(|| broadcast::channel(self.capacity).0)
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
}
