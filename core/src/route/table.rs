//! `RouteTable`: the current [`RouteConfig`], read lock-free and replaced atomically.
//!
//! Each call loads the table from an `ArcSwap`; [`RouteTable::set`] or a reload from the
//! source file swaps in a whole new one, so a call sees either the old table or the new,
//! never a mix. Every swap bumps a version on a `watch` channel ([`RouteTable::changed`]).
//!
//! The file is watched by polling on tokio time ([`RouteTable::watch`]) rather than with
//! `notify`: polling runs the same under tokio's paused clock and turmoil's virtual time
//! (so simulations and tests drive it without real sleeps), needs no OS watcher thread,
//! and sees a Kubernetes ConfigMap update, which replaces a symlink target and is easy for
//! inotify watches to miss. A route file is small; reading it every few seconds costs
//! nothing. [`RouteTable::reload`] performs one poll on demand, and swaps only when the
//! bytes changed. A file that fails to parse leaves the current table in place.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::watch;

use super::error::{Position, RouteError};
use super::{Format, RouteConfig};

/// A shared, atomically replaced route table. Clones share it.
#[derive(Debug, Clone)]
pub struct RouteTable {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    current: ArcSwap<RouteConfig>,
    version: watch::Sender<u64>,
    source: Option<PathBuf>,
    /// The bytes the current table was parsed from; touched only by reloads.
    loaded: Mutex<Vec<u8>>,
}

impl RouteTable {
    /// A table with no source file; it changes only through [`RouteTable::set`].
    pub fn new(config: RouteConfig) -> Self {
        Self::with_source(config, None, Vec::new())
    }

    /// A table loaded from `path` (JSON for `.json`, YAML otherwise), which
    /// [`RouteTable::reload`] and [`RouteTable::watch`] read again.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, RouteError> {
        let path = path.as_ref();
        let bytes = read(path)?;
        let config = parse(path, &bytes)?;
        Ok(Self::with_source(config, Some(path.to_path_buf()), bytes))
    }

    fn with_source(config: RouteConfig, source: Option<PathBuf>, loaded: Vec<u8>) -> Self {
        Self {
            shared: Arc::new(Shared {
                current: ArcSwap::from_pointee(config),
                version: watch::Sender::new(0),
                source,
                loaded: Mutex::new(loaded),
            }),
        }
    }

    /// The current table.
    pub fn current(&self) -> Arc<RouteConfig> {
        self.shared.current.load_full()
    }

    /// The current table without touching its reference count, for the pick path.
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<RouteConfig>> {
        self.shared.current.load()
    }

    /// Replaces the table; calls from now on see `config`.
    pub fn set(&self, config: RouteConfig) {
        self.shared.current.store(Arc::new(config));
        self.shared.version.send_modify(|v| *v += 1);
    }

    /// A receiver of the table's version; `changed().await` wakes after the next swap.
    pub fn changed(&self) -> watch::Receiver<u64> {
        self.shared.version.subscribe()
    }

    /// Reads the source file once: `Ok(true)` if it changed and the new table is in
    /// place, `Ok(false)` if it is unchanged (or there is no file), an error (and the old
    /// table still in place) if it cannot be read or parsed.
    pub fn reload(&self) -> Result<bool, RouteError> {
        let Some(path) = &self.shared.source else {
            return Ok(false);
        };
        let bytes = read(path)?;
        // One reload at a time, so two pollers cannot swap in reverse order.
        let mut loaded = self.shared.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if *loaded == bytes {
            return Ok(false);
        }
        let config = parse(path, &bytes)?;
        *loaded = bytes;
        self.set(config);
        Ok(true)
    }

    /// Polls the source file every `every` (tokio time) and swaps in each change; a file
    /// that cannot be loaded is reported with `tracing::warn!` and retried at the next
    /// tick. Runs until dropped; spawn it.
    pub fn watch(&self, every: Duration) -> impl std::future::Future<Output = ()> + Send + 'static {
        let table = self.clone();
        async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = table.reload() {
                    tracing::warn!(%error, "route table not reloaded");
                }
            }
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, RouteError> {
    std::fs::read(path).map_err(|e| RouteError::Io {
        at: Position {
            file: Some(path.to_path_buf()),
            line: None,
            column: None,
        },
        detail: e.to_string(),
    })
}

fn parse(path: &Path, bytes: &[u8]) -> Result<RouteConfig, RouteError> {
    let text = std::str::from_utf8(bytes).map_err(|e| RouteError::Parse {
        at: Position {
            file: Some(path.to_path_buf()),
            line: None,
            column: None,
        },
        message: format!("not UTF-8: {e}"),
    })?;
    RouteConfig::parse(text, Format::of(path), Some(path))
}
