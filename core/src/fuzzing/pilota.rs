//! The pilota differential (`diff_pilota_binary`, `diff_pilota_compact`): the same bytes
//! into faultline and CloudWeGo's `pilota` 0.13 (Kitex's Rust codec), then what both
//! accepted written back by pilota and read by faultline.
//!
//! The adapter reads and writes a `Value` through pilota's protocol traits, with the calls
//! pilota-generated code makes and nothing else; the targets read with [`Fix371::AsShipped`]
//! (no work-around for pilota's bugs), the interop tests (`core/tests/interop_rust.rs`)
//! with [`Fix371::Restore`] to compare the rest. It stops at 64 levels of nesting (pilota has no depth limit, and the fuzzer must
//! not overflow the stack). pilota does not bounds-check lengths (`Bytes::split_to`
//! panics), so its panics are caught and are findings like any other disagreement.
//!
//! Every disagreement gets a signature: a short name for what differed, free of the
//! input's particulars (see [`Disagreement::signature`]). A disagreement whose signature
//! is *known* is tolerated and the run goes on; any other one panics (a crash, with the
//! input). The known list is [`KNOWN`] (pilota's bugs as documented in FUZZING.md, so the
//! CI smoke run passes), or the comma-separated list in the environment variable
//! `FAULTLINE_PILOTA_KNOWN` when it is set: set it to the empty string to rediscover
//! everything from nothing, then add each signature found to go on to the next.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;

use ::pilota::thrift::binary::TBinaryProtocol;
use ::pilota::thrift::compact::{TCompactInputProtocol, TCompactOutputProtocol};
use ::pilota::thrift::{
    new_protocol_exception, ProtocolExceptionKind, TInputProtocol, TListIdentifier, TMapIdentifier,
    TMessageIdentifier, TMessageType, TOutputProtocol, TSetIdentifier, TStructIdentifier,
    TType as PType, ThriftException,
};
use ::pilota::{Bytes, BytesMut, FastStr};

use super::Proto;
use crate::protocol::{
    DecodeError, ErrorKind, Field, Message, MessageHeader, MessageType, TType, Value,
};

/// Signatures tolerated when `FAULTLINE_PILOTA_KNOWN` is not set, each found by these
/// targets from an empty corpus (FUZZING.md has the inputs and times to find): pilota
/// 0.13's bugs, then the differences where pilota is stricter or laxer on purpose or by
/// design, which are no bugs of either side.
pub const KNOWN: &[&str] = &[
    // Bug: a length past the end of the input panics in `Bytes::split_to` (both protocols).
    "pilota panics: split_to out of bounds",
    // Bug (cloudwego/pilota#371): Compact loses the field-id base after a nested struct.
    "value differs: field id",
    // Bug: the Compact writer puts doubles big-endian (the reader takes little-endian).
    "pilota's bytes read back differently: double byte order",
    // Bug (debug builds; the Apache crate shares it): the Compact writer computes a
    // field-id delta in i16, which overflows from a negative id to a large positive one.
    "pilota panics: attempt to subtract with overflow",
    // Bug (debug builds): the Compact reader adds a field-id delta in i16, which overflows
    // after a long-form id near i16::MAX (release builds wrap to a negative id).
    "pilota panics: attempt to add with overflow",
    // Bug: message names are made with `FastStr::from_bytes_unchecked` (not UTF-8 checked).
    "pilota panics: pilota made a message name that is not UTF-8",
    // Difference: a Compact bool element 0x00 (the old false, which faultline reads).
    "pilota refuses: cannot convert Stop into bool",
    // Difference: pilota bounds a varint by its type's shortest form (3 bytes for i16);
    // faultline takes padding up to 5 / 10 bytes, as the Apache crate does.
    "pilota refuses: Unterminated varint",
    // Difference: pilota reads a Binary message type from the low 4 bits and ignores the
    // rest of the byte; faultline refuses unknown type bytes.
    "faultline refuses: InvalidMessageType",
];

