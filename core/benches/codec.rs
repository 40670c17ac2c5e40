//! Encode and decode of three messages (small, medium, large) in Thrift Binary and Compact,
//! for faultline (`#[derive(Thrift)]`), the Apache `thrift` crate (code as its generator
//! emits it) and `pilota` (code as pilota-build emits it), on identical data.
//!
//! Rules, the same for every implementation:
//! * Encode writes into one buffer that is reused across iterations and cleared before each
//!   one. pilota sizes the message with `size()` and reserves that much first, as volo
//!   does; faultline is measured both without (`faultline`) and with that sizing pass
//!   (`faultline_sized`), and through its one-shot `encode_to_vec` (`faultline_to_vec`:
//!   sizing pass plus one exact allocation per message). Apache has no sizing pass.
//! * Decode reads the same bytes for everyone. faultline reads from `&[u8]`
//!   (`faultline_slice`: strings and binaries are copied) and from `Bytes`
//!   (`faultline_bytes`: binaries are zero-copy slices, strings are still copied into
//!   `String` after UTF-8 validation); Apache reads from `&[u8]`; pilota reads from `Bytes`
//!   (strings and binaries are zero-copy `FastStr`/`Bytes`, strings of at most 24 bytes are
//!   copied inline, no UTF-8 validation). The decoded value is dropped inside the
//!   measurement for everyone.
//! * Before anything is measured, `verify` asserts that the three encoders produce the
//!   same bytes (for the medium message, whose map iterates in a different order in each
//!   implementation's map type, the same length and the same `Value` tree once map entries
//!   are sorted), and that every decoder turns those bytes back into the source data.
//!
//! Run: `cargo bench -p faultline-core --bench codec` (warm-up 1 s and measurement 3 s are
//! set below; command-line flags override them).

use std::fmt::Debug;
use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use faultline_core::protocol::{
    decode_from_bytes, decode_from_slice, encode_to_vec, encoded_len, Binary, Compact,
    DecodeLimits, Encode, Input, Protocol, ProtocolId, ProtocolReader, TType, ThriftType, Value,
};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TSerializable,
};

// The peers' modules keep their code generators' style (`*&self.x`, `&&self.items`,
// `unsafe` list fills, ...), which clippy would rewrite.
#[allow(clippy::all)]
#[path = "codec/apache.rs"]
mod apache;
#[path = "codec/data.rs"]
mod data;
#[allow(clippy::all)]
#[path = "codec/pilota.rs"]
mod pilota_types;

/// One benchmark message in the three implementations' types.
trait Case {
    const NAME: &'static str;
    /// Whether all three encoders must produce byte-identical output (false where a map's
    /// iteration order differs between implementations).
    const SAME_BYTES: bool;
    type Fl: ThriftType + PartialEq + Debug;
    type Ap: TSerializable;
    type Pi: pilota::thrift::Message;
    fn data() -> Self::Fl;
    fn apache(d: &Self::Fl) -> Self::Ap;
    fn pilota(d: &Self::Fl) -> Self::Pi;
    fn from_apache(a: &Self::Ap) -> Self::Fl;
    fn from_pilota(p: &Self::Pi) -> Self::Fl;
}

macro_rules! case {
    ($case:ident, $name:literal, $same:literal, $ty:ident, $make:ident) => {
        struct $case;
        impl Case for $case {
            const NAME: &'static str = $name;
            const SAME_BYTES: bool = $same;
            type Fl = data::$ty;
            type Ap = apache::$ty;
            type Pi = pilota_types::$ty;
            fn data() -> data::$ty {
                data::$make()
            }
            fn apache(d: &data::$ty) -> apache::$ty {
                d.into()
            }
            fn pilota(d: &data::$ty) -> pilota_types::$ty {
                d.into()
            }
            fn from_apache(a: &apache::$ty) -> data::$ty {
                a.to_data()
            }
            fn from_pilota(p: &pilota_types::$ty) -> data::$ty {
                p.to_data()
            }
        }
    };
}

