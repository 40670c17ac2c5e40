//! Where a config value is wrong: a [`FieldPath`] (`retry.budget.ttl`,
//! `faults[2].spec.mode`) and what is allowed there. `validate()` on every config type
//! returns all of its [`FieldError`]s at once; the experiment loader turns each path into
//! a file, line and column.

use std::fmt;

/// One step into a config value: a field (as spelled in the file) or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSegment {
    Field(String),
    Index(usize),
}

/// The path from a document's root to one value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<PathSegment>);

impl FieldPath {
    pub fn root() -> Self {
        Self::default()
    }

    /// This path, then field `name`.
    pub fn field(&self, name: &str) -> Self {
        let mut path = self.clone();
        path.0.push(PathSegment::Field(name.to_owned()));
        path
    }

    /// This path, then list element `index`.
    pub fn index(&self, index: usize) -> Self {
        let mut path = self.clone();
        path.0.push(PathSegment::Index(index));
        path
    }

    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// `other` appended to this path.
    pub fn join(&self, other: &FieldPath) -> Self {
        let mut path = self.clone();
        path.0.extend(other.0.iter().cloned());
        path
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Field(name) if i == 0 => f.write_str(name)?,
                PathSegment::Field(name) => write!(f, ".{name}")?,
                PathSegment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// One value that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FieldError {
    pub path: FieldPath,
    /// What is wrong and what is allowed, e.g. "must be in 1s ..= 60s, got 0s".
    pub message: String,
}

/// Every error `validate()` found, in document order as the checks visit it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records that the value at `path` is wrong.
    pub fn push(&mut self, path: FieldPath, message: impl Into<String>) {
        self.0.push(FieldError {
            path,
            message: message.into(),
        });
    }

    /// Records an error at `path` unless `ok`.
    pub fn check(
        &mut self,
        ok: bool,
        path: impl FnOnce() -> FieldPath,
        message: impl FnOnce() -> String,
    ) {
        if !ok {
            self.push(path(), message());
        }
    }

    /// Records an error at `path` unless `value` lies in `range`.
    pub fn in_range<T: PartialOrd + fmt::Display>(
        &mut self,
        path: impl FnOnce() -> FieldPath,
        value: T,
        range: std::ops::RangeInclusive<T>,
    ) {
        if !range.contains(&value) {
            self.push(
                path(),
                format!(
                    "must be in {} ..= {}, got {value}",
                    range.start(),
                    range.end()
                ),
            );
        }
    }

    /// Records an error at `path` unless `value` lies in `range`, durations written in the
    /// config syntax.
    pub fn duration_in(
        &mut self,
        path: impl FnOnce() -> FieldPath,
        value: std::time::Duration,
        range: std::ops::RangeInclusive<std::time::Duration>,
    ) {
        if !range.contains(&value) {
            self.push(
                path(),
                format!(
                    "must be in {} ..= {}, got {}",
                    super::duration::format(*range.start()),
                    super::duration::format(*range.end()),
                    super::duration::format(value)
                ),
            );
        }
    }

    /// The paths of the errors, as written in files (`retry.budget.ttl`), in order.
    pub fn paths(&self) -> Vec<String> {
        self.0.iter().map(|e| e.path.to_string()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was recorded.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        match self.0.is_empty() {
            true => Ok(()),
            false => Err(self),
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// A config type that can say everything wrong with its values.
pub trait Validate {
    /// Records every unusable value under `path` into `errors`.
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors);

    /// All errors, with paths from this value.
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        self.validate_at(&FieldPath::root(), &mut errors);
        errors.into_result()
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_at(&self, path: &FieldPath, errors: &mut FieldErrors) {
        if let Some(value) = self {
            value.validate_at(path, errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_as_written_in_files() {
        let path = FieldPath::root()
            .field("faults")
            .index(2)
            .field("spec")
            .field("mode");
        assert_eq!(path.to_string(), "faults[2].spec.mode");
        assert_eq!(FieldPath::root().to_string(), "(root)");
        let mut errors = FieldErrors::default();
        errors.push(path, "mode fixed needs a value");
        errors.check(false, || FieldPath::root().field("a"), || "bad".into());
        errors.check(true, || FieldPath::root().field("b"), || "unseen".into());
        assert_eq!(
            errors.to_string(),
            "faults[2].spec.mode: mode fixed needs a value\na: bad"
        );
    }
}