/// Deepest nesting the adapter reads.
const MAX_DEPTH: usize = 64;

/// Whether the reader works around cloudwego/pilota#371: pilota 0.13's
/// `TCompactInputProtocol::read_struct_end` does not pop the field-id stack that
/// `read_struct_begin` pushed, so a field read after a nested struct gets its delta applied
/// to the inner struct's last id. `Restore` calls the protocol's own `struct_end_len()`
/// after `read_struct_end()`, which pops and restores (the interop tests compare the rest
/// that way); `AsShipped` keeps the bug (the fuzz targets find it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix371 {
    Restore,
    AsShipped,
}

fn with_output(
    f: impl FnOnce(&mut BytesMut) -> Result<(), ThriftException>,
) -> Result<Vec<u8>, ThriftException> {
    let mut out = BytesMut::new();
    f(&mut out)?;
    Ok(out.to_vec())
}

fn check_consumed<T>(rest: &Bytes, t: T) -> Result<T, ThriftException> {
    match rest.is_empty() {
        true => Ok(t),
        false => Err(invalid(&format!("{} trailing bytes", rest.len()))),
    }
}

/// pilota's encoding of `v`.
pub fn encode(v: &Value, proto: Proto) -> Result<Vec<u8>, ThriftException> {
    with_output(|out| match proto {
        Proto::Binary => write_value(v, &mut TBinaryProtocol::new(out, false)),
        Proto::Compact => write_value(v, &mut TCompactOutputProtocol::new(out, false)),
    })
}

/// pilota's decoding of one value of type `t` filling all of `bytes`.
pub fn decode(bytes: &[u8], t: TType, proto: Proto, fix: Fix371) -> Result<Value, ThriftException> {
    let mut rest = Bytes::copy_from_slice(bytes);
    let v = match proto {
        Proto::Binary => read_value(&mut TBinaryProtocol::new(&mut rest, false), t, fix, 0)?,
        Proto::Compact => read_value(&mut TCompactInputProtocol::new(&mut rest), t, fix, 0)?,
    };
    check_consumed(&rest, v)
}

/// pilota's encoding of a message.
pub fn encode_message(m: &Message<Value>, proto: Proto) -> Result<Vec<u8>, ThriftException> {
    with_output(|out| match proto {
        Proto::Binary => write_message(m, &mut TBinaryProtocol::new(out, false)),
        Proto::Compact => write_message(m, &mut TCompactOutputProtocol::new(out, false)),
    })
}

/// pilota's decoding of a message filling all of `bytes` (Binary: strict header only).
pub fn decode_message(
    bytes: &[u8],
    proto: Proto,
    fix: Fix371,
) -> Result<Message<Value>, ThriftException> {
    let mut rest = Bytes::copy_from_slice(bytes);
    let m = match proto {
        Proto::Binary => read_message(&mut TBinaryProtocol::new(&mut rest, false), fix)?,
        Proto::Compact => read_message(&mut TCompactInputProtocol::new(&mut rest), fix)?,
    };
    check_consumed(&rest, m)
}

/// What faultline and pilota disagreed on.
#[derive(Debug)]
pub struct Disagreement {
    /// `"struct"` or `"message"`.
    pub what: &'static str,
    pub kind: DisagreementKind,
}

#[derive(Debug)]
pub enum DisagreementKind {
    /// pilota panicked (message as printed).
    PilotaPanicked(String),
    /// faultline accepted, pilota returned an error.
    PilotaRefused(String),
    /// pilota accepted, faultline refused.
    FaultlineRefused(DecodeError),
    /// Both accepted, with different values.
    ValuesDiffer {
        ours: String,
        theirs: String,
        at: Difference,
    },
    /// pilota's encoding of the value read back by faultline differs from the value.
    RoundTripDiffers { at: Difference },
}

