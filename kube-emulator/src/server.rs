//! [`ApiServer`]: the handle tests hold. It hands out kube clients and reads, seeds and
//! deletes objects directly, without HTTP, for test set-up and test actors.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::access::{Access, Change};
use crate::delete::{begin, remove, Deleted};
use crate::read::render;
use crate::registry::ResourceType;
use crate::service::Handler;
use crate::store::{Key, Shared, State};
use crate::write::{install, metadata_mut, strings, Place, WriteOptions};

/// Events kept for watches to resume from, by default.
const HISTORY: usize = 10_000;

/// An in-memory Kubernetes API server. Clones share one store.
#[derive(Clone)]
pub struct ApiServer {
    shared: Arc<Shared>,
}

impl Default for ApiServer {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiServer {
    /// A server with the built-in resources and the namespaces `default` and `kube-system`.
    pub fn new() -> Self {
        Self::with_history(HISTORY)
    }

    /// A server that keeps only the last `events` events for watches to resume from.
    pub fn with_history(events: usize) -> Self {
        ApiServer {
            shared: Arc::new(Shared::new(events)),
        }
    }

    /// A client of this server whose default namespace is `default`. Needs a tokio runtime.
    pub fn client(&self) -> kube::Client {
        kube::Client::new(
            Handler {
                shared: Arc::clone(&self.shared),
            },
            "default",
        )
    }

    /// Creates (or replaces) a CRD as `POST`/`PUT` of `customresourcedefinitions` would, so
    /// its resources are served at once.
    pub fn install_crd(&self, crd: Value) -> Result<(), String> {
        let mut state = self.shared.lock();
        let rt = state
            .registry
            .by_group_plural("apiextensions.k8s.io", "customresourcedefinitions")
            .ok_or("the CRD resource is not registered")?;
        let name = crd["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let key = Key {
            group: rt.group.clone(),
            resource: rt.plural.clone(),
            namespace: String::new(),
            name: name.clone(),
        };
        let options = WriteOptions {
            dry_run: false,
            strict: false,
        };
        let place = Place {
            rt: &rt,
            version: "v1",
            namespace: None,
            name: Some(&name),
            status: false,
        };
        let written = match state.get(&key).cloned() {
            None => crate::write::create(&mut state, &place, crd, &options),
            Some(old) => {
                let mut crd = crd;
                metadata_mut(&mut crd).insert(
                    "resourceVersion".into(),
                    old["metadata"]["resourceVersion"].clone(),
                );
                crate::write::update(&mut state, &place, crd, &options)
            }
        };
        written.map(drop).map_err(|e| e.message)
    }

    /// Writes `object` as given (no admission: status, finalizers and all fields are kept),
    /// creating or replacing it and its namespace; sets uid, creationTimestamp, generation
    /// and resourceVersion, and tells watches. Returns the stored object.
    pub fn put(&self, object: Value) -> Result<Value, String> {
        let mut state = self.shared.lock();
        let rt = type_of(&state, &object)?;
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if name.is_empty() {
            return Err("put needs metadata.name".into());
        }
        let namespace = if rt.namespaced {
            let namespace = object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned();
            state.create_namespace(&namespace);
            namespace
        } else {
            String::new()
        };
        let key = Key {
            group: rt.group.clone(),
            resource: rt.plural.clone(),
            namespace,
            name,
        };
        Ok(store(&mut state, &rt, &key, object))
    }

    /// Changes an object in place under the lock, as `put` writes (the test actors' write).
    /// Returns the object after the change, or `None` when it does not exist (any more).
    pub(crate) fn modify(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        let mut state = self.shared.lock();
        let (rt, _) = lookup(&state, api_version, kind)?;
        let key = Key {
            group: rt.group.clone(),
            resource: rt.plural.clone(),
            namespace: namespace
                .filter(|_| rt.namespaced)
                .unwrap_or_default()
                .to_owned(),
            name: name.to_owned(),
        };
        let old = state.get(&key)?.clone();
        let mut object = old.clone();
        change(&mut object);
        if object == old {
            return Some(old);
        }
        let stored = store(&mut state, &rt, &key, object);
        state.get(&key).map(|_| stored)
    }

    /// `(apiVersion, kind)` of every resource served in `group`, at its preferred version.
    pub(crate) fn kinds(&self, group: &str) -> Vec<(String, String)> {
        let state = self.shared.lock();
        state
            .registry
            .all()
            .filter(|t| t.group == group)
            .map(|t| (t.api_version(t.preferred()), t.kind.clone()))
            .collect()
    }

