//! Located YAML: experiment files parsed into [`Document`]s that keep, beside each document's
//! JSON value, the line and column of every key and value, so that any error — a YAML syntax
//! error, a deserialization error, a failed `validate()` — names file, line and column.
//!
//! The YAML events come from `saphyr-parser` 0.3 (the parser of the maintained `saphyr`
//! project: YAML 1.2, a span on every event, anchors resolved to ids). Its event API was
//! chosen over `saphyr`'s loaded trees and over `serde-saphyr` (which deserializes straight
//! into types) because the documents need a JSON view whose paths, from serde or from
//! `validate()`, map back to positions, and because one small builder here then owns the
//! limits below, alias expansion, duplicate keys and the schema. `serde_yaml` is deprecated
//! upstream.
//!
//! Scalars follow the YAML 1.2 core schema: only `true`/`false` are booleans, so `yes`, `no`,
//! `on` and `off` are strings here, while Kubernetes (sigs.k8s.io/yaml, YAML 1.1) reads them
//! as booleans — quote such strings in files that both read. Further differences from
//! Kubernetes: keys are taken as written (`80: http` has the key `"80"`), merge keys (`<<`)
//! and tags other than the core schema's are refused, `.inf`/`.nan` are errors (JSON has no
//! such numbers) and integers beyond `u64` become floats. Duplicate keys are errors, as in
//! Kubernetes. Documents that are empty or null are skipped.
//!
//! Untrusted input is bounded: at most [`MAX_INPUT_BYTES`] of text, [`MAX_DEPTH`] nested
//! collections and [`MAX_SIZE`] units of expanded size (one per node plus the bytes of every
//! key and scalar, alias expansions and anchors included), so alias bombs stop early.

mod lines;
mod load;
mod scalar;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use faultline_core::config::{FieldError, FieldErrors, FieldPath, PathSegment};
use serde::de::DeserializeOwned;
use serde_json::Value;

use self::lines::LineIndex;
use super::de::{self, DeError, Target};

/// The largest file accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 1 << 20;
/// The deepest nesting of sequences and mappings accepted.
pub const MAX_DEPTH: usize = 64;
/// The largest expanded size of a file: one unit per node plus one per byte of each key and
/// scalar, counting every alias expansion and every anchored copy.
pub const MAX_SIZE: usize = 2 << 20;

/// A place in a file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as the caller named it.
    pub file: Arc<Path>,
    /// 1-based, counting `\n`, `\r\n` and `\r` as line breaks.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Something wrong in an experiment file, where it is and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct SpecError {
    pub location: Location,
    /// What is wrong, prefixed by the field path (`spec.delay.latency: ...`) when the error
    /// is about a value of a document.
    pub message: String,
}

/// A line and column in the file being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    line: usize,
    column: usize,
}

/// Where a node and the parts of it were written.
#[derive(Debug, Clone)]
struct Node {
    at: Pos,
    children: Children,
}

#[derive(Debug, Clone)]
enum Children {
    Leaf,
    Seq(Vec<Node>),
    Map(BTreeMap<String, Entry>),
}

/// A mapping entry: where its key was written, and its value.
#[derive(Debug, Clone)]
struct Entry {
    key: Pos,
    node: Node,
}

impl Node {
    fn leaf(at: Pos) -> Self {
        Node {
            at,
            children: Children::Leaf,
        }
    }

    fn seq(at: Pos, items: Vec<Node>) -> Self {
        Node {
            at,
            children: Children::Seq(items),
        }
    }

    fn map(at: Pos, entries: BTreeMap<String, Entry>) -> Self {
        Node {
            at,
            children: Children::Map(entries),
        }
    }
}

/// One YAML document of a file: its JSON value (Kubernetes' view: string keys, JSON
/// numbers) and where each of its keys and values was written.
#[derive(Debug, Clone)]
pub struct Document {
    file: Arc<Path>,
    value: Value,
    root: Node,
}

/// Every non-empty document of a YAML stream (`---`-separated), in order. `file` only names
/// the file in locations.
pub fn parse_documents(text: &str, file: &Path) -> Result<Vec<Document>, SpecError> {
    let file: Arc<Path> = Arc::from(file);
    let error = |pos: Pos, message: String| SpecError {
        location: location(&file, pos),
        message,
    };
    if text.len() > MAX_INPUT_BYTES {
        let message = format!(
            "the file has {} bytes, at most {MAX_INPUT_BYTES} are accepted",
            text.len()
        );
        return Err(error(Pos { line: 1, column: 1 }, message));
    }
    let loaded = load::load(text).map_err(|(pos, message)| error(pos, message))?;
    Ok(loaded
        .into_iter()
        .map(|loaded| Document {
            file: Arc::clone(&file),
            value: loaded.value,
            root: loaded.node,
        })
        .collect())
}