/// The first place two values differ, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    /// Two doubles whose bits are each other's byte swap.
    DoubleByteOrder,
    /// Two structs whose fields differ only in their ids.
    FieldId,
    /// Message headers (name, kind, sequence id).
    Header,
    /// Anything else, at a value of this type.
    Other(TType),
}

impl Difference {
    fn name(self) -> String {
        match self {
            Difference::DoubleByteOrder => "double byte order".to_owned(),
            Difference::FieldId => "field id".to_owned(),
            Difference::Header => "message header".to_owned(),
            Difference::Other(t) => format!("at a {}", t.name()),
        }
    }
}

impl Disagreement {
    /// A short name for this disagreement that does not depend on the input's values:
    /// panic and error messages are cut at the first colon, brace or parenthesis and lose
    /// their numbers.
    pub fn signature(&self) -> String {
        fn general(message: &str) -> String {
            let head = message.split([':', '{', '(', '\n']).next().unwrap_or("");
            let words: Vec<&str> = head
                .split_whitespace()
                .filter(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
                .collect();
            words.join(" ")
        }
        match &self.kind {
            DisagreementKind::PilotaPanicked(m) => format!("pilota panics: {}", general(m)),
            DisagreementKind::PilotaRefused(m) => format!("pilota refuses: {}", general(m)),
            DisagreementKind::FaultlineRefused(e) => {
                format!("faultline refuses: {}", general(&format!("{:?}", e.kind)))
            }
            DisagreementKind::ValuesDiffer { at, .. } => format!("value differs: {}", at.name()),
            DisagreementKind::RoundTripDiffers { at } => {
                format!("pilota's bytes read back differently: {}", at.name())
            }
        }
    }
}

/// The signatures tolerated in this process (see the module doc).
pub fn known() -> &'static [String] {
    static KNOWN_NOW: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN_NOW.get_or_init(|| match std::env::var("FAULTLINE_PILOTA_KNOWN") {
        Ok(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Err(_) => KNOWN.iter().map(|s| (*s).to_owned()).collect(),
    })
}

thread_local! {
    /// Set while pilota runs: its panics are findings, not crashes, and print nothing.
    static IN_PILOTA: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (pilota code), catching its panic as `Err(message)`. The process's panic hook
/// (libFuzzer's aborts) is wrapped once so that it stays silent for these panics only.
fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_PILOTA.with(Cell::get) {
                previous(info);
            }
        }));
    });
    IN_PILOTA.with(|c| c.set(true));
    let out = panic::catch_unwind(AssertUnwindSafe(f));
    IN_PILOTA.with(|c| c.set(false));
    out.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

fn invalid(message: &str) -> ThriftException {
    new_protocol_exception(ProtocolExceptionKind::InvalidData, message.to_owned())
}

pub fn to_ttype(t: TType) -> PType {
    match t {
        TType::Stop => PType::Stop,
        TType::Void => PType::Void,
        TType::Bool => PType::Bool,
        TType::Byte => PType::I8,
        TType::Double => PType::Double,
        TType::I16 => PType::I16,
        TType::I32 => PType::I32,
        TType::I64 => PType::I64,
        TType::Binary => PType::Binary,
        TType::Struct => PType::Struct,
        TType::Map => PType::Map,
        TType::Set => PType::Set,
        TType::List => PType::List,
        TType::Uuid => PType::Uuid,
    }
}

pub fn from_ttype(t: PType) -> TType {
    match t {
        PType::Stop => TType::Stop,
        PType::Void => TType::Void,
        PType::Bool => TType::Bool,
        PType::I8 => TType::Byte,
        PType::Double => TType::Double,
        PType::I16 => TType::I16,
        PType::I32 => TType::I32,
        PType::I64 => TType::I64,
        PType::Binary => TType::Binary,
        PType::Struct => TType::Struct,
        PType::Map => TType::Map,
        PType::Set => TType::Set,
        PType::List => TType::List,
        PType::Uuid => TType::Uuid,
    }
}

