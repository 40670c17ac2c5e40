//! Frame encoding: sizes the whole frame first (header with its padding, payload through
//! `encoded_len`), allocates one buffer of exactly that capacity, and writes it once.

use bytes::{BufMut, BytesMut};

use super::{theader, ttheader, Header, Transport};
use crate::protocol::{encoded_len, Encode, EncodeError, EncodeResult, Protocol};

/// The largest length field faultline writes: Kitex's `MaxFrameSize` and Apache's
/// `HARD_MAX_FRAME_SIZE` (`0x3FFF_FFFF`).
pub const MAX_WRITE_FRAME: usize = 0x3FFF_FFFF;

/// Encodes `message` in protocol `P` as one frame of `transport`.
///
/// `header` is required to be `None` for Buffered and Framed; for the header transports
/// `None` means an empty header (flags 0, seq id 0), and a given header must name `P`'s
/// protocol. Errors: a header on a headerless transport or a protocol mismatch
/// (`Invalid`), a TTHeader count/key/value longer than `u16` or a header over 64 KiB
/// (`TooLong`), int keys or an ACL token in a THeader (`Invalid`), transforms (`Invalid`:
/// none implemented), a frame over `MAX_WRITE_FRAME` (`TooLong`), and whatever the
/// message's own encoding reports.
pub fn encode_frame<P: Protocol, M: Encode + ?Sized>(
    transport: Transport,
    header: Option<&Header>,
    message: &M,
) -> EncodeResult<BytesMut> {
    let payload_len = encoded_len::<P, M>(message)?;
    let default;
    let header = match (transport.has_header(), header) {
        (false, None) => None,
        (false, Some(_)) => {
            return Err(EncodeError::Invalid(
                "Buffered and Framed frames carry no header",
            ))
        }
        (true, Some(h)) => Some(h),
        (true, None) => {
            default = Header::new(P::ID, 0);
            Some(&default)
        }
    };
    if let Some(h) = header {
        if h.protocol != P::ID {
            return Err(EncodeError::Invalid(
                "the header's protocol differs from the protocol encoding the payload",
            ));
        }
    }
    let header_len = match (transport, header) {
        (Transport::THeader, Some(h)) => theader::encoded_len(h)?,
        (Transport::TTHeader | Transport::TTHeaderFramed, Some(h)) => ttheader::encoded_len(h)?,
        _ => 0,
    };
    // Bytes after the 4-byte length field.
    let body_len = match transport {
        Transport::Buffered => payload_len,
        Transport::Framed => payload_len,
        Transport::TTHeader | Transport::THeader => 10 + header_len + payload_len,
        Transport::TTHeaderFramed => 10 + header_len + 4 + payload_len,
    };
    let too_long = |len| EncodeError::TooLong { what: "frame", len };
    if body_len > MAX_WRITE_FRAME {
        return Err(too_long(body_len));
    }
    let body_field = u32::try_from(body_len).map_err(|_| too_long(body_len))?;
    let payload_field = u32::try_from(payload_len).map_err(|_| too_long(payload_len))?;
    let total = match transport {
        Transport::Buffered => payload_len,
        _ => 4 + body_len,
    };

    let mut out = BytesMut::with_capacity(total);
    match (transport, header) {
        (Transport::Buffered, _) => {}
        (Transport::Framed, _) => out.put_u32(payload_field),
        (Transport::THeader, Some(h)) => theader::write(&mut out, body_field, h, header_len),
        (Transport::TTHeader, Some(h)) => ttheader::write(&mut out, body_field, h, header_len),
        (Transport::TTHeaderFramed, Some(h)) => {
            ttheader::write(&mut out, body_field, h, header_len);
            out.put_u32(payload_field);
        }
        _ => return Err(EncodeError::Invalid("header transport without a header")),
    }
    message.encode(&mut P::writer(&mut out))?;
    if out.len() != total {
        return Err(EncodeError::Invalid(
            "the message wrote a different size than it measured",
        ));
    }
    Ok(out)
}