/// [`parse_documents`] of raw bytes, which must be UTF-8: invalid UTF-8 is reported at the
/// line and column of its first byte.
pub fn parse_bytes(bytes: &[u8], file: &Path) -> Result<Vec<Document>, SpecError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_documents(text, file),
        Err(invalid) => {
            let offset = invalid.valid_up_to();
            let valid = String::from_utf8_lossy(&bytes[..offset]);
            Err(SpecError {
                location: location(&Arc::from(file), LineIndex::new(&valid).end()),
                message: format!("invalid UTF-8 at byte {offset}: experiment files must be UTF-8"),
            })
        }
    }
}

fn location(file: &Arc<Path>, pos: Pos) -> Location {
    Location {
        file: Arc::clone(file),
        line: pos.line,
        column: pos.column,
    }
}

impl Document {
    /// The document as JSON (string keys), as Kubernetes would see it.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The file this document was read from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Where the document's content starts.
    pub fn start(&self) -> Location {
        location(&self.file, self.root.at)
    }

    /// Where the value at `path` is named: its key for a mapping entry, the item itself for a
    /// sequence item, the document start for the root. When `path` does not exist, the
    /// position of the deepest node that does: the key of the mapping that lacks the field
    /// (or that node's value, if it is a scalar where a mapping or sequence was expected).
    pub fn locate(&self, path: &FieldPath) -> Location {
        location(&self.file, self.position(path, Target::Key))
    }

    /// Where the value at `path` itself starts (after its key); as [`Self::locate`] when
    /// `path` does not exist.
    pub fn locate_value(&self, path: &FieldPath) -> Location {
        location(&self.file, self.position(path, Target::Value))
    }

    fn position(&self, path: &FieldPath, target: Target) -> Pos {
        let mut named = self.root.at;
        let mut node = &self.root;
        for segment in path.segments() {
            let next = match (segment, &node.children) {
                (PathSegment::Field(name), Children::Map(entries)) => {
                    entries.get(name).map(|entry| (entry.key, &entry.node))
                }
                (PathSegment::Index(index), Children::Seq(items)) => {
                    items.get(*index).map(|item| (item.at, item))
                }
                _ => None,
            };
            match next {
                Some((at, child)) => (named, node) = (at, child),
                None if matches!(node.children, Children::Leaf) => return node.at,
                None => return named,
            }
        }
        match target {
            Target::Key => named,
            Target::Value => node.at,
        }
    }

    /// The whole document as a `T`; errors name the failing value's position and path.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, SpecError> {
        self.deserialize_at(&FieldPath::root())
    }

    /// The value at `path` as a `T`; error paths start at the document root.
    pub fn deserialize_at<T: DeserializeOwned>(&self, path: &FieldPath) -> Result<T, SpecError> {
        let Some(value) = lookup(&self.value, path) else {
            return Err(self.error(path, Target::Key, "missing"));
        };
        de::deserialize(value).map_err(|DeError { error, target }| {
            let path = path.join(&error.path);
            self.error(&path, target, &error.message)
        })
    }

    /// The errors of a `validate()` of this document (paths from its root), each at the
    /// position [`Self::locate`] gives its path.
    pub fn locate_errors(&self, errors: &FieldErrors) -> Vec<SpecError> {
        errors
            .0
            .iter()
            .map(|FieldError { path, message }| self.error(path, Target::Key, message))
            .collect()
    }

    fn error(&self, path: &FieldPath, target: Target, message: &str) -> SpecError {
        let message = match path.segments().is_empty() {
            true => message.to_owned(),
            false => format!("{path}: {message}"),
        };
        SpecError {
            location: location(&self.file, self.position(path, target)),
            message,
        }
    }
}

/// The value at `path` under `value`, if there is one.
fn lookup<'a>(value: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    path.segments()
        .iter()
        .try_fold(value, |value, segment| match segment {
            PathSegment::Field(name) => value.get(name),
            PathSegment::Index(index) => value.get(index),
        })
}
