//! The accept loop: takes connections off the listener, enforces `max_connections`, runs
//! one task per connection, and on shutdown stops accepting (the listener is closed, so
//! new connections are refused), lets every connection drain, and tells the connections
//! still open to cancel their requests when the drain deadline passes or `abort` asks.
//!
//! Both `select!`s are `biased`, so one seed gives one trace under turmoil: the `Server`
//! handle's word first (a shutdown is never starved by a flood of connections), then
//! connections that ended, then new connections or the drain deadline.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::connection::serve_connection;
use super::phase::{cancelled, draining, Phase};
use super::shared::Shared;
use crate::event::EventKind;
use crate::net::Listener;

/// Pause after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

pub(super) async fn accept_loop<L: Listener>(
    listener: L,
    shared: Arc<Shared>,
    connections: Option<Arc<Semaphore>>,
    mut control: watch::Receiver<Phase>,
) {
    let (phase, connection_phase) = watch::channel(Phase::Serve);
    let mut open = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            _ = draining(&mut control) => break,
            Some(_) = open.join_next(), if !open.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Per-connection failures (reset before accept, out of descriptors)
                        // do not stop the server; a short pause keeps a persistent one
                        // (no descriptors left) from spinning, as Kitex and Go's net/http do.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let permit = match &connections {
                    None => None,
                    Some(limit) => match limit.clone().try_acquire_owned() {
                        Ok(permit) => Some(permit),
                        Err(_) => {
                            shared.stats.refused();
                            tracing::warn!(%peer, "connection refused: max_connections open");
                            continue;
                        }
                    },
                };
                shared.stats.accepted();
                let shared = shared.clone();
                let phase = connection_phase.clone();
                open.spawn(async move {
                    let peer: Arc<str> = peer.to_string().into();
                    let reason = serve_connection(shared.clone(), stream, peer.clone(), phase).await;
                    shared.stats.closed();
                    drop(permit);
                    shared.events.emit(EventKind::ConnectionClosed { peer, reason });
                });
            }
        }
    }
    drop(listener);
    phase.send_replace(Phase::Drain);
    let deadline = tokio::time::sleep(shared.timeouts.drain);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            biased;
            _ = cancelled(&mut control) => break,
            joined = open.join_next() => if joined.is_none() {
                return;
            },
            _ = &mut deadline => {
                tracing::warn!(
                    connections = open.len(),
                    "drain deadline passed: cancelling the requests still in flight"
                );
                break;
            }
        }
    }
    phase.send_replace(Phase::Cancel);
    while open.join_next().await.is_some() {}
}