pub fn to_message_type(k: MessageType) -> TMessageType {
    match k {
        MessageType::Call => TMessageType::Call,
        MessageType::Reply => TMessageType::Reply,
        MessageType::Exception => TMessageType::Exception,
        MessageType::Oneway => TMessageType::OneWay,
    }
}

pub fn from_message_type(k: TMessageType) -> MessageType {
    match k {
        TMessageType::Call => MessageType::Call,
        TMessageType::Reply => MessageType::Reply,
        TMessageType::Exception => MessageType::Exception,
        TMessageType::OneWay => MessageType::Oneway,
    }
}

static VALUE_IDENT: TStructIdentifier = TStructIdentifier { name: "Value" };

/// Writes `v` through pilota's protocol, with the calls pilota-generated `encode` makes.
pub fn write_value<P: TOutputProtocol>(v: &Value, o: &mut P) -> Result<(), ThriftException> {
    match v {
        Value::Bool(b) => o.write_bool(*b),
        Value::Byte(b) => o.write_i8(*b),
        Value::I16(i) => o.write_i16(*i),
        Value::I32(i) => o.write_i32(*i),
        Value::I64(i) => o.write_i64(*i),
        Value::Double(d) => o.write_double(*d),
        Value::Binary(b) => o.write_bytes(b.clone()),
        Value::Uuid(u) => o.write_uuid(*u),
        Value::Struct(fields) => {
            o.write_struct_begin(&VALUE_IDENT)?;
            for f in fields {
                o.write_field_begin(to_ttype(f.value.ttype()), f.id)?;
                write_value(&f.value, o)?;
                o.write_field_end()?;
            }
            o.write_field_stop()?;
            o.write_struct_end()
        }
        Value::List { elem, items } => {
            o.write_list_begin(TListIdentifier::new(to_ttype(*elem), items.len()))?;
            items.iter().try_for_each(|item| write_value(item, o))?;
            o.write_list_end()
        }
        Value::Set { elem, items } => {
            o.write_set_begin(TSetIdentifier::new(to_ttype(*elem), items.len()))?;
            items.iter().try_for_each(|item| write_value(item, o))?;
            o.write_set_end()
        }
        Value::Map {
            key,
            value,
            entries,
        } => {
            o.write_map_begin(TMapIdentifier::new(
                to_ttype(*key),
                to_ttype(*value),
                entries.len(),
            ))?;
            for (k, v) in entries {
                write_value(k, o)?;
                write_value(v, o)?;
            }
            o.write_map_end()
        }
    }
}

/// Reads one value of type `t` through pilota's protocol, `depth` levels down, working
/// around cloudwego/pilota#371 or not as `fix` says.
pub fn read_value<P: TInputProtocol>(
    i: &mut P,
    t: TType,
    fix: Fix371,
    depth: usize,
) -> Result<Value, ThriftException> {
    let nested = matches!(t, TType::Struct | TType::List | TType::Set | TType::Map);
    if nested && depth >= MAX_DEPTH {
        return Err(invalid("nested too deep for the adapter"));
    }
    Ok(match t {
        TType::Bool => Value::Bool(i.read_bool()?),
        TType::Byte => Value::Byte(i.read_i8()?),
        TType::I16 => Value::I16(i.read_i16()?),
        TType::I32 => Value::I32(i.read_i32()?),
        TType::I64 => Value::I64(i.read_i64()?),
        TType::Double => Value::Double(i.read_double()?),
        TType::Binary => Value::Binary(i.read_bytes()?),
        TType::Uuid => Value::Uuid(i.read_uuid()?),
        TType::Struct => {
            i.read_struct_begin()?;
            let mut fields = Vec::new();
            loop {
                let f = i.read_field_begin()?;
                if f.field_type == PType::Stop {
                    break;
                }
                let id = f.id.ok_or_else(|| invalid("field without id"))?;
                let value = read_value(i, from_ttype(f.field_type), fix, depth + 1)?;
                i.read_field_end()?;
                fields.push(Field { id, value });
            }
            i.read_struct_end()?;
            if fix == Fix371::Restore {
                i.struct_end_len();
            }
            Value::Struct(fields)
        }
        TType::List => {
            let h = i.read_list_begin()?;
            let elem = from_ttype(h.element_type);
            let items = read_items(i, elem, h.size, fix, depth)?;
            i.read_list_end()?;
            Value::List { elem, items }
        }
        TType::Set => {
            let h = i.read_set_begin()?;
            let elem = from_ttype(h.element_type);
            let items = read_items(i, elem, h.size, fix, depth)?;
            i.read_set_end()?;
            Value::Set { elem, items }
        }
        TType::Map => {
            let h = i.read_map_begin()?;
            let (key, value) = if h.size == 0 && h.key_type == PType::Stop {
                // pilota's Compact reader: an empty map has no types on the wire.
                (TType::Void, TType::Void)
            } else {
                (from_ttype(h.key_type), from_ttype(h.value_type))
            };
            let mut entries = Vec::new();
            for _ in 0..h.size {
                let k = read_value(i, key, fix, depth + 1)?;
                let v = read_value(i, value, fix, depth + 1)?;
                entries.push((k, v));
            }
            i.read_map_end()?;
            Value::Map {
                key,
                value,
                entries,
            }
        }
        TType::Stop | TType::Void => return Err(invalid("not a value type")),
    })
}

