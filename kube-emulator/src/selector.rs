//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`, `>`, `<`) and field
//! selectors (`=`, `==`, `!=` on the field labels a resource supports), parsed from their
//! query-string syntax and matched against stored objects.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Default)]
pub(crate) struct LabelSelector(Vec<Requirement>);

#[derive(Debug, Clone)]
struct Requirement {
    key: String,
    op: Op,
}

#[derive(Debug, Clone)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
    Greater(i64),
    Less(i64),
}

impl LabelSelector {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(format!(
                    "unable to parse requirement: empty requirement in {text:?}"
                ));
            }
            requirements.push(requirement(part)?);
        }
        Ok(LabelSelector(requirements))
    }

    /// Equality requirements from a `matchLabels`-style map.
    pub(crate) fn from_map(labels: &Map<String, Value>) -> Self {
        let requirements = labels
            .iter()
            .map(|(key, value)| Requirement {
                key: key.clone(),
                op: Op::In(vec![value.as_str().unwrap_or_default().to_owned()]),
            })
            .collect();
        LabelSelector(requirements)
    }

    /// A `matchExpressions` entry (`In`, `NotIn`, `Exists`, `DoesNotExist`).
    pub(crate) fn with_expression(mut self, expression: &Value) -> Result<Self, String> {
        let key = expression["key"].as_str().unwrap_or_default().to_owned();
        let values: Vec<String> = expression["values"]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let op = match expression["operator"].as_str().unwrap_or_default() {
            "In" => Op::In(values),
            "NotIn" => Op::NotIn(values),
            "Exists" => Op::Exists,
            "DoesNotExist" => Op::NotExists,
            other => return Err(format!("{other:?} is not a valid label selector operator")),
        };
        self.0.push(Requirement { key, op });
        Ok(self)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let empty = Map::new();
        let labels = labels.unwrap_or(&empty);
        self.0.iter().all(|requirement| {
            let value = labels.get(&requirement.key).and_then(Value::as_str);
            match (&requirement.op, value) {
                (Op::In(values), Some(value)) => values.iter().any(|v| v == value),
                (Op::In(_), None) => false,
                (Op::NotIn(values), Some(value)) => values.iter().all(|v| v != value),
                (Op::NotIn(_), None) => true,
                (Op::Exists, value) => value.is_some(),
                (Op::NotExists, value) => value.is_none(),
                (Op::Greater(bound), Some(value)) => value.parse::<i64>().is_ok_and(|v| v > *bound),
                (Op::Less(bound), Some(value)) => value.parse::<i64>().is_ok_and(|v| v < *bound),
                (Op::Greater(_) | Op::Less(_), None) => false,
            }
        })
    }
}

/// Splits at the commas that are not inside `( )`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Builds an operator from the value after it.
type MakeOp = fn(&str) -> Result<Op, String>;

fn requirement(part: &str) -> Result<Requirement, String> {
    let fail = |why: &str| format!("unable to parse requirement: {part:?}: {why}");
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        check_key(key).map_err(|why| fail(&why))?;
        return Ok(Requirement {
            key: key.to_owned(),
            op: Op::NotExists,
        });
    }
    if let Some(open) = part.find('(') {
        let head: Vec<&str> = part[..open].split_whitespace().collect();
        let Some(inner) = part[open + 1..].strip_suffix(')') else {
            return Err(fail("found '(', expected: ')' at the end"));
        };
        let values: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
        if values.iter().all(String::is_empty) {
            return Err(fail(
                "for 'in', 'notin' operators, values set can't be empty",
            ));
        }
        for value in &values {
            check_value(value).map_err(|why| fail(&why))?;
        }
        let (key, op) = match head.as_slice() {
            [key, "in"] => (*key, Op::In(values)),
            [key, "notin"] => (*key, Op::NotIn(values)),
            _ => return Err(fail("expected 'key in (values)' or 'key notin (values)'")),
        };
        check_key(key).map_err(|why| fail(&why))?;
        return Ok(Requirement {
            key: key.to_owned(),
            op,
        });
    }
    let operators: [(&str, MakeOp); 5] = [
        ("!=", |v| Ok(Op::NotIn(vec![v.to_owned()]))),
        ("==", |v| Ok(Op::In(vec![v.to_owned()]))),
        ("=", |v| Ok(Op::In(vec![v.to_owned()]))),
        (">", |v| {
            v.parse()
                .map(Op::Greater)
                .map_err(|_| "for 'gt', 'lt' operators, the value must be an integer".to_owned())
        }),
        ("<", |v| {
            v.parse()
                .map(Op::Less)
                .map_err(|_| "for 'gt', 'lt' operators, the value must be an integer".to_owned())
        }),
    ];
    for (token, make) in operators {
        if let Some((key, value)) = part.split_once(token) {
            let (key, value) = (key.trim(), value.trim());
            check_key(key).map_err(|why| fail(&why))?;
            check_value(value).map_err(|why| fail(&why))?;
            return Ok(Requirement {
                key: key.to_owned(),
                op: make(value).map_err(|why| fail(&why))?,
            });
        }
    }
    check_key(part).map_err(|why| fail(&why))?;
    Ok(Requirement {
        key: part.to_owned(),
        op: Op::Exists,
    })
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, `-`, `_`, `.`, beginning and ending alphanumeric.
fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if !crate::write::is_dns_subdomain(prefix) {
            return Err(format!(
                "invalid label key {key:?}: prefix must be a DNS subdomain"
            ));
        }
    }
    if name.is_empty() || !is_label_value(name) {
        return Err(format!(
            "invalid label key {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_label_value(value) {
        Ok(())
    } else {
        Err(format!(
            "invalid label value: {value:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

fn is_label_value(value: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    value.len() <= 63
        && value.starts_with(alnum)
        && value.ends_with(alnum)
        && value
            .chars()
            .all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
}

/// `field=value`, `field==value`, `field!=value` terms, all of which must hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `text`, accepting only `metadata.name`, `metadata.namespace` and `extra`.
    pub(crate) fn parse(text: &str, extra: &[&str]) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in split_unescaped(text, ',') {
            if part.is_empty() && text.is_empty() {
                continue;
            }
            let (field, equal, value) = if let Some((f, v)) = split_once_unescaped(&part, "!=") {
                (f, false, v)
            } else if let Some((f, v)) = split_once_unescaped(&part, "==") {
                (f, true, v)
            } else if let Some((f, v)) = split_once_unescaped(&part, "=") {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                ));
            };
            let field = field.trim().to_owned();
            if !matches!(field.as_str(), "metadata.name" | "metadata.namespace")
                && !extra.contains(&field.as_str())
            {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field, equal, unescape(value.trim())));
        }
        Ok(FieldSelector(terms))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let actual = field
                .split('.')
                .try_fold(object, |node, key| node.get(key))
                .map(|node| match node {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            (actual == *value) == *equal
        })
    }
}

fn split_unescaped(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let last = parts.last_mut().expect("parts starts non-empty");
                last.push('\\');
                if let Some(next) = chars.next() {
                    last.push(next);
                }
            }
            c if c == separator => parts.push(String::new()),
            c => parts.last_mut().expect("parts starts non-empty").push(c),
        }
    }
    parts
}

fn split_once_unescaped<'a>(text: &'a str, token: &str) -> Option<(&'a str, &'a str)> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if text[i..].starts_with(token) {
            return Some((&text[..i], &text[i + token.len()..]));
        }
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}
