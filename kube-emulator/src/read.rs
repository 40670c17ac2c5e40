//! Reads: get, and list with selectors, `limit`/`continue` pagination and the
//! `resourceVersion`/`resourceVersionMatch` semantics (a list at an exact or continued
//! revision is served from the history, as a consistent snapshot).

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Key, State};

pub(crate) struct ListOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<u64>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub exact: bool,
}

/// `object` as served at `version`.
pub(crate) fn render(rt: &ResourceType, version: &str, object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(fields) = object.as_object_mut() {
        fields.insert("apiVersion".into(), rt.api_version(version).into());
        fields.insert("kind".into(), rt.kind.clone().into());
    }
    object
}

pub(crate) fn get(
    state: &State,
    rt: &ResourceType,
    version: &str,
    key: &Key,
) -> Result<Value, ApiError> {
    state
        .get(key)
        .map(|object| render(rt, version, object))
        .ok_or_else(|| ApiError::not_found(&rt.group_resource(), &key.name))
}

pub(crate) fn list(
    state: &State,
    rt: &ResourceType,
    version: &str,
    namespace: Option<&str>,
    options: &ListOptions,
) -> Result<Value, ApiError> {
    let (revision, after) = match &options.continue_token {
        Some(token) => {
            let (revision, after) = decode_token(token)?;
            if revision < state.compacted {
                return Err(ApiError::new(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.",
                ));
            }
            (revision, Some(after))
        }
        None => (requested_revision(state, options)?, None),
    };
    let snapshot = state.snapshot(&rt.group, &rt.plural, revision)?;
    let mut matching = snapshot
        .iter()
        .filter(|(key, _)| namespace.is_none_or(|ns| key.namespace == ns))
        .filter(|(key, _)| {
            after
                .as_ref()
                .is_none_or(|(ns, name)| (&key.namespace, &key.name) > (ns, name))
        })
        .filter(|(_, object)| {
            options
                .labels
                .matches(object["metadata"]["labels"].as_object())
                && options.fields.matches(object)
        });
    let limit = options
        .limit
        .filter(|l| *l > 0)
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let page: Vec<(&Key, &Value)> = matching.by_ref().take(limit).collect();
    let remaining = matching.count();
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if remaining > 0 {
        if let Some((last, _)) = page.last() {
            metadata["continue"] = encode_token(revision, last).into();
            if options.labels.is_empty() && options.fields.is_empty() {
                metadata["remainingItemCount"] = remaining.into();
            }
        }
    }
    let items: Vec<Value> = page
        .iter()
        .map(|(_, object)| render(rt, version, object))
        .collect();
    Ok(json!({
        "apiVersion": rt.api_version(version),
        "kind": rt.list_kind,
        "metadata": metadata,
        "items": items,
    }))
}

/// The revision a list without `continue` is served at.
fn requested_revision(state: &State, options: &ListOptions) -> Result<u64, ApiError> {
    let Some(text) = options
        .resource_version
        .as_deref()
        .filter(|rv| !rv.is_empty())
    else {
        return Ok(state.revision);
    };
    let requested: u64 = text
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {text:?}")))?;
    if requested > state.revision {
        return Err(ApiError::new(
            504,
            "Timeout",
            format!(
                "Too large resource version: {requested}, current: {}",
                state.revision
            ),
        ));
    }
    Ok(if options.exact {
        requested
    } else {
        state.revision
    })
}

fn encode_token(revision: u64, key: &Key) -> String {
    let text = format!("{revision}/{}/{}", key.namespace, key.name);
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The revision and the (namespace, name) a continued list resumes after.
fn decode_token(token: &str) -> Result<(u64, (String, String)), ApiError> {
    let invalid = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect();
    let text = bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let mut parts = text.splitn(3, '/');
    let (Some(revision), Some(namespace), Some(name)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let revision = revision.parse().map_err(|_| invalid())?;
    Ok((revision, (namespace.to_owned(), name.to_owned())))
}
