//! faultline-core: a Kitex-wire-compatible Thrift RPC stack.
//!
//! `protocol` owns the Thrift Binary and Compact encodings, the dynamic `Value` tree and
//! typed messages; `frame` owns the transports that carry them (Buffered, Framed, Kitex
//! TTHeader, Apache THeader) and transport detection. Every decoder is bounded by
//! `protocol::DecodeLimits` and reports failures as one structured `DecodeError`.
//!
//! The runtime builds on them: `rpc` (calls, replies, errors, instances), `event` (the
//! typed event stream), `breaker` (circuit breakers), `client` (the client as a tower
//! stack: deadline, retry, backup requests, fallback), `metrics` (the event stream as
//! Prometheus series with OpenTelemetry names).

extern crate self as faultline_core;

pub mod breaker;
pub mod client;
pub mod event;
pub mod frame;
pub mod metrics;
pub mod protocol;
pub mod rpc;

pub use faultline_derive::Thrift;
