//! What the server tells tests about itself: the access log's entries and the change feed.

use std::fmt;

use serde_json::Value;

/// The verb of a request, as Kubernetes' audit log and RBAC name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

impl Verb {
    /// The verb's lowercase name (`deletecollection` for [`Verb::DeleteCollection`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request the server answered. Discovery and unknown paths have an empty `resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub verb: Verb,
    /// API group, empty for the core group.
    pub group: String,
    pub version: String,
    /// Plural resource name (`pods`, `networkchaos`).
    pub resource: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// The request's path and query, as sent.
    pub path: String,
    pub query: String,
    /// The response's HTTP status code.
    pub code: u16,
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One committed change, in commit order (the order of `resource_version`).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    pub group: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub name: String,
    pub resource_version: u64,
    /// The object after the change; for [`ChangeKind::Deleted`], its last state.
    pub object: Value,
}
