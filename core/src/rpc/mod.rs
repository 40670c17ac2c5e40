//! The vocabulary the runtime shares: what a client call is (`Call`), what comes back
//! (`Reply`), how a call fails (`RpcError`), and where it can go (`Instance`). Every client
//! layer (deadline, retry, fallback, breakers, balancers, pool) is a `tower::Service<Call>`
//! with `Response = Reply` and `Error = RpcError`.

mod call;
mod error;
mod instance;

pub use call::{Call, CallOptions, Reply, ReplyOrigin};
pub use error::{RpcError, RpcErrorKind};
pub use instance::Instance;
