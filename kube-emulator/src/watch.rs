//! Watches: a stream of `{"type", "object"}` lines that starts with the events after the
//! requested resourceVersion (from the history; `ERROR` 410 when that is gone) or with the
//! current objects as `ADDED`, then follows every commit. Selector changes turn into
//! `ADDED`/`DELETED` as the watch cache does; bookmarks come every minute and at the end
//! when allowed; the stream ends after `timeoutSeconds` or when the client drops it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, StreamExt};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::access::ChangeKind;
use crate::error::ApiError;
use crate::read::render;
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::service::ResponseBody;
use crate::store::{Event, Shared, State};

const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

pub(crate) struct WatchOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub resource_version: Option<String>,
    pub bookmarks: bool,
    pub send_initial_events: bool,
    pub timeout: Duration,
}

/// How a watch shows objects: the requested version, optionally as metadata only.
pub(crate) struct View {
    pub rt: Arc<ResourceType>,
    pub version: String,
    pub partial: bool,
}

impl View {
    pub(crate) fn object(&self, object: &Value) -> Value {
        if self.partial {
            json!({
                "apiVersion": "meta.k8s.io/v1",
                "kind": "PartialObjectMetadata",
                "metadata": object["metadata"],
            })
        } else {
            render(&self.rt, &self.version, object)
        }
    }

    fn bookmark(&self, revision: u64, initial_events_end: bool) -> Bytes {
        let (api_version, kind) = if self.partial {
            (
                "meta.k8s.io/v1".to_owned(),
                "PartialObjectMetadata".to_owned(),
            )
        } else {
            (self.rt.api_version(&self.version), self.rt.kind.clone())
        };
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(
            "BOOKMARK",
            &json!({"apiVersion": api_version, "kind": kind, "metadata": metadata}),
        )
    }
}

struct Filter {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        self.labels
            .matches(object["metadata"]["labels"].as_object())
            && self.fields.matches(object)
    }

    /// The event a watch with these selectors sees for `event`, if any.
    fn line(&self, view: &View, event: &Event) -> Option<Bytes> {
        let now = self.matches(&event.object);
        let before = event.previous.as_ref().is_some_and(|p| self.matches(p));
        let kind = match event.kind {
            ChangeKind::Added if now => "ADDED",
            ChangeKind::Modified if now && before => "MODIFIED",
            ChangeKind::Modified if now => "ADDED",
            ChangeKind::Modified if before => "DELETED",
            ChangeKind::Deleted if now => "DELETED",
            _ => return None,
        };
        Some(line(kind, &view.object(&event.object)))
    }
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut text = json!({"type": kind, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

/// Opens a watch; `state` is `shared`'s locked state, so nothing commits in between.
pub(crate) fn watch(
    shared: &Arc<Shared>,
    state: &mut State,
    view: View,
    namespace: Option<&str>,
    options: WatchOptions,
) -> Result<ResponseBody, ApiError> {
    let rt = Arc::clone(&view.rt);
    let filter = Filter {
        labels: options.labels,
        fields: options.fields,
    };
    let requested = options
        .resource_version
        .as_deref()
        .filter(|rv| !rv.is_empty() && *rv != "0");
    let mut pending = VecDeque::new();
    match (requested, options.send_initial_events) {
        (Some(text), false) => {
            let revision: u64 = text.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid resource version: {text:?}"))
            })?;
            let Some(events) = state.events_after(&rt.group, &rt.plural, namespace, revision)
            else {
                let gone = ApiError::new(
                    410,
                    "Expired",
                    format!("too old resource version: {revision} ({})", state.compacted),
                );
                let error = line("ERROR", &gone.to_status());
                return Ok(body(stream::iter([Ok(Frame::data(error))])));
            };
            pending.extend(events.iter().filter_map(|e| filter.line(&view, e)));
        }
        _ => {
            let current = state
                .objects(&rt.group, &rt.plural, namespace)
                .filter(|(_, object)| filter.matches(object))
                .map(|(_, object)| line("ADDED", &view.object(object)));
            pending.extend(current);
            if options.send_initial_events {
                pending.push_back(view.bookmark(state.revision, true));
            }
        }
    }
    let events = state.subscribe(&rt.group, &rt.plural, namespace);
    let now = Instant::now();
    let live = Live {
        shared: Arc::clone(shared),
        events,
        view,
        filter,
        pending,
        deadline: now + options.timeout,
        next_bookmark: options.bookmarks.then_some(now + BOOKMARK_EVERY),
        done: false,
    };
    let lines = stream::unfold(live, |mut live| async move {
        loop {
            if let Some(line) = live.pending.pop_front() {
                return Some((Ok(Frame::data(line)), live));
            }
            if live.done {
                return None;
            }
            live.step().await;
        }
    });
    Ok(body(lines))
}

fn body(
    lines: impl futures::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send + 'static,
) -> ResponseBody {
    StreamBody::new(lines.boxed()).boxed_unsync()
}

struct Live {
    shared: Arc<Shared>,
    events: mpsc::UnboundedReceiver<Arc<Event>>,
    view: View,
    filter: Filter,
    pending: VecDeque<Bytes>,
    deadline: Instant,
    next_bookmark: Option<Instant>,
    done: bool,
}

impl Live {
    async fn step(&mut self) {
        let bookmark_at = self.next_bookmark.unwrap_or(self.deadline);
        tokio::select! {
            biased;
            event = self.events.recv() => match event {
                Some(event) => self.pending.extend(self.filter.line(&self.view, &event)),
                None => self.done = true,
            },
            () = tokio::time::sleep_until(self.deadline) => {
                if self.next_bookmark.is_some() {
                    self.bookmark();
                }
                self.done = true;
            }
            () = tokio::time::sleep_until(bookmark_at), if self.next_bookmark.is_some() => {
                self.bookmark();
                self.next_bookmark = Some(bookmark_at + BOOKMARK_EVERY);
            }
        }
    }

    /// A bookmark at the current revision, after every event up to it.
    fn bookmark(&mut self) {
        let state = self.shared.lock();
        while let Ok(event) = self.events.try_recv() {
            self.pending.extend(self.filter.line(&self.view, &event));
        }
        self.pending
            .push_back(self.view.bookmark(state.revision, false));
    }
}
