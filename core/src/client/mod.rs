//! The client: a `tower` stack of small layers over any transport `Service<Call>`.
//!
//! Outermost first, as `ClientBuilder` composes it:
//!
//! ```text
//! finish (CallFinished event)
//!   -> deadline (per-call timeout, DeadlineExceeded)
//!   -> retry (failure retry: budget, retry breaker, chain-stop, backoff)
//!        -> backup (hedged request after a delay, same budget)
//!   -> fallback (fallback reply on timeout / breaker-open / any error)
//!   -> [service breaker] -> [load balancer] -> [instance breaker]
//!   -> attempt deadline (RPCTimeout on the wire, per-attempt timeout)
//!   -> transport (connection pool)
//! ```
//!
//! Every layer is a `tower::Layer` over `S: Service<Call, Response = Reply, Error =
//! RpcError> + Clone`; each lives in its own module and can be used on its own.

mod attempt;
mod builder;
mod config;
mod deadline;
mod fallback;
mod finish;
pub mod pool;
pub mod retry;
mod typed;

use std::future::Future;
use std::pin::Pin;

use tower::Service;

pub use attempt::{AttemptDeadline, AttemptDeadlineLayer};
pub use builder::{Client, ClientBuilder};
pub use config::{ClientConfig, FallbackConfig};
pub use deadline::{Deadline, DeadlineLayer};
pub use fallback::{Fallback, FallbackFn, FallbackLayer, FallbackOn, FallbackPolicy};
pub use finish::{Finish, FinishLayer};
pub use pool::{Pool, PoolConfig, PoolMode};
pub use typed::{decode_result, encode_args, EchoClient};

use crate::rpc::{Call, Reply, RpcError};

/// The future every client layer returns.
pub type CallFuture = Pin<Box<dyn Future<Output = Result<Reply, RpcError>> + Send>>;

/// A service the client stack can be built from: a cloneable, sendable
/// `Service<Call, Response = Reply, Error = RpcError>` with a sendable future.
pub trait CallService:
    Service<Call, Response = Reply, Error = RpcError, Future: Send + 'static> + Clone + Send + 'static
{
}

impl<S> CallService for S where
    S: Service<Call, Response = Reply, Error = RpcError, Future: Send + 'static>
        + Clone
        + Send
        + 'static
{
}
