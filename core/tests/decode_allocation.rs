//! Allocation across nesting levels: each container count is checked against the bytes
//! remaining, but a decoder that reserved room for every count up front would reserve
//! `remaining x size_of::<element>()` at every level of a chain of containers that each
//! claim as many elements as bytes remain (found by the `crosscheck_compact` allocation
//! oracle, `fuzz/regressions/crosscheck_compact/nested-reservations`). With a server's
//! limits (depth 64) that was about 2.5 KiB per input byte; the bound asserted here is
//! the fuzz targets' own (`fuzzing::alloc::decode_bound`: 256 bytes per input byte + 4 KiB).
//!
//! The counting allocator counts per thread, so these tests may run in parallel.

use faultline_core::fuzzing::alloc::{self, Counting};
use faultline_core::protocol::{
    decode_from_slice, Compact, CompactReader, DecodeLimits, ProtocolReader, TType, Value,
};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A Compact struct whose field 1 is a list (elements of Compact type `elem`: 9 list, 12
/// struct) whose first element is again such a list (for structs: a struct whose field 1
/// is), and so on, each list claiming (long form) as many elements as bytes follow it;
/// the depth limit ends the chain, so the decode fails.
fn claiming_chain(elem: u8, len: usize) -> Vec<u8> {
    let mut out = vec![0x19];
    while out.len() + 8 < len {
        let mut remaining = (len - out.len() - 8) as u32;
        out.push(0xF0 | elem);
        while remaining >= 0x80 {
            out.push(remaining as u8 | 0x80);
            remaining >>= 7;
        }
        out.push(remaining as u8);
        if elem == 12 {
            out.push(0x19);
        }
    }
    out.resize(len, 0);
    out
}

#[test]
fn nested_claims_reserve_in_proportion_to_the_input() {
    let input = claiming_chain(9, 64 * 1024);
    let limits = DecodeLimits::default();
    let (result, peak) = alloc::measure(|| {
        let mut reader =
            CompactReader::new(faultline_core::protocol::Input::new(&input, 0, limits));
        Value::decode(&mut reader, TType::Struct).map(drop)
    });
    assert!(result.is_err(), "the chain ends early and must be refused");
    assert!(
        peak <= alloc::decode_bound(input.len()),
        "{peak} bytes held at the peak for {} input bytes",
        input.len()
    );
}

#[test]
fn typed_nested_vectors_reserve_in_proportion_to_the_input() {
    let input = claiming_chain(12, 64 * 1024);
    let (result, peak) = alloc::measure(|| {
        decode_from_slice::<Compact, Node>(&input, DecodeLimits::default()).map(drop)
    });
    assert!(result.is_err());
    assert!(
        peak <= alloc::decode_bound(input.len()),
        "{peak} bytes held at the peak for {} input bytes",
        input.len()
    );
}

/// A tree: field 1 is a list of subtrees.
#[derive(faultline_core::Thrift, Debug)]
struct Node {
    #[thrift(id = 1)]
    kids: Vec<Node>,
}

#[test]
fn flat_scalar_lists_still_decode() {
    // 1,000 i64s: reserved up front, as before.
    let mut input = vec![0x19, 0xF6, 0xE8, 0x07];
    input.extend(std::iter::repeat_n(0x02, 1000));
    input.push(0x00);
    let mut reader = CompactReader::from_slice(&input, DecodeLimits::default());
    let value = Value::decode(&mut reader, TType::Struct).unwrap();
    assert_eq!(reader.remaining(), 0);
    match value.field(1) {
        Some(Value::List { items, .. }) => {
            assert_eq!(items.len(), 1000);
            assert!(items.iter().all(|v| *v == Value::I64(1)));
        }
        other => panic!("not a list: {other:?}"),
    }
}