case!(SmallCase, "small", true, Small, small);
case!(MediumCase, "medium", false, Medium, medium);
case!(LargeCase, "large", true, Large, large);

/// One protocol, for the three implementations.
trait Proto: Protocol {
    const NAME: &'static str;
    fn apache_encode<T: TSerializable>(value: &T, buf: &mut Vec<u8>);
    fn apache_decode<T: TSerializable>(buf: &[u8]) -> T;
    fn pilota_encode<M: pilota::thrift::Message>(value: &M, buf: &mut BytesMut);
    fn pilota_decode<M: pilota::thrift::Message>(buf: &Bytes) -> M;
}

impl Proto for Binary {
    const NAME: &'static str = "binary";

    #[inline]
    fn apache_encode<T: TSerializable>(value: &T, buf: &mut Vec<u8>) {
        let mut p = TBinaryOutputProtocol::new(buf, true);
        value.write_to_out_protocol(&mut p).unwrap();
    }

    #[inline]
    fn apache_decode<T: TSerializable>(buf: &[u8]) -> T {
        let mut p = TBinaryInputProtocol::new(buf, true);
        T::read_from_in_protocol(&mut p).unwrap()
    }

    #[inline]
    fn pilota_encode<M: pilota::thrift::Message>(value: &M, buf: &mut BytesMut) {
        use pilota::thrift::binary::TBinaryProtocol;
        let size = value.size(&mut TBinaryProtocol::new((), false));
        buf.reserve(size);
        value.encode(&mut TBinaryProtocol::new(buf, false)).unwrap();
    }

    #[inline]
    fn pilota_decode<M: pilota::thrift::Message>(buf: &Bytes) -> M {
        use pilota::thrift::binary::TBinaryProtocol;
        let mut b = buf.clone();
        M::decode(&mut TBinaryProtocol::new(&mut b, true)).unwrap()
    }
}

impl Proto for Compact {
    const NAME: &'static str = "compact";

    #[inline]
    fn apache_encode<T: TSerializable>(value: &T, buf: &mut Vec<u8>) {
        let mut p = TCompactOutputProtocol::new(buf);
        value.write_to_out_protocol(&mut p).unwrap();
    }

    #[inline]
    fn apache_decode<T: TSerializable>(buf: &[u8]) -> T {
        let mut p = TCompactInputProtocol::new(buf);
        T::read_from_in_protocol(&mut p).unwrap()
    }

    #[inline]
    fn pilota_encode<M: pilota::thrift::Message>(value: &M, buf: &mut BytesMut) {
        use pilota::thrift::compact::TCompactOutputProtocol;
        let size = value.size(&mut TCompactOutputProtocol::new((), false));
        buf.reserve(size);
        value
            .encode(&mut TCompactOutputProtocol::new(buf, false))
            .unwrap();
    }

    #[inline]
    fn pilota_decode<M: pilota::thrift::Message>(buf: &Bytes) -> M {
        use pilota::thrift::compact::TCompactInputProtocol;
        let mut b = buf.clone();
        M::decode(&mut TCompactInputProtocol::new(&mut b)).unwrap()
    }
}

trait ValueExt {
    fn has_double(&self) -> bool;
    fn swap_doubles(&mut self);
}

impl ValueExt for Value {
    fn has_double(&self) -> bool {
        match self {
            Value::Double(_) => true,
            Value::Struct(fields) => fields.iter().any(|f| f.value.has_double()),
            Value::List { items, .. } | Value::Set { items, .. } => {
                items.iter().any(Value::has_double)
            }
            Value::Map { entries, .. } => entries
                .iter()
                .any(|(k, v)| k.has_double() || v.has_double()),
            _ => false,
        }
    }

