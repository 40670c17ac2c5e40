//! Fuzzing support (cargo feature `fuzzing`): the body of every fuzz target as a plain
//! function, the structure-aware generators behind them, the seed corpus generator, and
//! the Apache `thrift` crate adapter the differential targets compare against.
//!
//! The libFuzzer targets in `fuzz/fuzz_targets/` are one line each: they hand the input to
//! the function of the same name in [`targets`]. `core/tests/fuzz_replay.rs` runs every
//! committed seed (`fuzz/seeds/<target>/`) and every regression
//! (`fuzz/regressions/<target>/`) through the same functions on stable, so a crash found by
//! a campaign never comes back unnoticed. [`TARGETS`] is the list both sides use.
//!
//! Every target decodes with [`DecodeLimits::small`], so a run stays fast and its
//! allocations stay bounded (the campaigns also pass `-malloc_limit_mb`).
//!
//! - [`targets`]: the target bodies and the properties they assert.
//! - [`generate`]: `arbitrary`-driven generators of well-formed `Value` trees, messages,
//!   headers with metadata, and typed requests.
//! - [`typed`]: [`FuzzRequest`], a typed request struct like a real service's.
//! - [`seeds`]: the seed corpus, built from faultline's encoder, the Apache crate's encoder
//!   and the Python interop vectors.
//! - [`session`]: the `server_session` model, generator and in-memory listener.
//! - [`client_session`]: the `client_session` script, scripted server and checks.
//! - [`apache`]: faultline `Value` <-> the Apache `thrift` crate's protocols.
//! - [`pilota`]: the differential against CloudWeGo's pilota, with its known-bug list.
//! - [`alloc`]: the allocation oracle (counting allocator, bounds).
//! - [`strict`]: the strict-acceptance oracle (legal wire forms and their canonical bytes).

#[allow(unsafe_code)] // a `GlobalAlloc`, with the proof beside each `unsafe`
pub mod alloc;
pub mod apache;
pub mod client_session;
pub mod generate;
pub mod pilota;
pub mod seeds;
pub mod session;
pub mod strict;
pub mod targets;
pub mod typed;

pub use typed::{FuzzItem, FuzzKind, FuzzRequest};

use crate::protocol::DecodeLimits;

/// The limits every target decodes with.
pub const LIMITS: DecodeLimits = DecodeLimits::small();

/// Which Thrift protocol a comparison runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Binary,
    Compact,
}

impl Proto {
    pub const ALL: [Proto; 2] = [Proto::Binary, Proto::Compact];
}

/// A fuzz target's body: it panics when a property fails, and only then.
pub type Target = fn(&[u8]);

/// Every fuzz target by name, as `fuzz/fuzz_targets/<name>.rs` and the corpus folders name
/// them.
pub const TARGETS: &[(&str, Target)] = &[
    ("decode_binary", targets::decode_binary),
    ("decode_compact", targets::decode_compact),
    ("crosscheck_binary", targets::crosscheck_binary),
    ("crosscheck_compact", targets::crosscheck_compact),
    ("decode_framed", targets::decode_framed),
    ("decode_ttheader", targets::decode_ttheader),
    ("decode_theader", targets::decode_theader),
    ("decode_auto", targets::decode_auto),
    ("decode_typed", targets::decode_typed),
    ("roundtrip_value", targets::roundtrip_value),
    ("roundtrip_typed", targets::roundtrip_typed),
    ("roundtrip_metadata", targets::roundtrip_metadata),
    ("diff_binary", targets::diff_binary),
    ("diff_compact", targets::diff_compact),
    ("diff_pilota_binary", targets::diff_pilota_binary),
    ("diff_pilota_compact", targets::diff_pilota_compact),
    ("breaker_model", targets::breaker_model),
    ("server_session", targets::server_session),
    ("client_session", targets::client_session),
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
