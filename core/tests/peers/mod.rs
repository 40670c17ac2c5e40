//! Test support shared by the `interop_rust*` tests: adapters that drive two Rust Thrift
//! stacks nobody here wrote — the Apache `thrift` crate ([`apache`], which lives in
//! `faultline_core::fuzzing` so the differential fuzz targets use the same one) and
//! CloudWeGo's `pilota` ([`pilota`]) — from and into faultline's dynamic [`Value`] tree,
//! plus faultline's own encode/decode behind the same small API so a test can line the
//! three up.
//!
//! Each peer module offers the same functions: `write_value` / `read_value` over the peer's
//! own protocol traits, `write_message` / `read_message`, and byte-level conveniences
//! `encode` / `decode` / `encode_message` / `decode_message` that pick the protocol from a
//! [`Proto`]. `decode*` fail on trailing bytes, as faultline's `decode_from_slice` does.
//!
//! Not every test binary uses every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod pilota;

pub use faultline_core::fuzzing::{apache, Proto};

use faultline_core::protocol::{
    encode_to_vec, expect_end, Binary, BinaryReader, Compact, CompactReader, DecodeLimits,
    DecodeResult, Message, ProtocolReader, TType, Value,
};

/// faultline's encoding of `v` in `proto`.
pub fn fl_encode(v: &Value, proto: Proto) -> Vec<u8> {
    match proto {
        Proto::Binary => encode_to_vec::<Binary, _>(v),
        Proto::Compact => encode_to_vec::<Compact, _>(v),
    }
    .expect("faultline encodes every well-typed Value")
}

/// faultline's encoding of a whole message in `proto`.
pub fn fl_encode_message(m: &Message<Value>, proto: Proto) -> Vec<u8> {
    match proto {
        Proto::Binary => encode_to_vec::<Binary, _>(m),
        Proto::Compact => encode_to_vec::<Compact, _>(m),
    }
    .expect("faultline encodes every well-typed message")
}

fn read_all<'a, R: ProtocolReader<'a>>(
    mut reader: R,
    f: impl FnOnce(&mut R) -> DecodeResult<Value>,
) -> DecodeResult<Value> {
    let v = f(&mut reader)?;
    expect_end(&reader)?;
    Ok(v)
}

/// faultline's decoding of one value of type `ttype` filling all of `bytes`.
pub fn fl_decode(bytes: &[u8], ttype: TType, proto: Proto) -> DecodeResult<Value> {
    fl_decode_with(bytes, ttype, proto, DecodeLimits::default())
}

/// As [`fl_decode`], with explicit limits.
pub fn fl_decode_with(
    bytes: &[u8],
    ttype: TType,
    proto: Proto,
    limits: DecodeLimits,
) -> DecodeResult<Value> {
    match proto {
        Proto::Binary => read_all(BinaryReader::from_slice(bytes, limits), |r| {
            Value::decode(r, ttype)
        }),
        Proto::Compact => read_all(CompactReader::from_slice(bytes, limits), |r| {
            Value::decode(r, ttype)
        }),
    }
}

/// faultline's decoding of one message filling all of `bytes`.
pub fn fl_decode_message(bytes: &[u8], proto: Proto) -> DecodeResult<Message<Value>> {
    fn go<'a, R: ProtocolReader<'a>>(mut r: R) -> DecodeResult<Message<Value>> {
        let m = Message::<Value>::decode(&mut r)?;
        expect_end(&r)?;
        Ok(m)
    }
    let limits = DecodeLimits::default();
    match proto {
        Proto::Binary => go(BinaryReader::from_slice(bytes, limits)),
        Proto::Compact => go(CompactReader::from_slice(bytes, limits)),
    }
}

/// What a decoder of `proto` can give back for `v`: Compact writes an empty map as a single
/// 0x00 without key/value types, so every reader (faultline, Apache, pilota) reports such a
/// map as `Void -> Void` (the adapters map the peers' `None` / `Stop` onto `Void`).
pub fn expected_after(v: &Value, proto: Proto) -> Value {
    match proto {
        Proto::Binary => v.clone(),
        Proto::Compact => v.compact_view(),
    }
}

/// True if some struct in `v` has a field whose id is exactly 15 above the previous field's
/// (or 15 for the first field). The Compact spec and the Java/C++/Python/Go libraries use
/// the one-byte short form for deltas 1..=15, and so does faultline; the Apache Rust crate
/// and pilota only use it for 1..=14 and write delta 15 in the long form. Both forms decode
/// everywhere, but the bytes differ.
pub fn has_compact_delta_15(v: &Value) -> bool {
    match v {
        Value::Struct(fields) => {
            let mut last = 0i32;
            fields.iter().any(|f| {
                let delta = i32::from(f.id) - last;
                last = i32::from(f.id);
                delta == 15 || has_compact_delta_15(&f.value)
            })
        }
        Value::List { items, .. } | Value::Set { items, .. } => {
            items.iter().any(has_compact_delta_15)
        }
        Value::Map { entries, .. } => entries
            .iter()
            .any(|(k, v)| has_compact_delta_15(k) || has_compact_delta_15(v)),
        _ => false,
    }
}

/// Hex dump for assertion messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// True if `v` holds a double anywhere. pilota 0.13's Compact writer puts doubles
/// big-endian (`BufMut::put_f64`), while the Compact spec, faultline, the Apache crate and
/// pilota's own Compact reader use little-endian: pilota's Compact bytes for such a value
/// are wrong and are left out of the byte and decode comparisons (pinned by a test).
pub fn has_double(v: &Value) -> bool {
    match v {
        Value::Double(_) => true,
        Value::Struct(fields) => fields.iter().any(|f| has_double(&f.value)),
        Value::List { items, .. } | Value::Set { items, .. } => items.iter().any(has_double),
        Value::Map { entries, .. } => entries.iter().any(|(k, v)| has_double(k) || has_double(v)),
        _ => false,
    }
}
