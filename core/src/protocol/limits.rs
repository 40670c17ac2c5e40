//! `DecodeLimits`: the bounds every decoder enforces before it trusts a length on the wire.

/// Bounds applied while decoding untrusted bytes.
///
/// Defaults follow a production RPC server: 16 MiB frames, strings and containers bounded
/// by the frame, nesting depth 64 (shared by typed decode, `Value` decode and skip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest frame (header + payload) accepted, in bytes.
    pub max_frame: usize,
    /// Longest string or binary accepted, in bytes.
    pub max_string: usize,
    /// Most elements accepted in one list, set or map.
    pub max_container: usize,
    /// Deepest nesting of structs and containers accepted.
    pub max_depth: usize,
}

impl DecodeLimits {
    pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;
    pub const DEFAULT_MAX_DEPTH: usize = 64;

    /// Limits small enough for fuzzing: every run stays fast and allocation-bounded.
    pub const fn small() -> Self {
        Self {
            max_frame: 64 * 1024,
            max_string: 16 * 1024,
            max_container: 4096,
            max_depth: 32,
        }
    }
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_frame: Self::DEFAULT_MAX_FRAME,
            max_string: Self::DEFAULT_MAX_FRAME,
            max_container: Self::DEFAULT_MAX_FRAME,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }
}
