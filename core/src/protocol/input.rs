//! `Input`: the bounds-checked cursor both protocol readers read through.
//!
//! It owns the checks that do not depend on the protocol: every take is length-checked,
//! offsets are absolute (`base` + position), nesting depth is counted against the limits,
//! and lengths and container counts are validated before anyone allocates for them.

use bytes::Bytes;

use super::{DecodeError, DecodeLimits, DecodeResult, ErrorKind};

#[derive(Debug, Clone)]
pub struct Input<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    owner: Option<&'a Bytes>,
    limits: DecodeLimits,
    depth: usize,
    /// The deepest nesting entered so far (the fuzz targets' depth oracle).
    #[cfg(feature = "fuzzing")]
    depth_high_water: usize,
}

impl<'a> Input<'a> {
    /// A cursor over `buf`, whose first byte sits at absolute offset `base`.
    pub fn new(buf: &'a [u8], base: usize, limits: DecodeLimits) -> Self {
        Self {
            buf,
            pos: 0,
            base,
            owner: None,
            limits,
            depth: 0,
            #[cfg(feature = "fuzzing")]
            depth_high_water: 0,
        }
    }

    /// A cursor over a `Bytes`: binaries read with `take_bytes` are zero-copy slices of it.
    pub fn from_bytes(bytes: &'a Bytes, base: usize, limits: DecodeLimits) -> Self {
        Self {
            owner: Some(bytes),
            ..Self::new(bytes, base, limits)
        }
    }

    /// The same cursor, reading binaries as zero-copy slices of `owner` when there is one
    /// and the input lies within its memory (otherwise unchanged: binaries are copied).
    pub fn sharing(mut self, owner: Option<&'a Bytes>) -> Self {
        if let Some(owner) = owner.filter(|o| within(o, self.buf)) {
            self.owner = Some(owner);
        }
        self
    }

    #[inline]
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline]
    pub fn limits(&self) -> &DecodeLimits {
        &self.limits
    }

    #[inline]
    pub fn error(&self, kind: ErrorKind, expected: &'static str) -> DecodeError {
        DecodeError::new(kind, self.offset(), expected)
    }

    #[inline]
    fn eof(&self, needed: usize, expected: &'static str) -> DecodeError {
        self.error(
            ErrorKind::UnexpectedEof {
                needed,
                remaining: self.remaining(),
            },
            expected,
        )
    }

    /// The next `n` bytes, or an end-of-input error naming what was being read.
    #[inline]
    pub fn take(&mut self, n: usize, expected: &'static str) -> DecodeResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.eof(n, expected));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    #[inline]
    pub fn take_array<const N: usize>(&mut self, expected: &'static str) -> DecodeResult<[u8; N]> {
        let bytes = self.take(N, expected)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    #[inline]
    pub fn u8(&mut self, expected: &'static str) -> DecodeResult<u8> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.eof(1, expected)),
        }
    }

    /// The next byte without consuming it.
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// `n` bytes as `Bytes`: a zero-copy slice when built over `Bytes`, else one copy.
    pub fn take_bytes(&mut self, n: usize, expected: &'static str) -> DecodeResult<Bytes> {
        let slice = self.take(n, expected)?;
        Ok(match self.owner {
            Some(owner) => owner.slice_ref(slice),
            None => Bytes::copy_from_slice(slice),
        })
    }

    /// Validates a wire length for a string or binary starting at `start`.
    pub fn check_string_len(
        &self,
        len: i64,
        start: usize,
        expected: &'static str,
    ) -> DecodeResult<usize> {
        let len = bounded(
            len,
            self.limits.max_string,
            start,
            expected,
            |len, limit| ErrorKind::StringTooLong { len, limit },
        )?;
        let remaining = self.remaining();
        if len > remaining {
            let eof = ErrorKind::UnexpectedEof {
                needed: len,
                remaining,
            };
            return Err(DecodeError::new(eof, start, expected));
        }
        Ok(len)
    }

    /// Validates a container count: not negative, within `max_container`, and no more
    /// elements than the remaining bytes could encode at `min_elem_size` bytes each.
    pub fn check_container_len(
        &self,
        len: i64,
        min_elem_size: usize,
        start: usize,
        expected: &'static str,
    ) -> DecodeResult<usize> {
        let len = bounded(
            len,
            self.limits.max_container,
            start,
            expected,
            |len, limit| ErrorKind::ContainerTooLarge { len, limit },
        )?;
        let min_bytes = len.saturating_mul(min_elem_size);
        let remaining = self.remaining();
        if min_bytes > remaining {
            let short = ErrorKind::ContainerExceedsInput {
                len,
                min_bytes,
                remaining,
            };
            return Err(DecodeError::new(short, start, expected));
        }
        Ok(len)
    }

    /// Enters one nesting level (struct or container).
    #[inline]
    pub fn enter(&mut self, expected: &'static str) -> DecodeResult<()> {
        if self.depth >= self.limits.max_depth {
            return Err(self.error(
                ErrorKind::DepthExceeded {
                    limit: self.limits.max_depth,
                },
                expected,
            ));
        }
        self.depth += 1;
        #[cfg(feature = "fuzzing")]
        {
            self.depth_high_water = self.depth_high_water.max(self.depth);
        }
        Ok(())
    }

    /// Leaves one nesting level.
    #[inline]
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    #[inline]
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The deepest nesting level entered so far: never above `limits().max_depth` unless
    /// the depth check in [`enter`](Self::enter) is broken (the fuzz targets assert it).
    #[cfg(feature = "fuzzing")]
    #[inline]
    pub fn depth_high_water(&self) -> usize {
        self.depth_high_water
    }
}

/// A wire length as a count: negative is `NegativeLength`, above `limit` is `too_large`.
fn bounded(
    len: i64,
    limit: usize,
    start: usize,
    expected: &'static str,
    too_large: impl FnOnce(usize, usize) -> ErrorKind,
) -> DecodeResult<usize> {
    if len < 0 {
        return Err(DecodeError::new(
            ErrorKind::NegativeLength(len),
            start,
            expected,
        ));
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > limit {
        return Err(DecodeError::new(too_large(len, limit), start, expected));
    }
    Ok(len)
}

/// True when `part` lies inside `whole`'s memory, so `Bytes::slice_ref` cannot panic.
pub(crate) fn within(whole: &[u8], part: &[u8]) -> bool {
    let (w, p) = (whole.as_ptr_range(), part.as_ptr_range());
    w.start <= p.start && p.end <= w.end
}
