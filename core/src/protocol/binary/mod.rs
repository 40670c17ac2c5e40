//! The Thrift Binary protocol: big-endian fixed-width integers and i32 length prefixes.
//!
//! Reads both the strict message header (`0x80010000 | type`) and the old non-strict form
//! (name length first); always writes the strict form.
//!
//! `read` holds `BinaryReader`, `write` holds `BinaryWriter`; the message header's version
//! word they share is here.

mod read;
mod write;

pub use read::BinaryReader;
pub use write::BinaryWriter;

const VERSION_1: u32 = 0x8001_0000;
