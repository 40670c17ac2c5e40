//! The patch formats: JSON merge patch (RFC 7386, also standing in for strategic merge patch
//! and server-side apply) and JSON patch (RFC 6902) with the semantics of the Go library the
//! API server uses (a `test` of a missing path against `null` passes).

use serde_json::Value;

/// Applies a merge patch: objects merge key by key, `null` deletes, anything else replaces.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(target) = target else {
        return;
    };
    for (key, value) in fields {
        if value.is_null() {
            target.remove(key);
        } else {
            merge(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Why a JSON patch was not applied: it does not parse (a bad request) or an operation
/// failed (the server answers 422).
#[derive(Debug)]
pub(crate) enum JsonPatchError {
    Decode(String),
    Apply(String),
}

/// Applies the operations of `patch` to `doc` in order; on failure `doc` is unchanged.
pub(crate) fn json_patch(doc: &mut Value, patch: &Value) -> Result<(), JsonPatchError> {
    let Value::Array(operations) = patch else {
        return Err(JsonPatchError::Decode(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch".into(),
        ));
    };
    let mut work = doc.clone();
    for operation in operations {
        apply(&mut work, operation)?;
    }
    *doc = work;
    Ok(())
}

fn apply(doc: &mut Value, operation: &Value) -> Result<(), JsonPatchError> {
    let field = |name: &str| -> Result<Vec<String>, JsonPatchError> {
        let text = operation[name].as_str().ok_or_else(|| {
            JsonPatchError::Decode(format!("operation missing {name:?} string: {operation}"))
        })?;
        pointer(text)
    };
    let value = || {
        operation.get("value").cloned().ok_or_else(|| {
            JsonPatchError::Apply(format!("operation missing \"value\": {operation}"))
        })
    };
    let op = operation["op"].as_str().unwrap_or_default();
    let path = field("path")?;
    let shown = operation["path"].as_str().unwrap_or_default();
    match op {
        "add" => add(doc, &path, value()?, shown),
        "remove" => remove(doc, &path, shown).map(drop),
        "replace" => {
            if get(doc, &path).is_none() {
                return Err(JsonPatchError::Apply(format!(
                    "replace operation does not apply: doc is missing key: {shown}"
                )));
            }
            remove(doc, &path, shown)?;
            add(doc, &path, value()?, shown)
        }
        "move" => {
            let from = field("from")?;
            let moved = remove(doc, &from, operation["from"].as_str().unwrap_or_default())?;
            add(doc, &path, moved, shown)
        }
        "copy" => {
            let from = field("from")?;
            let copied = get(doc, &from).cloned().ok_or_else(|| {
                JsonPatchError::Apply(format!(
                    "copy operation does not apply: doc is missing from path: {}",
                    operation["from"]
                ))
            })?;
            add(doc, &path, copied, shown)
        }
        "test" => {
            let expected = operation.get("value").cloned().unwrap_or(Value::Null);
            match get(doc, &path) {
                None if expected.is_null() => Ok(()),
                Some(actual) if *actual == expected => Ok(()),
                _ => Err(JsonPatchError::Apply(format!(
                    "testing value {shown} failed: test failed"
                ))),
            }
        }
        other => Err(JsonPatchError::Decode(format!("Unexpected kind: {other}"))),
    }
}

/// The reference tokens of a JSON pointer (`~1` is `/`, `~0` is `~`).
fn pointer(text: &str) -> Result<Vec<String>, JsonPatchError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = text.strip_prefix('/') else {
        return Err(JsonPatchError::Apply(format!(
            "invalid JSON pointer {text:?}"
        )));
    };
    Ok(rest
        .split('/')
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn get<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |node, token| match node {
        Value::Object(fields) => fields.get(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn parent<'a>(doc: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(doc, |node, token| match node {
        Value::Object(fields) => fields.get_mut(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    })
}

fn add(doc: &mut Value, path: &[String], value: Value, shown: &str) -> Result<(), JsonPatchError> {
    let Some((last, init)) = path.split_last() else {
        *doc = value;
        return Ok(());
    };
    let missing = || {
        JsonPatchError::Apply(format!(
            "add operation does not apply: doc is missing path: {shown:?}"
        ))
    };
    match parent(doc, init).ok_or_else(missing)? {
        Value::Object(fields) => {
            fields.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| {
                        JsonPatchError::Apply(format!("Unable to access invalid index: {last}"))
                    })?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(missing()),
    }
}

fn remove(doc: &mut Value, path: &[String], shown: &str) -> Result<Value, JsonPatchError> {
    let missing = || {
        JsonPatchError::Apply(format!(
            "Unable to remove nonexistent key: {shown}: missing value"
        ))
    };
    let Some((last, init)) = path.split_last() else {
        return Ok(std::mem::take(doc));
    };
    match parent(doc, init).ok_or_else(missing)? {
        Value::Object(fields) => fields.remove(last).ok_or_else(missing),
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => Ok(items.remove(i)),
            _ => Err(missing()),
        },
        _ => Err(missing()),
    }
}
