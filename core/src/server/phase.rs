//! A server's phase (serving, draining, cancelling) and the waits on it: the `Server`
//! handle tells the accept loop, the accept loop tells the connections.

use tokio::sync::watch;

/// Where a server is in its life. The `Server` handle tells the accept loop; the accept
/// loop tells the connections (it alone decides when the drain deadline has passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Phase {
    /// Accepting connections and reading requests.
    Serve,
    /// Not accepting or reading any more; requests already read are served and answered.
    Drain,
    /// Requests still in flight are cancelled and every connection closes now.
    Cancel,
}

/// Resolves once the server stops serving: shutdown or abort asked for, or the `Server`
/// handle gone (a graceful shutdown too).
pub(super) async fn draining(phase: &mut watch::Receiver<Phase>) {
    // An error means the sender is gone: that is a shutdown too.
    let _ = phase.wait_for(|phase| *phase >= Phase::Drain).await;
}

/// Resolves once requests in flight must be cancelled; never if the sender is gone
/// without asking for it (a dropped `Server` drains, and only the drain deadline cancels).
pub(super) async fn cancelled(phase: &mut watch::Receiver<Phase>) {
    if phase
        .wait_for(|phase| *phase == Phase::Cancel)
        .await
        .is_err()
    {
        std::future::pending::<()>().await;
    }
}
