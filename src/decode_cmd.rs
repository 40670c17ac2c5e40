//! `faultline decode`: reads bytes (raw or hex) from a file or stdin, decodes every frame in
//! them, and prints frame header, metadata, message envelope and `Value` tree as JSON.
//!
//! On malformed input it prints the frames decoded so far and the structured error (kind,
//! absolute byte offset, what was expected) and exits 1; unreadable input exits 2.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use faultline_core::frame::{decode_frame, display_value, Header, Transport};
use faultline_core::protocol::{DecodeError, DecodeLimits, ErrorKind, ProtocolId, Value};
use serde_json::{json, Map, Value as Json};

use crate::value_json;

#[derive(Args)]
pub struct DecodeArgs {
    /// Framing of the input; `auto` detects it as a Kitex server does.
    #[arg(long, value_enum, default_value_t = FrameArg::Auto)]
    frame: FrameArg,
    /// Payload protocol; `auto` takes it from the header or the payload's first bytes.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Auto)]
    protocol: ProtocolArg,
    /// The input is hex text (whitespace and `0x` prefixes ignored), not raw bytes.
    #[arg(long)]
    hex: bool,
    /// Largest frame accepted, in bytes.
    #[arg(long, default_value_t = DecodeLimits::DEFAULT_MAX_FRAME)]
    max_frame: usize,
    /// Deepest nesting of structs and containers accepted.
    #[arg(long, default_value_t = DecodeLimits::DEFAULT_MAX_DEPTH)]
    max_depth: usize,
    /// File to read; `-` reads standard input.
    input: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum FrameArg {
    Auto,
    Ttheader,
    TtheaderFramed,
    Theader,
    Framed,
    Buffered,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProtocolArg {
    Auto,
    Binary,
    Compact,
}

impl FrameArg {
    fn transport(self) -> Option<Transport> {
        match self {
            FrameArg::Auto => None,
            FrameArg::Ttheader => Some(Transport::TTHeader),
            FrameArg::TtheaderFramed => Some(Transport::TTHeaderFramed),
            FrameArg::Theader => Some(Transport::THeader),
            FrameArg::Framed => Some(Transport::Framed),
            FrameArg::Buffered => Some(Transport::Buffered),
        }
    }
}

impl ProtocolArg {
    fn protocol(self) -> Option<ProtocolId> {
        match self {
            ProtocolArg::Auto => None,
            ProtocolArg::Binary => Some(ProtocolId::Binary),
            ProtocolArg::Compact => Some(ProtocolId::Compact),
        }
    }
}

pub fn run(args: &DecodeArgs) -> ExitCode {
    let bytes = match read_input(args) {
        Ok(bytes) => bytes,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let limits = DecodeLimits {
        max_frame: args.max_frame,
        max_string: args.max_frame,
        max_container: args.max_frame,
        max_depth: args.max_depth,
    };
    let (frames, error) = decode_all(&bytes, args, &limits);
    let mut out = Map::new();
    out.insert("frames".into(), Json::Array(frames));
    if let Some(err) = &error {
        out.insert("error".into(), error_json(err));
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&Json::Object(out)).unwrap_or_default()
    );
    match error {
        Some(err) => {
            eprintln!("error: {err}");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}

/// Decodes frame after frame until the input ends or a frame fails.
fn decode_all(
    bytes: &[u8],
    args: &DecodeArgs,
    limits: &DecodeLimits,
) -> (Vec<Json>, Option<DecodeError>) {
    let mut frames = Vec::new();
    let mut offset = 0;
    if bytes.is_empty() {
        let eof = ErrorKind::UnexpectedEof {
            needed: 1,
            remaining: 0,
        };
        return (frames, Some(DecodeError::new(eof, 0, "a frame")));
    }
    while offset < bytes.len() {
        match decode_one(&bytes[offset..], offset, args, limits) {
            Ok((json, len)) => {
                frames.push(json);
                offset += len;
            }
            Err(err) => return (frames, Some(err)),
        }
    }
    (frames, None)
}

fn decode_one(
    buf: &[u8],
    base: usize,
    args: &DecodeArgs,
    limits: &DecodeLimits,
) -> Result<(Json, usize), DecodeError> {
    let frame = decode_frame(
        buf,
        args.frame.transport(),
        args.protocol.protocol(),
        limits,
    )
    .map_err(|e| e.shifted(base))?;
    let message = frame
        .decode_message::<Value>(*limits)
        .map_err(|e| e.shifted(base))?;
    let json = json!({
        "offset": base,
        "length": frame.len,
        "transport": frame.transport.name(),
        "protocol": frame.protocol.name(),
        "header": frame.header.as_ref().map(header_json),
        "message": value_json::message_header(&message.header),
        "body": value_json::value(&message.body),
    });
    Ok((json, frame.len))
}

fn header_json(header: &Header) -> Json {
    let int: Map<String, Json> = header
        .metadata
        .int_entries()
        .map(|(num, key, value)| {
            let name = match key {
                Some(key) => format!("{}({num})", key.name()),
                None => format!("int({num})"),
            };
            (name, json!(display_value(value)))
        })
        .collect();
    let strings: Map<String, Json> = header
        .metadata
        .strings
        .iter()
        .map(|(k, v)| (k.clone(), json!(display_value(v))))
        .collect();
    json!({
        "flags": header.flags,
        "seq_id": header.seq_id,
        "protocol": header.protocol.name(),
        "transforms": header.transforms,
        "int": int,
        "strings": strings,
        "acl_token": header.metadata.acl_token.as_deref().map(display_value),
    })
}

fn error_json(err: &DecodeError) -> Json {
    json!({
        "kind": err.kind_name(),
        "offset": err.offset,
        "expected": err.expected,
        "message": err.kind.to_string(),
    })
}

fn read_input(args: &DecodeArgs) -> Result<Vec<u8>, String> {
    let raw = if args.input.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("reading standard input: {e}"))?;
        buf
    } else {
        std::fs::read(&args.input).map_err(|e| format!("reading {}: {e}", args.input.display()))?
    };
    if args.hex {
        parse_hex(&raw)
    } else {
        Ok(raw)
    }
}

/// Hex text to bytes: whitespace, `0x` prefixes and `:`/`,` separators are ignored.
fn parse_hex(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "hex input is not text".to_owned())?;
    let mut digits = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let mut chars = line.chars().enumerate().peekable();
        let mut at_word_start = true;
        while let Some((col, c)) = chars.next() {
            if c.is_whitespace() || c == ':' || c == ',' {
                at_word_start = true;
                continue;
            }
            if at_word_start && c == '0' && matches!(chars.peek(), Some((_, 'x' | 'X'))) {
                chars.next();
                at_word_start = false;
                continue;
            }
            at_word_start = false;
            let digit = c.to_digit(16).ok_or_else(|| {
                format!(
                    "hex input {}:{}: {c:?} is not a hex digit",
                    line_no + 1,
                    col + 1
                )
            })?;
            digits.push(digit as u8);
        }
    }
    if digits.len() % 2 != 0 {
        return Err(format!(
            "hex input has an odd number of digits ({})",
            digits.len()
        ));
    }
    Ok(digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect())
}

#[cfg(test)]
mod tests {
    use super::parse_hex;

    #[test]
    fn hex_accepts_common_dump_forms() {
        assert_eq!(
            parse_hex(b"00 0a\n0xFF,10:ab").unwrap(),
            [0, 10, 255, 16, 171]
        );
    }

    #[test]
    fn hex_errors_name_line_and_char() {
        assert_eq!(
            parse_hex(b"00\n0g").unwrap_err(),
            "hex input 2:2: 'g' is not a hex digit"
        );
        assert!(parse_hex(b"abc").unwrap_err().contains("odd number"));
    }
}
