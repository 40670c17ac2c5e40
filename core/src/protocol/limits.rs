//! `DecodeLimits`: the bounds every decoder enforces before it trusts a length on the wire.

/// Bounds applied while decoding untrusted bytes.
///
/// Defaults follow a production RPC server: 16 MiB frames, strings and containers bounded
/// by the frame, nesting depth 64 (shared by typed decode, `Value` decode and skip).
///
/// As data: `{ maxFrame: 16777216, maxString: ..., maxContainer: ..., maxDepth: 64 }`, every
/// field optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
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

impl DecodeLimits {
    /// The largest `max_frame` a config may set (1 GiB): a frame is buffered whole.
    pub const MAX_FRAME_LIMIT: usize = 1 << 30;
    /// The deepest `max_depth` a config may set: decoding recurses once per level, and the
    /// stack of a tokio worker must hold every level.
    pub const MAX_DEPTH_LIMIT: usize = 256;
}

impl crate::config::Validate for DecodeLimits {
    fn validate_at(
        &self,
        path: &crate::config::FieldPath,
        errors: &mut crate::config::FieldErrors,
    ) {
        errors.in_range(
            || path.field("maxFrame"),
            self.max_frame,
            16..=Self::MAX_FRAME_LIMIT,
        );
        errors.in_range(
            || path.field("maxString"),
            self.max_string,
            0..=Self::MAX_FRAME_LIMIT,
        );
        errors.in_range(
            || path.field("maxContainer"),
            self.max_container,
            0..=Self::MAX_FRAME_LIMIT,
        );
        errors.in_range(
            || path.field("maxDepth"),
            self.max_depth,
            1..=Self::MAX_DEPTH_LIMIT,
        );
    }
}
