//! HTTPChaos read for Thrift: what a fault does to the calls of one method. The simulation
//! applies it in its servers' router and the local backend in its fault proxy.
//!
//! | HTTPChaos field | on a Thrift call |
//! |---|---|
//! | `path` | the method name (`/echo` and `echo` alike); `*` or absent: every method |
//! | `target: Request` | acts before the handler: `delay` holds the request, `abort` refuses the call with a `TApplicationException`, `replace.body` replaces the request's message |
//! | `target: Response` | acts after the handler: `delay` holds the reply, `abort` answers with a `TApplicationException` instead, `replace.body` replaces the reply's message |
//! | `method`, `port`, `code`, `patch`, headers, queries, `tls` | no Thrift equivalent: not applied (a Thrift call has no verb, status code or headers of that kind) |

use std::time::Duration;

use faultline_core::config::duration;

use super::{HttpChaosSpec, HttpChaosTarget};

/// What an HTTPChaos fault does to a method's calls.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodFault {
    /// `None`: every method.
    pub method: Option<String>,
    pub target: HttpChaosTarget,
    pub delay: Option<Duration>,
    pub abort: bool,
    pub replace: Option<String>,
}

impl MethodFault {
    pub fn from_spec(spec: &HttpChaosSpec) -> Self {
        let method = spec
            .path
            .as_deref()
            .map(|p| p.trim_start_matches('/'))
            .filter(|p| !p.is_empty() && *p != "*")
            .map(str::to_owned);
        Self {
            method,
            target: spec.target,
            delay: spec.delay.as_deref().and_then(|d| duration::parse(d).ok()),
            abort: spec.abort.unwrap_or(false),
            replace: spec.replace.as_ref().and_then(|r| r.body.clone()),
        }
    }

    /// Whether it acts on calls of `method`.
    pub fn applies_to(&self, method: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
    }
}
