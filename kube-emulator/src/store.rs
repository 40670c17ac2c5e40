//! The store: every object under one lock, the global resource version (one counter, as
//! etcd's revision), the event history that watches resume from, the open watches and the
//! change feed. Every write goes through [`State::commit`], so all of them see each change
//! in commit order.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use crate::access::{Access, Change, ChangeKind};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::registry::Registry;

/// Where an object is stored; ordered as etcd orders its keys (by namespace, then name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    pub group: String,
    pub resource: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

/// One committed change, kept for watches.
#[derive(Debug)]
pub(crate) struct Event {
    pub revision: u64,
    pub kind: ChangeKind,
    pub key: Key,
    /// The object after the change (for a deletion, its last state at the deletion's revision).
    pub object: Value,
    /// The object before the change, `None` for an addition.
    pub previous: Option<Value>,
}

struct Watcher {
    group: String,
    resource: String,
    namespace: Option<String>,
    events: mpsc::UnboundedSender<Arc<Event>>,
}

pub(crate) struct State {
    pub registry: Registry,
    objects: BTreeMap<Key, Value>,
    pub revision: u64,
    history: VecDeque<Arc<Event>>,
    history_limit: usize,
    /// The newest revision no longer in the history: watches from before it get 410.
    pub compacted: u64,
    watchers: Vec<Watcher>,
    changes: broadcast::Sender<Change>,
    pub access: Vec<Access>,
    pub clock: Clock,
}

/// The lock every request takes.
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(history_limit: usize) -> Self {
        Shared {
            state: Mutex::new(State::new(history_limit)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn new(history_limit: usize) -> Self {
        let (changes, _) = broadcast::channel(4096);
        let mut state = State {
            registry: Registry::builtin(),
            objects: BTreeMap::new(),
            revision: 0,
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            compacted: 0,
            watchers: Vec::new(),
            changes,
            access: Vec::new(),
            clock: Clock::new(),
        };
        for namespace in ["default", "kube-system"] {
            state.create_namespace(namespace);
        }
        state
    }

    /// Adds an active namespace (the server's own and those `put` needs).
    pub(crate) fn create_namespace(&mut self, name: &str) {
        let key = Key {
            group: String::new(),
            resource: "namespaces".into(),
            namespace: String::new(),
            name: name.into(),
        };
        if self.objects.contains_key(&key) {
            return;
        }
        let namespace = json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": self.clock.uid(),
                "creationTimestamp": self.clock.now(),
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        });
        self.commit(key, Some(namespace));
    }

    pub(crate) fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    /// The objects of `group/resource`, in key order, in `namespace` or in all of them.
    pub(crate) fn objects<'a>(
        &'a self,
        group: &'a str,
        resource: &'a str,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a Key, &'a Value)> + 'a {
        let start = Key {
            group: group.to_owned(),
            resource: resource.to_owned(),
            namespace: namespace.unwrap_or_default().to_owned(),
            name: String::new(),
        };
        self.objects.range(start..).take_while(move |(key, _)| {
            key.group == group
                && key.resource == resource
                && namespace.is_none_or(|ns| key.namespace == ns)
        })
    }

    /// Writes `object` at `key` (or removes it, for `None`) at a new revision, records the
    /// event and tells every watch and the change feed. Returns the stored (or last) object.
    pub(crate) fn commit(&mut self, key: Key, object: Option<Value>) -> Value {
        self.revision += 1;
        let revision = self.revision;
        let previous = self.objects.get(&key).cloned();
        let (kind, mut stored) = match (object, &previous) {
            (Some(object), None) => (ChangeKind::Added, object),
            (Some(object), Some(_)) => (ChangeKind::Modified, object),
            (None, Some(last)) => (ChangeKind::Deleted, last.clone()),
            (None, None) => (ChangeKind::Deleted, Value::Null),
        };
        if let Some(metadata) = stored.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("resourceVersion".into(), revision.to_string().into());
        }
        match kind {
            ChangeKind::Deleted => self.objects.remove(&key),
            _ => self.objects.insert(key.clone(), stored.clone()),
        };
        let event = Arc::new(Event {
            revision,
            kind,
            key,
            object: stored.clone(),
            previous,
        });
        self.watchers.retain(|watcher| {
            let wanted = watcher.group == event.key.group
                && watcher.resource == event.key.resource
                && watcher
                    .namespace
                    .as_ref()
                    .is_none_or(|ns| *ns == event.key.namespace);
            !wanted || watcher.events.send(Arc::clone(&event)).is_ok()
        });
        let _no_subscriber_is_fine = self.changes.send(Change {
            kind,
            group: event.key.group.clone(),
            resource: event.key.resource.clone(),
            namespace: Some(event.key.namespace.clone()).filter(|ns| !ns.is_empty()),
            name: event.key.name.clone(),
            resource_version: revision,
            object: stored.clone(),
        });
        self.history.push_back(event);
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted = dropped.revision;
            }
        }
        stored
    }

    /// Forgets the whole event history, as an etcd compaction does.
    pub(crate) fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.revision;
    }

    /// Events of `group/resource` (in `namespace`, if given) after `revision`, or `None` when
    /// the history no longer reaches back that far.
    pub(crate) fn events_after(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        revision: u64,
    ) -> Option<Vec<Arc<Event>>> {
        if revision < self.compacted {
            return None;
        }
        Some(
            self.history
                .iter()
                .filter(|e| e.revision > revision)
                .filter(|e| e.key.group == group && e.key.resource == resource)
                .filter(|e| namespace.is_none_or(|ns| e.key.namespace == ns))
                .cloned()
                .collect(),
        )
    }

    /// The objects of `group/resource` as they were at `revision`, rebuilt from the current
    /// ones by undoing the later events.
    pub(crate) fn snapshot(
        &self,
        group: &str,
        resource: &str,
        revision: u64,
    ) -> Result<BTreeMap<Key, Value>, ApiError> {
        if revision < self.compacted {
            return Err(ApiError::new(
                410,
                "Expired",
                format!("too old resource version: {revision} ({})", self.compacted),
            ));
        }
        let mut objects: BTreeMap<Key, Value> = self
            .objects(group, resource, None)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for event in self
            .history
            .iter()
            .rev()
            .take_while(|e| e.revision > revision)
        {
            if event.key.group != group || event.key.resource != resource {
                continue;
            }
            match &event.previous {
                Some(previous) => objects.insert(event.key.clone(), previous.clone()),
                None => objects.remove(&event.key),
            };
        }
        Ok(objects)
    }

    /// A channel that receives every later event of `group/resource` (in `namespace`).
    pub(crate) fn subscribe(
        &mut self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> mpsc::UnboundedReceiver<Arc<Event>> {
        let (events, receiver) = mpsc::unbounded_channel();
        self.watchers.push(Watcher {
            group: group.to_owned(),
            resource: resource.to_owned(),
            namespace: namespace.map(str::to_owned),
            events,
        });
        receiver
    }

    pub(crate) fn open_watches(&mut self) -> usize {
        self.watchers.retain(|w| !w.events.is_closed());
        self.watchers.len()
    }

    pub(crate) fn change_feed(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}

impl State {
    /// Every object in `namespace`, of any resource.
    pub(crate) fn keys_in_namespace(&self, namespace: &str) -> Vec<Key> {
        self.objects
            .keys()
            .filter(|key| key.namespace == namespace)
            .cloned()
            .collect()
    }
}
