//! The benchmark messages as faultline types (`#[derive(Thrift)]`), and the one data set all
//! three implementations encode. The IDL they stand for:
//!
//! ```thrift
//! struct Small  { 1: required i32 id, 2: required i64 timestamp, 3: required bool flag,
//!                 4: required double score, 5: required string name }
//! struct Header { 1: required i64 trace_id, 2: required string service, 3: required i32 shard }
//! struct Item   { 1: required i32 id, 2: required i64 value, 3: required bool active,
//!                 4: required string label }
//! struct Medium { 1: required Header header, 2: required list<Item> items,
//!                 3: required map<string, i64> counters }
//! struct Large  { 1: required binary payload, 2: required list<i64> values }
//! ```
//!
//! Every field is `required` so that the three implementations have the same field
//! semantics (plain values, always written, absence is an error) and the same bytes.

use std::collections::HashMap;

use bytes::Bytes;
use faultline_core::Thrift;

#[derive(Thrift, Debug, Clone, PartialEq)]
pub struct Small {
    #[thrift(id = 1, required)]
    pub id: i32,
    #[thrift(id = 2, required)]
    pub timestamp: i64,
    #[thrift(id = 3, required)]
    pub flag: bool,
    #[thrift(id = 4, required)]
    pub score: f64,
    #[thrift(id = 5, required)]
    pub name: String,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
pub struct Header {
    #[thrift(id = 1, required)]
    pub trace_id: i64,
    #[thrift(id = 2, required)]
    pub service: String,
    #[thrift(id = 3, required)]
    pub shard: i32,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
pub struct Item {
    #[thrift(id = 1, required)]
    pub id: i32,
    #[thrift(id = 2, required)]
    pub value: i64,
    #[thrift(id = 3, required)]
    pub active: bool,
    #[thrift(id = 4, required)]
    pub label: String,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
pub struct Medium {
    #[thrift(id = 1, required)]
    pub header: Header,
    #[thrift(id = 2, required)]
    pub items: Vec<Item>,
    #[thrift(id = 3, required)]
    pub counters: HashMap<String, i64>,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
pub struct Large {
    #[thrift(id = 1, required)]
    pub payload: Bytes,
    #[thrift(id = 2, required)]
    pub values: Vec<i64>,
}

/// A small deterministic generator (64-bit LCG), so every run encodes the same data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }
}

pub fn small() -> Small {
    Small {
        id: 4_242,
        timestamp: 1_717_171_717_171,
        flag: true,
        score: 0.875,
        name: "hello, faultline".to_owned(),
    }
}

/// 100 items whose labels are 9 to 40 bytes long (pilota keeps strings of at most 24 bytes
/// inline and larger ones as shared slices, so both of its paths are exercised), and 20
/// counters.
pub fn medium() -> Medium {
    let mut rng = Lcg(7);
    let items = (0..100)
        .map(|i| Item {
            id: i,
            value: (rng.next() % 10_000_000) as i64 - 5_000_000,
            active: i % 3 != 0,
            label: format!("item-{i:04}{}", "x".repeat((i as usize * 7) % 32)),
        })
        .collect();
    let counters = (0..20)
        .map(|i| {
            (
                format!("counter.requests.{i:02}"),
                (rng.next() % 1_000_000_000) as i64,
            )
        })
        .collect();
    Medium {
        header: Header {
            trace_id: 0x0123_4567_89AB_CDEF,
            service: "faultline.bench.EchoService".to_owned(),
            shard: 17,
        },
        items,
        counters,
    }
}

/// 1 MiB of pseudo-random binary and 10,000 i64 of mixed magnitudes (1 to 10 byte varints
/// in Compact).
pub fn large() -> Large {
    let mut rng = Lcg(42);
    let payload: Vec<u8> = (0..1024 * 1024).map(|_| rng.next() as u8).collect();
    let values = (0..10_000)
        .map(|i| {
            let v = rng.next() as i64;
            match i % 4 {
                0 => v % 100,
                1 => v % 100_000,
                2 => -(v % 10_000_000_000),
                _ => v,
            }
        })
        .collect();
    Large {
        payload: Bytes::from(payload),
        values,
    }
}