    fn swap_doubles(&mut self) {
        match self {
            Value::Double(d) => *d = f64::from_bits(d.to_bits().swap_bytes()),
            Value::Struct(fields) => fields.iter_mut().for_each(|f| f.value.swap_doubles()),
            Value::List { items, .. } | Value::Set { items, .. } => {
                items.iter_mut().for_each(Value::swap_doubles)
            }
            Value::Map { entries, .. } => entries.iter_mut().for_each(|(k, v)| {
                k.swap_doubles();
                v.swap_doubles();
            }),
            _ => {}
        }
    }
}

/// The `Value` tree of `bytes` with every map's entries sorted, so that encodings that
/// differ only in map iteration order compare equal.
fn canonical<P: Protocol>(bytes: &[u8]) -> Value {
    fn sort_maps(v: &mut Value) {
        match v {
            Value::Struct(fields) => fields.iter_mut().for_each(|f| sort_maps(&mut f.value)),
            Value::List { items, .. } | Value::Set { items, .. } => {
                items.iter_mut().for_each(sort_maps)
            }
            Value::Map { entries, .. } => {
                for (k, v) in entries.iter_mut() {
                    sort_maps(k);
                    sort_maps(v);
                }
                entries.sort_by_key(|(k, _)| format!("{k:?}"));
            }
            _ => {}
        }
    }
    let mut reader = P::reader(Input::new(bytes, 0, DecodeLimits::default()));
    let mut value = Value::decode(&mut reader, TType::Struct).unwrap();
    assert_eq!(reader.remaining(), 0, "trailing bytes after the struct");
    sort_maps(&mut value);
    value
}

/// Asserts that the three implementations encode the same bytes and decode them back to
/// the source data; returns faultline's encoding, the input of every decode benchmark.
fn verify<C: Case, P: Proto>(data: &C::Fl, ap: &C::Ap, pi: &C::Pi) -> Vec<u8> {
    let what = format!("{}/{}", C::NAME, P::NAME);
    let fl = encode_to_vec::<P, _>(data).unwrap();
    let mut fl_reused = Vec::new();
    data.encode(&mut P::writer(&mut fl_reused)).unwrap();
    assert_eq!(fl, fl_reused, "{what}: faultline writer vs encode_to_vec");
    assert_eq!(
        encoded_len::<P, _>(data).unwrap(),
        fl.len(),
        "{what}: encoded_len"
    );

    let mut ap_bytes = Vec::new();
    P::apache_encode(ap, &mut ap_bytes);
    let mut pi_bytes = BytesMut::new();
    P::pilota_encode(pi, &mut pi_bytes);
    assert_eq!(
        fl.len(),
        ap_bytes.len(),
        "{what}: length, faultline vs apache"
    );
    assert_eq!(
        fl.len(),
        pi_bytes.len(),
        "{what}: length, faultline vs pilota"
    );
    // pilota 0.13's Compact writer puts doubles big-endian (`BufMut::put_f64`) while the
    // Compact spec, Apache and its own reader use little-endian: its bytes are compared
    // with doubles byte-swapped back, and are not fed to the decoders.
    let pilota_swaps_doubles = P::ID == ProtocolId::Compact;
    if C::SAME_BYTES {
        assert!(fl == ap_bytes, "{what}: bytes, faultline vs apache");
        if !pilota_swaps_doubles || !canonical::<P>(&fl).has_double() {
            assert!(fl[..] == pi_bytes[..], "{what}: bytes, faultline vs pilota");
        }
    }
    let canon = canonical::<P>(&fl);
    assert!(
        canon == canonical::<P>(&ap_bytes),
        "{what}: Value tree, faultline vs apache"
    );
    let mut pi_canon = canonical::<P>(&pi_bytes);
    if pilota_swaps_doubles {
        pi_canon.swap_doubles();
    }
    assert!(canon == pi_canon, "{what}: Value tree, faultline vs pilota");

    // Every decoder, on every (conforming) implementation's bytes, gives back the source.
    let mut inputs = vec![&fl[..], &ap_bytes[..]];
    if !pilota_swaps_doubles || !canon.has_double() {
        inputs.push(&pi_bytes[..]);
    }
    for input in inputs {
        let limits = DecodeLimits::default();
        let owned = Bytes::copy_from_slice(input);
        assert_eq!(
            &decode_from_slice::<P, C::Fl>(input, limits).unwrap(),
            data,
            "{what}"
        );
        assert_eq!(
            &decode_from_bytes::<P, C::Fl>(&owned, limits).unwrap(),
            data,
            "{what}"
        );
        assert_eq!(
            &C::from_apache(&P::apache_decode(input)),
            data,
            "{what}: apache"
        );
        assert_eq!(
            &C::from_pilota(&P::pilota_decode(&owned)),
            data,
            "{what}: pilota"
        );
    }
    fl
}

