//! Transports that carry Thrift messages: Buffered, Framed, Kitex TTHeader (also with a
//! framed payload), Apache THeader, and transport detection from a frame's first bytes.
//!
//! - [`decode_frame`] / [`decode_frame_bytes`] take one frame off the front of a buffer and
//!   return a [`Frame`]: transport, payload protocol, [`Header`] with [`Metadata`], and the
//!   payload slice with its absolute offset. [`frame_len`] tells a stream reader how many
//!   bytes the next frame needs; [`detect`] recognises transport and protocol as a Kitex
//!   server does.
//! - [`encode_frame`] writes a message as one frame into a single exactly-sized buffer.
//!
//! Every decoder is bounded by `DecodeLimits` (frame length checked against `max_frame`
//! before anything else, strings against `max_string`), never panics, and reports a
//! `DecodeError` with the absolute offset. Transforms (zlib, snappy, ...) are not
//! implemented: a frame that uses one is refused with `UnknownTransform`.

mod decode;
mod detect;
mod encode;
mod fixed;
mod header;
mod int_key;
mod metadata;
mod theader;
mod transport;
mod ttheader;

pub use decode::{decode_frame, decode_frame_bytes, frame_len, Frame};
pub use detect::detect;
pub use encode::{encode_frame, MAX_WRITE_FRAME};
pub use header::Header;
pub use int_key::IntKey;
pub use metadata::{display_value, Metadata};
pub use transport::{Transport, UnknownTransportName};
