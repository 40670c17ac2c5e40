//! Builds documents from saphyr's YAML events: each document's JSON value and the position of
//! every node and key, within the limits of [`super`] (nesting depth, expanded size). This is
//! where aliases are expanded and where duplicate keys, non-string keys, merge keys and
//! unsupported tags are refused.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};
use serde_json::{Map, Value};

use super::lines::LineIndex;
use super::scalar::{core_suffix, resolve};
use super::{Entry, Node, Pos, MAX_DEPTH, MAX_SIZE};

/// One document as loaded: its value and where each part of it was written.
pub(super) struct Loaded {
    pub value: Value,
    pub node: Node,
}

/// A position and what is wrong there.
pub(super) type LoadError = (Pos, String);

/// Every non-empty document of `text`, in order.
pub(super) fn load(text: &str) -> Result<Vec<Loaded>, LoadError> {
    let lines = LineIndex::new(text);
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| {
            let at = lines.pos(error.marker().index());
            (at, format!("YAML syntax error: {}", error.info()))
        })?;
        builder.event(event, lines.pos(span.start.index()))?;
    }
    Ok(builder.documents)
}

/// A node under construction: a sequence or a mapping whose end has not been seen yet.
enum Frame {
    Seq {
        at: Pos,
        anchor: usize,
        size: usize,
        values: Vec<Value>,
        nodes: Vec<Node>,
    },
    Map {
        at: Pos,
        anchor: usize,
        size: usize,
        values: Map<String, Value>,
        entries: BTreeMap<String, Entry>,
        key: Option<(String, Pos)>,
    },
}

