//! The Thrift Compact protocol: zigzag varints, field-id deltas (saved and restored around
//! nested structs), bools packed into field headers, little-endian doubles, short
//! collection headers and UUIDs.
//!
//! `read` holds `CompactReader`, `write` holds `CompactWriter`; the header constants, the
//! bool type ids and the field-id stack they share are here.

mod read;
mod write;

pub use read::CompactReader;
pub use write::CompactWriter;

const PROTOCOL_ID: u8 = 0x82;
const VERSION: u8 = 1;
const TYPE_SHIFT: u8 = 5;

const CT_BOOL_TRUE: u8 = 1;
const CT_BOOL_FALSE: u8 = 2;

/// Nested structs tracked without a heap allocation: real messages rarely nest deeper,
/// and a small array keeps creating a reader or writer cheap.
const INLINE_FIELD_IDS: usize = 16;

/// The last field id of each open struct: a fixed stack for the usual depth, spilling to
/// the heap only for inputs whose limits allow deeper nesting.
#[derive(Debug, Clone)]
struct FieldIdStack {
    inline: [i16; INLINE_FIELD_IDS],
    spill: Vec<i16>,
    len: usize,
}

impl FieldIdStack {
    fn new() -> Self {
        Self {
            inline: [0; INLINE_FIELD_IDS],
            spill: Vec::new(),
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, id: i16) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = id,
            None => self.spill.push(id),
        }
        self.len += 1;
    }

    #[inline]
    fn pop(&mut self) -> i16 {
        if self.len == 0 {
            return 0;
        }
        self.len -= 1;
        match self.inline.get(self.len) {
            Some(&id) => id,
            None => self.spill.pop().unwrap_or(0),
        }
    }
}
