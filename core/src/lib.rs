//! faultline-core: a Kitex-wire-compatible Thrift RPC stack.
//!
//! `protocol` owns the Thrift Binary and Compact encodings, the dynamic `Value` tree and
//! typed messages; `frame` owns the transports that carry them (Buffered, Framed, Kitex
//! TTHeader, Apache THeader) and transport detection. Every decoder is bounded by
//! `protocol::DecodeLimits` and reports failures as one structured `DecodeError`.

extern crate self as faultline_core;

pub mod frame;
pub mod protocol;

pub use faultline_derive::Thrift;
