//! The allocation oracle: a counting global allocator and the bounds the targets hold
//! decoding to.
//!
//! Every fuzz binary and `core/tests/fuzz_replay.rs` install [`Counting`] as their global
//! allocator. It forwards to `System` and keeps, per thread, the bytes currently allocated
//! and their high-water mark, so [`measure`] can tell how much one decode held at its
//! peak even while other test threads run. A target that measures without the allocator
//! installed fails (the oracle would silently see nothing).
//!
//! The bound is linear in the input, as `tests/hostile_inputs.rs` states it for a whole
//! frame: a decoder may hold [`PER_INPUT_BYTE`] bytes per input byte plus [`FIXED`].
//! Compact spends one byte on a bool field or list element and a `Value` is 40 bytes
//! (a `Field` 48); a struct's field vector grows by doubling (up to 2x, and the old and
//! new buffers live together while it moves: 3x), so 48 x 3 = 144 < 256. A reader that
//! trusts a container count before checking it against the bytes remaining allocates
//! `count x size_of::<Value>()` from a 3-byte header and breaks the bound at once.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bytes a decode may hold per byte of input.
pub const PER_INPUT_BYTE: usize = 256;
/// Bytes a decode may hold whatever its input (the Compact field-id stack past 16 levels,
/// an error's boxed context).
pub const FIXED: usize = 4 * 1024;

/// The most a decode of `len` input bytes may hold at its peak.
pub const fn decode_bound(len: usize) -> usize {
    len.saturating_mul(PER_INPUT_BYTE).saturating_add(FIXED)
}

/// What a [`FrameReader`](crate::transport::FrameReader) may hold beyond a decode: its
/// buffer asks for at least 8 KiB per read and grows by at most what is buffered.
pub const STREAM_FIXED: usize = 64 * 1024;

/// What a whole `server_session` (a server with its connection, writer and call tasks,
/// the in-memory pipe, the test client) may hold beyond a decode bound.
pub const SESSION_FIXED: usize = 256 * 1024;

/// The most a `server_session` sending `len` bytes may hold at its peak.
pub const fn session_bound(len: usize) -> usize {
    decode_bound(len).saturating_add(SESSION_FIXED)
}

/// The most a `FrameReader` reading `len` bytes may hold at its peak.
pub const fn stream_bound(len: usize) -> usize {
    decode_bound(len).saturating_add(STREAM_FIXED)
}

thread_local! {
    /// Bytes allocated by this thread less those it freed (negative when it frees what
    /// another thread allocated; only differences within one `measure` are used).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` since the last `measure` began.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Set by the first allocation counted: the allocator is installed.
static SEEN: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts, per thread, the bytes it hands out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

fn grew(by: usize) {
    let by = by as isize; // a layout's size never exceeds isize::MAX
                          // `try_with`: during thread teardown the cells may be gone; the counts then do not
                          // matter. The cells are `const`-initialised `Cell<isize>`s without a destructor, so
                          // reaching them allocates nothing (no recursion into the allocator).
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(by);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn shrank(by: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(by as isize)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are ours; the counting around the calls touches only thread-local
// `Cell<isize>`s (no allocation, no reentrancy) and an atomic flag.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        SEEN.store(true, Ordering::Relaxed);
        grew(layout.size());
        // SAFETY: the caller's contract for `GlobalAlloc::alloc`, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        SEEN.store(true, Ordering::Relaxed);
        grew(layout.size());
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the worst case of a move: both blocks live at the peak.
        grew(new_size);
        shrank(layout.size());
        // SAFETY: the caller's contract for `GlobalAlloc::realloc`, passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its result with the most bytes it held allocated at once (above
/// what was allocated when it started), on this thread.
///
/// Panics when [`Counting`] is not the global allocator: a fuzz binary or test that runs
/// the targets must install it (`#[global_allocator] static A: Counting = Counting;`).
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.with(Cell::get);
    // Nested measures: the outer one's peak so far is kept and restored at the end.
    let outer = PEAK.with(|peak| peak.replace(before));
    let out = f();
    let peak = PEAK.with(|p| p.replace(p.get().max(outer)));
    assert!(
        SEEN.load(Ordering::Relaxed),
        "fuzzing::alloc::Counting is not the global allocator: the allocation oracle \
         cannot see anything"
    );
    (out, peak.saturating_sub(before).max(0) as usize)
}

/// Runs `f` (a decode of `input_len` bytes, `what` names it) and panics when it held
/// more than [`decode_bound`] at its peak.
pub fn bounded<T>(what: &str, input_len: usize, f: impl FnOnce() -> T) -> T {
    bounded_by(what, input_len, decode_bound(input_len), f)
}

/// As [`bounded`] with an explicit bound.
pub fn bounded_by<T>(what: &str, input_len: usize, bound: usize, f: impl FnOnce() -> T) -> T {
    let (out, peak) = measure(f);
    assert!(
        peak <= bound,
        "{what}: {peak} bytes allocated at the peak for {input_len} input bytes (bound \
         {bound})"
    );
    out
}

/// core's own unit tests run `session::run`, which measures: they count too.
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_is_linear_and_saturates() {
        assert_eq!(decode_bound(0), FIXED);
        assert_eq!(decode_bound(10), 10 * PER_INPUT_BYTE + FIXED);
        assert_eq!(decode_bound(usize::MAX), usize::MAX);
    }
}