    /// The object, as served at `api_version`.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let state = self.shared.lock();
        let (rt, version) = lookup(&state, api_version, kind)?;
        let key = Key {
            group: rt.group.clone(),
            resource: rt.plural.clone(),
            namespace: namespace
                .filter(|_| rt.namespaced)
                .unwrap_or_default()
                .to_owned(),
            name: name.to_owned(),
        };
        state.get(&key).map(|o| render(&rt, &version, o))
    }

    /// The objects of a kind in `namespace` (or in all namespaces), in key order.
    pub fn list(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        let state = self.shared.lock();
        let Some((rt, version)) = lookup(&state, api_version, kind) else {
            return Vec::new();
        };
        let namespace = namespace.filter(|_| rt.namespaced);
        state
            .objects(&rt.group, &rt.plural, namespace)
            .map(|(_, o)| render(&rt, &version, o))
            .collect()
    }

    /// Deletes an object as the API would: with finalizers it stays, marked with
    /// `deletionTimestamp`, and is returned; without, it goes and `None` is returned.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, String> {
        let mut state = self.shared.lock();
        let (rt, _) = lookup(&state, api_version, kind)
            .ok_or_else(|| format!("{kind} is not served at {api_version}"))?;
        let key = Key {
            group: rt.group.clone(),
            resource: rt.plural.clone(),
            namespace: namespace
                .filter(|_| rt.namespaced)
                .unwrap_or_default()
                .to_owned(),
            name: name.to_owned(),
        };
        if state.get(&key).is_none() {
            return Err(format!("{kind} {name:?} not found"));
        }
        Ok(match begin(&mut state, &key) {
            Deleted::Pending(object) => Some(object),
            Deleted::Gone(_) => None,
        })
    }

    /// Every request answered so far, in order.
    pub fn access_log(&self) -> Vec<Access> {
        self.shared.lock().access.clone()
    }

    pub fn clear_access_log(&self) {
        self.shared.lock().access.clear();
    }

    /// Every later committed change, in commit order (a lagging receiver loses the oldest).
    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.shared.lock().change_feed()
    }

    /// The current resource version (the revision of the last commit).
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().revision
    }

    /// Forgets the event history, as an etcd compaction: watches and continued lists from
    /// an older resource version get `410`.
    pub fn compact(&self) {
        self.shared.lock().compact();
    }

    /// Watches whose client still holds the stream.
    pub fn open_watches(&self) -> usize {
        self.shared.lock().open_watches()
    }
}

/// The seeding write: keeps uid and creationTimestamp of a replaced object, bumps the
/// generation when the spec changed, and removes an object whose deletion waits for no
/// finalizer any more.
fn store(state: &mut State, rt: &ResourceType, key: &Key, mut object: Value) -> Value {
    let old = state.get(key).cloned();
    let now = state.clock.now();
    let uid = state.clock.uid();
    let metadata = metadata_mut(&mut object);
    if rt.namespaced {
        metadata.insert("namespace".into(), key.namespace.clone().into());
    }
    let kept = |field: &str| {
        old.as_ref()
            .map(|o| o["metadata"][field].clone())
            .filter(|v| !v.is_null())
    };
    metadata.insert("uid".into(), kept("uid").unwrap_or_else(|| uid.into()));
    metadata.insert(
        "creationTimestamp".into(),
        kept("creationTimestamp").unwrap_or_else(|| now.into()),
    );
    let generation = match &old {
        Some(old) if spec_of(old) != spec_of(&object) => {
            old["metadata"]["generation"].as_i64().unwrap_or(0) + 1
        }
        Some(old) => old["metadata"]["generation"].as_i64().unwrap_or(1),
        None => 1,
    };
    metadata_mut(&mut object).insert("generation".into(), generation.into());
    object["apiVersion"] = rt.api_version(rt.preferred()).into();
    let deleting = object["metadata"].get("deletionTimestamp").is_some();
    let finalized = !strings(object["metadata"].get("finalizers")).is_empty();
    if deleting && !finalized {
        // As the API does: the write that empties a deleted object's finalizers deletes it.
        if old.is_some() {
            remove(state, key);
        }
        return object;
    }
    let stored = state.commit(key.clone(), Some(object));
    if rt.group == "apiextensions.k8s.io" {
        install(state, &stored);
    }
    stored
}

fn spec_of(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(fields) = object.as_object_mut() {
        fields.remove("metadata");
        fields.remove("status");
        fields.remove("apiVersion");
    }
    object
}

fn lookup(state: &State, api_version: &str, kind: &str) -> Option<(Arc<ResourceType>, String)> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let rt = state.registry.by_kind(group, kind)?;
    rt.version(version)?;
    Some((rt, version.to_owned()))
}

fn type_of(state: &State, object: &Value) -> Result<Arc<ResourceType>, String> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    lookup(state, api_version, kind)
        .map(|(rt, _)| rt)
        .ok_or_else(|| format!("{kind:?} is not served at {api_version:?}"))
}
