//! faultline-core: a Kitex-wire-compatible Thrift RPC stack.
//!
//! `protocol` owns the Thrift Binary and Compact encodings, the dynamic `Value` tree and
//! typed messages; `frame` owns the transports that carry them (Buffered, Framed, Kitex
//! TTHeader, Apache THeader) and transport detection. Every decoder is bounded by
//! `protocol::DecodeLimits` and reports failures as one structured `DecodeError`.
//!
//! The runtime builds on them: `rpc` (calls, replies, errors, instances), `event` (the
//! typed event stream), `breaker` (circuit breakers), `client` (the client as a tower
//! stack: deadline, retry, backup requests, fallback), `lb` (discovery, balancers and the
//! load-balancing layer), `route` (the traffic-coloring route table), `metrics` (the event
//! stream as Prometheus series with OpenTelemetry names), `net` (the transport seam: tokio
//! TCP or turmoil), `rng` (the seeded generator behind every random choice), `transport`
//! (frames on a byte stream), `server`, and `echo` (the example service).
//!
//! With the `fuzzing` feature, `fuzzing` holds the fuzz targets' bodies, their generators
//! and seed corpus, and the Apache `thrift` crate adapter (see FUZZING.md).
//!
//! `unsafe` is denied everywhere but in `fuzzing::alloc` (a counting `GlobalAlloc`, with
//! the safety argument beside each block).

#![deny(unsafe_code)]

extern crate self as faultline_core;

pub mod breaker;
mod breaker_scope;
pub mod client;
pub mod config;
pub mod echo;
pub mod event;
pub mod frame;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod lb;
pub mod metrics;
pub mod net;
pub mod protocol;
pub mod rng;
pub mod route;
pub mod rpc;
pub mod server;
pub mod transport;

pub use faultline_derive::Thrift;
