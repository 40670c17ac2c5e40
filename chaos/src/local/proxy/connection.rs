//! One client connection: connects to the upstream (a refused or failed connect resets the
//! client at once, as a dead pod's port does), runs both directions, and ends them
//! together: a reset on either side (the instance was SIGKILLed, a segment was lost for
//! good) resets both; a close passes on as a half-close, so an upstream that goes away
//! closes the client's side too.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::pipe::{End, Pipe};
use super::{Shared, Side};

/// Answers from the request direction waiting for the reply direction.
const ANSWERS: usize = 64;
/// How long connecting to the upstream may take (a stopped process's listen backlog
/// still accepts; only a full one makes this wait).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn serve(shared: Arc<Shared>, mut client: TcpStream) {
    shared.stats.connection();
    let connect = TcpStream::connect(shared.config.upstream);
    let mut upstream = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(upstream)) => upstream,
        _ => {
            reset(&client);
            shared.stats.reset();
            return;
        }
    };
    // Latency matters more than packet count here, as in core's client and server.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let end = {
        let (from_client, to_client) = client.split();
        let (from_upstream, to_upstream) = upstream.split();
        let (answers, answered) = mpsc::channel(ANSWERS);
        let requests = Pipe::new(shared.clone(), Side::Request).run(
            from_client,
            to_upstream,
            Some(answers),
            None,
        );
        let replies = Pipe::new(shared.clone(), Side::Response).run(
            from_upstream,
            to_client,
            None,
            Some(answered),
        );
        both(requests, replies).await
    };
    if end == End::Reset {
        reset(&client);
        reset(&upstream);
        shared.stats.reset();
    }
}

/// Runs both directions until both are closed, or one resets.
async fn both(
    requests: impl std::future::Future<Output = End>,
    replies: impl std::future::Future<Output = End>,
) -> End {
    tokio::pin!(requests, replies);
    let (mut requests_done, mut replies_done) = (false, false);
    while !(requests_done && replies_done) {
        let end = tokio::select! {
            end = &mut requests, if !requests_done => {
                requests_done = true;
                end
            }
            end = &mut replies, if !replies_done => {
                replies_done = true;
                end
            }
        };
        if end == End::Reset {
            return End::Reset;
        }
    }
    End::Closed
}

/// Makes the socket's close send a reset (`SO_LINGER` 0) instead of a FIN.
fn reset(stream: &TcpStream) {
    let _ = stream.set_zero_linger();
}