fn read_items<P: TInputProtocol>(
    i: &mut P,
    elem: TType,
    size: usize,
    fix: Fix371,
    depth: usize,
) -> Result<Vec<Value>, ThriftException> {
    let mut items = Vec::new();
    for _ in 0..size {
        items.push(read_value(i, elem, fix, depth + 1)?);
    }
    Ok(items)
}

pub fn read_message<P: TInputProtocol>(
    i: &mut P,
    fix: Fix371,
) -> Result<Message<Value>, ThriftException> {
    let h = i.read_message_begin()?;
    // pilota's Binary and Compact readers build the name with
    // `FastStr::from_bytes_unchecked`: a name that is not UTF-8 is a finding, reported as
    // a panic before anything reads it as a `str`.
    let name = String::from_utf8(h.name.as_bytes().to_vec())
        .unwrap_or_else(|_| panic!("pilota made a message name that is not UTF-8"));
    let body = read_value(i, TType::Struct, fix, 0)?;
    i.read_message_end()?;
    Ok(Message {
        header: MessageHeader {
            name,
            kind: from_message_type(h.message_type),
            seq_id: h.sequence_number,
        },
        body,
    })
}

pub fn write_message<P: TOutputProtocol>(
    m: &Message<Value>,
    o: &mut P,
) -> Result<(), ThriftException> {
    o.write_message_begin(&TMessageIdentifier::new(
        FastStr::new(&m.header.name),
        to_message_type(m.header.kind),
        m.header.seq_id,
    ))?;
    write_value(&m.body, o)?;
    o.write_message_end()?;
    o.flush()
}

/// A value both sides can read and write: a bare struct or a whole message.
pub trait Peer: Sized + PartialEq + std::fmt::Debug {
    fn pilota_read(proto: Proto, bytes: &mut Bytes) -> Result<Self, ThriftException>;
    fn pilota_write(&self, proto: Proto) -> Result<Vec<u8>, ThriftException>;
    /// Where `self` and `other` first differ (`None`: equal).
    fn difference(&self, other: &Self) -> Option<Difference>;
}

impl Peer for Value {
    fn pilota_read(proto: Proto, bytes: &mut Bytes) -> Result<Self, ThriftException> {
        match proto {
            Proto::Binary => read_value(
                &mut TBinaryProtocol::new(bytes, false),
                TType::Struct,
                Fix371::AsShipped,
                0,
            ),
            Proto::Compact => read_value(
                &mut TCompactInputProtocol::new(bytes),
                TType::Struct,
                Fix371::AsShipped,
                0,
            ),
        }
    }

