//! How each event moves the metrics. The match is exhaustive on purpose: a new
//! `EventKind` does not compile until it is given a metric here (or explicitly none).
//! Service and method names pass through their `Bounded` sets first.

use super::families::Families;
use super::labels::{
    denial_name, side_name, state_value, transition_labels, CallLabels, CloseLabels,
    DeadlineLabels, DenialLabels, FallbackLabels, MalformedLabels, MethodLabels, PickLabels,
    RetryLabels, ScopeLabels, ZoneLabels, RPC_SYSTEM,
};
use crate::event::{Event, EventKind, Side};

impl Families {
    pub fn record(&self, event: &Event) {
        match &event.kind {
            EventKind::CallFinished {
                side,
                service,
                method,
                error,
                duration,
                ..
            } => {
                let labels = CallLabels {
                    rpc_system: RPC_SYSTEM,
                    rpc_service: self.services.admit(service),
                    rpc_method: self.methods.admit(method),
                    status: error.map_or("ok", |kind| kind.name()),
                };
                let (durations, requests) = match side {
                    Side::Client => (&self.client_duration, &self.client_requests),
                    Side::Server => (&self.server_duration, &self.server_requests),
                };
                durations
                    .get_or_create(&labels)
                    .observe(duration.as_secs_f64());
                requests.get_or_create(&labels).inc();
            }
            EventKind::BreakerTransition {
                scope, from, to, ..
            } => {
                self.breaker_state
                    .get_or_create(&ScopeLabels(scope.clone()))
                    .set(state_value(*to));
                self.breaker_transitions
                    .get_or_create(&transition_labels(scope, *from, *to))
                    .inc();
            }
            EventKind::BreakerRejected { scope } => {
                self.breaker_rejections
                    .get_or_create(&ScopeLabels(scope.clone()))
                    .inc();
            }
            EventKind::Retry { method, error, .. } => {
                self.retries
                    .get_or_create(&RetryLabels {
                        rpc_method: self.methods.admit(method),
                        error_type: error.name(),
                    })
                    .inc();
            }
            EventKind::RetryDenied { method, reason } => {
                self.retries_denied
                    .get_or_create(&DenialLabels {
                        rpc_method: self.methods.admit(method),
                        reason: denial_name(*reason),
                    })
                    .inc();
            }
            EventKind::BackupRequest { method, .. } => {
                self.backup_requests
                    .get_or_create(&MethodLabels {
                        rpc_method: self.methods.admit(method),
                    })
                    .inc();
            }
            EventKind::Fallback { method, reason } => {
                self.fallbacks
                    .get_or_create(&FallbackLabels {
                        rpc_method: self.methods.admit(method),
                        reason: *reason,
                    })
                    .inc();
            }
            // Attempts are counted where they start (`BalancerPick`) and calls where they
            // end (`CallFinished`); an attempt's end adds no series of its own.
            EventKind::AttemptFinished { .. } => {}
            EventKind::BalancerPick {
                instance,
                zone,
                local,
                ..
            } => {
                self.balancer_picks
                    .get_or_create(&PickLabels {
                        instance: instance.clone(),
                        zone: zone.clone(),
                        local: *local,
                    })
                    .inc();
            }
            EventKind::ZoneWeights {
                local_zone,
                remote_share,
                remote_rtt,
            } => {
                let labels = ZoneLabels {
                    zone: local_zone.clone(),
                };
                self.zone_remote_share
                    .get_or_create(&labels)
                    .set(*remote_share);
                self.zone_remote_rtt
                    .get_or_create(&labels)
                    .set(remote_rtt.as_secs_f64());
            }
            EventKind::DeadlineExceeded { side, method, .. } => {
                self.deadline_exceeded
                    .get_or_create(&DeadlineLabels {
                        side: side_name(*side),
                        rpc_method: self.methods.admit(method),
                    })
                    .inc();
            }
            EventKind::MalformedFrame { error, .. } => {
                self.malformed_frames
                    .get_or_create(&MalformedLabels { error })
                    .inc();
            }
            EventKind::ConnectionClosed { reason, .. } => {
                self.connections_closed
                    .get_or_create(&CloseLabels {
                        reason: reason.name(),
                    })
                    .inc();
            }
        }
    }
}
