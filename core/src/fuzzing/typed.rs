//! [`FuzzRequest`]: a typed request like a real service's — required, default and optional
//! fields, every scalar, nested lists, maps and sets, a nested struct, an enum and a
//! recursive child — and its generator for the structure-aware targets.
//!
//! Maps and sets are `BTreeMap` / `BTreeSet`, so a value always encodes to the same bytes:
//! the typed targets compare encodings (which also makes NaN doubles comparable).

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::{Result, Unstructured};
use bytes::Bytes;

use super::generate;
use crate::Thrift;

/// An enum field (encoded as i32); an unknown wire value is `UnknownEnumValue`.
#[derive(Thrift, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum FuzzKind {
    #[default]
    Get = 1,
    Put = 2,
    Delete = -7,
}

/// A nested struct with a required field and a defaulted one.
#[derive(Thrift, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FuzzItem {
    #[thrift(id = 1, required)]
    pub key: String,
    #[thrift(id = 2, default = "-1")]
    pub version: i64,
    #[thrift(id = 3)]
    pub data: Option<Bytes>,
}

/// The typed request `decode_typed` and `roundtrip_typed` work on.
#[derive(Thrift, Debug, Clone, PartialEq)]
pub struct FuzzRequest {
    #[thrift(id = 1, required)]
    pub name: String,
    #[thrift(id = 2)]
    pub kind: FuzzKind,
    #[thrift(id = 3)]
    pub tags: Vec<String>,
    #[thrift(id = 4)]
    pub attrs: BTreeMap<String, i64>,
    #[thrift(id = 5)]
    pub items: Vec<FuzzItem>,
    #[thrift(id = 6)]
    pub by_id: BTreeMap<i32, Vec<FuzzItem>>,
    #[thrift(id = 7)]
    pub matrix: Vec<Vec<i16>>,
    #[thrift(id = 8)]
    pub flags: BTreeSet<i8>,
    #[thrift(id = 9)]
    pub child: Option<Box<FuzzRequest>>,
    #[thrift(id = 10)]
    pub ids: Option<Vec<i64>>,
    #[thrift(id = 11)]
    pub ratio: Option<f64>,
    #[thrift(id = 12)]
    pub trace: Option<[u8; 16]>,
    #[thrift(id = 13)]
    pub dry_run: bool,
    #[thrift(id = 14, default = "30")]
    pub timeout_ms: i32,
    #[thrift(id = 15)]
    pub payload: Bytes,
    #[thrift(id = 300)]
    pub far: Option<i32>,
    #[thrift(id = -2)]
    pub negative: Option<bool>,
}

impl FuzzRequest {
    /// A request with only its required field set.
    pub fn named(name: &str) -> Self {
        FuzzRequest {
            name: name.to_owned(),
            kind: FuzzKind::Get,
            tags: Vec::new(),
            attrs: BTreeMap::new(),
            items: Vec::new(),
            by_id: BTreeMap::new(),
            matrix: Vec::new(),
            flags: BTreeSet::new(),
            child: None,
            ids: None,
            ratio: None,
            trace: None,
            dry_run: false,
            timeout_ms: 30,
            payload: Bytes::new(),
            far: None,
            negative: None,
        }
    }
}

/// Most children a generated request nests (each level is one struct of depth budget).
const MAX_CHILDREN: usize = 6;

fn kind(u: &mut Unstructured<'_>) -> Result<FuzzKind> {
    Ok(*u.choose(&[FuzzKind::Get, FuzzKind::Put, FuzzKind::Delete])?)
}

fn item(u: &mut Unstructured<'_>) -> Result<FuzzItem> {
    Ok(FuzzItem {
        key: generate::string(u)?,
        version: u.arbitrary()?,
        data: if u.arbitrary()? {
            Some(generate::bytes(u)?)
        } else {
            None
        },
    })
}

/// Up to `max` elements made by `f`, fewer when the input runs out.
fn many<T>(
    u: &mut Unstructured<'_>,
    max: usize,
    mut f: impl FnMut(&mut Unstructured<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| f(u)).collect()
}

/// A request with up to [`MAX_CHILDREN`] nested children.
pub fn request(u: &mut Unstructured<'_>) -> Result<FuzzRequest> {
    request_at(u, MAX_CHILDREN)
}

fn request_at(u: &mut Unstructured<'_>, children: usize) -> Result<FuzzRequest> {
    let mut r = FuzzRequest::named(&generate::string(u)?);
    r.kind = kind(u)?;
    r.tags = many(u, 6, generate::string)?;
    r.attrs = many(u, 6, |u| Ok((generate::string(u)?, u.arbitrary()?)))?
        .into_iter()
        .collect();
    r.items = many(u, 4, item)?;
    r.by_id = many(u, 4, |u| Ok((u.arbitrary()?, many(u, 3, item)?)))?
        .into_iter()
        .collect();
    r.matrix = many(u, 4, |u| many(u, 8, |u| u.arbitrary()))?;
    r.flags = many(u, 8, |u| u.arbitrary())?.into_iter().collect();
    r.child = if children > 0 && u.arbitrary()? {
        Some(Box::new(request_at(u, children - 1)?))
    } else {
        None
    };
    r.ids = if u.arbitrary()? {
        Some(many(u, 8, |u| u.arbitrary())?)
    } else {
        None
    };
    r.ratio = if u.arbitrary()? {
        Some(generate::double(u)?)
    } else {
        None
    };
    r.trace = if u.arbitrary()? {
        Some(u.arbitrary()?)
    } else {
        None
    };
    r.dry_run = u.arbitrary()?;
    r.timeout_ms = u.arbitrary()?;
    r.payload = generate::bytes(u)?;
    r.far = if u.arbitrary()? {
        Some(u.arbitrary()?)
    } else {
        None
    };
    r.negative = if u.arbitrary()? {
        Some(u.arbitrary()?)
    } else {
        None
    };
    Ok(r)
}
