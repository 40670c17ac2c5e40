//! The stream codec: whole frames off a byte stream, and replies framed like the request.
//!
//! - [`FrameReader`] reads one frame at a time into a reusable buffer, sized by
//!   `frame::frame_len` and bounded by `DecodeLimits::max_frame`; the buffer grows only as
//!   bytes arrive, never to a length a peer merely announced. It detects the connection's
//!   transport and protocol on the first frame and holds every later frame to them.
//! - [`Framing`] says how a request came (transport, protocol, header) and encodes a reply
//!   the same way: TTHeader replies carry the sequence id and `MsgType` in the header.
//! - [`write_frame`] writes an encoded frame.

mod framing;
mod reader;

pub use framing::Framing;
pub use reader::{FrameReader, ReadError};

use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Writes one encoded frame and flushes it.
pub async fn write_frame<W: AsyncWrite + Unpin>(io: &mut W, frame: &[u8]) -> std::io::Result<()> {
    io.write_all(frame).await?;
    io.flush().await
}