/// A node that an alias may copy, with its size.
struct Anchored {
    value: Value,
    node: Node,
    size: usize,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    /// The size of everything built so far, alias expansions and anchor copies included.
    size: usize,
    documents: Vec<Loaded>,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, at: Pos) -> Result<(), LoadError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => self.scalar(&text, style, anchor, tag, at),
            Event::Alias(id) => self.alias(id, at),
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag, "seq", at)?;
                self.open(
                    Frame::Seq {
                        at,
                        anchor,
                        size: 1,
                        values: Vec::new(),
                        nodes: Vec::new(),
                    },
                    at,
                )
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag, "map", at)?;
                self.open(
                    Frame::Map {
                        at,
                        anchor,
                        size: 1,
                        values: Map::new(),
                        entries: BTreeMap::new(),
                        key: None,
                    },
                    at,
                )
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(at),
            Event::DocumentEnd => {
                self.anchors.clear();
                Ok(())
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) => {
                Ok(())
            }
        }
    }

    /// A scalar: the key of a mapping awaiting one, else a value.
    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<Cow<'_, Tag>>,
        at: Pos,
    ) -> Result<(), LoadError> {
        let size = 1 + text.len();
        let Some(Frame::Map {
            entries,
            key: pending @ None,
            size: frame_size,
            ..
        }) = self.stack.last_mut()
        else {
            let value = resolve(text, style, tag.as_deref()).map_err(|message| (at, message))?;
            grow(&mut self.size, size, at)?;
            return self.complete(value, Node::leaf(at), size, anchor);
        };
        if let Some(tag) = tag.filter(|tag| core_suffix(tag) != Some("str")) {
            return Err((
                at,
                format!("a mapping key must be a string, found a tag {tag}"),
            ));
        }
        if text == "<<" && style == ScalarStyle::Plain {
            return Err((at, "merge keys (<<) are not supported".to_owned()));
        }
        if let Some(first) = entries.get(text) {
            return Err((
                at,
                format!(
                    "duplicate key {text:?} (first at line {}, column {})",
                    first.key.line, first.key.column
                ),
            ));
        }
        grow(&mut self.size, size, at)?;
        *frame_size = frame_size.saturating_add(size);
        *pending = Some((text.to_owned(), at));
        self.remember(anchor, size, at, || {
            (Value::String(text.to_owned()), Node::leaf(at))
        })
    }

    fn alias(&mut self, id: usize, at: Pos) -> Result<(), LoadError> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err((at, "alias to an unknown anchor".to_owned()));
        };
        let (size, value) = (anchored.size, anchored.value.clone());
        let node = Node {
            at,
            children: anchored.node.children.clone(),
        };
        grow(&mut self.size, size, at)?;
        self.complete(value, node, size, 0)
    }

    fn open(&mut self, frame: Frame, at: Pos) -> Result<(), LoadError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err((
                at,
                format!("nesting deeper than {MAX_DEPTH} sequences and mappings"),
            ));
        }
        grow(&mut self.size, 1, at)?;
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, at: Pos) -> Result<(), LoadError> {
        let (value, node, size, anchor) = match self.stack.pop() {
            Some(Frame::Seq {
                at,
                anchor,
                size,
                values,
                nodes,
            }) => (Value::Array(values), Node::seq(at, nodes), size, anchor),
            Some(Frame::Map {
                at,
                anchor,
                size,
                values,
                entries,
                ..
            }) => (Value::Object(values), Node::map(at, entries), size, anchor),
            None => return Err((at, "end of a collection that was not started".to_owned())),
        };
        self.complete(value, node, size, anchor)
    }

    /// Stores a copy of a finished node under its anchor, if it has one.
    fn remember(
        &mut self,
        anchor: usize,
        size: usize,
        at: Pos,
        copy: impl FnOnce() -> (Value, Node),
    ) -> Result<(), LoadError> {
        if anchor == 0 {
            return Ok(());
        }
        grow(&mut self.size, size, at)?;
        let (value, node) = copy();
        self.anchors.insert(anchor, Anchored { value, node, size });
        Ok(())
    }

    /// Places a finished node into its parent, or makes it a document.
    fn complete(
        &mut self,
        value: Value,
        node: Node,
        size: usize,
        anchor: usize,
    ) -> Result<(), LoadError> {
        let at = node.at;
        self.remember(anchor, size, at, || (value.clone(), node.clone()))?;
        match self.stack.last_mut() {
            None if value.is_null() => Ok(()),
            None => {
                self.documents.push(Loaded { value, node });
                Ok(())
            }
            Some(Frame::Seq {
                size: frame_size,
                values,
                nodes,
                ..
            }) => {
                *frame_size = frame_size.saturating_add(size);
                values.push(value);
                nodes.push(node);
                Ok(())
            }
            Some(Frame::Map {
                size: frame_size,
                values,
                entries,
                key,
                ..
            }) => {
                let Some((name, key_at)) = key.take() else {
                    return Err((
                        at,
                        format!("a mapping key must be a string, found {}", kind(&value)),
                    ));
                };
                *frame_size = frame_size.saturating_add(size);
                values.insert(name.clone(), value);
                entries.insert(name, Entry { key: key_at, node });
                Ok(())
            }
        }
    }
}

/// Counts `size` more units into `total`, refusing to pass [`MAX_SIZE`].
fn grow(total: &mut usize, size: usize, at: Pos) -> Result<(), LoadError> {
    *total = total.saturating_add(size);
    match *total > MAX_SIZE {
        true => Err((
            at,
            format!(
                "the file is too large once aliases are expanded: at most {MAX_SIZE} nodes \
                 and key or scalar bytes are accepted"
            ),
        )),
        false => Ok(()),
    }
}

/// Refuses any tag on a collection but the core schema's own (`!!seq`, `!!map`).
fn check_collection_tag(tag: Option<Cow<'_, Tag>>, core: &str, at: Pos) -> Result<(), LoadError> {
    match tag {
        Some(tag) if core_suffix(&tag) != Some(core) => Err((
            at,
            format!("tag {tag} is not supported here (only !!{core})"),
        )),
        _ => Ok(()),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
        _ => "an alias",
    }
}
