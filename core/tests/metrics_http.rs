//! The scrape endpoint over real loopback TCP: `GET /metrics` returns the exposition with
//! the Prometheus content type, other paths 404, other methods 405, and shutdown closes
//! idle keep-alive connections and the listener.

use std::net::SocketAddr;
use std::time::Duration;

use faultline_core::event::{EventBus, EventKind, Side};
use faultline_core::metrics::{serve_metrics, Metrics, CONTENT_TYPE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ANY_PORT: &str = "127.0.0.1:0";

/// Sends one HTTP/1.1 request with `Connection: close` and returns the whole response.
async fn request(addr: SocketAddr, method: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

fn split(response: &str) -> (&str, &str) {
    response.split_once("\r\n\r\n").expect("a head and a body")
}

fn header<'r>(head: &'r str, name: &str) -> Option<&'r str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test]
async fn get_metrics_answers_the_exposition() {
    let bus = EventBus::new(16);
    let (server, mut recorder) = serve_metrics(ANY_PORT.parse().unwrap(), &bus)
        .await
        .unwrap();
    bus.emit(EventKind::CallFinished {
        side: Side::Server,
        service: "Echo".into(),
        method: "echo".into(),
        instance: None,
        error: None,
        fallback: false,
        duration: Duration::from_micros(700),
        budget: None,
    });
    assert!(recorder.wait_for(1).await);

    let response = request(server.local_addr(), "GET", "/metrics").await;
    let (head, body) = split(&response);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(header(head, "content-type"), Some(CONTENT_TYPE));
    assert_eq!(body, server.metrics().encode());
    assert!(body.contains(
        "rpc_server_requests_total{rpc_system=\"apache_thrift\",rpc_service=\"Echo\",rpc_method=\"echo\",status=\"ok\"} 1\n"
    ));
    assert!(body.contains(
        "rpc_server_duration_seconds_bucket{rpc_system=\"apache_thrift\",rpc_service=\"Echo\",rpc_method=\"echo\",status=\"ok\",le=\"0.001\"} 1\n"
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn other_paths_and_methods_are_refused() {
    let server = Metrics::new()
        .serve(ANY_PORT.parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();

    let response = request(addr, "GET", "/").await;
    assert!(
        response.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{response}"
    );
    let response = request(addr, "GET", "/metrics/extra").await;
    assert!(
        response.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{response}"
    );

    let response = request(addr, "POST", "/metrics").await;
    let (head, _) = split(&response);
    assert!(
        head.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{head}"
    );
    assert_eq!(header(head, "allow"), Some("GET"));

    // A query string does not change the path.
    let response = request(addr, "GET", "/metrics?name=x").await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections_and_the_listener() {
    let server = Metrics::new()
        .serve(ANY_PORT.parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();

    // A scraper that keeps its connection open after a complete exchange.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    idle.write_all(head.as_bytes()).await.unwrap();
    let mut first = [0u8; 15];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200 OK");

    // Returns only once that connection is closed, which shutdown must do itself.
    server.shutdown().await;
    let mut rest = Vec::new();
    idle.read_to_end(&mut rest).await.unwrap();
    assert!(String::from_utf8_lossy(&rest).contains("faultline_events_dropped_total 0\n"));

    let refused = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}
