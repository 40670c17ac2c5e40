//! The accept loop: takes connections off the listener, enforces `max_connections`, runs
//! one task per connection, and on shutdown stops accepting and waits for every
//! connection to drain.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::builder::Shared;
use super::connection::serve_connection;
use super::stopped;
use crate::net::Listener;

/// Pause after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

pub(super) async fn accept_loop<L: Listener>(
    listener: L,
    shared: Arc<Shared>,
    connections: Option<Arc<Semaphore>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut open = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
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
                let stop = stop.clone();
                open.spawn(async move {
                    serve_connection(shared, stream, peer.to_string().into(), stop).await;
                    drop(permit);
                });
            }
        }
    }
    drop(listener);
    while open.join_next().await.is_some() {}
}