    fn pilota_write(&self, proto: Proto) -> Result<Vec<u8>, ThriftException> {
        let mut out = BytesMut::new();
        match proto {
            Proto::Binary => write_value(self, &mut TBinaryProtocol::new(&mut out, false))?,
            Proto::Compact => write_value(self, &mut TCompactOutputProtocol::new(&mut out, false))?,
        }
        Ok(out.to_vec())
    }

    fn difference(&self, other: &Self) -> Option<Difference> {
        first_difference(self, other)
    }
}

impl Peer for Message<Value> {
    fn pilota_read(proto: Proto, bytes: &mut Bytes) -> Result<Self, ThriftException> {
        match proto {
            Proto::Binary => {
                read_message(&mut TBinaryProtocol::new(bytes, false), Fix371::AsShipped)
            }
            Proto::Compact => {
                read_message(&mut TCompactInputProtocol::new(bytes), Fix371::AsShipped)
            }
        }
    }

    fn pilota_write(&self, proto: Proto) -> Result<Vec<u8>, ThriftException> {
        let mut out = BytesMut::new();
        match proto {
            Proto::Binary => write_message(self, &mut TBinaryProtocol::new(&mut out, false))?,
            Proto::Compact => {
                write_message(self, &mut TCompactOutputProtocol::new(&mut out, false))?
            }
        }
        Ok(out.to_vec())
    }

    fn difference(&self, other: &Self) -> Option<Difference> {
        if self.header != other.header {
            return Some(Difference::Header);
        }
        first_difference(&self.body, &other.body)
    }
}

fn first_difference(a: &Value, b: &Value) -> Option<Difference> {
    fn items(a: &[Value], b: &[Value], t: TType) -> Option<Difference> {
        if a.len() != b.len() {
            return Some(Difference::Other(t));
        }
        a.iter().zip(b).find_map(|(x, y)| first_difference(x, y))
    }
    match (a, b) {
        (Value::Double(x), Value::Double(y)) if x.to_bits() != y.to_bits() => {
            Some(if x.to_bits().swap_bytes() == y.to_bits() {
                Difference::DoubleByteOrder
            } else {
                Difference::Other(TType::Double)
            })
        }
        (Value::Struct(x), Value::Struct(y)) if x.len() == y.len() => {
            x.iter().zip(y).find_map(|(f, g)| {
                if f.id != g.id {
                    Some(Difference::FieldId)
                } else {
                    first_difference(&f.value, &g.value)
                }
            })
        }
        (Value::List { elem: e, items: x }, Value::List { elem: f, items: y })
        | (Value::Set { elem: e, items: x }, Value::Set { elem: f, items: y })
            if e == f =>
        {
            items(x, y, a.ttype())
        }
        (
            Value::Map {
                key: k1,
                value: v1,
                entries: x,
            },
            Value::Map {
                key: k2,
                value: v2,
                entries: y,
            },
        ) if (k1, v1) == (k2, v2) && x.len() == y.len() => {
            x.iter().zip(y).find_map(|((a1, b1), (a2, b2))| {
                first_difference(a1, a2).or_else(|| first_difference(b1, b2))
            })
        }
        _ if a == b => None,
        _ => Some(Difference::Other(a.ttype())),
    }
}

/// Compares faultline's reading of `data` (`ours`) with pilota's; when both accept the
/// same value, pilota writes it and faultline must read pilota's bytes back (`reread`) to
/// the same value. Panics on a disagreement whose signature is not [`known`].
/// `deliberate` says which of faultline's refusals are on purpose.
pub fn check<T: Peer>(
    what: &'static str,
    data: &[u8],
    proto: Proto,
    ours: Result<T, DecodeError>,
    reread: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    deliberate: impl FnOnce(&DecodeError) -> bool,
) {
    let kind = match disagreement(data, proto, ours, reread, deliberate) {
        Some(kind) => kind,
        None => return,
    };
    let found = Disagreement { what, kind };
    let signature = found.signature();
    if known().contains(&signature) {
        return;
    }
    panic!(
        "{what}: faultline and pilota disagree [{signature}] on {:?} input {}\n{:?}",
        proto,
        super::targets::hex(data),
        found.kind
    );
}

