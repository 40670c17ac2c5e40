//! NetworkChaos `duplicate` on a TCP stream: a duplicated segment carries sequence numbers
//! the receiver already has, and TCP discards it, so a TCP reader sees nothing different.
//! The proxy changes nothing and counts the bytes that would have gone twice
//! (`ProxyStats::bytes_duplicated`); the simulation does nothing either.

use faultline_core::rng::SplitMix64;

use crate::faults::tcp_loss::unit;

/// Bytes of a chunk of `len` that went twice (probability `p`): `len` or 0.
pub(super) fn duplicated(p: f64, len: usize, rng: &SplitMix64) -> usize {
    match unit(rng) < p {
        true => len,
        false => 0,
    }
}
