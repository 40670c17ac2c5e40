//! The example service faultline ships, serves and attacks: exactly `core/idl/echo.thrift`
//! (`service Echo { Response echo(1: Request req) }`), as typed structs, the handler that
//! returns the request's message unchanged, and a `Router` serving it.
//!
//! `EchoArgs` and `EchoResult` are the `echo_args` / `echo_result` structs a Thrift
//! compiler generates for the method: `echo_args { 1: Request req }` and
//! `echo_result { 0: optional Response success }`.

use crate::protocol::ApplicationException;
use crate::server::{CallContext, Router};
use crate::Thrift;

/// The service name, as the IDL spells it.
pub const SERVICE: &str = "Echo";
/// The method name, as it goes in the message envelope.
pub const METHOD: &str = "echo";

/// `struct Request { 1: required string message }`
#[derive(Thrift, Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    #[thrift(id = 1, required)]
    pub message: String,
}

/// `struct Response { 1: required string message }`
#[derive(Thrift, Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    #[thrift(id = 1, required)]
    pub message: String,
}

/// `echo_args { 1: Request req }`
#[derive(Thrift, Debug, Clone, PartialEq, Eq, Default)]
pub struct EchoArgs {
    #[thrift(id = 1)]
    pub req: Request,
}

/// `echo_result { 0: optional Response success }`
#[derive(Thrift, Debug, Clone, PartialEq, Eq, Default)]
pub struct EchoResult {
    #[thrift(id = 0)]
    pub success: Option<Response>,
}

impl EchoArgs {
    /// The args of a call echoing `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            req: Request {
                message: message.into(),
            },
        }
    }
}

/// The handler: the reply carries the request's message unchanged.
pub async fn echo(_ctx: CallContext, args: EchoArgs) -> Result<EchoResult, ApplicationException> {
    Ok(EchoResult {
        success: Some(Response {
            message: args.req.message,
        }),
    })
}

/// A router serving `Echo.echo`.
pub fn router() -> Router {
    Router::new().route(METHOD, echo)
}