fn bench_case<C: Case, P: Proto>(c: &mut Criterion) {
    let data = C::data();
    let ap = C::apache(&data);
    let pi = C::pilota(&data);
    let input = verify::<C, P>(&data, &ap, &pi);
    let input_bytes = Bytes::from(input.clone());
    let limits = DecodeLimits::default();
    let len = input.len();

    let mut group = c.benchmark_group(format!("{}/{}/encode", C::NAME, P::NAME));
    group.throughput(Throughput::Bytes(len as u64));
    let mut buf: Vec<u8> = Vec::with_capacity(len);
    group.bench_function(BenchmarkId::from_parameter("faultline"), |b| {
        b.iter(|| {
            buf.clear();
            black_box(&data).encode(&mut P::writer(&mut buf)).unwrap();
            black_box(&buf);
        })
    });
    group.bench_function(BenchmarkId::from_parameter("faultline_sized"), |b| {
        b.iter(|| {
            buf.clear();
            let size = encoded_len::<P, _>(black_box(&data)).unwrap();
            buf.reserve(size);
            data.encode(&mut P::writer(&mut buf)).unwrap();
            black_box(&buf);
        })
    });
    group.bench_function(BenchmarkId::from_parameter("faultline_to_vec"), |b| {
        b.iter(|| encode_to_vec::<P, _>(black_box(&data)).unwrap())
    });
    group.bench_function(BenchmarkId::from_parameter("apache"), |b| {
        b.iter(|| {
            buf.clear();
            P::apache_encode(black_box(&ap), &mut buf);
            black_box(&buf);
        })
    });
    let mut bytes_mut = BytesMut::with_capacity(len);
    group.bench_function(BenchmarkId::from_parameter("pilota"), |b| {
        b.iter(|| {
            bytes_mut.clear();
            P::pilota_encode(black_box(&pi), &mut bytes_mut);
            black_box(&bytes_mut);
        })
    });
    group.finish();

    let mut group = c.benchmark_group(format!("{}/{}/decode", C::NAME, P::NAME));
    group.throughput(Throughput::Bytes(len as u64));
    group.bench_function(BenchmarkId::from_parameter("faultline_slice"), |b| {
        b.iter(|| decode_from_slice::<P, C::Fl>(black_box(&input), limits).unwrap())
    });
    group.bench_function(BenchmarkId::from_parameter("faultline_bytes"), |b| {
        b.iter(|| decode_from_bytes::<P, C::Fl>(black_box(&input_bytes), limits).unwrap())
    });
    group.bench_function(BenchmarkId::from_parameter("apache"), |b| {
        b.iter(|| P::apache_decode::<C::Ap>(black_box(&input)))
    });
    group.bench_function(BenchmarkId::from_parameter("pilota"), |b| {
        b.iter(|| P::pilota_decode::<C::Pi>(black_box(&input_bytes)))
    });
    group.finish();
}

fn all(c: &mut Criterion) {
    bench_case::<SmallCase, Binary>(c);
    bench_case::<SmallCase, Compact>(c);
    bench_case::<MediumCase, Binary>(c);
    bench_case::<MediumCase, Compact>(c);
    bench_case::<LargeCase, Binary>(c);
    bench_case::<LargeCase, Compact>(c);
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = all
}
criterion_main!(benches);
