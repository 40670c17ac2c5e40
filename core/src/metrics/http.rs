//! The optional scrape endpoint: `GET /metrics` answers the Prometheus text exposition,
//! any other path 404, another method on `/metrics` 405. HTTP/1.1 on hyper, one task per
//! connection; `MetricsServer::shutdown` stops accepting, closes idle keep-alive
//! connections and lets scrapes in flight finish.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::Metrics;

/// A client that has not sent its request headers by then is disconnected.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed accept (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A running scrape endpoint. Dropping it stops it too, without waiting.
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    metrics: Metrics,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `addr` (port 0 picks a free port) and serves `metrics` on it.
    pub async fn bind(addr: SocketAddr, metrics: Metrics) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, metrics.clone(), stopped));
        Ok(Self {
            local_addr,
            metrics,
            stop,
            task,
        })
    }

    /// The address the endpoint listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The metrics it serves.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Stops accepting, closes idle connections, and returns once the scrapes in flight
    /// have been answered.
    pub async fn shutdown(self) {
        drop(self.stop);
        // The task is never aborted; an error can only carry a panic, passed on as one.
        if let Err(err) = self.task.await {
            if let Ok(panic) = err.try_into_panic() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

async fn serve(listener: TcpListener, metrics: Metrics, mut stopped: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        // `biased` (accept first) keeps the order of branches free of tokio's randomness.
        let stream = tokio::select! {
            biased;
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            // `shutdown` drops the sender, and so does dropping the server.
            _ = &mut stopped => break,
        };
        let metrics = metrics.clone();
        let service = service_fn(move |request| {
            let response = respond(&metrics, &request);
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        // A connection error (a client hanging up mid-request) concerns that client only.
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

fn respond(metrics: &Metrics, request: &Request<Incoming>) -> Response<String> {
    if request.uri().path() != "/metrics" {
        return status(StatusCode::NOT_FOUND, "not found\n");
    }
    if request.method() != Method::GET {
        let mut response = status(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    let mut response = Response::new(metrics.encode());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(super::CONTENT_TYPE));
    response
}

fn status(code: StatusCode, body: &'static str) -> Response<String> {
    let mut response = Response::new(body.to_owned());
    *response.status_mut() = code;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