fn disagreement<T: Peer>(
    data: &[u8],
    proto: Proto,
    ours: Result<T, DecodeError>,
    reread: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    deliberate: impl FnOnce(&DecodeError) -> bool,
) -> Option<DisagreementKind> {
    if matches!(&ours, Err(e) if matches!(e.kind, ErrorKind::DepthExceeded { .. })) {
        // pilota has no depth limit; the adapter stops at 64 levels, faultline at 32.
        return None;
    }
    let theirs = catching(|| {
        let mut rest = Bytes::copy_from_slice(data);
        let value = T::pilota_read(proto, &mut rest)?;
        match rest.is_empty() {
            true => Ok(value),
            false => Err(invalid("trailing bytes")),
        }
    });
    let theirs = match theirs {
        Err(panic) => return Some(DisagreementKind::PilotaPanicked(panic)),
        Ok(result) => result.map_err(|e| e.message().to_string()),
    };
    match (ours, theirs) {
        (Ok(a), Ok(b)) => {
            if let Some(at) = a.difference(&b) {
                return Some(DisagreementKind::ValuesDiffer {
                    ours: format!("{a:?}"),
                    theirs: format!("{b:?}"),
                    at,
                });
            }
            let bytes = match catching(|| a.pilota_write(proto)) {
                Err(panic) => return Some(DisagreementKind::PilotaPanicked(panic)),
                Ok(Err(e)) => {
                    return Some(DisagreementKind::PilotaRefused(e.message().to_string()))
                }
                Ok(Ok(bytes)) => bytes,
            };
            let at = match reread(&bytes) {
                Ok(back) => a.difference(&back)?,
                Err(_) => Difference::Other(TType::Struct),
            };
            Some(DisagreementKind::RoundTripDiffers { at })
        }
        (Ok(_), Err(e)) => Some(DisagreementKind::PilotaRefused(e)),
        (Err(e), Ok(_)) if !deliberate(&e) => Some(DisagreementKind::FaultlineRefused(e)),
        (Err(_), _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{expect_end, CompactReader, DecodeLimits};

    fn compact_struct(data: &[u8]) -> Result<Value, DecodeError> {
        let mut reader = CompactReader::from_slice(data, DecodeLimits::small());
        let value = Value::decode(&mut reader, TType::Struct)?;
        expect_end(&reader)?;
        Ok(value)
    }

    fn signature(data: &[u8]) -> Option<String> {
        let kind = disagreement(
            data,
            Proto::Compact,
            compact_struct(data),
            compact_struct,
            |_| false,
        )?;
        Some(
            Disagreement {
                what: "struct",
                kind,
            }
            .signature(),
        )
    }

    /// The inputs the target found, as a bare struct: each still shows its pilota bug.
    #[test]
    fn found_inputs_keep_their_signatures() {
        // Field 8 a struct (empty), then field delta 5: 13 for faultline, 5 for pilota.
        assert_eq!(
            signature(&[0x8C, 0x00, 0x53, 0x04, 0x00]).as_deref(),
            Some("value differs: field id")
        );
        // A field with a double: pilota writes it big-endian.
        let mut double = vec![0x17];
        double.extend(1.5f64.to_le_bytes());
        double.push(0x00);
        assert_eq!(
            signature(&double).as_deref(),
            Some("pilota's bytes read back differently: double byte order")
        );
        // A binary field claiming 10 bytes where none follow.
        assert_eq!(
            signature(&[0x18, 0x0A]).as_deref(),
            Some("pilota panics: split_to out of bounds")
        );
        // An i32 field of 7: both agree, pilota's bytes read back the same.
        assert_eq!(signature(&[0x15, 0x0E, 0x00]), None);
    }
}
