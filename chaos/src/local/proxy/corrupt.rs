//! NetworkChaos `corrupt`: one random bit of a chunk flipped. Deliberately past TCP's
//! checksum (which would turn it into a loss, as the simulation models it): the point of
//! corrupting locally is to feed the server's decoders bad bytes on a live connection.

use bytes::Bytes;
use faultline_core::rng::SplitMix64;

/// `chunk` with one random bit flipped (an empty chunk is left alone).
pub(super) fn flip(chunk: Bytes, rng: &SplitMix64) -> Bytes {
    if chunk.is_empty() {
        return chunk;
    }
    let mut bytes = chunk.to_vec();
    let bit = rng.below(
        u64::try_from(bytes.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(8),
    );
    let at = usize::try_from(bit / 8).unwrap_or(0).min(bytes.len() - 1);
    bytes[at] ^= 1 << (bit % 8);
    Bytes::from(bytes)
}
