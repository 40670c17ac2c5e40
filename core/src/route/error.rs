//! `RouteError`: why a route file could not be loaded, naming the file and, when the
//! parser knows it, the line and column.

use std::fmt;
use std::path::PathBuf;

/// Where an error is: a file, when there is one, and a 1-based position in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}", file.display())?,
            None => f.write_str("<routes>")?,
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// A route source that could not be read, parsed or accepted.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    #[error("{at}: cannot read: {detail}")]
    Io { at: Position, detail: String },
    #[error("{at}: {message}")]
    Parse { at: Position, message: String },
    /// Well-formed, but not a usable table (no targets, a duplicate tag, ...).
    #[error("{at}: {message}")]
    Invalid { at: Position, message: String },
}
