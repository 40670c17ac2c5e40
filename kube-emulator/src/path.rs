//! Request paths: which discovery document or which resource (group, version, namespace,
//! plural, name, subresource) a path names.

use crate::query::decode;

pub(crate) enum Route {
    /// `/version`
    Version,
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/{group}`
    Group(String),
    /// `/api/v1`, `/apis/{group}/{version}`
    Resources {
        group: String,
        version: String,
    },
    Resource(Target),
}

#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub group: String,
    pub version: String,
    /// The namespace in the path; `None` for cluster-scoped resources and lists across all
    /// namespaces.
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// The route of `path`, or `None` for a path nothing could be served at. `namespaced` says
/// whether `(group, version, plural)` is a namespaced resource, to tell
/// `/api/v1/namespaces/{ns}/pods` from the namespace subresource `/api/v1/namespaces/{name}/status`.
pub(crate) fn route(path: &str, namespaced: impl Fn(&str, &str, &str) -> bool) -> Option<Route> {
    let segments: Vec<String> = path
        .strip_prefix('/')
        .unwrap_or(path)
        .trim_end_matches('/')
        .split('/')
        .map(|segment| decode(segment, false))
        .collect();
    if segments.iter().any(String::is_empty) {
        return None;
    }
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["version"] => return Some(Route::Version),
        ["api"] => return Some(Route::CoreVersions),
        ["apis"] => return Some(Route::Groups),
        ["apis", group] => return Some(Route::Group((*group).to_owned())),
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let owned = |s: &&str| (*s).to_owned();
    let target = match rest {
        [] => {
            return Some(Route::Resources {
                group: group.to_owned(),
                version: version.to_owned(),
            })
        }
        ["namespaces", namespace, resource, more @ ..] if namespaced(group, version, resource) => {
            if more.len() > 2 {
                return None;
            }
            Target {
                group: group.to_owned(),
                version: version.to_owned(),
                namespace: Some((*namespace).to_owned()),
                resource: (*resource).to_owned(),
                name: more.first().map(owned),
                subresource: more.get(1).map(owned),
            }
        }
        [resource, more @ ..] if more.len() <= 2 => Target {
            group: group.to_owned(),
            version: version.to_owned(),
            namespace: None,
            resource: (*resource).to_owned(),
            name: more.first().map(owned),
            subresource: more.get(1).map(owned),
        },
        _ => return None,
    };
    Some(Route::Resource(target))
}
