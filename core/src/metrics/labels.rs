//! Label sets of the metric families, and the stable names event fields take as label
//! values. Label names follow OpenTelemetry attributes mapped as its Prometheus exporter
//! does (`rpc.service` -> `rpc_service`); labels with no OpenTelemetry counterpart use
//! plain Prometheus names.
//!
//! Peer addresses of malformed frames and retry attempt numbers are left out on purpose:
//! both are unbounded and would make a series per peer or per attempt.

use std::fmt;
use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder};

use crate::breaker_scope::{BreakerScope, BreakerState};
use crate::event::{FallbackReason, RetryDenial, Side};

/// `rpc.system` for every call: Thrift, as OpenTelemetry spells it.
pub const RPC_SYSTEM: &str = "apache_thrift";

/// One series of call durations and call counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CallLabels {
    pub rpc_system: &'static str,
    pub rpc_service: Arc<str>,
    pub rpc_method: Arc<str>,
    /// `ok`, or `RpcErrorKind::name()` of the failure.
    pub status: &'static str,
}

/// A breaker scope: `scope="service"` with caller, callee and method, or
/// `scope="instance"` with the instance address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScopeLabels(pub BreakerScope);

impl EncodeLabelSet for ScopeLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        match &self.0 {
            BreakerScope::Service {
                caller,
                callee,
                method,
            } => [
                ("scope", "service"),
                ("caller", caller),
                ("rpc_service", callee),
                ("rpc_method", method),
            ]
            .encode(encoder),
            BreakerScope::Instance { addr } => {
                [("scope", "instance"), ("instance", addr)].encode(encoder)
            }
        }
    }
}

/// A breaker transition: the scope plus `from` and `to` state names.
pub type TransitionLabels = (ScopeLabels, [(&'static str, &'static str); 2]);

pub fn transition_labels(
    scope: &BreakerScope,
    from: BreakerState,
    to: BreakerState,
) -> TransitionLabels {
    (
        ScopeLabels(scope.clone()),
        [("from", from.name()), ("to", to.name())],
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct MethodLabels {
    pub rpc_method: Arc<str>,
}

/// A retry: the method and the kind of error that triggered it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RetryLabels {
    pub rpc_method: Arc<str>,
    pub error_type: &'static str,
}

/// A retry that was not sent, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct DenialLabels {
    pub rpc_method: Arc<str>,
    pub reason: &'static str,
}

/// A fallback reply: `reason` is `timeout`, `breaker_open` or `error`; an `error` reason
/// also carries `error_type`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FallbackLabels {
    pub rpc_method: Arc<str>,
    pub reason: FallbackReason,
}

impl EncodeLabelSet for FallbackLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        let method: &str = &self.rpc_method;
        match self.reason {
            FallbackReason::Timeout => {
                [("rpc_method", method), ("reason", "timeout")].encode(encoder)
            }
            FallbackReason::BreakerOpen => {
                [("rpc_method", method), ("reason", "breaker_open")].encode(encoder)
            }
            FallbackReason::Error(kind) => [
                ("rpc_method", method),
                ("reason", "error"),
                ("error_type", kind.name()),
            ]
            .encode(encoder),
        }
    }
}

/// A balancer choice. Per instance, not per method: instances times methods would
/// multiply series for little insight.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct PickLabels {
    pub instance: Arc<str>,
    /// Empty when the instance has no zone label.
    pub zone: Option<Arc<str>>,
    /// Whether the instance is in the caller's zone.
    pub local: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ZoneLabels {
    pub zone: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct DeadlineLabels {
    pub side: &'static str,
    pub rpc_method: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct MalformedLabels {
    pub error: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CloseLabels {
    pub reason: &'static str,
}

pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Client => "client",
        Side::Server => "server",
    }
}

pub fn denial_name(reason: RetryDenial) -> &'static str {
    match reason {
        RetryDenial::NotIdempotent => "not_idempotent",
        RetryDenial::NotRetryable => "not_retryable",
        RetryDenial::MaxAttempts => "max_attempts",
        RetryDenial::Budget => "budget",
        RetryDenial::RetryBreaker => "retry_breaker",
        RetryDenial::ChainStop => "chain_stop",
        RetryDenial::ServiceBreakerOpen => "service_breaker_open",
        RetryDenial::Deadline => "deadline",
    }
}

/// The breaker state gauge's value: 0 closed, 1 open, 2 half-open.
pub fn state_value(state: BreakerState) -> i64 {
    match state {
        BreakerState::Closed => 0,
        BreakerState::Open => 1,
        BreakerState::HalfOpen => 2,
    }
}
